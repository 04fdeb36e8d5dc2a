// Process faults: kill -9 and restart, crash (a silent kill, as a machine losing power), pause and resume
// (SIGSTOP / SIGCONT), graceful restart. The container stays up, so a killed node keeps its address, its data
// and any network fault.
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { Fault, FaultRecord, NemesisContext, TargetSpec } from '../src/nemesis.js';
import { waitUntilStopped } from '../src/zookeeper.js';
import { iptables, removeChainScript } from './chains.js';
import { resolveTargets } from './targets.js';

export const PROCESS_FAMILY = 'process';

/** Starts the server on every given node where it does not run (waits for the process, not the quorum). */
export async function startStopped(
  context: NemesisContext,
  nodes: readonly ClusterNode[] = context.cluster.nodes,
): Promise<string[]> {
  const started: string[] = [];
  const failed: string[] = [];
  // Every node gets its start even when another's fails; the failures are reported together.
  await Promise.all(
    nodes.map(async (node) => {
      if (await context.db.isRunning(node)) return;
      try {
        await context.db.start(node);
        started.push(node.name);
      } catch (err) {
        failed.push(`${node.name}: ${(err as Error).message}`);
      }
    }),
  );
  if (failed.length > 0) throw new HarnessError(`could not start ZooKeeper on ${failed.join('; ')}`);
  return started.sort();
}

/** kill -9 the server on the nodes and wait until the processes are gone; returns the nodes really killed. */
export async function killNodes(context: NemesisContext, nodes: readonly ClusterNode[]): Promise<string[]> {
  const killed = await Promise.all(
    nodes.map(async (node) => {
      const signalled = await context.db.signal(node, 'KILL');
      await waitUntilStopped(context.db, node);
      return signalled ? node.name : undefined;
    }),
  );
  return killed.filter((n): n is string => n !== undefined);
}

/**
 * A crash silences the node before killing it: every packet in or out is dropped (Faultline's own chain, first in
 * INPUT and OUTPUT), so the FIN and RST of the dying process never reach the peers. They notice only by their
 * timeouts (syncLimit × tickTime and friends), as after a power loss, where kill -9 alone tells them at once.
 */
const CRASH_CHAIN = 'FAULTLINE-CRASH';

const silenceScript = [
  `${iptables(`-N ${CRASH_CHAIN}`)} 2>/dev/null || true`,
  iptables(`-F ${CRASH_CHAIN}`),
  iptables(`-A ${CRASH_CHAIN} -j DROP`),
  ...(['INPUT', 'OUTPUT'] as const).map(
    (hook) =>
      `(${iptables(`-C ${hook} -j ${CRASH_CHAIN}`)} 2>/dev/null || ${iptables(`-I ${hook} -j ${CRASH_CHAIN}`)})`,
  ),
].join(' && ');

const unsilenceScript = removeChainScript(CRASH_CHAIN, ['INPUT', 'OUTPUT'], 'unsilenced');

async function crashNodes(context: NemesisContext, nodes: readonly ClusterNode[]): Promise<string[]> {
  await Promise.all(
    nodes.map(async (node) => {
      const result = await context.cluster.exec(node, ['sh', '-c', silenceScript]);
      if (result.exitCode !== 0)
        throw new HarnessError(`${node.name}: could not silence the node before the crash (${result.stderr.trim()})`);
    }),
  );
  return killNodes(context, nodes);
}

/**
 * Matches the server's command line (its main class) but not a shell whose script names it: the script holds the
 * brackets, the server's command line does not.
 */
const SERVER_PATTERN = '[Q]uorumPeerMain';

/** Exits 0 when the server process is stopped by a signal (ps state T). */
const SERVER_PAUSED = `ps -eo stat=,args= | awk '$1 ~ /^T/ && /${SERVER_PATTERN}/ { found = 1 } END { exit !found }'`;

/** Whether the node's server process is stopped by a signal (ps state T). */
export async function isPaused(context: NemesisContext, node: ClusterNode): Promise<boolean> {
  return (await context.cluster.exec(node, ['sh', '-c', SERVER_PAUSED])).exitCode === 0;
}

/**
 * One node's heal in one exec (four before, per node: a heal of five nodes cost the run 1.8 s): resume the server
 * if paused (SIGCONT, harmless when running), let it talk again if crashed, and say what it did and whether the
 * server runs.
 */
const HEAL_NODE_SCRIPT = [
  `if ${SERVER_PAUSED}; then echo resumed; fi;`,
  `pkill -CONT -f '${SERVER_PATTERN}';`,
  unsilenceScript,
  `if pgrep -f '${SERVER_PATTERN}' >/dev/null; then echo running; fi;`,
  'true',
].join(' ');

async function healNode(
  context: NemesisContext,
  node: ClusterNode,
): Promise<{ resumed: boolean; unsilenced: boolean; running: boolean }> {
  const out = (await context.cluster.run(node, ['sh', '-c', HEAL_NODE_SCRIPT])).split('\n');
  return { resumed: out.includes('resumed'), unsilenced: out.includes('unsilenced'), running: out.includes('running') };
}

/** Heals the given nodes at once: each resumed and let talk again, then every stopped one started. */
async function healNodes(context: NemesisContext, nodes: readonly ClusterNode[]): Promise<FaultRecord> {
  const healed = await Promise.all(
    nodes.map(async (n) => ({ name: n.name, node: n, ...(await healNode(context, n)) })),
  );
  const names = (pick: (h: (typeof healed)[number]) => boolean): string[] =>
    healed
      .filter(pick)
      .map((h) => h.name)
      .sort();
  const started = await startStopped(
    context,
    healed.filter((h) => !h.running).map((h) => h.node),
  );
  const unsilenced = names((h) => h.unsilenced);
  return { resumed: names((h) => h.resumed), ...(unsilenced.length ? { unsilenced } : {}), started };
}

/** The process family's heal: resume every paused server, let crashed nodes talk again, then start every stopped one. */
export async function healProcesses(context: NemesisContext): Promise<FaultRecord> {
  return healNodes(context, context.cluster.nodes);
}

/** One node's process heal: resume it if paused, let it talk again if crashed, start it if stopped. Idempotent. */
export async function healProcessNode(context: NemesisContext, name: string): Promise<FaultRecord> {
  const node = context.cluster.nodes.find((n) => n.name === name);
  if (!node) throw new HarnessError(`no node ${name} in this ensemble`);
  return { nodes: [name], ...(await healNodes(context, [node])) };
}

type RoleTarget = Exclude<TargetSpec, { nodes: string[] }>;

/** How a role target reads in a description. */
export const WHO: Record<RoleTarget, string> = {
  leader: 'the leader',
  follower: 'one follower',
  one: 'one random node',
  minority: 'a random minority of nodes',
  majority: 'a random majority of nodes',
  all: 'every node at once',
};

/** A process fault: resolve the targets now, act on them, record both. */
function processFault(
  verb: string,
  target: RoleTarget,
  description: string,
  act: (context: NemesisContext, nodes: ClusterNode[]) => Promise<FaultRecord>,
): Fault {
  return {
    name: `${verb}-${target}`,
    family: PROCESS_FAMILY,
    defaultTarget: target,
    description,
    async start(context, request) {
      const { nodes, record } = await resolveTargets(context, request?.target ?? target);
      return { ...record, ...(await act(context, nodes)) };
    },
    heal: healProcesses,
    healNode: healProcessNode,
  };
}

const killFault = (target: RoleTarget): Fault =>
  processFault(
    'kill',
    target,
    `kill -9 the ZooKeeper server of ${WHO[target]}; the heal restarts it`,
    async (context, nodes) => ({ signal: 'KILL', killed: await killNodes(context, nodes) }),
  );

const crashFault = (target: RoleTarget): Fault =>
  processFault(
    'crash',
    target,
    `crash ${WHO[target]} silently (drop all traffic, then kill -9, so peers notice only by timeout); the heal restores traffic and restarts`,
    async (context, nodes) => ({ signal: 'KILL', silenced: true, killed: await crashNodes(context, nodes) }),
  );

const pauseFault = (target: RoleTarget): Fault =>
  processFault(
    'pause',
    target,
    `SIGSTOP the ZooKeeper server of ${WHO[target]}; the heal sends SIGCONT`,
    async (context, nodes) => {
      const paused = await Promise.all(
        nodes.map(async (n) => ((await context.db.signal(n, 'STOP')) ? n.name : undefined)),
      );
      return { signal: 'STOP', paused: paused.filter((n) => n !== undefined) };
    },
  );

/** Graceful restart: SIGTERM, wait for the process to exit (kill -9 after 10 s), start again. */
const restartFault = (target: RoleTarget): Fault =>
  processFault(
    'restart',
    target,
    `restart the ZooKeeper server of ${WHO[target]} gracefully (SIGTERM, wait for exit, start)`,
    async (context, nodes) => {
      const forced: string[] = [];
      await Promise.all(
        nodes.map(async (node) => {
          await context.db.signal(node, 'TERM');
          await waitUntilStopped(context.db, node, 10_000);
          if (await context.db.isRunning(node)) {
            forced.push(node.name);
            await killNodes(context, [node]);
          }
        }),
      );
      const restarted = await startStopped(context, nodes);
      return { signal: 'TERM', restarted, ...(forced.length ? { forcedKill: forced.sort() } : {}) };
    },
  );

const ROLE_TARGETS = ['leader', 'follower', 'one', 'minority', 'majority', 'all'] as const;

export const killFaults: Fault[] = ROLE_TARGETS.map(killFault);
export const crashFaults: Fault[] = ROLE_TARGETS.map(crashFault);
export const pauseFaults: Fault[] = ROLE_TARGETS.map(pauseFault);
export const restartFaults: Fault[] = (['leader', 'follower', 'one', 'all'] as const).map(restartFault);

/** The walking skeleton's fault, kept by name. */
export const killLeader: Fault = killFaults[0]!;

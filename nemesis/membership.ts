// Membership faults: the ensemble changes its members at run time through ZooKeeper's reconfig operation (3.5+,
// reconfigEnabled with a dynamic config): a voter removed and added back, a participant demoted to observer and
// promoted again, the ensemble grown by two nodes and shrunk by two, alone or combined with a leader killed during
// the reconfig or a joining node cut off before it. The cluster starts a container for each joining node and
// removes the container of each leaving one. Every action records the configuration (version and members) before
// and after, read from the ensemble, and each reconfig it attempted with its outcome: the config-convergence
// checker compares the final configuration with the last acknowledged one. The heal restores the members the
// ensemble started with.
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError, UsageError } from '../src/errors.js';
import type { Fault, FaultParam, FaultRecord, FaultRequest, NemesisContext, TargetSpec } from '../src/nemesis.js';
import { sleep, TimeoutError, waitFor } from '../src/time.js';
import { isIndeterminate, ZkError, type ZkClient } from '../src/zk/client.js';
import {
  memberLine,
  parseEnsembleConfig,
  waitUntilStopped,
  type EnsembleConfig,
  type EnsembleMember,
  type MembershipControl,
} from '../src/zookeeper.js';
import { connectToNode } from '../src/client.js';
import { applyGrudge, completeGrudge } from './partition.js';
import { killNodes } from './process.js';
import { resolveTargets, sample } from './targets.js';

export const MEMBERSHIP_FAMILY = 'membership';
export const CONFIG_NODE = '/zookeeper/config';

/** A configuration as records show it: the version and each member's role by node name. */
export interface ConfigRecord {
  version: string;
  members: Record<string, EnsembleMember['role']>;
}

/** One reconfig the nemesis sent and what came of it (unknown: the reply was lost, it may have taken effect). */
export interface ReconfigAttempt {
  joining?: string[];
  leaving?: string[];
  /** The members the change makes of the configuration it was sent against. */
  requested: Record<string, EnsembleMember['role']>;
  outcome: 'ok' | 'fail' | 'unknown';
  /** The new configuration, from the reply (ok only). */
  version?: string;
  error?: string;
}

export const nodeName = (id: number): string => `n${id}`;

export function configRecord(config: EnsembleConfig): ConfigRecord {
  return {
    version: config.version,
    members: Object.fromEntries(config.members.map((m) => [nodeName(m.id), m.role])),
  };
}

function requireMembership(context: NemesisContext): MembershipControl {
  const membership = context.db.membership;
  if (!membership || !context.cluster.addNode || !context.cluster.removeNode)
    throw new UsageError(
      'membership faults need an ensemble started with reconfigEnabled and a dynamic config',
      'Run with --reconfig yes (faultline test turns it on when --nemesis names a membership fault).',
    );
  return membership;
}

/** The configuration as a serving node reports it after a sync (the leader first). */
export async function readConfig(context: NemesisContext, timeoutMs = 30_000): Promise<EnsembleConfig> {
  return waitFor('a node that reports the configuration', timeoutMs, 250, async () => {
    const leader = await context.db.leader();
    for (const node of leader ? [leader, ...context.cluster.nodes] : context.cluster.nodes) {
      const config = await readConfigOf(node);
      if (config) return config;
    }
    return undefined;
  });
}

/** One node's /zookeeper/config after a sync; undefined when it does not serve. */
export async function readConfigOf(node: ClusterNode): Promise<EnsembleConfig | undefined> {
  let zk: ZkClient | undefined;
  try {
    zk = await connectToNode(node, { sessionTimeoutMs: 4000, connectTimeoutMs: 1500, opTimeoutMs: 3000 });
    await zk.sync(CONFIG_NODE);
    return parseEnsembleConfig((await zk.getData(CONFIG_NODE)).data.toString('utf8'));
  } catch {
    return undefined;
  } finally {
    await zk?.close().catch(() => undefined);
  }
}

/** The members a change makes of a configuration (ZooKeeper's incremental reconfig: leaving first, then joining). */
export function applyChange(
  members: readonly EnsembleMember[],
  leaving: readonly number[],
  joining: readonly EnsembleMember[],
): EnsembleMember[] {
  const next = new Map(members.filter((m) => !leaving.includes(m.id)).map((m) => [m.id, m]));
  for (const j of joining) next.set(j.id, j);
  return [...next.values()].sort((a, b) => a.id - b.id);
}

/**
 * Sends one incremental reconfig through an authorised session on `via` (default: the leader) and waits for its
 * outcome. `whileInFlight` runs once the request is on the wire (kill the leader during the reconfig).
 */
async function reconfigure(
  context: NemesisContext,
  before: EnsembleConfig,
  leaving: readonly number[],
  joining: readonly EnsembleMember[],
  whileInFlight?: () => Promise<void>,
): Promise<ReconfigAttempt> {
  const membership = requireMembership(context);
  const requested = configRecord({ version: '', members: applyChange(before.members, leaving, joining) }).members;
  const base: Omit<ReconfigAttempt, 'outcome'> = {
    ...(joining.length ? { joining: joining.map(memberLine) } : {}),
    ...(leaving.length ? { leaving: leaving.map(nodeName) } : {}),
    requested,
  };
  const via = (await context.db.leader()) ?? context.cluster.nodes[0]!;
  let zk: ZkClient;
  try {
    zk = await membership.adminSession(via);
  } catch (err) {
    return { ...base, outcome: 'fail', error: `no authorised session on ${via.name}: ${(err as Error).message}` };
  }
  const pending = {
    attempt: zk
      .reconfig({
        ...(joining.length ? { joining: joining.map(memberLine).join(',') } : {}),
        ...(leaving.length ? { leaving: leaving.join(',') } : {}),
      })
      .then(
        (reply): ReconfigAttempt => ({
          ...base,
          outcome: 'ok',
          version: parseEnsembleConfig(reply.data.toString('utf8')).version,
        }),
        (err: unknown): ReconfigAttempt => ({
          ...base,
          outcome: err instanceof ZkError && !isIndeterminate(err) ? 'fail' : 'unknown',
          error: err instanceof ZkError ? err.name : (err as Error).message,
        }),
      ),
  };
  try {
    if (whileInFlight) await whileInFlight();
    return await pending.attempt;
  } finally {
    await zk.close().catch(() => undefined);
  }
}

/** Waits until a node's server serves as a learner (a joiner syncs as a non-voting follower before its reconfig). */
async function waitServing(context: NemesisContext, node: ClusterNode, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(`${node.name} serving`, timeoutMs, 250, async () => {
      const s = await context.db.status(node);
      return s.mode === 'follower' || s.mode === 'observer' || s.mode === 'leader' ? true : undefined;
    });
    return true;
  } catch (err) {
    if (err instanceof TimeoutError) return false;
    throw err;
  }
}

/**
 * Starts a joining server: its container (a node that left comes back with its address and data), a config
 * listing the current members and itself, its process (not waiting for it to sync).
 */
async function startJoiner(
  context: NemesisContext,
  id: number,
  role: EnsembleMember['role'],
  current: EnsembleConfig,
): Promise<ClusterNode> {
  const membership = requireMembership(context);
  const node = context.cluster.nodes.find((n) => n.id === id) ?? (await context.cluster.addNode!(id));
  const self: EnsembleMember = { id, host: node.ip, role };
  membership.prepareJoiner(node, applyChange(current.members, [], [self]));
  if (!(await context.db.isRunning(node))) await context.db.start(node);
  return node;
}

/** Stops a node's server and removes its container (a member that left, or a joiner never admitted). */
async function stopLeaver(context: NemesisContext, node: ClusterNode): Promise<void> {
  await context.db.signal(node, 'KILL');
  await waitUntilStopped(context.db, node);
  await context.cluster.removeNode!(node);
}

type During = 'kill-leader' | 'cut-joiner' | undefined;

function duringParam(request: FaultRequest | undefined): During {
  const during = request?.params?.during;
  if (during === undefined) return undefined;
  if (during === 'kill-leader' || during === 'cut-joiner') return during;
  throw new UsageError(
    `membership fault: params.during must be kill-leader or cut-joiner, not ${String(during)}`,
    'kill-leader kills the leader while the reconfig is in flight; cut-joiner isolates joining nodes first.',
  );
}

function countParam(request: FaultRequest | undefined, fallback: number): number {
  const n = Number(request?.params?.count ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > 4)
    throw new UsageError(
      `membership fault: params.count must be 1 to 4, not ${String(request?.params?.count)}`,
      'For example count: 2.',
    );
  return n;
}

/** Kills the leader while the reconfig is in flight (the process family's heal restarts it). */
function killLeaderHook(context: NemesisContext, record: FaultRecord): () => Promise<void> {
  return async () => {
    const leader = await context.db.leader();
    if (!leader) return;
    record.killedLeader = leader.name;
    await killNodes(context, [leader]);
  };
}

/** A membership fault: read the config, change it, read it again; every reconfig recorded with its outcome. */
function membershipFault(
  name: string,
  description: string,
  defaultTarget: TargetSpec | undefined,
  act: (
    context: NemesisContext,
    before: EnsembleConfig,
    request: FaultRequest | undefined,
    record: FaultRecord,
  ) => Promise<void>,
): Fault {
  const during: FaultParam = {
    kind: 'choice',
    help: 'what happens while the reconfig is in flight',
    choices: name === 'membership-grow' ? ['kill-leader', 'cut-joiner'] : ['kill-leader'],
  };
  return {
    name,
    family: MEMBERSHIP_FAMILY,
    description,
    params: {
      during,
      ...(name === 'membership-grow' || name === 'membership-shrink'
        ? { count: { kind: 'count', help: 'how many nodes (1 to 4)' } satisfies FaultParam }
        : {}),
    },
    ...(defaultTarget ? { defaultTarget } : {}),
    async start(context, request) {
      requireMembership(context);
      const before = await readConfig(context);
      const record: FaultRecord = { configBefore: configRecord(before), reconfigs: [] as ReconfigAttempt[] };
      await act(context, before, request, record);
      // Read, never assumed: when no node serves (e.g. the leader of a two-voter config was killed), say so.
      try {
        record.configAfter = configRecord(await readConfig(context, 30_000));
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        record.configAfter = null;
        record.configAfterError = 'no node served a configuration within 30 s';
      }
      return record;
    },
    heal: healMembership,
  };
}

/** Which voters a target names: resolved from the live roles, then checked against the configuration. */
async function targetVoters(
  context: NemesisContext,
  before: EnsembleConfig,
  request: FaultRequest | undefined,
  fallback: TargetSpec,
  record: FaultRecord,
): Promise<EnsembleMember[]> {
  const { nodes, record: targets } = await resolveTargets(context, request?.target ?? fallback);
  Object.assign(record, targets);
  const voters = nodes.flatMap((n) => before.members.filter((m) => m.id === n.id && m.role === 'participant'));
  if (voters.length === 0) throw new HarnessError(`${targets.nodes.join(', ')}: no voter among the targets`);
  return voters;
}

async function removeVoters(
  context: NemesisContext,
  before: EnsembleConfig,
  voters: readonly EnsembleMember[],
  during: During,
  record: FaultRecord,
): Promise<void> {
  const attempts = record.reconfigs as ReconfigAttempt[];
  const ids = voters.map((v) => v.id);
  const attempt = await reconfigure(
    context,
    before,
    ids,
    [],
    during === 'kill-leader' ? killLeaderHook(context, record) : undefined,
  );
  attempts.push(attempt);
  if (attempt.outcome === 'fail') return;
  // A removed member's server stops serving; its container goes (unknown outcome: only if the config says so).
  const after = await readConfig(context, 30_000).catch(() => undefined);
  // Unknown when nothing serves: the leaving containers stay, and the heal decides once a configuration is readable.
  const gone = after ? ids.filter((id) => !after.members.some((m) => m.id === id)) : [];
  for (const id of gone) {
    const node = context.cluster.nodes.find((n) => n.id === id);
    if (node) await stopLeaver(context, node);
  }
  record.stopped = gone.map(nodeName);
}

async function addMembers(
  context: NemesisContext,
  before: EnsembleConfig,
  joining: readonly EnsembleMember[],
  during: During,
  record: FaultRecord,
): Promise<void> {
  const attempts = record.reconfigs as ReconfigAttempt[];
  const nodes: ClusterNode[] = [];
  for (const j of joining) nodes.push(await startJoiner(context, j.id, j.role, before));
  const lines = nodes.map((n, i) => ({ ...joining[i]!, host: n.ip }));
  record.started = nodes.map((n) => n.name);
  if (during === 'cut-joiner') {
    const groups = [
      nodes.map((n) => n.name),
      context.cluster.nodes.filter((n) => !nodes.includes(n)).map((n) => n.name),
    ];
    record.cutOff = nodes.map((n) => n.name);
    await applyGrudge(context, completeGrudge(groups));
  } else {
    const synced = await Promise.all(nodes.map((n) => waitServing(context, n, 60_000)));
    record.synced = nodes.filter((_, i) => synced[i]).map((n) => n.name);
  }
  attempts.push(
    await reconfigure(
      context,
      before,
      [],
      lines,
      during === 'kill-leader' ? killLeaderHook(context, record) : undefined,
    ),
  );
}

/**
 * Restores the starting members: members that left join again (container, config, server), roles are set back,
 * members that joined leave; then every container outside the configuration goes. One reconfig does it all, tried
 * up to three times. Idempotent: nothing to do when the configuration is the starting one.
 */
export async function healMembership(context: NemesisContext): Promise<FaultRecord> {
  const membership = context.db.membership;
  if (!membership || !context.cluster.addNode) return {};
  const record: FaultRecord = { reconfigs: [] as ReconfigAttempt[] };
  const attempts = record.reconfigs as ReconfigAttempt[];
  let current = await readConfig(context, 90_000);
  record.configBefore = configRecord(current);
  const initial = membership.initial;
  for (let attempt = 0; attempt < 3; attempt++) {
    const joining = initial.filter((m) => !current.members.some((c) => c.id === m.id && c.role === m.role));
    const leaving = current.members.filter((c) => !initial.some((m) => m.id === c.id)).map((c) => c.id);
    if (joining.length === 0 && leaving.length === 0) break;
    // Members coming back need their servers up and synced before the reconfig admits them.
    const back = joining.filter((j) => !current.members.some((c) => c.id === j.id));
    for (const j of back) await startJoiner(context, j.id, j.role, current);
    await Promise.all(
      back.map((j) =>
        waitServing(
          context,
          context.cluster.nodes.find((n) => n.id === j.id)!,
          60_000,
        ),
      ),
    );
    const lines = joining.map((j) => ({ ...j, host: context.cluster.nodes.find((n) => n.id === j.id)?.ip ?? j.host }));
    const result = await reconfigure(context, current, leaving, lines);
    attempts.push(result);
    current = await readConfig(context, 60_000);
    if (result.outcome !== 'ok') await sleep(2000);
  }
  // Containers of nodes outside the configuration: members that left, joiners never admitted.
  const stopped: string[] = [];
  for (const node of [...context.cluster.nodes]) {
    if (current.members.some((m) => m.id === node.id)) continue;
    await stopLeaver(context, node);
    stopped.push(node.name);
  }
  record.configAfter = configRecord(current);
  if (stopped.length) record.stopped = stopped;
  if (attempts.length === 0) delete record.reconfigs;
  const unrestored = initial.filter((m) => !current.members.some((c) => c.id === m.id && c.role === m.role));
  if (unrestored.length)
    throw new HarnessError(
      `membership heal: ${unrestored.map((m) => nodeName(m.id)).join(', ')} not restored (config ${current.version}: ${JSON.stringify(configRecord(current).members)})`,
    );
  return record;
}

export const membershipFaults: Fault[] = [
  membershipFault(
    'membership-remove-voter',
    'reconfig: remove one follower from the voters and stop its container (params: during=kill-leader); the heal adds it back',
    'follower',
    async (context, before, request, record) => {
      const voters = await targetVoters(context, before, request, 'follower', record);
      await removeVoters(context, before, voters.slice(0, 1), duringParam(request), record);
    },
  ),
  membershipFault(
    'membership-demote-voter',
    'reconfig: turn one follower into an observer (params: during=kill-leader); the heal makes it a participant again',
    'follower',
    async (context, before, request, record) => {
      const [voter] = await targetVoters(context, before, request, 'follower', record);
      const during = duringParam(request);
      (record.reconfigs as ReconfigAttempt[]).push(
        await reconfigure(
          context,
          before,
          [],
          [{ ...voter!, role: 'observer' }],
          during === 'kill-leader' ? killLeaderHook(context, record) : undefined,
        ),
      );
    },
  ),
  membershipFault(
    'membership-grow',
    'reconfig: start count (default 2) new nodes and add them as voters, e.g. 3 → 5 (params: count, during=kill-leader|cut-joiner); the heal removes them',
    undefined,
    async (context, before, request, record) => {
      const count = countParam(request, 2);
      const firstFree = Math.max(...before.members.map((m) => m.id), ...context.cluster.nodes.map((n) => n.id)) + 1;
      const joining = Array.from({ length: count }, (_, i): EnsembleMember => ({
        id: firstFree + i,
        host: '',
        role: 'participant',
      }));
      await addMembers(context, before, joining, duringParam(request), record);
    },
  ),
  membershipFault(
    'membership-shrink',
    'reconfig: remove count (default 2) random followers from the voters and stop them, e.g. 5 → 3 (params: count, during=kill-leader); the heal adds them back',
    undefined,
    async (context, before, request, record) => {
      const count = countParam(request, 2);
      const voters = before.members.filter((m) => m.role === 'participant');
      if (voters.length - count < 3)
        throw new HarnessError(`membership-shrink: ${voters.length} voters cannot lose ${count} and keep 3`);
      const leader = await context.db.leader();
      const followers = voters.filter((v) => v.id !== leader?.id);
      const chosen = sample(followers, count, context.random).sort((a, b) => a.id - b.id);
      record.nodes = chosen.map((m) => nodeName(m.id));
      await removeVoters(context, before, chosen, duringParam(request), record);
    },
  ),
];

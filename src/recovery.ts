// The recovery phase, after the final heal: first how long the ensemble takes to serve again (a leader, a first
// write, every node serving), then every node read separately (its own session, after a sync) and the nodes' last
// zxids and tree digests snapshotted together. Everything lands in the history as process 'final' events, so
// checkers (and an offline re-check) decide convergence and durability from the history alone (final-state.ts).
import type { Cluster, ClusterNode } from './cluster.js';
import {
  FINAL_CONFIG,
  FINAL_READ,
  FINAL_ZXIDS,
  type FinalConfigs,
  type FinalZxids,
  type NodeSnapshot,
} from './final-state.js';
import type { HistoryWriter } from './history.js';
import type { Logger } from './log.js';
import { sleep, waitFor, withTimeout } from './time.js';
import type { Workload } from './workload.js';
import type { Database } from './zookeeper.js';

/** How long the ensemble took to recover after the final heal began, each in ms since that moment. */
export interface RecoveryTimings {
  /** Until exactly one node said it leads. */
  leaderMs: number;
  /** Until a write (to Faultline's own probe znode, outside every workload's keys) succeeded. */
  firstWriteMs: number;
  /** Until every node served (leader or follower). */
  quorumMs: number;
}

/** Waits for the recovery milestones in order: a leader, a successful write, every node serving. */
export async function measureRecovery(
  cluster: Cluster,
  db: Database,
  since: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RecoveryTimings> {
  const deadline = since + timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  await waitFor('a leader after the heal', left(), 100, () => db.leader(), signal);
  const leaderMs = Date.now() - since;
  await waitFor(
    'a successful write after the heal',
    left(),
    250,
    async () => {
      for (const node of cluster.nodes) if (await db.probeWrite(node)) return true;
      return undefined;
    },
    signal,
  );
  const firstWriteMs = Date.now() - since;
  await db.waitForQuorum(left(), { all: true, ...(signal ? { signal } : {}) });
  return { leaderMs, firstWriteMs, quorumMs: Date.now() - since };
}

export interface RecoveryOptions {
  /** Bound on each node's final read (the session workload waits for expiries inside it). */
  readTimeoutMs: number;
  /** How long the nodes' last zxids may take to agree (late session expiries still write). */
  settleTimeoutMs: number;
  /** The run's abort: no retry or settle wait outlives it. */
  signal?: AbortSignal;
}

/**
 * One node's final read, tried again after a failure (a connection lost while a just-healed node resyncs) until
 * the bound: a single refused connection must not leave the node unread and the verdict unknown.
 */
async function readWithRetries<T>(
  read: () => Promise<T>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(read(), Math.max(1, deadline - Date.now()), what, signal);
    } catch (err) {
      if (Date.now() + 500 >= deadline || signal?.aborted) throw err;
      await sleep(Math.min(2000, 250 * attempt), signal);
    }
  }
}

/** Runs the recovery reads; returns how long they took. */
export async function recoveryPhase(
  nodes: readonly ClusterNode[],
  db: Database,
  workload: Workload,
  history: HistoryWriter,
  log: Logger,
  options: RecoveryOptions,
): Promise<{ readMs: number }> {
  const started = Date.now();
  const finalRead = workload.finalRead?.bind(workload);
  if (finalRead) {
    log.info(`Recovery reads: the whole ${workload.name} state from each of ${nodes.length} nodes...`);
    await Promise.all(
      nodes.map(async (node) => {
        history.append({ process: 'final', type: 'invoke', f: FINAL_READ, value: null, node: node.name });
        try {
          const state = await readWithRetries(
            () => finalRead(node),
            options.readTimeoutMs,
            `final read on ${node.name}`,
            options.signal,
          );
          history.append({ process: 'final', type: 'ok', f: FINAL_READ, value: state, node: node.name });
        } catch (err) {
          history.append({
            process: 'final',
            type: 'info',
            f: FINAL_READ,
            value: null,
            node: node.name,
            error: (err as Error).message,
          });
        }
      }),
    );
  }
  // Every node's ensemble configuration (the config-convergence checker compares them with the last reconfig).
  history.append({ process: 'final', type: 'invoke', f: FINAL_CONFIG, value: null });
  const configs = await Promise.all(nodes.map((n) => db.ensembleConfig(n)));
  const finalConfigs: FinalConfigs = { nodes: Object.fromEntries(nodes.map((n, i) => [n.name, configs[i]!])) };
  history.append({ process: 'final', type: 'ok', f: FINAL_CONFIG, value: finalConfigs });
  // Snapshot all nodes at once until their last zxids agree twice in a row, or the time is up.
  let last: Record<string, NodeSnapshot> = {};
  let settled = false;
  history.append({ process: 'final', type: 'invoke', f: FINAL_ZXIDS, value: null });
  const deadline = Date.now() + options.settleTimeoutMs;
  let previous = '';
  while (!settled) {
    const snaps = await Promise.all(nodes.map((n) => db.snapshot(n)));
    last = Object.fromEntries(nodes.map((n, i) => [n.name, snaps[i]!]));
    const zxids = snaps.map((s) => s.zxid);
    const agreed = zxids.every((z) => z !== null && z === zxids[0]);
    settled = agreed && previous === zxids[0];
    previous = agreed ? (zxids[0] ?? '') : '';
    if (settled || Date.now() > deadline) break;
    if (!(await sleep(500, options.signal))) break;
  }
  const value: FinalZxids = { nodes: last, settled };
  history.append({ process: 'final', type: 'ok', f: FINAL_ZXIDS, value });
  return { readMs: Date.now() - started };
}

// The recovery phase, after the final heal and the quorum wait: every node is read separately (its own session,
// after a sync), and the nodes' last zxids and tree digests are snapshotted together. Everything lands in the
// history as process 'final' events, so checkers (and an offline re-check) decide convergence and durability
// from the history alone.
import type { Anomaly } from './checker.js';
import type { ClusterNode } from './cluster.js';
import type { Validity } from './errors.js';
import type { HistoryEvent, HistoryWriter } from './history.js';
import type { Logger } from './log.js';
import { sleep, withTimeout } from './time.js';
import type { Workload } from './workload.js';
import { connectToNode } from './client.js';
import { fourLetterWord, parseEnsembleConfig, parseSrvr } from './zookeeper.js';

export const FINAL_READ = 'final-read';
export const FINAL_ZXIDS = 'final-zxids';
export const FINAL_CONFIG = 'final-config';

/** One node's /zookeeper/config at the end: the version (hex) and each member's role by node name. */
export interface NodeConfig {
  version: string;
  members: Record<string, string>;
}

/** The value of a 'final-config' event: each node's configuration, null where the node did not serve. */
export interface FinalConfigs {
  nodes: Record<string, NodeConfig | null>;
}

/** A node's configuration after a sync, through its own session; null when it does not serve. */
export async function readNodeConfig(node: ClusterNode): Promise<NodeConfig | null> {
  try {
    const zk = await connectToNode(node, { sessionTimeoutMs: 4000, connectTimeoutMs: 2000, opTimeoutMs: 4000 });
    try {
      await zk.sync('/zookeeper/config');
      const config = parseEnsembleConfig((await zk.getData('/zookeeper/config')).data.toString('utf8'));
      return { version: config.version, members: Object.fromEntries(config.members.map((m) => [`n${m.id}`, m.role])) };
    } finally {
      await zk.close().catch(() => undefined);
    }
  } catch {
    return null;
  }
}

/** What one node said at the end: its last zxid and its recent tree digests (zxid hex → digest). */
export interface NodeSnapshot {
  zxid: string | null;
  digests: Record<string, string>;
  /** mntr's zk_digest_mismatches_count: times this server found its digest differing from the leader's. */
  digestMismatches?: number;
}

/** The value of a 'final-zxids' event: one snapshot per node, taken together, and whether they agreed. */
export interface FinalZxids {
  nodes: Record<string, NodeSnapshot>;
  settled: boolean;
}

export interface RecoveryOptions {
  /** Bound on each node's final read (the session workload waits for expiries inside it). */
  readTimeoutMs: number;
  /** How long the nodes' last zxids may take to agree (late session expiries still write). */
  settleTimeoutMs: number;
}

/** `hash` lists the digest log as lines "<zxid hex>: <digest>" (ZooKeeper 3.6+, with digests enabled). */
export function parseDigests(text: string): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const match of text.matchAll(/^\s*([0-9a-fA-F]+)\s*:\s*(-?\d+)\s*$/gm))
    digests[match[1]!.toLowerCase()] = match[2]!;
  return digests;
}

async function snapshot(node: ClusterNode): Promise<NodeSnapshot> {
  const zxid = await fourLetterWord(node.ip, 'srvr').then(
    (t) => parseSrvr(node.name, t).zxid ?? null,
    () => null,
  );
  const digests = await fourLetterWord(node.ip, 'hash').then(parseDigests, () => ({}));
  const mismatches = await fourLetterWord(node.ip, 'mntr').then(
    (t) => /^zk_digest_mismatches_count\s+(\d+)/m.exec(t)?.[1],
    () => undefined,
  );
  return {
    zxid: zxid === null ? null : BigInt(zxid).toString(16),
    digests,
    ...(mismatches !== undefined ? { digestMismatches: Number(mismatches) } : {}),
  };
}

/** Runs the recovery reads; returns how long they took. */
export async function recoveryPhase(
  nodes: readonly ClusterNode[],
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
          const state = await withTimeout(finalRead(node), options.readTimeoutMs, `final read on ${node.name}`);
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
  const configs = await Promise.all(nodes.map(readNodeConfig));
  const finalConfigs: FinalConfigs = { nodes: Object.fromEntries(nodes.map((n, i) => [n.name, configs[i]!])) };
  history.append({ process: 'final', type: 'ok', f: FINAL_CONFIG, value: finalConfigs });
  // Snapshot all nodes at once until their last zxids agree twice in a row, or the time is up.
  let last: Record<string, NodeSnapshot> = {};
  let settled = false;
  history.append({ process: 'final', type: 'invoke', f: FINAL_ZXIDS, value: null });
  const deadline = Date.now() + options.settleTimeoutMs;
  let previous = '';
  while (!settled) {
    const snaps = await Promise.all(nodes.map(snapshot));
    last = Object.fromEntries(nodes.map((n, i) => [n.name, snaps[i]!]));
    const zxids = snaps.map((s) => s.zxid);
    const agreed = zxids.every((z) => z !== null && z === zxids[0]);
    settled = agreed && previous === zxids[0];
    previous = agreed ? (zxids[0] ?? '') : '';
    if (settled || Date.now() > deadline) break;
    await sleep(500);
  }
  const value: FinalZxids = { nodes: last, settled };
  history.append({ process: 'final', type: 'ok', f: FINAL_ZXIDS, value });
  return { readMs: Date.now() - started };
}

/** One node's state as its recovery read returned it; `index` is the read's completion event. */
export interface NodeFinalState {
  node: string;
  state: unknown;
  index: number;
}

/** The recovery phase's final reads in a history: the nodes read, and how many could not be read. */
export interface FinalReads {
  states: NodeFinalState[];
  unreadable: number;
}

export function finalReads(history: readonly HistoryEvent[]): FinalReads {
  const states: NodeFinalState[] = [];
  let unreadable = 0;
  for (const e of history) {
    if (e.process !== 'final' || e.f !== FINAL_READ || e.type === 'invoke' || e.node === undefined) continue;
    if (e.type === 'ok') states.push({ node: e.node, state: e.value, index: e.index });
    else unreadable++;
  }
  return { states, unreadable };
}

/** A recovery check's verdict: an anomaly (not documented) is invalid; else unknown when a node went unread. */
export function recoveryVerdict(anomalies: readonly Anomaly[], reads: FinalReads): Validity {
  if (anomalies.some((a) => a.documented !== true)) return false;
  return reads.unreadable > 0 || reads.states.length === 0 ? 'unknown' : true;
}

/** The 'final-zxids' snapshot of a history, if the recovery phase ran. */
export function finalZxids(history: readonly HistoryEvent[]): { value: FinalZxids; index: number } | undefined {
  const e = history.find((x) => x.process === 'final' && x.f === FINAL_ZXIDS && x.type === 'ok');
  return e ? { value: e.value as FinalZxids, index: e.index } : undefined;
}

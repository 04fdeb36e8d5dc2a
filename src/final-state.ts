// What the recovery phase leaves in a history, read back: the nodes' final reads and their last zxids and digests.
// Pure (history in, values out), so the checkers that use it never reach the servers.
import type { Anomaly } from './checker.js';
import type { Validity } from './errors.js';
import type { HistoryEvent } from './history.js';

export const FINAL_READ = 'final-read';
export const FINAL_ZXIDS = 'final-zxids';
export const FINAL_CONFIG = 'final-config';
/** The restart oracle's record: after the final heal, the nodes that did not serve within the recovery timeout. */
export const FINAL_RECOVERY = 'recovery';

/** The value of a failed 'recovery' event: what each node was when the recovery timeout ran out. */
export interface FinalRecovery {
  timeoutS: number;
  /** Why the wait ended (the milestone that was not reached). */
  reason: string;
  nodes: Record<string, { serving: boolean; mode: string | null; running: boolean }>;
}

/** One node's /zookeeper/config at the end: the version (hex) and each member's role by node name. */
export interface NodeConfig {
  version: string;
  members: Record<string, string>;
}

/** The value of a 'final-config' event: each node's configuration, null where the node did not serve. */
export interface FinalConfigs {
  nodes: Record<string, NodeConfig | null>;
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

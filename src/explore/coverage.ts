// Server feedback for explore: what the quorum protocol did in a trial, read from the servers' own logs, as a set of
// abstract features. A feature names what happened without naming a node: "a node whose last sync was a DIFF was
// elected", "a learner that had just restarted synced by SNAP from a leader that had itself last synced by TRUNC",
// and which such event followed which. Explore keeps the trials that reached features no trial reached before and
// mutates their schedules (src/explore/guide.ts), as greybox fuzzers of distributed systems do with
// state coverage (Mallory, CCS 2023, abstracts Lamport timelines the same way).
//
// Every sync kind, every prior state and every pair is a feature alike: nothing here prefers one sequence.
// Pure over log text, so it is tested on hand-made logs.
import { logEntry } from '../server-logs.js';

/** How a node last got its data: from its own disk at start, or by a sync from a leader. */
export type NodeOrigin = 'start' | 'DIFF' | 'SNAP' | 'TRUNC';

export type ProtocolEvent =
  | { wallMs: number; node: string; kind: 'start' }
  | { wallMs: number; node: string; kind: 'lead' }
  | { wallMs: number; node: string; kind: 'sync'; how: 'DIFF' | 'SNAP' | 'TRUNC' }
  /** The leader could not serve a learner as it planned and fell back to a snapshot. */
  | { wallMs: number; node: string; kind: 'fallback' };

// ZooKeeper's own INFO/WARN messages (QuorumPeerMain, Leader, Learner.syncWithLeader, LearnerHandler), 3.5 to 3.9.
const MESSAGES: readonly [RegExp, (node: string, wallMs: number) => ProtocolEvent][] = [
  [/Starting quorum peer/, (node, wallMs) => ({ wallMs, node, kind: 'start' })],
  [/LEADING - LEADER ELECTION TOOK/, (node, wallMs) => ({ wallMs, node, kind: 'lead' })],
  [/Getting a diff from the leader/, (node, wallMs) => ({ wallMs, node, kind: 'sync', how: 'DIFF' })],
  [/Getting a snapshot from leader/, (node, wallMs) => ({ wallMs, node, kind: 'sync', how: 'SNAP' })],
  [/Truncating log to get in sync with the leader/, (node, wallMs) => ({ wallMs, node, kind: 'sync', how: 'TRUNC' })],
  [/Unhandled scenario for peer/, (node, wallMs) => ({ wallMs, node, kind: 'fallback' })],
];

/** The protocol events of every node's log, in time order (ties: node name, then log order). */
export function protocolEvents(logs: Readonly<Record<string, string>>): ProtocolEvent[] {
  const events: (ProtocolEvent & { seq: number })[] = [];
  let seq = 0;
  for (const [node, text] of Object.entries(logs)) {
    for (const line of text.split('\n')) {
      const entry = logEntry(line);
      if (!entry || Number.isNaN(entry.wallMs)) continue;
      for (const [regex, make] of MESSAGES) {
        if (!regex.test(line)) continue;
        events.push({ ...make(node, entry.wallMs), seq: seq++ });
        break;
      }
    }
  }
  events.sort((a, b) => a.wallMs - b.wallMs || (a.node < b.node ? -1 : a.node > b.node ? 1 : a.seq - b.seq));
  return events.map(({ seq: _seq, ...e }) => e);
}

/** Election counts are bucketed (1, 2, 3, 4-5, 6+) so that a long trial does not make a new feature per election. */
const electionBucket = (n: number): string => (n <= 3 ? String(n) : n <= 5 ? '4-5' : '6+');

/**
 * The features a trial reached: each event labelled by the abstract states it involved, each pair of consecutive
 * labels, and how many elections there were.
 */
export function coverageFeatures(events: readonly ProtocolEvent[]): Set<string> {
  const origin = new Map<string, NodeOrigin>();
  const features = new Set<string>();
  let leader: string | undefined;
  let previous: string | undefined;
  let elections = 0;
  const label = (l: string): void => {
    features.add(l);
    if (previous !== undefined) features.add(`${previous} > ${l}`);
    previous = l;
  };
  for (const e of events) {
    switch (e.kind) {
      case 'start':
        origin.set(e.node, 'start');
        if (leader === e.node) leader = undefined;
        break;
      case 'lead':
        leader = e.node;
        elections++;
        label(`lead(was ${origin.get(e.node) ?? 'start'})`);
        break;
      case 'sync': {
        const from = leader && leader !== e.node ? (origin.get(leader) ?? 'start') : '?';
        label(`sync ${e.how}(learner was ${origin.get(e.node) ?? 'start'}, leader was ${from})`);
        origin.set(e.node, e.how);
        if (leader === e.node) leader = undefined;
        break;
      }
      case 'fallback':
        label(`fallback(leader was ${origin.get(e.node) ?? 'start'})`);
        break;
    }
  }
  if (elections > 0) features.add(`elections ${electionBucket(elections)}`);
  return features;
}

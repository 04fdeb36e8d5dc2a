// Checkers over the recovery phase: do all replicas hold the same data, at the same last zxid, with the same
// tree digest; and how long after the final heal could each node be read again.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import type { HistoryEvent } from '../history.js';
import { finalReads, finalZxids, recoveryVerdict, type NodeFinalState } from '../final-state.js';
import { describeCut, unsyncedPowerCuts } from './power-loss.js';

/** JSON with object keys sorted, so equal states compare equal whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Top-level keys (or array positions) whose values differ between two states: what a report should show. */
function differingParts(a: unknown, b: unknown): string[] {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return [];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  return [...keys].filter((k) => canonicalJson(ra[k]) !== canonicalJson(rb[k])).slice(0, 20);
}

export function checkConvergence(history: readonly HistoryEvent[]): CheckerResult {
  const reads = finalReads(history);
  const snapshot = finalZxids(history);
  if (reads.states.length + reads.unreadable === 0 && !snapshot)
    return { valid: 'unknown', reason: 'no recovery phase in the history' };
  const anomalies: Anomaly[] = [];
  const groups = new Map<string, NodeFinalState[]>();
  for (const read of reads.states) {
    const text = canonicalJson(read.state);
    groups.set(text, [...(groups.get(text) ?? []), read]);
  }
  const [first, ...others] = [...groups.values()];
  for (const group of others) {
    const differing = differingParts(first![0]!.state, group[0]!.state);
    anomalies.push({
      type: 'divergent-data',
      ops: [first![0]!.index, group[0]!.index],
      description:
        `${first!.map((r) => r.node).join(',')} and ${group.map((r) => r.node).join(',')} hold different data` +
        (differing.length ? ` (differing: ${differing.join(', ')})` : ''),
    });
  }
  let digestsCompared = 0;
  let unanswered = 0;
  const counted: Anomaly[] = [];
  if (snapshot) {
    const nodes = Object.entries(snapshot.value.nodes);
    // A node that did not answer srvr proves nothing either way: it makes the verdict unknown, not invalid.
    const answered = nodes.filter(([, s]) => s.zxid !== null);
    unanswered = nodes.length - answered.length;
    const zxids = new Set(answered.map(([, s]) => s.zxid));
    if (zxids.size > 1 || (!snapshot.value.settled && unanswered === 0)) {
      anomalies.push({
        type: 'divergent-zxid',
        ops: [snapshot.index],
        description: `last zxids did not agree: ${nodes.map(([n, s]) => `${n}=${s.zxid ?? '?'}`).join(' ')}`,
      });
    }
    for (const [node, s] of nodes) {
      if ((s.digestMismatches ?? 0) > 0)
        counted.push({
          type: 'digest-mismatch-counted',
          ops: [snapshot.index],
          description: `${node} itself counted ${s.digestMismatches!} digest mismatch(es) with the leader during the run (mntr zk_digest_mismatches_count)`,
        });
    }
    // Digests are compared at every zxid all nodes still have in their digest log.
    const common = nodes.length
      ? Object.keys(nodes[0]![1].digests).filter((z) => nodes.every(([, s]) => z in s.digests))
      : [];
    for (const z of common) {
      digestsCompared++;
      const values = new Set(nodes.map(([, s]) => s.digests[z]));
      if (values.size > 1)
        anomalies.push({
          type: 'digest-mismatch',
          ops: [snapshot.index],
          description: `tree digests differ at zxid ${z}: ${nodes.map(([n, s]) => `${n}=${s.digests[z]!}`).join(' ')}`,
        });
    }
  }
  // After a power cut of a node that acknowledged without fsync (forceSync=no), nothing of this is promised.
  const cut = unsyncedPowerCuts(history)[0];
  if (cut)
    for (const [i, a] of anomalies.entries())
      if (!a.documented)
        anomalies[i] = { ...a, documented: true, description: `${a.description}; documented: ${describeCut(cut)}` };
  // A server counts digest mismatches while it catches up (e.g. a DIFF sync replaying on-disk txns, the path of
  // ZOOKEEPER-2846). When the final data, the last zxids and every common tree digest agree, the count is a
  // warning worth showing, not divergence: reported as documented. With any other divergence it counts in full.
  const diverged = anomalies.some((a) => a.documented !== true);
  for (const a of counted)
    anomalies.push(
      diverged
        ? a
        : {
            ...a,
            documented: true,
            description: `${a.description}; transient: the final data, zxids and digests agree (see ZOOKEEPER-2846)`,
          },
    );
  // Without a workload final read, the zxid/digest snapshot alone decides.
  const readsVerdict =
    reads.states.length + reads.unreadable === 0
      ? anomalies.some((a) => a.documented !== true)
        ? false
        : true
      : recoveryVerdict(anomalies, reads);
  const verdict = readsVerdict === true && unanswered > 0 ? 'unknown' : readsVerdict;
  return {
    valid: verdict,
    counts: {
      nodes: reads.states.length || Object.keys(snapshot?.value.nodes ?? {}).length,
      unreadableNodes: reads.unreadable,
      unansweredNodes: unanswered,
      distinctStates: groups.size,
      digestsCompared,
    },
    anomalies,
  };
}

export const convergenceChecker: Checker = { check: async (history) => checkConvergence(history) };

/** Time from the start of the final heal (after the main phase) to each node's final read, as clients see it. */
export function checkRecoveryTime(history: readonly HistoryEvent[]): CheckerResult {
  const heals = history.filter((e) => e.process === 'nemesis' && e.f === 'heal');
  const reads = history.filter((e) => e.process === 'final' && e.f === 'final-read' && e.type !== 'invoke');
  if (reads.length === 0) return { valid: 'unknown', reason: 'no recovery phase in the history' };
  // The final heal begins after the main phase, i.e. after the last client event; without one, the phase's end.
  const lastClientEvent = history.reduce(
    (last, e) => (typeof e.process === 'number' ? e : last),
    undefined as HistoryEvent | undefined,
  );
  const finalHeal = heals.find((e) => e.index > (lastClientEvent?.index ?? -1));
  const healTime = finalHeal?.time ?? lastClientEvent?.time ?? reads[0]!.time;
  const perNodeMs = Object.fromEntries(reads.map((e) => [e.node ?? '?', Math.round((e.time - healTime) / 1e6)]));
  const failed = reads.filter((e) => e.type !== 'ok');
  return {
    valid: failed.length ? 'unknown' : true,
    counts: { nodes: reads.length, unreadableNodes: failed.length, maxMs: Math.max(...Object.values(perNodeMs)) },
    perNodeMs,
  };
}

export const recoveryTimeChecker: Checker = { check: async (history) => checkRecoveryTime(history) };

/** The recovery-phase checkers every workload with a final read gets. */
export const RECOVERY_CHECKERS: Record<string, Checker> = {
  convergence: convergenceChecker,
  'recovery-time': recoveryTimeChecker,
};

// The set checker: every add is a distinct element; the recovery reads of each node decide what became of it.
// lost: acknowledged, absent; recovered: outcome unknown (info), present; unexpected: never attempted, present.
// Visibility latency: from an add's acknowledgement to the first read that shows it.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';
import { describeCut, unsyncedCutAfter, unsyncedPowerCuts } from './power-loss.js';

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0;
}

export function checkSet(history: readonly HistoryEvent[]): CheckerResult {
  const ops = pairOperations(history);
  const adds = ops.filter((op) => op.f === 'add');
  const acked = new Map<number, Operation>();
  const attempted = new Map<number, Operation>();
  for (const op of adds) {
    if (op.type !== 'fail') attempted.set(op.input as number, op);
    if (op.type === 'ok') acked.set(op.input as number, op);
  }
  const reads = finalReads(history);
  const cuts = unsyncedPowerCuts(history);
  const anomalies: Anomaly[] = [];
  const perNode: Record<string, { lost: number; recovered: number; unexpected: number; present: number }> = {};
  for (const { node, ...read } of reads.states) {
    const present = new Set(read.state as number[]);
    const counts = { lost: 0, recovered: 0, unexpected: 0, present: present.size };
    for (const [element, op] of acked) {
      if (present.has(element)) continue;
      counts.lost++;
      // Not promised: a power cut after the ack, of a node that acknowledged without fsync.
      const cut = unsyncedCutAfter(cuts, op.completeTime);
      anomalies.push({
        type: 'lost-write',
        ops: [op.invokeIndex, read.index],
        description: `${node}: acknowledged add of ${element} is missing after recovery${cut ? `; documented: ${describeCut(cut)}` : ''}`,
        ...(cut ? { documented: true } : {}),
      });
    }
    for (const element of present) {
      const op = attempted.get(element);
      if (!op) {
        counts.unexpected++;
        anomalies.push({
          type: 'unexpected-element',
          ops: [read.index],
          description: `${node}: ${element} is present but was never added`,
        });
      } else if (op.type === 'info') counts.recovered++;
    }
    perNode[node] = counts;
  }

  // Visibility: the first read, invoked after the add was acknowledged, that contains the element.
  const latencies: number[] = [];
  const readOps = ops.filter((op) => op.f === 'read' && op.type === 'ok').sort((a, b) => a.invokeTime - b.invokeTime);
  let neverSeen = 0;
  for (const [element, add] of acked) {
    const seen = readOps.find((r) => r.invokeTime > add.completeTime && (r.output as number[]).includes(element));
    if (seen) latencies.push((seen.completeTime - add.completeTime) / 1e6);
    else neverSeen++;
  }
  latencies.sort((a, b) => a - b);
  return {
    valid: recoveryVerdict(anomalies, reads),
    counts: {
      attempted: attempted.size,
      acknowledged: acked.size,
      unknownOutcome: adds.filter((a) => a.type === 'info').length,
      lost: Math.max(0, ...Object.values(perNode).map((c) => c.lost)),
      recovered: Math.max(0, ...Object.values(perNode).map((c) => c.recovered)),
      unexpected: Math.max(0, ...Object.values(perNode).map((c) => c.unexpected)),
      unreadableNodes: reads.unreadable,
    },
    perNode,
    visibilityMs: {
      reads: readOps.length,
      measured: latencies.length,
      neverSeenInReads: neverSeen,
      median: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies[latencies.length - 1] ?? 0,
    },
    anomalies,
  };
}

export const setChecker: Checker = { check: async (history) => checkSet(history) };

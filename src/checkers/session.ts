// The session checker: every ephemeral znode's session has ended by the recovery phase (closed, or abandoned and
// expired), so no node may still hold one (ZOOKEEPER-2355 / ZOOKEEPER-5010 style divergence).
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';

export function checkSessions(history: readonly HistoryEvent[]): CheckerResult {
  const creates = new Map<string, Operation>();
  for (const op of pairOperations(history))
    if (op.f === 'ephemeral' && op.type !== 'fail') creates.set(String((op.input as { name: string }).name), op);
  const reads = finalReads(history);
  const anomalies: Anomaly[] = [];
  for (const read of reads.states) {
    for (const name of read.state as string[]) {
      const op = creates.get(name);
      anomalies.push({
        type: 'surviving-ephemeral',
        ops: op ? [op.invokeIndex, read.index] : [read.index],
        description:
          `${read.node} still holds ephemeral ${name} after its session ended` +
          (op
            ? ` (created ${op.type === 'ok' ? 'and acknowledged' : 'with unknown outcome'}, session ${String((op.output as { end?: string } | undefined)?.end ?? 'ended')})`
            : ''),
      });
    }
  }
  return {
    valid: recoveryVerdict(anomalies, reads),
    counts: {
      ephemerals: creates.size,
      acknowledged: [...creates.values()].filter((o) => o.type === 'ok').length,
      surviving: anomalies.length,
      unreadableNodes: reads.unreadable,
    },
    anomalies,
  };
}

export const sessionChecker: Checker = { check: async (history) => checkSessions(history) };

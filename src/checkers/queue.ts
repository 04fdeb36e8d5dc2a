// The queue checker: nothing dequeued twice, nothing dequeued that was never enqueued, no acknowledged enqueue
// lost (neither dequeued nor left in the queue after recovery), and FIFO: dequeues ordered by the zxid of their
// delete take sequence numbers in increasing order (an earlier element still queued when a later one was taken
// means the head was skipped). This replaces a porcupine queue search, which blows up on unknown outcomes.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';

/** What an ok dequeue returns: the token and the sequence number of the znode that held it. */
export interface Dequeued {
  token: number;
  seq: number;
}

export function checkQueue(history: readonly HistoryEvent[]): CheckerResult {
  const ops = pairOperations(history);
  const enqueued = new Map<string, Operation>();
  const acked = new Map<string, Operation>();
  const dequeued = new Map<string, Operation>();
  const anomalies: Anomaly[] = [];
  let uncertainDequeues = 0;
  for (const op of ops) {
    if (op.f === 'enqueue' && op.type !== 'fail') {
      enqueued.set(JSON.stringify(op.input), op);
      if (op.type === 'ok') acked.set(JSON.stringify(op.input), op);
    }
    if (op.f === 'dequeue' && op.type === 'info') uncertainDequeues++;
  }
  const okDequeues = ops.filter((op) => op.f === 'dequeue' && op.type === 'ok' && op.output !== null);
  for (const op of okDequeues) {
    const token = JSON.stringify((op.output as Dequeued).token);
    const earlier = dequeued.get(token);
    if (earlier)
      anomalies.push({
        type: 'duplicate-dequeue',
        ops: [earlier.invokeIndex, op.invokeIndex],
        description: `${token} was dequeued twice`,
      });
    else dequeued.set(token, op);
    if (!enqueued.has(token))
      anomalies.push({
        type: 'unexpected-dequeue',
        ops: [op.invokeIndex],
        description: `dequeued ${token}, which was never enqueued`,
      });
  }
  const reads = finalReads(history);
  let lost = 0;
  for (const { node, ...read } of reads.states) {
    const remaining = new Set((read.state as unknown[]).map((v) => JSON.stringify(v)));
    const missing = [...acked].filter(([token]) => !dequeued.has(token) && !remaining.has(token));
    // Dequeues with unknown outcome may have taken some: only more missing elements than those prove a loss.
    const provenLost = missing.length > uncertainDequeues;
    if (provenLost) lost = Math.max(lost, missing.length - uncertainDequeues);
    for (const [token, op] of missing) {
      anomalies.push({
        type: provenLost ? 'lost-write' : 'possibly-dequeued',
        ops: [op.invokeIndex, read.index],
        ...(provenLost ? {} : { documented: true }),
        description:
          `${node}: acknowledged enqueue of ${token} neither dequeued nor left in the queue` +
          (provenLost ? '' : ` (${uncertainDequeues} dequeue(s) with unknown outcome may have taken it)`),
      });
    }
    for (const token of remaining) {
      const taken = dequeued.get(token);
      if (taken)
        anomalies.push({
          type: 'duplicate-dequeue',
          ops: [taken.invokeIndex, read.index],
          description: `${node}: ${token} was dequeued but is still in the queue`,
        });
    }
  }
  // FIFO: in delete (zxid) order, sequence numbers only grow.
  const ordered = okDequeues
    .filter((op) => op.zxid !== undefined)
    .sort((a, b) => (BigInt(`0x${a.zxid!}`) < BigInt(`0x${b.zxid!}`) ? -1 : 1));
  let highest: Operation | undefined;
  for (const op of ordered) {
    const { seq, token } = op.output as Dequeued;
    if (highest && seq < (highest.output as Dequeued).seq) {
      const skipped = highest.output as Dequeued;
      anomalies.push({
        type: 'fifo-violation',
        ops: [highest.invokeIndex, op.invokeIndex],
        description: `token ${skipped.token} (seq ${skipped.seq}) was dequeued at zxid ${highest.zxid!} while the older token ${token} (seq ${seq}) was still queued`,
      });
    } else highest = op;
  }
  return {
    valid: recoveryVerdict(anomalies, reads),
    counts: {
      enqueued: enqueued.size,
      acknowledged: acked.size,
      dequeued: dequeued.size,
      uncertainDequeues,
      lost,
      duplicates: anomalies.filter((a) => a.type === 'duplicate-dequeue').length,
      fifoViolations: anomalies.filter((a) => a.type === 'fifo-violation').length,
    },
    anomalies,
  };
}

export const queueChecker: Checker = { check: async (history) => checkQueue(history) };

// The bank checker: money is only moved, never made or destroyed, so every read of all accounts (during the run,
// and each node's recovery read) must show the same total, and no balance may go negative.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent } from '../history.js';
import { finalReads, recoveryVerdict } from '../recovery.js';

export type Balances = Record<string, number>;

function inspect(balances: Balances, total: number, ops: number[], where: string, anomalies: Anomaly[]): void {
  const sum = Object.values(balances).reduce((a, b) => a + b, 0);
  if (sum !== total) anomalies.push({ type: 'wrong-total', ops, description: `${where}: accounts sum to ${sum}, not ${total} (${JSON.stringify(balances)})` });
  for (const [account, balance] of Object.entries(balances)) {
    if (balance < 0) anomalies.push({ type: 'negative-balance', ops, description: `${where}: account ${account} holds ${balance}` });
  }
}

export function checkBank(history: readonly HistoryEvent[], total: number): CheckerResult {
  const anomalies: Anomaly[] = [];
  const reads = pairOperations(history).filter((op) => op.f === 'read' && op.type === 'ok');
  for (const op of reads) inspect(op.output as Balances, total, [op.invokeIndex], `read by process ${op.process}`, anomalies);
  const finals = finalReads(history);
  for (const { node, state, index } of finals.states) inspect(state as Balances, total, [index], `${node} after recovery`, anomalies);
  return {
    valid: recoveryVerdict(anomalies, finals),
    counts: { reads: reads.length, finalReads: finals.states.length, unreadableNodes: finals.unreadable, wrongTotals: anomalies.filter((a) => a.type === 'wrong-total').length, negativeBalances: anomalies.filter((a) => a.type === 'negative-balance').length },
    total,
    anomalies,
  };
}

export function bankChecker(total: number): Checker {
  return { check: async (history) => checkBank(history, total) };
}

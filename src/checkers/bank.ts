// The bank checker: money is only moved, never made or destroyed, so every read of all accounts (during the run,
// and each node's recovery read) must show the same total, and no balance may go negative. Durability: each node's
// final balances must be the initial ones plus every acknowledged transfer plus some subset of the transfers whose
// outcome is unknown; anything else means an acknowledged transfer was lost (or a failed one applied).
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent } from '../history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';

export type Balances = Record<string, number>;

function inspect(balances: Balances, total: number, ops: number[], where: string, anomalies: Anomaly[]): void {
  const sum = Object.values(balances).reduce((a, b) => a + b, 0);
  if (sum !== total)
    anomalies.push({
      type: 'wrong-total',
      ops,
      description: `${where}: accounts sum to ${sum}, not ${total} (${JSON.stringify(balances)})`,
    });
  for (const [account, balance] of Object.entries(balances)) {
    if (balance < 0)
      anomalies.push({ type: 'negative-balance', ops, description: `${where}: account ${account} holds ${balance}` });
  }
}

export interface Transfer {
  from: number;
  to: number;
  amount: number;
}

/** Beyond this many distinct balance vectors from unknown-outcome transfers, durability is left undecided. */
const MAX_REACHABLE = 100_000;

const vectorKey = (v: readonly number[]): string => v.join(',');

/**
 * The balance changes a subset of the unknown-outcome transfers can explain, or undefined when there are too
 * many to enumerate.
 */
function explainableChanges(uncertain: readonly Transfer[], accounts: readonly string[]): Set<string> | undefined {
  let reachable = new Map<string, number[]>([[vectorKey(accounts.map(() => 0)), accounts.map(() => 0)]]);
  for (const t of uncertain) {
    const next = new Map(reachable);
    for (const v of reachable.values()) {
      const moved = accounts.map(
        (a, i) => v[i]! + (a === String(t.to) ? t.amount : 0) - (a === String(t.from) ? t.amount : 0),
      );
      next.set(vectorKey(moved), moved);
    }
    if (next.size > MAX_REACHABLE) return undefined;
    reachable = next;
  }
  return new Set(reachable.keys());
}

export function checkBank(history: readonly HistoryEvent[], initial: Balances): CheckerResult {
  const total = Object.values(initial).reduce((a, b) => a + b, 0);
  const anomalies: Anomaly[] = [];
  const ops = pairOperations(history);
  const reads = ops.filter((op) => op.f === 'read' && op.type === 'ok');
  for (const op of reads)
    inspect(op.output as Balances, total, [op.invokeIndex], `read by process ${op.process}`, anomalies);
  const finals = finalReads(history);
  for (const { node, state, index } of finals.states)
    inspect(state as Balances, total, [index], `${node} after recovery`, anomalies);

  const accounts = Object.keys(initial).sort();
  const transfers = ops.filter((op) => op.f === 'transfer');
  const acked = transfers.filter((op) => op.type === 'ok').map((op) => op.input as Transfer);
  const explainable = explainableChanges(
    transfers.filter((op) => op.type === 'info').map((op) => op.input as Transfer),
    accounts,
  );
  const expected = accounts.map(
    (a) =>
      initial[a]! +
      acked.reduce((sum, t) => sum + (String(t.to) === a ? t.amount : 0) - (String(t.from) === a ? t.amount : 0), 0),
  );
  for (const { node, state, index } of explainable ? finals.states : []) {
    const balances = state as Balances;
    const change = accounts.map((a, i) => (balances[a] ?? 0) - expected[i]!);
    if (explainable!.has(vectorKey(change))) continue;
    anomalies.push({
      type: 'lost-write',
      ops: [index],
      description:
        `${node}: final balances ${JSON.stringify(balances)} are not the initial ones plus the ${acked.length} acknowledged transfers ` +
        `(expected ${JSON.stringify(Object.fromEntries(accounts.map((a, i) => [a, expected[i]])))}, give or take the ${transfers.filter((op) => op.type === 'info').length} of unknown outcome)`,
    });
  }
  const verdict = recoveryVerdict(anomalies, finals);
  return {
    valid: verdict === true && !explainable ? 'unknown' : verdict,
    counts: {
      reads: reads.length,
      finalReads: finals.states.length,
      unreadableNodes: finals.unreadable,
      wrongTotals: anomalies.filter((a) => a.type === 'wrong-total').length,
      negativeBalances: anomalies.filter((a) => a.type === 'negative-balance').length,
      acknowledgedTransfers: acked.length,
      lostNodes: anomalies.filter((a) => a.type === 'lost-write').length,
    },
    total,
    anomalies,
  };
}

export function bankChecker(initial: Balances): Checker {
  return { check: async (history) => checkBank(history, initial) };
}

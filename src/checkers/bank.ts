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

/** Partial sums kept at most per node before durability is left undecided. */
const MAX_STATES = 2_000_000;

/**
 * Whether some subset of the unknown-outcome transfers moves the balances by exactly `change` (account order as
 * `accounts`): true, false, or undefined when too many partial sums had to be kept. Transfers with the same effect
 * are grouped (a subset only chooses how many of each group happened); the partial sums of the groups taken so far
 * are kept only while the rest of the groups could still bring them to `change`, account by account. Keeping
 * every subset's effect instead (no aim) stops being feasible at two dozen unknown transfers, as a real 60 s run
 * with faults has.
 */
export function explainedByUnknown(
  uncertain: readonly Transfer[],
  accounts: readonly string[],
  change: readonly number[],
  maxStates = MAX_STATES,
): boolean | undefined {
  const groups = new Map<string, { delta: number[]; count: number }>();
  for (const t of uncertain) {
    const delta = accounts.map((a) => (a === String(t.to) ? t.amount : 0) - (a === String(t.from) ? t.amount : 0));
    if (delta.every((d) => d === 0)) continue;
    const key = delta.join(',');
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { delta, count: 1 });
  }
  const list = [...groups.values()];
  const n = accounts.length;
  // What groups i.. can still move each account by, at least and at most.
  const low = Array.from({ length: list.length + 1 }, () => new Array<number>(n).fill(0));
  const high = Array.from({ length: list.length + 1 }, () => new Array<number>(n).fill(0));
  for (let i = list.length - 1; i >= 0; i--)
    for (let a = 0; a < n; a++) {
      const d = list[i]!.delta[a]! * list[i]!.count;
      low[i]![a] = low[i + 1]![a]! + Math.min(0, d);
      high[i]![a] = high[i + 1]![a]! + Math.max(0, d);
    }
  const reachable = (v: readonly number[], from: number): boolean =>
    v.every((x, a) => change[a]! - x >= low[from]![a]! && change[a]! - x <= high[from]![a]!);
  if (!reachable(new Array<number>(n).fill(0), 0)) return false;
  // Partial sums packed into one number: each account's offset from its lowest possible value, mixed radix.
  const width = low[0]!.map((l, a) => high[0]![a]! - l + 1);
  if (width.reduce((p, w) => p * w, 1) > Number.MAX_SAFE_INTEGER) return undefined;
  const pack = (v: readonly number[]): number => v.reduce((key, x, a) => key * width[a]! + (x - low[0]![a]!), 0);
  const unpack = (key: number): number[] => {
    const v = new Array<number>(n);
    for (let a = n - 1; a >= 0; a--) {
      v[a] = (key % width[a]!) + low[0]![a]!;
      key = Math.floor(key / width[a]!);
    }
    return v;
  };
  const target = pack(change);
  let states = new Set<number>([pack(new Array<number>(n).fill(0))]);
  for (let i = 0; i < list.length; i++) {
    if (states.has(target)) return true;
    const { delta, count } = list[i]!;
    const next = new Set<number>();
    for (const key of states) {
      const v = unpack(key);
      for (let k = 0; k <= count; k++) {
        if (k > 0) for (let a = 0; a < n; a++) v[a]! += delta[a]!;
        if (reachable(v, i + 1)) next.add(pack(v));
      }
      if (next.size > maxStates) return undefined;
    }
    states = next;
  }
  return states.has(target);
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
  const uncertain = transfers.filter((op) => op.type === 'info').map((op) => op.input as Transfer);
  const expected = accounts.map(
    (a) =>
      initial[a]! +
      acked.reduce((sum, t) => sum + (String(t.to) === a ? t.amount : 0) - (String(t.from) === a ? t.amount : 0), 0),
  );
  let undecided = 0;
  for (const { node, state, index } of finals.states) {
    const balances = state as Balances;
    const change = accounts.map((a, i) => (balances[a] ?? 0) - expected[i]!);
    const explained = explainedByUnknown(uncertain, accounts, change);
    if (explained === undefined) undecided++;
    if (explained !== false) continue;
    anomalies.push({
      type: 'lost-write',
      ops: [index],
      description:
        `${node}: final balances ${JSON.stringify(balances)} are not the initial ones plus the ${acked.length} acknowledged transfers ` +
        `(expected ${JSON.stringify(Object.fromEntries(accounts.map((a, i) => [a, expected[i]])))}, give or take the ${uncertain.length} of unknown outcome)`,
    });
  }
  const verdict = recoveryVerdict(anomalies, finals);
  return {
    valid: verdict === true && undecided > 0 ? 'unknown' : verdict,
    counts: {
      reads: reads.length,
      finalReads: finals.states.length,
      unreadableNodes: finals.unreadable,
      wrongTotals: anomalies.filter((a) => a.type === 'wrong-total').length,
      negativeBalances: anomalies.filter((a) => a.type === 'negative-balance').length,
      acknowledgedTransfers: acked.length,
      unknownTransfers: uncertain.length,
      undecidedNodes: undecided,
      lostNodes: anomalies.filter((a) => a.type === 'lost-write').length,
    },
    total,
    anomalies,
  };
}

export function bankChecker(initial: Balances): Checker {
  return { check: async (history) => checkBank(history, initial) };
}

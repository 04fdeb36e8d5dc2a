// A checker decides one property of a recorded history.
import { mergeValidity, type Validity } from './errors.js';
import type { HistoryEvent } from './history.js';
import type { ServerLogs } from './server-logs.js';

/** One violation, named (stale-read, non-monotonic-read, lost-write, ...), with the ops involved. */
export interface Anomaly {
  type: string;
  /** Indexes of the events involved in the history (invokes for client ops, completions for final reads). */
  ops: number[];
  description: string;
  /** True when ZooKeeper documents this behaviour (e.g. a stale plain read): reported, not a bug. */
  documented?: boolean;
}

export interface CheckerResult {
  valid: Validity;
  /** The property is not promised in this mode: the result is reported but does not decide the run. */
  advisory?: boolean;
  counts?: Record<string, number>;
  anomalies?: Anomaly[];
  /** Why the checker decided as it did, in a few words (why it could not decide, for unknown). */
  reason?: string;
  /** The checker itself failed (an exception): its verdict is unknown. */
  error?: string;
  [detail: string]: unknown;
}

/** A run's verdict from its checkers' results. Advisory ones (properties not promised in the mode) do not count. */
export function overallValidity(results: Record<string, CheckerResult>): Validity {
  return mergeValidity(
    Object.values(results)
      .filter((c) => c.advisory !== true)
      .map((c) => c.valid),
  );
}

/** One line for the terminal: verdict, whether it counts, and the anomalies by name (documented ones marked). */
export function describeCheckerResult(name: string, result: CheckerResult): string {
  const verdict = result.valid === true ? 'valid' : result.valid === false ? 'INVALID' : 'unknown';
  const byType = new Map<string, number>();
  for (const a of result.anomalies ?? []) {
    const label = a.documented ? `${a.type} (documented)` : a.type;
    byType.set(label, (byType.get(label) ?? 0) + 1);
  }
  const anomalies = [...byType].map(([type, n]) => `${type} ×${n}`).join(', ');
  return (
    `${name}: ${verdict}${result.advisory ? ' [advisory: not promised in this mode]' : ''}` +
    `${anomalies ? ` — ${anomalies}` : ''}${result.reason ? ` (${result.reason})` : ''}`
  );
}

/** The checkers that make a run not valid (advisory ones never do), each as describeCheckerResult words it. */
export function failingCheckers(results: Record<string, CheckerResult>): string[] {
  return Object.entries(results)
    .filter(([, c]) => c.advisory !== true && c.valid !== true)
    .map(([name, c]) => describeCheckerResult(name, c));
}

export interface CheckContext {
  /** Where the run's files are (for checkers that read node data). */
  runDir?: string;
  timeoutMs: number;
  /** The run's abort: a checker that can stop early should. */
  signal?: AbortSignal;
  /** What the servers' logs said (server-logs.json), for the log and restart oracles. */
  serverLogs?: ServerLogs;
}

export interface Checker {
  check(history: readonly HistoryEvent[], context: CheckContext): Promise<CheckerResult>;
}

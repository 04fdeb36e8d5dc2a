// A checker decides one property of a recorded history.
import type { Validity } from './errors.js';
import type { HistoryEvent } from './history.js';

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
  [detail: string]: unknown;
}

export interface CheckContext {
  /** Where the run's files are (for checkers that read node data). */
  runDir?: string;
  timeoutMs: number;
}

export interface Checker {
  check(history: readonly HistoryEvent[], context: CheckContext): Promise<CheckerResult>;
}

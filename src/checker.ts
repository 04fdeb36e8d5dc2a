// A checker decides one property of a recorded history.
import type { Validity } from './errors.js';
import type { HistoryEvent } from './history.js';

export interface CheckerResult {
  valid: Validity;
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

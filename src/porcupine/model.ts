// Public types of the checker. Self-contained: nothing here imports from outside src/porcupine.

/** Returned by `Model.step` when the operation cannot be applied to the state with the observed output. */
export const ILLEGAL: unique symbol = Symbol('porcupine.illegal');
export type Illegal = typeof ILLEGAL;

/**
 * A sequential specification. `step` is deterministic: it returns the state after the operation, or ILLEGAL
 * when the operation could not have returned `output` in `state`. (Nondeterministic specifications can be
 * wrapped with `powersetModel`.)
 *
 * States are compared with `equal`/`hash` when given; otherwise they must be primitives (or interned objects)
 * and are compared with SameValueZero, which is much faster.
 */
export interface Model<State, Input, Output> {
  /** Shown in reports. */
  readonly name?: string;
  init(): State;
  step(state: State, input: Input, output: Output): State | Illegal;
  /** A 32-bit hash consistent with `equal`. Required when states are not primitives. */
  hash?(state: State): number;
  equal?(a: State, b: State): boolean;
  /** P-compositionality: returns the key of the independent sub-history an operation belongs to. */
  partition?(input: Input): string | number;
  describeOperation?(input: Input, output: Output): string;
  describeState?(state: State): string;
  /**
   * True when the op can never change the state when it is legal (a read, a compare that failed). Optional:
   * it lets the search take such ops greedily instead of branching on them. Wrong answers break the verdict.
   */
  readOnly?(input: Input, output: Output): boolean;
  /**
   * Optional look-ahead for read-only ops: could the op (input, output) become legal after applying some
   * sequence of the `candidates` (in any order, each at most once) to `state`? Return true when unsure.
   * A false answer prunes the search, so it must be right.
   */
  canReach?(state: State, input: Input, output: Output, candidates: readonly Input[]): boolean;
  /**
   * Optional, for a linear pre-pass before any search: which value a completed op needs the state to have been
   * given before it returned (a read's value, a cas's old value; undefined: none), which value an op may give
   * it (undefined: none), and the initial one. An op needing a value that is not the initial one and that no
   * other op invoked before its return could give makes the partition illegal at once, whatever its size.
   */
  readonly values?: {
    readonly initial: unknown;
    required(input: Input, output: Output): unknown;
    written(input: Input): unknown;
  };
  /**
   * Where worker threads can import this model from: a module URL and the export name of the model object
   * (or of a zero-argument factory). Without it, partitions are checked in the calling thread.
   */
  readonly workerModule?: { url: string; exportName: string; args?: readonly unknown[] };
}

/**
 * One operation. `call` and `return` are times (any monotonic unit). An operation whose outcome is unknown
 * (it timed out, or the history ended first) has `return: Infinity`: it may have taken effect at any point
 * after its call, or never. For such operations `output` is whatever the model treats as "unknown".
 */
export interface Operation<Input, Output> {
  clientId?: number;
  input: Input;
  output: Output;
  call: number;
  return: number;
  /** Caller's own identifier (e.g. an index into a larger history); copied into reports. */
  tag?: number;
}

export type EventKind = 'call' | 'return';

/** Events in real-time order; a call without a return is an operation of unknown outcome. */
export interface Event<Input, Output> {
  clientId?: number;
  kind: EventKind;
  /** The input for a call, the output for a return. */
  value: Input | Output;
  /** Pairs a call with its return. */
  id: number;
}

export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

export interface CheckOptions {
  /** Give up with 'unknown' after this many milliseconds (whole check). */
  timeoutMs?: number;
  /** Give up on a partition with 'unknown' when the process's resident memory would exceed this many bytes (default 1.85e9). */
  maxMemoryBytes?: number;
  /** Stop at the first illegal partition (only the verdict is needed). Default false. */
  stopEarly?: boolean;
  /** Worker threads for partitions (async API only). 0 or 1 means in-thread. Default: min(cores, partitions). */
  workers?: number;
  /** Record the longest linearizable prefix and the unplaceable ops for illegal partitions. Default true. */
  details?: boolean;
}

/** Why an illegal partition is illegal, as far as the search could tell. */
export interface PartitionInfo {
  /** The partition key (undefined when the model does not partition). */
  key: string | number | undefined;
  result: CheckVerdict;
  /** Number of operations in the partition. */
  operations: number;
  /** For illegal: the longest linearization found, as indexes into the operations given to the checker. */
  longestPrefix?: number[];
  /** For illegal: the operations that could not be placed after that prefix (the first one to return, and the others pending then). */
  unplaced?: number[];
  /** For illegal: the model state after the longest prefix, described. */
  stateBefore?: string;
  /** For unknown: why. */
  reason?: string;
  /** Configurations memoized. */
  explored: number;
}

export interface CheckResult {
  result: CheckVerdict;
  /** One entry per partition that was checked (all of them unless stopEarly cut the check short). */
  partitions: PartitionInfo[];
  /** Set when result is 'unknown'. */
  reason?: string;
}

/** JSON text of a value for descriptions; a bigint (an integer beyond 2^53) as its digits. */
export function showJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
}

// Bridge from Faultline's history (history.jsonl events) to the porcupine checker.
// Conversion rules: nemesis events are ignored; ok ops take effect between invoke and completion; info ops and
// ops that never complete are open-ended (they may take effect at any point after invocation, or never);
// failed ops did not take effect and are dropped, except where the failure itself is an observation:
// a cas failing with "value-mismatch" asserts the register did not hold `old` at some point of its interval,
// and (zk-register only) a versioned set failing with "bad-version" asserts the version differed. For the
// value-based models, "bad-version" proves nothing (the version moved, the value may be the same) and is dropped.
import { UsageError, type Validity } from '../errors.js';
import { exactJson, showValue } from '../formats/show.js';
import { pairOperations, type HistoryEvent, type Operation as HistoryOperation } from '../history.js';
import {
  casRegisterModel,
  checkOperationsParallel,
  kvModel,
  queueModel,
  registerModel,
  zkRegisterModel,
  type CasRegisterInput,
  type CheckResult,
  type KvInput,
  type KvOutput,
  type Model,
  type Operation,
  type QueueInput,
  type QueueOutput,
  type RegisterOutput,
  type RegisterValue,
  type ZkRegisterInput,
  type ZkRegisterOutput,
} from '../porcupine/index.js';

export type LinearizableModelName = 'register' | 'cas-register' | 'zk-register' | 'kv' | 'queue';
export const linearizableModelNames: readonly LinearizableModelName[] = [
  'register',
  'cas-register',
  'zk-register',
  'kv',
  'queue',
];

/** One op of a failure report. */
export interface ReportedOp {
  /** Index of the op's invoke event in the history. */
  index: number;
  process: number;
  f: string;
  value: unknown;
  /** The completion's value; absent when the op never completed. */
  output?: unknown;
  type: 'ok' | 'fail' | 'info';
  description: string;
}

/** Why one key (partition) is not linearizable. */
export interface PartitionFailure {
  key: string | number | null;
  /** Length of the longest linearizable prefix found. */
  prefixLength: number;
  /** The prefix, in linearization order, as indexes of invoke events (the last 1000 when longer). */
  longestPrefix: number[];
  /** The ops that could not be placed after it: the first to complete, then the others pending then. */
  unplaced: ReportedOp[];
  /** The model state after the prefix, described. */
  stateBefore: string;
  /** Set when the failure was found without a search (e.g. a read of a value no op could have written). */
  reason?: string;
}

export interface LinearizabilityResult {
  valid: Validity;
  model: string;
  /** Client operations checked (after dropping failed and no-effect ones). */
  ops: number;
  ms: number;
  partitions: number;
  /** For invalid histories: per failing key. */
  failures?: PartitionFailure[];
  /** Partitions (keys) left undecided. */
  unknownPartitions?: (string | number | null)[];
  reason?: string;
}

export interface CheckLinearizableOptions {
  model: LinearizableModelName;
  timeoutMs?: number;
  stopEarly?: boolean;
  /** Worker threads; default: in-thread for small histories, all cores for large multi-key ones. */
  workers?: number;
}

const PREFIX_SHOWN = 1000;
/** Below this many ops, starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 50_000;

/** A history converted for porcupine: the model, its operations, and each op's source in the history. */
export interface ConvertedHistory<I, O> {
  model: Model<unknown, I, O>;
  operations: Operation<I, O>[];
  sources: HistoryOperation[];
}

export async function checkLinearizable(
  events: readonly HistoryEvent[],
  options: CheckLinearizableOptions,
): Promise<LinearizabilityResult> {
  return checkConverted(convertHistory(events, options.model), options);
}

async function checkConverted<I, O>(
  converted: ConvertedHistory<I, O>,
  options: CheckLinearizableOptions,
): Promise<LinearizabilityResult> {
  const started = performance.now();
  const { model, operations, sources } = converted;
  const checked: CheckResult = await checkOperationsParallel(model, operations, {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    stopEarly: options.stopEarly ?? false,
    workers: options.workers ?? (operations.length >= PARALLEL_THRESHOLD ? undefined : 1),
  } as const);
  const ms = Math.round((performance.now() - started) * 1000) / 1000;
  const keys = new Set(operations.map((op) => (model.partition ? model.partition(op.input) : undefined)));
  const result: LinearizabilityResult = {
    valid: checked.result === 'ok' ? true : checked.result === 'illegal' ? false : 'unknown',
    model: options.model,
    ops: operations.length,
    ms,
    partitions: keys.size,
  };
  const describe = (i: number): ReportedOp => {
    const source = sources[i] as HistoryOperation;
    const op = operations[i] as Operation<I, O>;
    const reported: ReportedOp = {
      index: source.invokeIndex,
      process: source.process,
      f: source.f,
      value: source.input,
      type: source.type,
      description: model.describeOperation ? model.describeOperation(op.input, op.output) : source.f,
    };
    if (source.output !== undefined) reported.output = source.output;
    return reported;
  };
  // Without keys in the history there is one partition, reported as key null.
  const keyed = sources.some((s) => s.key !== undefined);
  const keyOfPartition = (key: string | number | undefined): string | number | null =>
    keyed && key !== undefined ? key : null;
  const failures = checked.partitions
    .filter((p) => p.result === 'illegal')
    .map((p): PartitionFailure => {
      const prefix = (p.longestPrefix ?? []).map((i) => (sources[i] as HistoryOperation).invokeIndex);
      return {
        key: keyOfPartition(p.key),
        prefixLength: prefix.length,
        longestPrefix: prefix.slice(-PREFIX_SHOWN),
        unplaced: (p.unplaced ?? []).map(describe),
        stateBefore: p.stateBefore ?? '',
        ...(p.reason !== undefined ? { reason: p.reason } : {}),
      };
    });
  if (failures.length > 0) result.failures = failures;
  const unknown = checked.partitions.filter((p) => p.result === 'unknown');
  if (unknown.length > 0) result.unknownPartitions = unknown.map((p) => keyOfPartition(p.key));
  if (checked.reason) result.reason = checked.reason;
  else if (failures.length > 0) result.reason = `${failures.length} key(s) not linearizable`;
  return result;
}

/** Turns history events into porcupine operations for the named model. */
export function convertHistory(
  events: readonly HistoryEvent[],
  modelName: LinearizableModelName,
): ConvertedHistory<unknown, unknown> {
  const paired = pairOperations(events);
  const operations: Operation<unknown, unknown>[] = [];
  const sources: HistoryOperation[] = [];
  const convert = converters[modelName];
  if (!convert) {
    throw new UsageError(`unknown model "${String(modelName)}"`, `Use one of: ${linearizableModelNames.join(', ')}.`);
  }
  for (const op of paired) {
    const converted = convert(op);
    if (!converted) continue;
    // Fails that reach here are observations (value-mismatch, bad-version): determinate like ok ops.
    const determinate = op.type !== 'info';
    const operation: Operation<unknown, unknown> = {
      clientId: op.process,
      input: converted.input,
      output: determinate ? converted.output : undefined,
      call: op.invokeIndex,
      return: determinate ? op.completeIndex : Infinity,
    };
    operations.push(operation);
    sources.push(op);
  }
  return { model: modelFor(modelName), operations, sources };
}

function modelFor(name: LinearizableModelName): Model<never, never, never> {
  switch (name) {
    case 'register':
      return registerModel as Model<never, never, never>;
    case 'cas-register':
      return casRegisterModel as Model<never, never, never>;
    case 'zk-register':
      return zkRegisterModel() as Model<never, never, never>;
    case 'kv':
      return kvModel as Model<never, never, never>;
    case 'queue':
      return queueModel as Model<never, never, never>;
  }
}

/** A converter returns undefined to drop the op (it had no effect, or its failure proves nothing). */
type Converter = (op: HistoryOperation) => { input: unknown; output: unknown } | undefined;

function bad(op: HistoryOperation, problem: string, fix: string): never {
  throw new UsageError(`history event ${op.invokeIndex} (process ${op.process}, ${op.f}): ${problem}`, fix);
}

/**
 * Register values must compare with ===; structured values are compared by their JSON text. Integers beyond 2^53
 * are bigints (the readers keep them exactly), which === compares by value.
 */
export function registerValue(value: unknown): RegisterValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return value;
  return `\u0000json:${exactJson(value)}`;
}

function pairValue(op: HistoryOperation, what: string): [unknown, unknown] {
  const v = op.input;
  if (!Array.isArray(v) || v.length !== 2)
    bad(op, `cas value must be ${what}, got ${showValue(v)}`, `Record cas as {"f":"cas","value":${what}}.`);
  return [v[0], v[1]];
}

function keyOf(op: HistoryOperation): { key?: string | number } {
  return op.key !== undefined ? { key: op.key } : {};
}

const convertRegister =
  (allowCas: boolean): Converter =>
  (op) => {
    const key = keyOf(op);
    switch (op.f) {
      case 'read':
        if (op.type !== 'ok') return undefined; // an unfinished read changes nothing
        return {
          input: { f: 'read', ...key },
          output: { ok: true, value: registerValue(op.output) } satisfies RegisterOutput,
        };
      case 'write':
        if (op.type === 'fail') return undefined;
        return {
          input: { f: 'write', value: registerValue(op.input), ...key },
          output: { ok: true } satisfies RegisterOutput,
        };
      case 'cas': {
        if (!allowCas) bad(op, 'the register model has no cas', 'Check with --model cas-register.');
        const [from, to] = pairValue(op, '[old, new]');
        const input: CasRegisterInput = { f: 'cas', from: registerValue(from), to: registerValue(to), ...key };
        if (op.type === 'fail')
          return op.error === 'value-mismatch' ? { input, output: { ok: false } satisfies RegisterOutput } : undefined;
        return { input, output: { ok: true } satisfies RegisterOutput };
      }
      default:
        return bad(op, `unknown operation "${op.f}" for a register`, 'Register histories use f = read, write or cas.');
    }
  };

function versioned(op: HistoryOperation, value: unknown): { value: RegisterValue; version?: number } {
  if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'number')
    return { value: registerValue(value[0]), version: value[1] };
  if (value !== null && typeof value === 'object' && 'version' in value) {
    const v = value as { value?: unknown; version: unknown };
    if (typeof v.version === 'number') return { value: registerValue(v.value), version: v.version };
  }
  return bad(
    op,
    `expected {"value":..., "version":N} or [value, version], got ${showValue(value)}`,
    'zk-register histories record the Stat version ZooKeeper returned.',
  );
}

const convertZk: Converter = (op) => {
  const key = keyOf(op);
  switch (op.f) {
    case 'read': {
      if (op.type !== 'ok') return undefined;
      const seen = versioned(op, op.output);
      return {
        input: { f: 'read', ...key } satisfies ZkRegisterInput,
        output: { ok: true, ...seen } satisfies ZkRegisterOutput,
      };
    }
    case 'write': {
      if (op.type === 'fail') return undefined;
      const version =
        op.output !== null && typeof op.output === 'object' && 'version' in op.output ? op.output.version : undefined;
      const output: ZkRegisterOutput = typeof version === 'number' ? { ok: true, version } : { ok: true };
      return { input: { f: 'write', value: registerValue(op.input), ...key } satisfies ZkRegisterInput, output };
    }
    case 'cas': {
      // value: {"version": expected, "value": new} or [expectedVersion, new]
      const raw = op.input;
      const expected = Array.isArray(raw)
        ? { version: raw[0] as unknown, value: raw[1] as unknown }
        : (raw as { version?: unknown; value?: unknown } | null);
      if (!expected || typeof expected.version !== 'number')
        bad(
          op,
          `cas value must be {"version":N,"value":v}, got ${showValue(raw)}`,
          'zk-register cas is setData with an expected version.',
        );
      const input: ZkRegisterInput = {
        f: 'cas',
        version: expected.version,
        value: registerValue(expected.value),
        ...key,
      };
      if (op.type === 'fail')
        return op.error === 'bad-version' ? { input, output: { ok: false } satisfies ZkRegisterOutput } : undefined;
      return { input, output: { ok: true } satisfies ZkRegisterOutput };
    }
    default:
      return bad(
        op,
        `unknown operation "${op.f}" for zk-register`,
        'zk-register histories use f = read, write or cas.',
      );
  }
};

/** A kv value as the model compares it: absent is the empty string (Porcupine's kv logs are strings or numbers). */
const kvText = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

const convertKv: Converter = (op) => {
  if (op.f !== 'get' && op.f !== 'put' && op.f !== 'append')
    bad(op, `unknown operation "${op.f}" for kv`, 'kv histories use f = get, put or append.');
  if (op.key === undefined) bad(op, 'kv operations need a "key"', 'Add the key each get/put/append touched.');
  if (op.type === 'fail' || (op.f === 'get' && op.type !== 'ok')) return undefined;
  const input: KvInput = { f: op.f, key: String(op.key) };
  if (op.f !== 'get') input.value = kvText(op.input);
  const output: KvOutput = op.f === 'get' ? kvText(op.output) : '';
  return { input, output };
};

const convertQueue: Converter = (op) => {
  if (op.type === 'fail') return undefined;
  const key = keyOf(op);
  if (op.f === 'enqueue')
    return {
      input: { f: 'enqueue', value: registerValue(op.input), ...key } satisfies QueueInput,
      output: { ok: true } satisfies QueueOutput,
    };
  if (op.f === 'dequeue')
    return {
      input: { f: 'dequeue', ...key } satisfies QueueInput,
      output: { ok: true, value: registerValue(op.output) } satisfies QueueOutput,
    };
  return bad(op, `unknown operation "${op.f}" for a queue`, 'Queue histories use f = enqueue or dequeue.');
};

const converters: Record<LinearizableModelName, Converter> = {
  register: convertRegister(false),
  'cas-register': convertRegister(true),
  'zk-register': convertZk,
  kv: convertKv,
  queue: convertQueue,
};

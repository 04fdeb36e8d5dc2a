// From history events to the zxid checker (zxid-register.ts), key by key, and its result in the shape of the
// other linearizability results. Also the same question put to the search (porcupine's zxid-register model), for
// `faultline check --model zxid-register --search` and as the tests' oracle.
import { pairOperations, type HistoryEvent, type Operation as HistoryOperation } from '../history.js';
import {
  checkOperations,
  zxidRegisterModel,
  type Operation,
  type ZxidRegisterInput,
  type ZxidRegisterOutput,
} from '../porcupine/index.js';
import { showValue } from '../formats/show.js';
import { registerValue, type LinearizabilityResult, type PartitionFailure, type ReportedOp } from './linearizable.js';
import { decideZxidRegister, zxidFacts, ZxidKind, type ZxidOps } from './zxid-register.js';

/** One key's ops for the zxid checker, and where each came from. */
export interface ZxidKeyHistory {
  key: string | number | undefined;
  ops: ZxidOps;
  sources: HistoryOperation[];
}

export interface ZxidHistory {
  keys: ZxidKeyHistory[];
  /** Value ids: values[id] is the register value. */
  values: unknown[];
  initialValue: number;
}

/** Why a history cannot be decided from its zxids (then the search decides it by value). */
export class NotZxidHistory {
  constructor(readonly reason: string) {}
}

function zxidNumber(hex: string | undefined): number | undefined {
  if (hex === undefined || !/^[0-9a-f]{1,13}$/i.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

const isPair = (v: unknown): v is [unknown, unknown] => Array.isArray(v) && v.length === 2;

/** Converts a register history (read / write / cas, optional keys) with zxids; NotZxidHistory if it lacks them. */
export function convertZxidHistory(events: readonly HistoryEvent[]): ZxidHistory | NotZxidHistory {
  const valueIds = new Map<unknown, number>();
  const values: unknown[] = [];
  const idOf = (v: unknown): number => {
    const canonical = registerValue(v);
    let id = valueIds.get(canonical);
    if (id === undefined) {
      id = values.length;
      values.push(v ?? null);
      valueIds.set(canonical, id);
    }
    return id;
  };
  const initialValue = idOf(null);
  interface Row {
    kind: number;
    call: number;
    ret: number;
    zxid: number;
    value: number;
    from: number;
    source: HistoryOperation;
  }
  const byKey = new Map<string | number | undefined, Row[]>();
  const missing = (op: HistoryOperation, what: string): NotZxidHistory =>
    new NotZxidHistory(`event ${op.invokeIndex} (${op.type} ${op.f}) ${what}`);
  for (const op of pairOperations(events)) {
    let row: Omit<Row, 'source' | 'call' | 'ret'> | undefined;
    const z = zxidNumber(op.zxid);
    if (op.zxid !== undefined && z === undefined) return missing(op, `has a zxid beyond 2^53 or not hex: ${op.zxid}`);
    switch (op.f) {
      case 'read':
        if (op.type !== 'ok') break;
        if (z === undefined) return missing(op, 'has no zxid');
        row = { kind: ZxidKind.read, zxid: z, value: idOf(op.output), from: -1 };
        break;
      case 'write':
        if (op.type === 'fail') break;
        if (op.type === 'info') row = { kind: ZxidKind.unknownWrite, zxid: NaN, value: idOf(op.input), from: -1 };
        else if (z === undefined) return missing(op, 'has no zxid');
        else row = { kind: ZxidKind.write, zxid: z, value: idOf(op.input), from: -1 };
        break;
      case 'cas': {
        if (!isPair(op.input)) return missing(op, 'is not a cas of [old, new]');
        const [old, next] = op.input;
        if (op.type === 'ok') {
          if (z === undefined) return missing(op, 'has no zxid');
          row = { kind: ZxidKind.cas, zxid: z, value: idOf(next), from: idOf(old) };
        } else if (op.type === 'info') {
          // Without the zxid it read, its write could have followed any state.
          if (z === undefined) return missing(op, 'has no zxid of the data it read');
          row = { kind: ZxidKind.unknownCas, zxid: z, value: idOf(next), from: idOf(old) };
        } else if (op.error === 'value-mismatch') {
          // Older histories recorded [old, new] here, not the value found.
          if (z === undefined || isPair(op.output)) return missing(op, 'has no zxid and value it found');
          row = { kind: ZxidKind.observe, zxid: z, value: idOf(op.output), from: idOf(old) };
        }
        break;
      }
      default:
        return new NotZxidHistory(`event ${op.invokeIndex}: "${op.f}" is not a register operation`);
    }
    if (!row) continue;
    const unknownWrite = row.kind === ZxidKind.unknownWrite;
    if (!Number.isFinite(op.completeIndex) && !unknownWrite) return missing(op, 'never completed');
    const full: Row = {
      ...row,
      call: op.invokeIndex,
      ret: unknownWrite ? Infinity : op.completeIndex,
      source: op,
    };
    const list = byKey.get(op.key);
    if (list) list.push(full);
    else byKey.set(op.key, [full]);
  }
  const keys: ZxidKeyHistory[] = [];
  for (const [key, rows] of byKey) {
    const n = rows.length;
    const ops: ZxidOps = {
      count: n,
      kind: new Uint8Array(n),
      call: new Float64Array(n),
      ret: new Float64Array(n),
      zxid: new Float64Array(n),
      value: new Int32Array(n),
      from: new Int32Array(n),
    };
    rows.forEach((r, i) => {
      ops.kind[i] = r.kind;
      ops.call[i] = r.call;
      ops.ret[i] = r.ret;
      ops.zxid[i] = r.zxid;
      ops.value[i] = r.value;
      ops.from[i] = r.from;
    });
    keys.push({ key, ops, sources: rows.map((r) => r.source) });
  }
  return { keys, values, initialValue };
}

function describe(source: HistoryOperation): string {
  const result = source.type === 'ok' ? '' : ` -> ${source.type}${source.error ? ` ${source.error}` : ''}`;
  const at = source.zxid !== undefined ? ` @${source.zxid}` : '';
  if (source.f === 'read') return `read -> ${showValue(source.output, 60)}${at}`;
  return `${source.f}(${showValue(source.input, 60)})${result}${at}`;
}

function reported(source: HistoryOperation): ReportedOp {
  const op: ReportedOp = {
    index: source.invokeIndex,
    process: source.process,
    f: source.f,
    value: source.input,
    type: source.type,
    description: describe(source),
  };
  if (source.output !== undefined) op.output = source.output;
  return op;
}

/** Decides a converted history key by key. */
export function decideZxidHistory(history: ZxidHistory): LinearizabilityResult {
  const started = performance.now();
  const failures: PartitionFailure[] = [];
  let ops = 0;
  const keyed = history.keys.some((k) => k.key !== undefined);
  for (const { key, ops: keyOps, sources } of history.keys) {
    ops += keyOps.count;
    const decision = decideZxidRegister(keyOps, {
      initialValue: history.initialValue,
      showValue: (id) => showValue(history.values[id], 60),
      showOp: (i) => `#${(sources[i] as HistoryOperation).invokeIndex} ${describe(sources[i] as HistoryOperation)}`,
    });
    if (decision.valid || !decision.violation) continue;
    failures.push({
      key: keyed && key !== undefined ? key : null,
      prefixLength: 0,
      longestPrefix: [],
      unplaced: decision.violation.ops.map((i) => reported(sources[i] as HistoryOperation)),
      stateBefore: '',
      reason: `${decision.violation.type}: ${decision.violation.description}`,
    });
  }
  const result: LinearizabilityResult = {
    valid: failures.length === 0,
    model: 'zxid-register',
    ops,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
    partitions: history.keys.length,
  };
  if (failures.length > 0) {
    result.failures = failures;
    result.reason = `${failures.length} key(s) not linearizable`;
  }
  return result;
}

/** The same question for the search (porcupine's zxid-register model): the oracle. */
export function zxidSearchOperations(
  keyHistory: ZxidKeyHistory,
  initialValue: number,
): { model: ReturnType<typeof zxidRegisterModel>; operations: Operation<ZxidRegisterInput, ZxidRegisterOutput>[] } {
  const { ops } = keyHistory;
  const facts = zxidFacts(ops, { initialValue });
  const model = zxidRegisterModel({
    initialValue,
    ...(facts.initialZxid !== undefined ? { initialZxid: facts.initialZxid } : {}),
    orphans: facts.orphans,
  });
  const operations: Operation<ZxidRegisterInput, ZxidRegisterOutput>[] = [];
  for (let i = 0; i < ops.count; i++) {
    const kind = ops.kind[i] as number;
    const call = ops.call[i] as number;
    const ret = ops.ret[i] as number;
    const zxid = ops.zxid[i] as number;
    const value = ops.value[i] as number;
    const from = ops.from[i] as number;
    const done = { ok: true } as const;
    const at = (input: ZxidRegisterInput, output: ZxidRegisterOutput, r: number): void => {
      operations.push({ input, output, call, return: r, tag: i });
    };
    switch (kind) {
      case ZxidKind.read:
      case ZxidKind.observe:
        at({ f: 'read', value, zxid }, done, ret);
        break;
      case ZxidKind.write:
        at({ f: 'write', value, zxid }, done, ret);
        break;
      case ZxidKind.cas:
        at({ f: 'cas', from, value, zxid }, done, ret);
        break;
      case ZxidKind.unknownWrite:
        at({ f: 'write', value }, undefined, Infinity);
        break;
      case ZxidKind.unknownCas:
        at({ f: 'read', value: from, zxid }, done, ret);
        at({ f: 'cas', from, value, after: zxid }, undefined, Infinity);
        break;
    }
  }
  return { model, operations };
}

/** Decides a converted history with the search (slow; the oracle), key by key. */
export function searchZxidHistory(history: ZxidHistory, timeoutMs?: number): LinearizabilityResult {
  const started = performance.now();
  const failures: PartitionFailure[] = [];
  let undecided = false;
  let ops = 0;
  for (const keyHistory of history.keys) {
    ops += keyHistory.ops.count;
    const { model, operations } = zxidSearchOperations(keyHistory, history.initialValue);
    const checked = checkOperations(model, operations, timeoutMs !== undefined ? { timeoutMs } : {});
    if (checked.result === 'unknown') undecided = true;
    if (checked.result !== 'illegal') continue;
    const part = checked.partitions[0];
    failures.push({
      key: keyHistory.key ?? null,
      prefixLength: part?.longestPrefix?.length ?? 0,
      longestPrefix: (part?.longestPrefix ?? []).map(
        (i) => (keyHistory.sources[operations[i]?.tag as number] as HistoryOperation).invokeIndex,
      ),
      unplaced: (part?.unplaced ?? []).map((i) =>
        reported(keyHistory.sources[operations[i]?.tag as number] as HistoryOperation),
      ),
      stateBefore: part?.stateBefore ?? '',
    });
  }
  const result: LinearizabilityResult = {
    valid: failures.length > 0 ? false : undecided ? 'unknown' : true,
    model: 'zxid-register',
    ops,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
    partitions: history.keys.length,
  };
  if (failures.length > 0) result.failures = failures;
  return result;
}

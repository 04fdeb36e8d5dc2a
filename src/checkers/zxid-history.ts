// From history events to the zxid checker (zxid-register.ts), key by key, and its result in the shape of the
// other linearizability results. Also the same question put to the search (porcupine's zxid-register model), for
// `faultline check --model zxid-register --search` and as the tests' oracle.
import type { HistoryEvent, Operation as HistoryOperation } from '../history.js';
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
  /** The history's op behind ops[i] (built on demand: only reports need it). */
  source: (i: number) => HistoryOperation;
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

/** Columns of one key, grown as ops are read. */
class KeyColumns {
  kind: number[] = [];
  call: number[] = [];
  ret: number[] = [];
  zxid: number[] = [];
  value: number[] = [];
  from: number[] = [];
  /** Positions in the events of each op's invocation and completion (-1: none). */
  invokeAt: number[] = [];
  completeAt: number[] = [];
}

/** The op of an invocation and its completion, as pairOperations would make it. */
function operationOf(events: readonly HistoryEvent[], invokeAt: number, completeAt: number): HistoryOperation {
  const invoke = events[invokeAt] as HistoryEvent;
  const complete = completeAt >= 0 ? events[completeAt] : undefined;
  const op: HistoryOperation = {
    process: invoke.process as number,
    f: invoke.f,
    input: invoke.value,
    output: complete?.value,
    type: complete ? (complete.type as HistoryOperation['type']) : 'info',
    invokeTime: invoke.time,
    completeTime: complete ? complete.time : Infinity,
    invokeIndex: invoke.index,
    completeIndex: complete ? complete.index : Infinity,
  };
  if (invoke.key !== undefined) op.key = invoke.key;
  if (invoke.node !== undefined) op.node = invoke.node;
  if (complete?.error !== undefined) op.error = complete.error;
  if (complete?.zxid !== undefined) op.zxid = complete.zxid;
  return op;
}

/**
 * Converts a register history (read / write / cas, optional keys) with zxids, in one pass over the events
 * (pairOperations' checks and its objects per op would cost more than the decision); NotZxidHistory if it lacks
 * the zxids the checker needs.
 */
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
  const byKey = new Map<string | number | undefined, KeyColumns>();
  const open = new Map<number, number>(); // process -> position of its open invocation
  const missing = (at: number, what: string): NotZxidHistory => {
    const e = events[at] as HistoryEvent;
    return new NotZxidHistory(`event ${e.index} (${e.type} ${e.f}) ${what}`);
  };
  const add = (invokeAt: number, completeAt: number, kind: number, zxid: number, value: number, from: number): void => {
    const invoke = events[invokeAt] as HistoryEvent;
    let columns = byKey.get(invoke.key);
    if (!columns) byKey.set(invoke.key, (columns = new KeyColumns()));
    columns.kind.push(kind);
    columns.call.push(invoke.index);
    columns.ret.push(kind === ZxidKind.unknownWrite ? Infinity : (events[completeAt] as HistoryEvent).index);
    columns.zxid.push(zxid);
    columns.value.push(value);
    columns.from.push(from);
    columns.invokeAt.push(invokeAt);
    columns.completeAt.push(completeAt);
  };
  for (let at = 0; at < events.length; at++) {
    const e = events[at] as HistoryEvent;
    const process = e.process;
    if (typeof process !== 'number') continue;
    if (e.type === 'invoke') {
      if (open.has(process)) return missing(at, `: process ${process} invokes again before its operation completed`);
      if (e.f !== 'read' && e.f !== 'write' && e.f !== 'cas')
        return new NotZxidHistory(`event ${e.index}: "${e.f}" is not a register operation`);
      open.set(process, at);
      continue;
    }
    const invokeAt = open.get(process);
    if (invokeAt === undefined) return missing(at, `: process ${process} completes an operation it never invoked`);
    open.delete(process);
    const invoke = events[invokeAt] as HistoryEvent;
    const z = zxidNumber(e.zxid);
    if (e.zxid !== undefined && z === undefined) return missing(at, `has a zxid beyond 2^53 or not hex: ${e.zxid}`);
    switch (invoke.f) {
      case 'read':
        if (e.type !== 'ok') break;
        if (z === undefined) return missing(at, 'has no zxid');
        add(invokeAt, at, ZxidKind.read, z, idOf(e.value), -1);
        break;
      case 'write':
        if (e.type === 'fail') break;
        if (e.type === 'info') add(invokeAt, at, ZxidKind.unknownWrite, NaN, idOf(invoke.value), -1);
        else if (z === undefined) return missing(at, 'has no zxid');
        else add(invokeAt, at, ZxidKind.write, z, idOf(invoke.value), -1);
        break;
      case 'cas': {
        if (!isPair(invoke.value)) return missing(at, 'is not a cas of [old, new]');
        const [old, next] = invoke.value;
        if (e.type === 'ok') {
          if (z === undefined) return missing(at, 'has no zxid');
          add(invokeAt, at, ZxidKind.cas, z, idOf(next), idOf(old));
        } else if (e.type === 'info') {
          // Without the zxid it read, its write could have followed any state.
          if (z === undefined) return missing(at, 'has no zxid of the data it read');
          add(invokeAt, at, ZxidKind.unknownCas, z, idOf(next), idOf(old));
        } else if (e.error === 'value-mismatch') {
          // Older histories recorded [old, new] here, not the value found.
          if (z === undefined || isPair(e.value)) return missing(at, 'has no zxid and value it found');
          add(invokeAt, at, ZxidKind.observe, z, idOf(e.value), idOf(old));
        }
        break;
      }
    }
  }
  for (const [process, invokeAt] of open) {
    const invoke = events[invokeAt] as HistoryEvent;
    // A write that never completed is of unknown outcome; a read changed nothing; a cas could have followed anything.
    if (invoke.f === 'write') add(invokeAt, -1, ZxidKind.unknownWrite, NaN, idOf(invoke.value), -1);
    else if (invoke.f === 'cas') return missing(invokeAt, `(process ${process}) never completed`);
  }
  const keys: ZxidKeyHistory[] = [];
  for (const [key, c] of byKey) {
    const ops: ZxidOps = {
      count: c.kind.length,
      kind: Uint8Array.from(c.kind),
      call: Float64Array.from(c.call),
      ret: Float64Array.from(c.ret),
      zxid: Float64Array.from(c.zxid),
      value: Int32Array.from(c.value),
      from: Int32Array.from(c.from),
    };
    const { invokeAt, completeAt } = c;
    keys.push({ key, ops, source: (i) => operationOf(events, invokeAt[i] as number, completeAt[i] as number) });
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

/**
 * The context of a zxid violation: the ops that ZooKeeper's zxid order puts before the earliest op of the
 * violation (with the write of that op's zxid) (writes before the reads of their zxid), in that order. They are what the report draws as the prefix.
 */
function zxidOrderBefore(ops: ZxidOps, violation: readonly number[]): number[] {
  const zxids = violation.map((i) => ops.zxid[i] as number).filter((z) => Number.isFinite(z));
  if (zxids.length === 0) return [];
  const limit = Math.min(...zxids);
  const excluded = new Set(violation);
  const writes = (i: number): number => (ops.kind[i] === ZxidKind.write || ops.kind[i] === ZxidKind.cas ? 0 : 1);
  const before: number[] = [];
  for (let i = 0; i < ops.count; i++) {
    const z = ops.zxid[i] as number;
    if (excluded.has(i) || !Number.isFinite(z) || ops.kind[i] === ZxidKind.unknownWrite) continue;
    // The write of the earliest zxid itself comes first: the violation's reads of that zxid read it.
    if (z < limit || (z === limit && writes(i) === 0)) before.push(i);
  }
  return before.sort(
    (a, b) =>
      (ops.zxid[a] as number) - (ops.zxid[b] as number) ||
      writes(a) - writes(b) ||
      (ops.call[a] as number) - (ops.call[b] as number),
  );
}

/** Decides a converted history key by key. */
export function decideZxidHistory(history: ZxidHistory): LinearizabilityResult {
  const started = performance.now();
  const failures: PartitionFailure[] = [];
  let ops = 0;
  const keyed = history.keys.some((k) => k.key !== undefined);
  for (const { key, ops: keyOps, source } of history.keys) {
    ops += keyOps.count;
    const decision = decideZxidRegister(keyOps, {
      initialValue: history.initialValue,
      showValue: (id) => showValue(history.values[id], 60),
      showOp: (i) => {
        const op = source(i);
        return `#${op.invokeIndex} ${describe(op)}`;
      },
    });
    if (decision.valid || !decision.violation) continue;
    const before = zxidOrderBefore(keyOps, decision.violation.ops);
    const lastWrite = [...before]
      .reverse()
      .find((i) => keyOps.kind[i] === ZxidKind.write || keyOps.kind[i] === ZxidKind.cas);
    failures.push({
      key: keyed && key !== undefined ? key : null,
      prefixLength: before.length,
      longestPrefix: before.slice(-1000).map((i) => source(i).invokeIndex),
      unplaced: decision.violation.ops.map((i) => reported(source(i))),
      stateBefore: showValue(
        lastWrite === undefined ? history.initialValue : history.values[keyOps.value[lastWrite] as number],
        60,
      ),
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
        (i) => keyHistory.source(operations[i]?.tag as number).invokeIndex,
      ),
      unplaced: (part?.unplaced ?? []).map((i) => reported(keyHistory.source(operations[i]?.tag as number))),
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

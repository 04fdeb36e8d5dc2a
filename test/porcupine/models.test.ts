// Hand-written histories per model: a stale read, a lost write, a read of a value never written, and the
// linearizable twins that differ by one observation.
import { describe, expect, it } from 'vitest';
import {
  casRegisterModel,
  checkEvents,
  checkOperations,
  kvModel,
  queueModel,
  registerModel,
  zkRegisterModel,
  type CasRegisterInput,
  type Event,
  type KvInput,
  type KvOutput,
  type Operation,
  type QueueInput,
  type QueueOutput,
  type RegisterInput,
  type RegisterOutput,
  type ZkRegisterInput,
  type ZkRegisterOutput,
} from '../../src/porcupine/index.js';

type RegOp = Operation<CasRegisterInput, RegisterOutput>;
const op = <I, O>(input: I, output: O, call: number, ret: number): Operation<I, O> => ({
  input,
  output,
  call,
  return: ret,
});
const read = (value: number | null, call: number, ret: number): RegOp =>
  op({ f: 'read' }, { ok: true, value }, call, ret);
const write = (value: number, call: number, ret: number): RegOp => op({ f: 'write', value }, { ok: true }, call, ret);

describe('register', () => {
  const check = (ops: RegOp[]) =>
    checkOperations(registerModel, ops as Operation<RegisterInput, RegisterOutput>[]).result;
  it('accepts a read of the initial value and of a concurrent write', () => {
    expect(check([read(null, 0, 1), write(1, 2, 5), read(1, 3, 4), read(1, 6, 7)])).toBe('ok');
  });
  it('rejects a stale read', () => {
    expect(check([write(1, 0, 1), write(2, 2, 3), read(1, 4, 5)])).toBe('illegal');
  });
  it('rejects a lost write (a later read sees the value before it)', () => {
    expect(check([write(1, 0, 1), write(2, 2, 3), read(2, 4, 5), read(1, 6, 7)])).toBe('illegal');
  });
  it('rejects a read of a value never written', () => {
    expect(check([write(1, 0, 1), read(3, 2, 3)])).toBe('illegal');
  });
  it('lets a write of unknown outcome take effect late, or never', () => {
    const unknownWrite = op<CasRegisterInput, RegisterOutput>({ f: 'write', value: 2 }, undefined, 1, Infinity);
    expect(check([write(1, 0, 1), unknownWrite, read(1, 4, 5), read(2, 8, 9)])).toBe('ok');
    expect(check([write(1, 0, 1), unknownWrite, read(1, 4, 5)])).toBe('ok');
    expect(check([write(1, 0, 1), unknownWrite, read(2, 4, 5), read(1, 8, 9)])).toBe('illegal');
  });
  it('reports the longest prefix and the op that could not be placed', () => {
    const result = checkOperations(registerModel, [write(1, 0, 1), write(2, 2, 3), read(1, 4, 5)] as Operation<
      RegisterInput,
      RegisterOutput
    >[]);
    const [part] = result.partitions;
    expect(part?.longestPrefix).toEqual([0, 1]);
    expect(part?.unplaced).toEqual([2]);
    expect(part?.stateBefore).toBe('2');
  });
});

describe('cas-register', () => {
  const cas = (from: number | null, to: number, ok: boolean, call: number, ret: number): RegOp =>
    op({ f: 'cas', from, to }, ok ? { ok: true } : { ok: false }, call, ret);
  const check = (ops: RegOp[]) => checkOperations(casRegisterModel, ops).result;
  it('accepts a cas chain', () => {
    expect(check([write(1, 0, 1), cas(1, 2, true, 2, 3), cas(2, 3, true, 4, 5), read(3, 6, 7)])).toBe('ok');
  });
  it('rejects a cas that succeeded on a value the register did not hold', () => {
    expect(check([write(1, 0, 1), cas(2, 3, true, 2, 3)])).toBe('illegal');
  });
  it('a failed cas asserts the value differed', () => {
    expect(check([write(1, 0, 1), cas(1, 3, false, 2, 3)])).toBe('illegal');
    expect(check([write(1, 0, 1), cas(2, 3, false, 2, 3), read(1, 4, 5)])).toBe('ok');
    // Concurrent with a write that changed the value: the failure fits before or after it.
    expect(check([write(1, 0, 1), write(2, 2, 6), cas(1, 3, false, 3, 5), read(2, 7, 8)])).toBe('ok');
  });
  it('rejects a stale read after a cas', () => {
    expect(check([write(1, 0, 1), cas(1, 2, true, 2, 3), read(1, 4, 5)])).toBe('illegal');
  });
  it('checks keys independently', () => {
    const keyed = (o: RegOp, key: string): RegOp => ({ ...o, input: { ...o.input, key } });
    const result = checkOperations(casRegisterModel, [
      keyed(write(1, 0, 1), 'a'),
      keyed(read(null, 2, 3), 'b'),
      keyed(read(1, 4, 5), 'a'),
      keyed(read(1, 4, 5), 'b'),
    ]);
    expect(result.result).toBe('illegal');
    expect(result.partitions.filter((p) => p.result === 'illegal').map((p) => p.key)).toEqual(['b']);
  });
});

describe('zk-register', () => {
  const model = zkRegisterModel();
  const zop = (input: ZkRegisterInput, output: ZkRegisterOutput, call: number, ret: number) =>
    op(input, output, call, ret);
  const zread = (value: number | null, version: number, call: number, ret: number) =>
    zop({ f: 'read' }, { ok: true, value, version }, call, ret);
  it('accepts versions that count the writes', () => {
    expect(
      checkOperations(model, [
        zread(null, 0, 0, 1),
        zop({ f: 'write', value: 5 }, { ok: true }, 2, 3),
        zread(5, 1, 4, 5),
        zop({ f: 'cas', version: 1, value: 6 }, { ok: true, version: 2 }, 6, 7),
        zread(6, 2, 8, 9),
      ]).result,
    ).toBe('ok');
  });
  it('rejects a stale read and a read of a version never reached', () => {
    expect(
      checkOperations(model, [zop({ f: 'write', value: 5 }, { ok: true }, 0, 1), zread(null, 0, 2, 3)]).result,
    ).toBe('illegal');
    expect(checkOperations(model, [zop({ f: 'write', value: 5 }, { ok: true }, 0, 1), zread(5, 2, 2, 3)]).result).toBe(
      'illegal',
    );
  });
  it('a bad-version asserts the version differed; a lost versioned write is caught', () => {
    expect(checkOperations(model, [zop({ f: 'cas', version: 0, value: 1 }, { ok: false }, 0, 1)]).result).toBe(
      'illegal',
    );
    expect(
      checkOperations(model, [
        zop({ f: 'cas', version: 0, value: 1 }, { ok: true }, 0, 1),
        zop({ f: 'cas', version: 0, value: 2 }, { ok: true }, 2, 3),
      ]).result,
    ).toBe('illegal');
  });
});

describe('kv', () => {
  const kop = (input: KvInput, output: KvOutput, call: number, ret: number) => op(input, output, call, ret);
  it('appends concatenate, gets see the whole string', () => {
    expect(
      checkOperations(kvModel, [
        kop({ f: 'append', key: 'k', value: 'a' }, '', 0, 3),
        kop({ f: 'append', key: 'k', value: 'b' }, '', 1, 2),
        kop({ f: 'get', key: 'k' }, 'ba', 4, 5),
      ]).result,
    ).toBe('ok');
  });
  it('rejects a lost append, a stale get and a get of a never-written value', () => {
    const a = kop({ f: 'append', key: 'k', value: 'a' }, '', 0, 1);
    const b = kop({ f: 'append', key: 'k', value: 'b' }, '', 2, 3);
    expect(checkOperations(kvModel, [a, b, kop({ f: 'get', key: 'k' }, 'b', 4, 5)]).result).toBe('illegal');
    expect(checkOperations(kvModel, [a, b, kop({ f: 'get', key: 'k' }, 'a', 4, 5)]).result).toBe('illegal');
    expect(checkOperations(kvModel, [a, kop({ f: 'get', key: 'k' }, 'zz', 4, 5)]).result).toBe('illegal');
    expect(
      checkOperations(kvModel, [
        a,
        kop({ f: 'put', key: 'k', value: 'p' }, '', 2, 3),
        kop({ f: 'get', key: 'k' }, 'p', 4, 5),
      ]).result,
    ).toBe('ok');
  });
});

describe('queue', () => {
  const qop = (input: QueueInput, output: QueueOutput, call: number, ret: number) => op(input, output, call, ret);
  const enq = (value: number, call: number, ret: number) => qop({ f: 'enqueue', value }, { ok: true }, call, ret);
  const deq = (value: number | null, call: number, ret: number) =>
    qop({ f: 'dequeue' }, { ok: true, value }, call, ret);
  it('is first in, first out', () => {
    expect(
      checkOperations(queueModel, [enq(1, 0, 1), enq(2, 2, 3), deq(1, 4, 5), deq(2, 6, 7), deq(null, 8, 9)]).result,
    ).toBe('ok');
    expect(checkOperations(queueModel, [enq(1, 0, 1), enq(2, 2, 3), deq(2, 4, 5)]).result).toBe('illegal');
  });
  it('rejects a lost enqueue, a duplicate and a value never enqueued', () => {
    expect(checkOperations(queueModel, [enq(1, 0, 1), deq(null, 2, 3)]).result).toBe('illegal');
    expect(checkOperations(queueModel, [enq(1, 0, 1), deq(1, 2, 3), deq(1, 4, 5)]).result).toBe('illegal');
    expect(checkOperations(queueModel, [deq(7, 0, 1)]).result).toBe('illegal');
  });
});

// Without the look-ahead, which would refute these histories at once.
// Neither the look-ahead nor the pre-pass: the plain search, to exercise its limits.
const { canReach: _lookahead, values: _prepass, ...withoutLookahead } = casRegisterModel;

describe('checkEvents', () => {
  it('pairs calls with returns and leaves unreturned calls open-ended', () => {
    const events: Event<CasRegisterInput, RegisterOutput>[] = [
      { kind: 'call', value: { f: 'write', value: 1 }, id: 0 },
      { kind: 'return', value: { ok: true }, id: 0 },
      { kind: 'call', value: { f: 'write', value: 2 }, id: 1 }, // never returns
      { kind: 'call', value: { f: 'read' }, id: 2 },
      { kind: 'return', value: { ok: true, value: 2 }, id: 2 },
    ];
    expect(checkEvents(casRegisterModel, events).result).toBe('ok');
    const stale: Event<CasRegisterInput, RegisterOutput>[] = [
      ...events.slice(0, 2),
      { kind: 'call', value: { f: 'read' }, id: 2 },
      { kind: 'return', value: { ok: true, value: 2 }, id: 2 },
    ];
    expect(checkEvents(casRegisterModel, stale).result).toBe('illegal');
  });
  it('gives unknown, not a hang, when the time budget runs out', () => {
    // Many concurrent unknown writes and a final impossible read: exponential without memo hits.
    const ops: RegOp[] = [];
    for (let i = 0; i < 60; i++) ops.push(op({ f: 'cas', from: i, to: i + 1 }, undefined, 0, Infinity));
    for (let i = 0; i < 60; i++) ops.push(op({ f: 'write', value: 1000 + i }, { ok: true }, 0, 100));
    ops.push(read(-1, 200, 201));
    const started = Date.now();
    const result = checkOperations(withoutLookahead, ops, { timeoutMs: 200 });
    expect(result.result).toBe('unknown');
    expect(result.reason).toMatch(/time budget/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
  it('the pre-pass rejects that read of a value never written without searching, whatever the size', () => {
    const ops: RegOp[] = [];
    for (let i = 0; i < 60; i++) ops.push(op({ f: 'cas', from: i, to: i + 1 }, undefined, 0, Infinity));
    for (let i = 0; i < 100_000; i++) ops.push(op({ f: 'write', value: 1000 + i }, { ok: true }, i, i + 100));
    ops.push(read(-1, 200, 201));
    // Written, but by an op invoked only after the read returned: just as impossible.
    ops.push(op({ f: 'write', value: -1 }, { ok: true }, 300, 400));
    const result = checkOperations(casRegisterModel, ops);
    expect(result.result).toBe('illegal');
    const [part] = result.partitions;
    expect(part?.explored).toBe(0);
    expect(part?.unplaced).toEqual([100_060]);
    expect(part?.reason).toMatch(/^read -> -1 needs -1, which no op invoked before it returned could have written/);
    // A cas's old value counts too, and a writer invoked by the time the op returns is enough.
    expect(
      checkOperations(casRegisterModel, [op({ f: 'cas', from: 7, to: 8 }, { ok: true }, 0, 5)]).partitions[0]?.explored,
    ).toBe(0);
    expect(
      checkOperations(casRegisterModel, [
        op({ f: 'write', value: 7 }, { ok: true }, 5, 9),
        op({ f: 'cas', from: 7, to: 8 }, { ok: true }, 0, 5),
      ]).result,
    ).toBe('ok');
  });
  it('gives unknown when the memory bound is reached', () => {
    const ops: RegOp[] = [];
    for (let i = 0; i < 60; i++) ops.push(op({ f: 'write', value: 1000 + i }, { ok: true }, 0, 100));
    ops.push(read(-1, 200, 201));
    const result = checkOperations(withoutLookahead, ops, { maxMemoryBytes: 2 ** 20 });
    expect(result.result).toBe('unknown');
    expect(result.reason).toMatch(/memory bound/);
  });
});

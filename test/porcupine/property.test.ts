// Property tests: the checker agrees with brute-force enumeration on many small random histories, including
// ops of unknown outcome and failed compare-and-sets.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  casRegisterModel,
  checkOperations,
  checkOperationsParallel,
  kvModel,
  queueModel,
  zkRegisterModel,
  ILLEGAL,
  type CasRegisterInput,
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
  workerUrls,
  kvText,
  type KvState,
} from '../../src/porcupine/index.js';
import { searchTuning } from '../../src/porcupine/search.js';
import { bruteForceLinearizable } from './brute-force.js';

interface Timing {
  call: number;
  duration: number;
  /** Where in its interval the op really took effect, 0..1. */
  at: number;
  unknown: boolean;
  corrupt: boolean;
}

const timing: fc.Arbitrary<Timing> = fc.record({
  call: fc.integer({ min: 0, max: 12 }),
  duration: fc.integer({ min: 0, max: 8 }),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  unknown: fc.boolean().chain((b) => (b ? fc.constant(false) : fc.integer({ min: 0, max: 6 }).map((n) => n === 0))),
  corrupt: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

/**
 * Builds a history by running the ops against the model at random instants inside their intervals (so it is
 * linearizable), then corrupting some outputs (so many are not). `observe` turns the real effect into what the
 * client saw; `corrupt` makes a wrong observation.
 */
function simulate<S, I, O>(
  model: Model<S, I, O>,
  specs: readonly { input: I; t: Timing }[],
  observe: (state: S, input: I) => O,
  corrupt: (output: O, input: I) => O,
  unknownOutput: O,
): Operation<I, O>[] {
  const order = specs
    .map((_, i) => i)
    .sort((a, b) => {
      const ta = (specs[a] as { t: Timing }).t;
      const tb = (specs[b] as { t: Timing }).t;
      return ta.call + ta.at * ta.duration - (tb.call + tb.at * tb.duration);
    });
  const ops: Operation<I, O>[] = specs.map(({ input, t }) => ({
    input,
    output: unknownOutput,
    call: t.call,
    return: t.unknown ? Infinity : t.call + t.duration,
  }));
  const states = new Map<unknown, S>();
  for (const i of order) {
    const op = ops[i] as Operation<I, O>;
    const key = model.partition ? model.partition(op.input) : '';
    const state = states.has(key) ? (states.get(key) as S) : model.init();
    const output = observe(state, op.input);
    const next = model.step(state, op.input, output);
    if (next !== ILLEGAL) states.set(key, next);
    const t = (specs[i] as { t: Timing }).t;
    if (!t.unknown) op.output = t.corrupt ? corrupt(output, op.input) : output;
  }
  return ops;
}

const value = fc.constantFrom<RegisterValue>(null, 0, 1, 2);
const key = fc.constantFrom('a', 'b');

/** Checks one history both ways; returns whether it is linearizable. */
function agree<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[]): boolean {
  const expected = bruteForceLinearizable(model, ops);
  const actual = checkOperations(model, ops).result;
  expect(actual, JSON.stringify(ops)).toBe(expected ? 'ok' : 'illegal');
  return expected;
}

/**
 * Runs `runs` random histories of up to 7 ops through both checkers, and asserts that both verdicts are well
 * represented (each at least a tenth of the runs): agreement on histories of one verdict only proves little.
 */
function agreeOnRandom<S, I, O>(
  model: Model<S, I, O>,
  input: fc.Arbitrary<I>,
  observe: (state: S, input: I) => O,
  corrupt: (output: O, input: I) => O,
  runs: number,
): void {
  let illegal = 0;
  fc.assert(
    fc.property(fc.array(fc.record({ input, t: timing }), { minLength: 1, maxLength: 7 }), (specs) => {
      if (!agree(model, simulate(model, specs, observe, corrupt, undefined as O))) illegal++;
    }),
    { numRuns: runs },
  );
  expect(illegal, 'not linearizable').toBeGreaterThan(runs / 10);
  expect(runs - illegal, 'linearizable').toBeGreaterThan(runs / 10);
}

/** cas-register ops over two keys, what a correct register answers, and a wrong answer. */
const casRegister = {
  input: fc.oneof(
    fc.record({ f: fc.constant('read' as const), key }),
    fc.record({ f: fc.constant('write' as const), value, key }),
    fc.record({ f: fc.constant('cas' as const), from: value, to: value, key }),
  ) as fc.Arbitrary<CasRegisterInput>,
  observe: (state: RegisterValue, i: CasRegisterInput): RegisterOutput =>
    i.f === 'read' ? { ok: true, value: state } : i.f === 'cas' && state !== i.from ? { ok: false } : { ok: true },
  corrupt: (o: RegisterOutput, i: CasRegisterInput): RegisterOutput =>
    i.f === 'read'
      ? { ok: true, value: o?.ok && o.value === 1 ? 2 : 1 }
      : i.f === 'cas'
        ? o?.ok
          ? { ok: false }
          : { ok: true }
        : o,
};

/** kv ops over two keys, what a correct store answers, and a wrong answer. */
const kv = {
  input: fc.oneof(
    fc.record({ f: fc.constant('get' as const), key }),
    fc.record({
      f: fc.constantFrom('put' as const, 'append' as const),
      key,
      value: fc.constantFrom('x', 'y', 'xy', 'yx', ''),
    }),
  ) as fc.Arbitrary<KvInput>,
  observe: (s: KvState, i: KvInput): KvOutput => (i.f === 'get' ? kvText(s) : ''),
  corrupt: (o: KvOutput, i: KvInput): KvOutput => (i.f === 'get' ? `${o ?? ''}x` : o),
};

/** zk-register ops (versioned set), what ZooKeeper answers, and a wrong answer. */
const zk = {
  input: fc.oneof(
    fc.record({ f: fc.constant('read' as const) }),
    fc.record({ f: fc.constant('write' as const), value }),
    fc.record({ f: fc.constant('cas' as const), version: fc.integer({ min: 0, max: 3 }), value }),
  ) as fc.Arbitrary<ZkRegisterInput>,
  observe: (s: { value: RegisterValue; version: number }, i: ZkRegisterInput): ZkRegisterOutput =>
    i.f === 'read'
      ? { ok: true, value: s.value, version: s.version }
      : i.f === 'cas' && s.version !== i.version
        ? { ok: false }
        : { ok: true, version: s.version + 1 },
  corrupt: (o: ZkRegisterOutput, i: ZkRegisterInput): ZkRegisterOutput =>
    i.f === 'read' && o?.ok
      ? { ...o, version: (o.version ?? 0) + 1 }
      : i.f === 'cas'
        ? o?.ok
          ? { ok: false }
          : { ok: true }
        : o,
};

describe('checker agrees with brute force', () => {
  it('cas-register with keys, unknown outcomes and failed cas (10,000 histories)', () => {
    const { input, observe, corrupt } = casRegister;
    let illegal = 0;
    fc.assert(
      fc.property(fc.array(fc.record({ input, t: timing }), { minLength: 1, maxLength: 7 }), (specs) => {
        const ops = simulate(casRegisterModel, specs, observe, corrupt, undefined);
        agree(casRegisterModel, ops);
        if (!bruteForceLinearizable(casRegisterModel, ops)) illegal++;
      }),
      { numRuns: 10_000 },
    );
    // Both verdicts are well represented.
    expect(illegal).toBeGreaterThan(1000);
    expect(illegal).toBeLessThan(9000);
  });

  it('zk versioned register (2,000 histories)', () => {
    agreeOnRandom(zkRegisterModel(), zk.input, zk.observe, zk.corrupt, 2_000);
  });

  it('kv get/put/append (4,000 histories)', () => {
    agreeOnRandom(kvModel, kv.input, kv.observe, kv.corrupt, 4_000);
  });

  it('queue (2,000 histories)', () => {
    const input: fc.Arbitrary<QueueInput> = fc.oneof(
      fc.record({ f: fc.constant('enqueue' as const), value: fc.constantFrom(1, 2, 3) }),
      fc.record({ f: fc.constant('dequeue' as const) }),
    );
    const observe = (s: readonly RegisterValue[], i: QueueInput): QueueOutput =>
      i.f === 'dequeue' ? { ok: true, value: s[0] ?? null } : { ok: true };
    const corrupt = (o: QueueOutput, i: QueueInput): QueueOutput =>
      i.f === 'dequeue' ? { ok: true, value: o?.value === 1 ? 2 : 1 } : o;
    agreeOnRandom(queueModel, input, observe, corrupt, 2_000);
  });

  // Histories this small rarely backtrack enough to start the look-ahead (model.canReach): start it from the
  // first step, and after two backtracks (so it also starts in the middle of a search).
  for (const [when, failures] of [
    ['from the first step', 0],
    ['after two backtracks', 2],
  ] as const) {
    describe(`with the look-ahead ${when}`, () => {
      const saved = { ...searchTuning };
      beforeAll(() => {
        searchTuning.lookaheadAfterFailures = failures;
        searchTuning.lookaheadAfterFailuresPerOp = 0;
      });
      afterAll(() => {
        Object.assign(searchTuning, saved);
      });

      it('cas-register (3,000 histories)', () => {
        agreeOnRandom(casRegisterModel, casRegister.input, casRegister.observe, casRegister.corrupt, 3_000);
      });

      it('kv get/put/append (3,000 histories)', () => {
        agreeOnRandom(kvModel, kv.input, kv.observe, kv.corrupt, 3_000);
      });

      it('zk versioned register (3,000 histories)', () => {
        agreeOnRandom(zkRegisterModel(), zk.input, zk.observe, zk.corrupt, 3_000);
      });
    });
  }

  // The second search order (ops of unknown outcome in call order, as Porcupine) as the first one.
  describe('with ops of unknown outcome tried in call order', () => {
    beforeAll(() => {
      searchTuning.firstUnknownLast = false;
    });
    afterAll(() => {
      searchTuning.firstUnknownLast = true;
    });
    it('cas-register (3,000 histories)', () => {
      agreeOnRandom(casRegisterModel, casRegister.input, casRegister.observe, casRegister.corrupt, 3_000);
    });
    it('zk versioned register (2,000 histories)', () => {
      agreeOnRandom(zkRegisterModel(), zk.input, zk.observe, zk.corrupt, 2_000);
    });
  });

  it('worker threads give the same verdicts as the calling thread', async () => {
    const ops: Operation<CasRegisterInput, RegisterOutput>[] = [];
    // 6 keys; key k3 has a stale read.
    for (let k = 0; k < 6; k++) {
      ops.push({ input: { f: 'write', value: 1, key: `k${k}` }, output: { ok: true }, call: 0, return: 1 });
      ops.push({ input: { f: 'write', value: 2, key: `k${k}` }, output: { ok: true }, call: 2, return: 3 });
      ops.push({
        input: { f: 'read', key: `k${k}` },
        output: { ok: true, value: k === 3 ? 1 : 2 },
        call: 4,
        return: 5,
      });
    }
    // Under vitest the sources are .ts: workers must run the compiled copies in dist/ (npm test builds first).
    expect(workerUrls(casRegisterModel)?.workerUrl).toMatch(/dist\/src\/porcupine\/worker\.js$/);
    const inThread = checkOperations(casRegisterModel, ops);
    const parallel = await checkOperationsParallel(casRegisterModel, ops, { workers: 2 });
    expect(inThread.result).toBe('illegal');
    expect(parallel.result).toBe('illegal');
    expect(parallel.partitions).toHaveLength(6);
    expect(parallel.partitions.find((p) => p.result === 'illegal')?.key).toBe('k3');
    const early = await checkOperationsParallel(casRegisterModel, ops, { workers: 2, stopEarly: true });
    expect(early.result).toBe('illegal');
    // A model without workerModule is checked in-thread.
    const { workerModule: _omit, ...local } = casRegisterModel;
    expect((await checkOperationsParallel(local, ops, { workers: 2 })).result).toBe('illegal');
  });
});

// Every history of Porcupine's corpus gets Porcupine's verdict.
import { describe, expect, it } from 'vitest';
import { checkLinearizable, convertHistory } from '../../src/checkers/linearizable.js';
import {
  ILLEGAL,
  checkOperations,
  kvSinglePartitionModel,
  type KvInput,
  type KvOutput,
  type Operation,
} from '../../src/porcupine/index.js';
import { etcdLinearizable, loadEtcd, loadKv } from './corpus.js';

describe('etcd corpus (cas-register)', () => {
  const histories = loadEtcd();

  it('has the 102 histories with a published verdict', () => {
    expect(histories).toHaveLength(102);
    expect(histories.filter((h) => etcdLinearizable.has(h.number))).toHaveLength(23);
  });

  it.each(histories.map((h) => [h.file, h] as const))('%s', async (_file, h) => {
    const result = await checkLinearizable(h.events, { model: 'cas-register', timeoutMs: 60_000 });
    expect(result.valid).toBe(etcdLinearizable.has(h.number));
    if (result.valid !== false) return;
    // The report must be a real counterexample: the prefix replays legally to the state reported, and the first
    // op that could not be placed is illegal there (or the pre-pass says why no state could make it legal).
    const [failure] = result.failures ?? [];
    expect(failure?.unplaced.length).toBeGreaterThan(0);
    const { model, operations, sources } = convertHistory(h.events, 'cas-register');
    const byInvoke = new Map(sources.map((s, i) => [s.invokeIndex, operations[i]!]));
    let state = model.init();
    for (const index of failure?.longestPrefix ?? []) {
      const op = byInvoke.get(index)!;
      const next = model.step(state, op.input, op.output);
      expect(next).not.toBe(ILLEGAL);
      state = next;
    }
    expect(failure?.longestPrefix).toHaveLength(failure?.prefixLength ?? -1);
    const blocked = byInvoke.get(failure!.unplaced[0]!.index)!;
    if (failure?.reason) {
      expect(failure.prefixLength).toBe(0);
      expect(failure.reason).toMatch(/which no op invoked before it returned could have written/);
    } else {
      expect(model.describeState?.(state)).toBe(failure?.stateBefore);
      expect(model.step(state, blocked.input as never, blocked.output as never)).toBe(ILLEGAL);
    }
  });
});

describe('kv corpus', () => {
  for (const clients of ['c01', 'c10', 'c50']) {
    for (const kind of ['ok', 'bad'] as const) {
      const name = `${clients}-${kind}`;
      it(`${name} key by key`, async () => {
        // For -bad, stop at the first illegal key (the next test decides every key of c50-bad).
        const result = await checkLinearizable(loadKv(name), {
          model: 'kv',
          stopEarly: kind === 'bad',
          timeoutMs: 60_000,
        });
        expect(result.valid).toBe(kind === 'ok');
      });
    }
  }

  it('c50-bad: every key decided without early stop', async () => {
    const result = await checkLinearizable(loadKv('c50-bad'), { model: 'kv', stopEarly: false, timeoutMs: 60_000 });
    expect(result.valid).toBe(false);
    expect(result.unknownPartitions).toBeUndefined();
    expect(result.failures?.length).toBe(10);
  });

  for (const name of ['c01-ok', 'c01-bad', 'c10-ok', 'c10-bad']) {
    it(`${name} as one partition`, () => {
      const { operations } = convertHistory(loadKv(name), 'kv');
      const result = checkOperations(kvSinglePartitionModel(), operations as Operation<KvInput, KvOutput>[], {
        timeoutMs: 60_000,
      });
      expect(result.result).toBe(name.endsWith('-ok') ? 'ok' : 'illegal');
      expect(result.partitions).toHaveLength(1);
    });
  }
});

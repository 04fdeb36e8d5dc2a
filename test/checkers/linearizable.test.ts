// The bridge from Faultline's history.jsonl events to porcupine. (The readers of other formats: test/formats.)
import { describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/checkers/linearizable.js';
import type { HistoryEvent } from '../../src/history.js';
import { UsageError } from '../../src/errors.js';

/** Builds events from compact tuples: [process, type, f, value, extra?]. Index and time follow the order. */
function history(
  rows: [number | 'nemesis', HistoryEvent['type'], string, unknown, Partial<HistoryEvent>?][],
): HistoryEvent[] {
  return rows.map(([process, type, f, value, extra], index) => ({
    index,
    time: index * 1000,
    process,
    type,
    f,
    value,
    ...extra,
  }));
}

const staleRead = history([
  [0, 'invoke', 'write', 1],
  [0, 'ok', 'write', 1],
  ['nemesis', 'info', 'partition', 'start'],
  ['nemesis', 'info', 'partition', 'done'],
  [1, 'invoke', 'write', 2],
  [1, 'ok', 'write', 2],
  [2, 'invoke', 'read', null],
  [2, 'ok', 'read', 1],
]);
const linearizableTwin = history([
  [0, 'invoke', 'write', 1],
  [0, 'ok', 'write', 1],
  ['nemesis', 'info', 'partition', 'start'],
  ['nemesis', 'info', 'partition', 'done'],
  [1, 'invoke', 'write', 2],
  [2, 'invoke', 'read', null],
  [2, 'ok', 'read', 1],
  [1, 'ok', 'write', 2],
]);

describe('checkLinearizable', () => {
  it('finds the stale read, and reports where', async () => {
    const result = await checkLinearizable(staleRead, { model: 'cas-register' });
    expect(result).toMatchObject({ valid: false, model: 'cas-register', ops: 3, partitions: 1 });
    const [failure] = result.failures ?? [];
    expect(failure?.key).toBeNull();
    expect(failure?.longestPrefix).toEqual([0, 4]);
    expect(failure?.unplaced.map((op) => op.index)).toEqual([6]);
    expect(failure?.stateBefore).toBe('2');
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('accepts the linearizable twin (the read overlaps the second write)', async () => {
    const result = await checkLinearizable(linearizableTwin, { model: 'cas-register' });
    expect(result.valid).toBe(true);
    expect(result.failures).toBeUndefined();
  });

  it('treats info and unfinished ops as open-ended and drops failed ones', async () => {
    const events = history([
      [0, 'invoke', 'write', 1],
      [0, 'info', 'write', null, { error: 'timeout' }],
      [1, 'invoke', 'write', 2],
      [1, 'fail', 'write', 2],
      [2, 'invoke', 'write', 3],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
      [4, 'invoke', 'read', null],
      [4, 'ok', 'read', 3],
    ]);
    expect((await checkLinearizable(events, { model: 'register' })).valid).toBe(true);
    const failedWriteSeen = history([
      [1, 'invoke', 'write', 2],
      [1, 'fail', 'write', 2],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 2],
    ]);
    expect((await checkLinearizable(failedWriteSeen, { model: 'register' })).valid).toBe(false);
  });

  it('a cas failing with value-mismatch asserts; bad-version proves nothing', async () => {
    const mismatch = history([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'cas', [1, 2]],
      [1, 'fail', 'cas', [1, 2], { error: 'value-mismatch' }],
    ]);
    expect((await checkLinearizable(mismatch, { model: 'cas-register' })).valid).toBe(false);
    const badVersion = history([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'cas', [1, 2]],
      [1, 'fail', 'cas', [1, 2], { error: 'bad-version' }],
    ]);
    expect((await checkLinearizable(badVersion, { model: 'cas-register' })).valid).toBe(true);
  });

  it('checks keys independently and names the failing key', async () => {
    const events = history([
      [0, 'invoke', 'write', 1, { key: 'a' }],
      [0, 'ok', 'write', 1, { key: 'a' }],
      [1, 'invoke', 'read', null, { key: 'b' }],
      [1, 'ok', 'read', 1, { key: 'b' }],
      [2, 'invoke', 'read', null, { key: 'a' }],
      [2, 'ok', 'read', 1, { key: 'a' }],
    ]);
    const result = await checkLinearizable(events, { model: 'cas-register' });
    expect(result).toMatchObject({ valid: false, partitions: 2 });
    expect(result.failures?.map((f) => f.key)).toEqual(['b']);
  });

  it('supports the zk-register, kv and queue models', async () => {
    const zk = history([
      [0, 'invoke', 'write', 'x'],
      [0, 'ok', 'write', null],
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', { value: 'x', version: 1 }],
      [2, 'invoke', 'cas', { version: 1, value: 'y' }],
      [2, 'fail', 'cas', null, { error: 'bad-version' }],
    ]);
    expect((await checkLinearizable(zk, { model: 'zk-register' })).valid).toBe(false);
    const kv = history([
      [0, 'invoke', 'append', 'a', { key: 'k' }],
      [0, 'ok', 'append', 'a', { key: 'k' }],
      [1, 'invoke', 'get', null, { key: 'k' }],
      [1, 'ok', 'get', 'a', { key: 'k' }],
    ]);
    expect((await checkLinearizable(kv, { model: 'kv' })).valid).toBe(true);
    const queue = history([
      [0, 'invoke', 'enqueue', 1],
      [0, 'ok', 'enqueue', 1],
      [1, 'invoke', 'dequeue', null],
      [1, 'ok', 'dequeue', 2],
    ]);
    expect((await checkLinearizable(queue, { model: 'queue' })).valid).toBe(false);
  });

  it('rejects malformed input with a UsageError', async () => {
    await expect(
      checkLinearizable(
        history([
          [0, 'invoke', 'cas', 5],
          [0, 'ok', 'cas', 5],
        ]),
        { model: 'cas-register' },
      ),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(
      checkLinearizable(history([[0, 'invoke', 'frobnicate', 5]]), { model: 'register' }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});

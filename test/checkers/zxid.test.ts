// The zxid checker: hand-made ZooKeeper histories with known verdicts and clear reasons, and agreement with the
// search (porcupine's zxid-register model, the oracle) on generated ZooKeeper histories.
import { describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/checkers/linearizable.js';
import {
  convertZxidHistory,
  decideZxidHistory,
  NotZxidHistory,
  searchZxidHistory,
  type ZxidHistory,
} from '../../src/checkers/zxid-history.js';
import { linearizableRegisterChecker } from '../../src/checkers/zk-order.js';
import type { HistoryEvent } from '../../src/history.js';
import { zookeeperHistory } from './zxid-generator.js';

type Row = [process: number, type: HistoryEvent['type'], f: string, value: unknown, extra?: Partial<HistoryEvent>];
const history = (rows: Row[]): HistoryEvent[] =>
  rows.map(([process, type, f, value, extra], index) => ({ index, time: index, process, type, f, value, ...extra }));
const z = (zxid: number): Partial<HistoryEvent> => ({ zxid: zxid.toString(16) });

function converted(events: HistoryEvent[]): ZxidHistory {
  const c = convertZxidHistory(events);
  if (c instanceof NotZxidHistory) throw new Error(c.reason);
  return c;
}
const decide = (events: HistoryEvent[]) => decideZxidHistory(converted(events));
const search = (events: HistoryEvent[]) => searchZxidHistory(converted(events));

describe('zxid checker: known verdicts', () => {
  it('accepts writes in zxid order and reads of the latest or of the initial value', () => {
    const events = history([
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', null, z(1)],
      [1, 'invoke', 'write', 3],
      [1, 'ok', 'write', 3, z(5)],
      [2, 'invoke', 'cas', [3, 4]],
      [2, 'ok', 'cas', [3, 4], z(7)],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 4, z(7)],
    ]);
    expect(decide(events).valid).toBe(true);
    expect(search(events).valid).toBe(true);
  });

  it('rejects a stale read even when the value is the same (the value check cannot see it)', async () => {
    const events = history([
      [1, 'invoke', 'write', 3],
      [1, 'ok', 'write', 3, z(5)],
      [2, 'invoke', 'write', 3],
      [2, 'ok', 'write', 3, z(6)],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 3, z(5)],
    ]);
    const result = decide(events);
    expect(result.valid).toBe(false);
    expect(result.failures?.[0]?.reason).toMatch(
      /^real-time: #2 write\(3\) @6 \(zxid 6\) returned before #4 read -> 3 @5 \(zxid 5\) was invoked/,
    );
    // The context the report draws: what the zxid order puts before the violation (the write at zxid 5).
    expect(result.failures?.[0]).toMatchObject({ prefixLength: 1, longestPrefix: [0], stateBefore: '3' });
    expect(search(events).valid).toBe(false);
    expect((await checkLinearizable(events, { model: 'cas-register' })).valid).toBe(true);
  });

  it('reports two writes at one zxid, and a read of a zxid whose write wrote another value', () => {
    const twice = decide(
      history([
        [1, 'invoke', 'write', 3],
        [1, 'ok', 'write', 3, z(5)],
        [2, 'invoke', 'write', 4],
        [2, 'ok', 'write', 4, z(5)],
      ]),
    );
    expect(twice.failures?.[0]?.reason).toMatch(/^duplicate-zxid: two writes at zxid 5/);
    const corrupt = decide(
      history([
        [1, 'invoke', 'write', 3],
        [1, 'ok', 'write', 3, z(5)],
        [0, 'invoke', 'read', null],
        [0, 'ok', 'read', 4, z(5)],
      ]),
    );
    expect(corrupt.failures?.[0]?.reason).toMatch(
      /^corrupt-read: #2 read -> 4 @5 saw 4 at zxid 5, but #0 write\(3\) @5 wrote 3/,
    );
  });

  it('places a write of unknown outcome that a read saw, and only one that could have', () => {
    const seen = history([
      [1, 'invoke', 'write', 3],
      [1, 'ok', 'write', 3, z(5)],
      [2, 'invoke', 'write', 4],
      [2, 'info', 'write', 4, { error: 'timeout' }],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 4, z(9)],
    ]);
    expect(decide(seen).valid).toBe(true);
    // Nobody wrote 7: a read of a zxid no write made.
    const phantom = seen.map((e) => (e.index === 5 ? { ...e, value: 7 } : e));
    expect(decide(phantom).failures?.[0]?.reason).toMatch(
      /^phantom-zxid: #4 read -> 7 @9 saw 7 at zxid 9, which no recorded write made/,
    );
    // One write of unknown outcome cannot make two states.
    const twice = history([
      [2, 'invoke', 'write', 4],
      [2, 'info', 'write', 4],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 4, z(9)],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 4, z(11)],
    ]);
    expect(decide(twice).valid).toBe(false);
    expect(search(twice).valid).toBe(false);
  });

  it('a cas of unknown outcome made the state right after the one it read', () => {
    const events = history([
      [1, 'invoke', 'write', 3],
      [1, 'ok', 'write', 3, z(5)],
      [2, 'invoke', 'cas', [3, 4]],
      [2, 'info', 'cas', [3, 4], { ...z(5), error: 'timeout' }],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 4, z(8)],
    ]);
    expect(decide(events).valid).toBe(true);
    // Had a write come between (zxid 6), the cas could not have followed zxid 5 any more.
    const between = history([
      [1, 'invoke', 'write', 3],
      [1, 'ok', 'write', 3, z(5)],
      [2, 'invoke', 'cas', [3, 4]],
      [3, 'invoke', 'write', 1],
      [3, 'ok', 'write', 1, z(6)],
      [2, 'info', 'cas', [3, 4], z(5)],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', 4, z(8)],
    ]);
    expect(decide(between).valid).toBe(false);
    expect(search(between).valid).toBe(false);
  });

  it('a cas needs its old value right before it: an unobserved write of unknown outcome can provide it', () => {
    const events = history([
      [1, 'invoke', 'write', 3],
      [1, 'ok', 'write', 3, z(5)],
      [2, 'invoke', 'write', 1],
      [2, 'info', 'write', 1],
      [3, 'invoke', 'cas', [1, 2]],
      [3, 'ok', 'cas', [1, 2], z(9)],
    ]);
    expect(decide(events).valid).toBe(true);
    const none = events.filter((e) => e.process !== 2);
    expect(decide(none).failures?.[0]?.reason).toMatch(
      /^cas-precondition: .*needs the register to hold 1 just before it/,
    );
    expect(search(none).valid).toBe(false);
  });

  it('falls back (not applicable) when the zxids it needs are missing', () => {
    const old = convertZxidHistory(
      history([
        [2, 'invoke', 'cas', [3, 4]],
        [2, 'info', 'cas', [3, 4], { error: 'timeout' }],
      ]),
    );
    expect(old).toBeInstanceOf(NotZxidHistory);
    expect((old as NotZxidHistory).reason).toMatch(/no zxid of the data it read/);
  });
});

describe('the register workload checker', () => {
  it('decides from the zxids when the history has them, else searches by value', async () => {
    const { events } = zookeeperHistory(3);
    const checker = linearizableRegisterChecker('cas-register', 'sync');
    const result = await checker.check(events, { timeoutMs: 10_000 });
    expect(result.model).toBe('zxid-register');
    const old = events.map((e) => (e.type === 'ok' && e.f === 'read' ? { ...e, zxid: undefined } : e));
    const fallback = await checker.check(old, { timeoutMs: 10_000 });
    expect(fallback.model).toBe('cas-register');
    expect(fallback.zxidChecker).toMatch(/^not used: event \d+ \(ok read\) has no zxid/);
  });
});

describe('zxid checker agrees with the search on generated ZooKeeper histories', () => {
  // The acceptance run (100,000 histories) is `ZXID_HISTORIES=100000 npx vitest run test/checkers/zxid.test.ts`.
  const runs = Number(process.env.ZXID_HISTORIES ?? 5_000);
  it(`${runs.toLocaleString('en')} histories of up to 8 ops, and agreement with the value check where it must`, async () => {
    let valid = 0;
    let invalid = 0;
    let valueOnly = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const { events, corruption } = zookeeperHistory(seed);
      const c = converted(events);
      const fast = decideZxidHistory(c).valid;
      const slow = searchZxidHistory(c, 10_000).valid;
      if (fast !== slow)
        expect.fail(
          `seed ${seed} (${corruption}): zxid ${fast}, search ${slow}\n${events.map((e) => JSON.stringify(e)).join('\n')}`,
        );
      if (fast) {
        valid++;
        // A linearization with zxids is one by value: the value check must agree.
        const byValue = await checkLinearizable(events, { model: 'cas-register' });
        if (byValue.valid !== true) expect.fail(`seed ${seed}: valid by zxid, not by value`);
      } else {
        invalid++;
        if ((await checkLinearizable(events, { model: 'cas-register' })).valid === true) valueOnly++;
      }
    }
    if (process.env.ZXID_HISTORIES)
      console.info(
        `${runs} histories: ${valid} linearizable, ${invalid} not (${valueOnly} of them linearizable by value alone); zxid checker and search agree on all`,
      );
    // Both verdicts are well represented, and zxids catch what values alone cannot.
    expect(valid).toBeGreaterThan(runs * 0.2);
    expect(invalid).toBeGreaterThan(runs * 0.15);
    expect(valueOnly).toBeGreaterThan(0);
  }, 600_000);

  it('histories of up to 24 ops by 3 values (200)', () => {
    let invalid = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { events } = zookeeperHistory(seed * 7919, 24);
      const c = converted(events);
      const slow = searchZxidHistory(c, 20_000).valid;
      if (slow === 'unknown') continue;
      expect(decideZxidHistory(c).valid, `seed ${seed * 7919}`).toBe(slow);
      if (!slow) invalid++;
    }
    expect(invalid).toBeGreaterThan(20);
    expect(invalid).toBeLessThan(180);
  }, 120_000);
});

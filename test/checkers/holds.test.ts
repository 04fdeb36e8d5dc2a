// The lock and election checker on hand-made histories: each rule with and without its violation.
import { describe, expect, it } from 'vitest';
import type { CheckerResult } from '../../src/checker.js';
import {
  checkHolds,
  ELECTION_OPS,
  holdsOf,
  lastLeaderStart,
  leaderlessMs,
  LOCK_OPS,
} from '../../src/checkers/holds.js';
import type { HistoryEvent } from '../../src/history.js';
import type { RoleChange } from '../../src/role-changes.js';

const MS = 1_000_000;

/** Events at explicit times (ms), so real-time overlaps and gaps are exactly what the test says. */
class Timeline {
  readonly events: HistoryEvent[] = [];

  private push(time: number, e: Omit<HistoryEvent, 'index' | 'time'>): number {
    this.events.push({ index: this.events.length, time: time * MS, ...e });
    return this.events.length - 1;
  }

  /** An op from `from` to `to` ms; returns the invoke's index. `to` undefined: it never completed. */
  op(
    process: number,
    f: string,
    input: Record<string, unknown>,
    from: number,
    to: number | undefined,
    type: 'ok' | 'fail' | 'info' = 'ok',
    output: Record<string, unknown> = {},
    error?: string,
  ): number {
    const index = this.push(from, { process, type: 'invoke', f, value: input });
    if (to !== undefined)
      this.push(to, { process, type, f, value: { ...input, ...output }, ...(error ? { error } : {}) });
    return index;
  }

  finalLog(names: string[], at: number): number {
    this.push(at, { process: 'final', type: 'invoke', f: 'final-read', value: null, node: 'n1' });
    return this.push(at + 1, { process: 'final', type: 'ok', f: 'final-read', value: { log: names }, node: 'n1' });
  }
}

const seq = (n: number): string => String(n).padStart(10, '0');
const entry = (token: string, n: number): string => `w-${token}-${seq(n)}`;
const written = (token: string, n: number): Record<string, unknown> => ({
  path: `/faultline-lock/log/${entry(token, n)}`,
});
const types = (r: CheckerResult): string[] =>
  (r.anomalies ?? []).map((a) => `${a.type}${a.documented ? ' (documented)' : ''}`);

/** Process 0 holds a from 0 to 100 ms, writing once; process 1 holds b from 150 ms. */
function twoHolds(): Timeline {
  const t = new Timeline();
  t.op(0, 'acquire', { token: 'a' }, 0, 10, 'ok', { node: '/l/m/lock-0000000000' });
  t.op(0, 'write', { token: 'a' }, 20, 30, 'ok', written('a', 0));
  t.op(0, 'release', { token: 'a' }, 100, 110);
  t.op(1, 'acquire', { token: 'b' }, 50, 150, 'ok', { node: '/l/m/lock-0000000001' });
  t.op(1, 'write', { token: 'b' }, 160, 170, 'ok', written('b', 1));
  t.op(1, 'release', { token: 'b' }, 200, 210);
  return t;
}

/** Term a from 0 to 1 s, then term b from `next` ms: a leaderless gap of next - 1000 ms. */
function termAThenB(next: number): Timeline {
  const t = new Timeline();
  t.op(0, 'campaign', { token: 'a' }, 0, 100, 'ok');
  t.op(0, 'resign', { token: 'a' }, 1000, 1010);
  t.op(1, 'campaign', { token: 'b' }, 10, next, 'ok');
  t.op(1, 'resign', { token: 'b' }, next + 100, next + 110);
  t.finalLog([], next + 200);
  return t;
}

describe('lock: mutual exclusion in real time', () => {
  it('is valid for holds one after the other with their writes in order', async () => {
    const t = twoHolds();
    t.finalLog([entry('b', 1), entry('a', 0)], 300);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: false });
    expect(result.valid).toBe(true);
    expect(result.anomalies).toEqual([]);
    expect(result.counts).toMatchObject({ holds: 2, overlaps: 0, logEntries: 2, staleWrites: 0 });
    expect(holdsOf(t.events, LOCK_OPS).map((h) => [h.token, h.start / MS, h.end / MS, h.endedBy])).toEqual([
      ['a', 10, 100, 'released'],
      ['b', 150, 200, 'released'],
    ]);
  });

  it('names an overlap between two connected holders as a bug', async () => {
    const t = new Timeline();
    const a = t.op(0, 'acquire', { token: 'a' }, 0, 10, 'ok');
    t.op(0, 'write', { token: 'a' }, 20, 30, 'ok', written('a', 0));
    t.op(0, 'release', { token: 'a' }, 100, 110);
    const b = t.op(1, 'acquire', { token: 'b' }, 40, 50, 'ok');
    t.op(1, 'release', { token: 'b' }, 120, 130);
    t.finalLog([entry('a', 0)], 300);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: false });
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['hold-overlap']);
    expect(result.anomalies![0]!.ops).toEqual([a, b]);
    expect(result.anomalies![0]!.description).toContain('both held for 50 ms');
  });

  it('documents an overlap whose first holder had an op with unknown outcome (retired while holding)', async () => {
    const t = new Timeline();
    t.op(0, 'acquire', { token: 'a' }, 0, 10, 'ok');
    // Its write timed out at 5010 ms: the process is retired then; b got the lock at 4000 ms.
    t.op(0, 'write', { token: 'a' }, 10, 5010, 'info', {}, 'timeout');
    t.op(1, 'acquire', { token: 'b' }, 100, 4000, 'ok');
    t.op(1, 'release', { token: 'b' }, 4100, 4110);
    t.finalLog([], 6000);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: false });
    expect(result.valid).toBe(true);
    expect(types(result)).toEqual(['hold-overlap (documented)']);
    expect(result.overlapRate).toBe(0.5);
    expect(result.counts).toMatchObject({ overlaps: 1, documentedOverlaps: 1, troubledHolds: 1 });
  });

  it("documents an overlap whose first holder's Curator reported SUSPENDED (placed by agoNs)", async () => {
    const t = new Timeline();
    t.op(0, 'acquire', { token: 'a' }, 0, 10, 'ok');
    // The write's answer (at 900 ms) says Curator went SUSPENDED 600 ms before it: at 300 ms.
    t.op(0, 'write', { token: 'a' }, 20, 900, 'ok', {
      ...written('a', 0),
      events: [{ event: 'connection', state: 'SUSPENDED', agoNs: 600 * MS }],
    });
    t.op(0, 'release', { token: 'a' }, 1000, 1010);
    t.op(1, 'acquire', { token: 'b' }, 100, 800, 'ok');
    t.op(1, 'release', { token: 'b' }, 1100, 1110);
    t.finalLog([entry('a', 0)], 2000);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: false });
    expect(types(result)).toEqual(['hold-overlap (documented)']);
    expect(holdsOf(t.events, LOCK_OPS)[0]!.trouble).toMatchObject({
      time: 300 * MS,
      why: 'Curator reported SUSPENDED',
    });
  });
});

describe('lock: the protected writes land in holder order', () => {
  /** a's holder is retired (its write timed out); b takes over and writes; a's write lands after b's. */
  function staleWrite(): Timeline {
    const t = new Timeline();
    t.op(0, 'acquire', { token: 'a' }, 0, 10, 'ok');
    t.op(0, 'write', { token: 'a' }, 20, 5020, 'info', {}, 'timeout');
    t.op(1, 'acquire', { token: 'b' }, 30, 5030, 'ok');
    t.op(1, 'write', { token: 'b' }, 5040, 5050, 'ok', written('b', 1));
    t.op(1, 'release', { token: 'b' }, 5060, 5070);
    t.finalLog([entry('b', 1), entry('a', 2)], 6000);
    return t;
  }

  it('documents a late unfenced write of a holder that lost its session', async () => {
    const result = await checkHolds(staleWrite().events, { ops: LOCK_OPS, fenced: false });
    expect(result.valid).toBe(true);
    expect(types(result)).toEqual(['stale-holder-write (documented)']);
    expect(result.counts).toMatchObject({ staleWrites: 1 });
  });

  it('fails the same history when writes are fenced: a fence must stop it', async () => {
    const result = await checkHolds(staleWrite().events, { ops: LOCK_OPS, fenced: true });
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['stale-holder-write']);
    expect(result.anomalies![0]!.description).toContain('got past its fence');
  });

  it('fails a write out of holder order from a holder that stayed connected', async () => {
    const t = twoHolds();
    t.finalLog([entry('b', 0), entry('a', 1)], 300);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: false });
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['stale-holder-write', 'lost-write', 'lost-write']);
  });

  it('fails an acknowledged write missing from the log, and an entry no hold wrote', async () => {
    const t = twoHolds();
    t.finalLog([entry('a', 0), entry('zz', 7)], 300);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: true });
    expect(result.valid).toBe(false);
    expect(types(result).sort()).toEqual(['lost-write', 'write-outside-hold']);
  });

  it('ends a hold at a refused (fenced) write: no overlap with the next holder', async () => {
    const t = new Timeline();
    t.op(0, 'acquire', { token: 'a' }, 0, 10, 'ok');
    t.op(0, 'write', { token: 'a' }, 20, 30, 'fail', {}, 'nonode');
    t.op(0, 'release', { token: 'a' }, 500, 510);
    t.op(1, 'acquire', { token: 'b' }, 15, 40, 'ok');
    t.op(1, 'release', { token: 'b' }, 600, 610);
    t.finalLog([], 700);
    const result = await checkHolds(t.events, { ops: LOCK_OPS, fenced: true });
    expect(result.anomalies).toEqual([]);
    expect(holdsOf(t.events, LOCK_OPS)[0]).toMatchObject({ end: 30 * MS, endedBy: 'lost' });
  });

  it('cannot decide write order without a recovery read', async () => {
    const result = await checkHolds(twoHolds().events, { ops: LOCK_OPS, fenced: true });
    expect(result.valid).toBe('unknown');
  });
});

describe('election: one leader at a time, and a new one in time', () => {
  const T = 1000; // session timeout: the bound is 2 × 1 s + 3 s slack = 5 s

  it('ends a term at the leadership-lost event, starts one at the gained event', async () => {
    const t = new Timeline();
    t.op(0, 'campaign', { token: 'a' }, 0, 100, 'ok', {
      events: [{ event: 'leader', state: 'gained', agoNs: 60 * MS }],
    });
    t.op(
      0,
      'write',
      { token: 'a' },
      1000,
      2000,
      'fail',
      { events: [{ event: 'leader', state: 'lost', agoNs: 1500 * MS }] },
      'not-leader',
    );
    t.op(1, 'campaign', { token: 'b' }, 10, 800, 'ok');
    t.op(1, 'resign', { token: 'b' }, 900, 910);
    t.finalLog([], 3000);
    const holds = holdsOf(t.events, ELECTION_OPS);
    expect(holds.map((h) => [h.token, h.start / MS, h.end / MS, h.endedBy])).toEqual([
      ['a', 40, 500, 'lost'],
      ['b', 800, 900, 'released'],
    ]);
    const result = await checkHolds(t.events, { ops: ELECTION_OPS, fenced: false, livenessSessionTimeoutMs: T });
    expect(result.anomalies).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('names two leaders at once', async () => {
    const t = new Timeline();
    t.op(0, 'campaign', { token: 'a' }, 0, 100, 'ok');
    t.op(0, 'resign', { token: 'a' }, 900, 910);
    t.op(1, 'campaign', { token: 'b' }, 10, 500, 'ok');
    t.op(1, 'resign', { token: 'b' }, 1000, 1010);
    t.finalLog([], 1100);
    const result = await checkHolds(t.events, { ops: ELECTION_OPS, fenced: true, livenessSessionTimeoutMs: T });
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['term-overlap']);
  });

  it('names a leaderless gap over the bound, and not one within it', async () => {
    const late = await checkHolds(termAThenB(7000).events, {
      ops: ELECTION_OPS,
      fenced: false,
      livenessSessionTimeoutMs: T,
    });
    expect(late.valid).toBe(false);
    expect(types(late)).toEqual(['no-leader']);
    expect(late.anomalies![0]!.description).toContain('no leader for 6.0 s after term a ended (released), until b');
    const inTime = await checkHolds(termAThenB(5500).events, {
      ops: ELECTION_OPS,
      fenced: false,
      livenessSessionTimeoutMs: T,
    });
    expect(inTime.valid).toBe(true);
    expect(inTime.counts).toMatchObject({ livenessBoundMs: 5000, maxLeaderGapMs: 4500 });
    // While ZooKeeper itself had no leader (roles.jsonl), Curator cannot elect one: that time extends the bound.
    const roles: RoleChange[] = [
      { time: 0, node: 'n1', role: 'leader' },
      { time: 1500 * MS, node: 'n1', role: 'down' },
      { time: 3500 * MS, node: 'n2', role: 'leader' },
    ];
    expect(leaderlessMs(roles, 1000 * MS, 7000 * MS)).toBe(2000);
    const excused = await checkHolds(
      termAThenB(7000).events,
      { ops: ELECTION_OPS, fenced: false, livenessSessionTimeoutMs: T },
      roles,
    );
    expect(excused.valid).toBe(true);
  });

  it("counts the bound from ZooKeeper's last new leader in the gap: a new leader gives every session a fresh timeout", async () => {
    // Leaders n1, then n2 (from 2 s), then n3 (from 6 s), each hand-over within 0.5 s.
    const roles: RoleChange[] = [
      { time: 0, node: 'n1', role: 'leader' },
      { time: 1500 * MS, node: 'n1', role: 'down' },
      { time: 2000 * MS, node: 'n2', role: 'leader' },
      { time: 2200 * MS, node: 'n1', role: 'follower' },
      { time: 5500 * MS, node: 'n2', role: 'down' },
      { time: 6000 * MS, node: 'n3', role: 'leader' },
    ];
    expect(lastLeaderStart(roles, 1000 * MS, 12_000 * MS)).toBe(6000 * MS);
    expect(lastLeaderStart(roles, 6000 * MS, 12_000 * MS)).toBeUndefined();
    const options = { ops: ELECTION_OPS, fenced: false, livenessSessionTimeoutMs: T };
    // 9.5 s after the term, 4.5 s after the last new leader: within the 5 s bound.
    expect((await checkHolds(termAThenB(10_500).events, options, roles)).valid).toBe(true);
    // Without the leader changes the same gap is over the bound.
    expect(types(await checkHolds(termAThenB(10_500).events, options))).toEqual(['no-leader']);
    // 6 s after the last new leader: over it, and the message says where the count began.
    const late = await checkHolds(termAThenB(12_000).events, options, roles);
    expect(types(late)).toEqual(['no-leader']);
    expect(late.anomalies![0]!.description).toContain("counted from ZooKeeper's last new leader 5.0 s in");
  });
});

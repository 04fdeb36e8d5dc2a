// The shrinker against FAKE oracles whose minimal failing schedules are known: ddmin finds them, keeps order, asks
// each distinct subset once, respects the test budget; waits shorten to what the fake needs; 5 nodes become 3.
import { describe, expect, it } from 'vitest';
import type { TimedStep } from '../../src/explore/scenario.js';
import { ddmin, keepSteps, shrinkSchedule, type ShrinkCandidate } from '../../src/explore/shrink.js';

/** A FAKE oracle: fails when every one of `needed` is in the subset. */
const fakeNeeds =
  (needed: number[]) =>
  async (subset: number[]): Promise<boolean> =>
    needed.every((n) => subset.includes(n));

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('ddmin', () => {
  it('finds the one step that matters among many', async () => {
    const { result } = await ddmin(range(32), fakeNeeds([17]));
    expect(result).toEqual([17]);
  });

  it('finds two far-apart steps that matter only together, in order', async () => {
    const { result } = await ddmin(range(20), fakeNeeds([3, 16]));
    expect(result).toEqual([3, 16]);
  });

  it('finds three interacting steps', async () => {
    const { result } = await ddmin(range(12), fakeNeeds([0, 5, 11]));
    expect(result).toEqual([0, 5, 11]);
  });

  it('returns nothing when the failure needs no step at all', async () => {
    const { result } = await ddmin(range(8), async () => true);
    expect(result).toEqual([]);
  });

  it('gives back a 1-minimal subset for a non-monotone FAKE oracle (fails on even-sized subsets holding 2)', async () => {
    const oracle = async (s: number[]): Promise<boolean> => s.includes(2) && s.length % 2 === 0;
    const { result } = await ddmin(range(10), oracle);
    expect(await oracle(result)).toBe(true);
    for (const x of result) expect(await oracle(result.filter((y) => y !== x))).toBe(false);
  });

  it('asks the oracle once per distinct subset and stops at its budget', async () => {
    const asked: string[] = [];
    const { tests } = await ddmin(
      range(16),
      async (s) => {
        asked.push(s.join(','));
        return s.includes(9);
      },
      {},
    );
    expect(new Set(asked).size).toBe(asked.length);
    expect(tests).toBe(asked.length);
    const limited = await ddmin(range(64), fakeNeeds([1, 62]), { maxTests: 5 });
    expect(limited.tests).toBe(5);
    expect(await fakeNeeds([1, 62])(limited.result)).toBe(true);
  });
});

const fault = (fault: string, target: string, waitS: number): TimedStep => ({
  waitS,
  action: { kind: 'fault', fault, target },
});
const heal = (family: string, waitS: number, target?: string): TimedStep => ({
  waitS,
  action: { kind: 'heal', family, ...(target ? { target } : {}) },
});

describe('keepSteps', () => {
  it("carries a dropped step's wait to the next kept step, so kept steps keep their times", () => {
    const steps = [fault('kill-one', 'n1', 2), heal('process', 3), fault('pause-one', 'n2', 4)];
    expect(keepSteps(steps, new Set([0, 2])).map((s) => s.waitS)).toEqual([2, 7]);
  });
});

describe('shrinkSchedule', () => {
  // A FAKE cluster bug: fails when n2 is killed, then n3 is paused while n2 is still down, at least 3 s after the
  // kill, on any size; the other steps are noise.
  const fakeBug = async (c: ShrinkCandidate): Promise<boolean> => {
    let t = 0;
    let killedAt: number | undefined;
    for (const s of c.steps) {
      t += s.waitS + 0.5;
      const a = s.action;
      if (a.kind === 'fault' && a.fault === 'kill-one' && a.target === 'n2') killedAt = t;
      if ((a.kind === 'heal' && a.family === 'process') || (a.kind === 'start' && a.node === 'n2'))
        killedAt = undefined;
      if (
        a.kind === 'fault' &&
        a.fault === 'pause-one' &&
        a.target === 'n3' &&
        killedAt !== undefined &&
        t - killedAt >= 3
      )
        return true;
    }
    return false;
  };
  const recorded: ShrinkCandidate = {
    nodes: 5,
    steps: [
      fault('partition-one', 'n4', 5),
      heal('partition', 10),
      fault('kill-one', 'n2', 8),
      fault('packet-loss', 'n1', 6),
      heal('packet', 9),
      fault('pause-one', 'n3', 12),
      heal('process', 10),
      fault('kill-one', 'n5', 4),
      heal('process', 7),
    ],
  };

  it('cuts the recorded schedule to the two steps that matter, shortens the waits, and drops to 3 nodes', async () => {
    expect(await fakeBug(recorded)).toBe(true);
    const { candidate, phases, tests } = await shrinkSchedule(recorded, fakeBug, { maxTests: 200 });
    expect(candidate.steps.map((s) => s.action)).toEqual([
      { kind: 'fault', fault: 'kill-one', target: 'n2' },
      { kind: 'fault', fault: 'pause-one', target: 'n3' },
    ]);
    expect(await fakeBug(candidate)).toBe(true);
    // The pause needs 3 s after the kill: 0.5 s of action time plus a wait of at least 2.5 s, halved down from 27 s.
    expect(candidate.steps[1]!.waitS).toBeGreaterThanOrEqual(2.5);
    expect(candidate.steps[1]!.waitS).toBeLessThan(6);
    expect(candidate.steps[0]!.waitS).toBe(1);
    expect(candidate.nodes).toBe(3);
    expect(phases.map((p) => p.phase)).toEqual(['recorded', 'drop steps', 'shorten waits', 'fewer nodes']);
    expect(tests).toBeLessThanOrEqual(200);
  });

  it('keeps 5 nodes when the steps name n4 or n5', async () => {
    const needsN5 = async (c: ShrinkCandidate): Promise<boolean> =>
      c.steps.some((s) => s.action.kind === 'fault' && s.action.target === 'n5');
    const { candidate } = await shrinkSchedule(recorded, needsN5);
    expect(candidate.nodes).toBe(5);
    expect(candidate.steps).toHaveLength(1);
  });

  it('ends the run soon after its last step when that still fails, and not sooner than the failure needs', async () => {
    // A FAKE bug that shows only when the run goes on at least 4 s after the pause (a loss the final reads see
    // only once writes went on after it).
    const needsTail = async (c: ShrinkCandidate): Promise<boolean> => {
      if (!(await fakeBug(c))) return false;
      const end = c.steps.reduce((t, x) => t + x.waitS, 0);
      return (c.timeLimitS ?? 60) - end >= 4;
    };
    const { candidate, phases } = await shrinkSchedule(recorded, needsTail, { maxTests: 200, timeLimitS: 60 });
    expect(await needsTail(candidate)).toBe(true);
    const end = candidate.steps.reduce((t, x) => t + x.waitS, 0);
    expect(candidate.timeLimitS).toBe(Math.ceil(end + 5));
    expect(phases.map((p) => p.phase)).toEqual(['recorded', 'drop steps', 'shorten waits', 'fewer nodes']);
    // A bug that needs more than the margin keeps the recorded length.
    const needsLongTail = async (c: ShrinkCandidate): Promise<boolean> =>
      (await fakeBug(c)) && (c.timeLimitS ?? 60) - c.steps.reduce((t, x) => t + x.waitS, 0) >= 20;
    expect(
      (await shrinkSchedule(recorded, needsLongTail, { maxTests: 200, timeLimitS: 60 })).candidate.timeLimitS,
    ).toBe(undefined);
  });

  it('stops when out of time, keeping the smallest failing candidate found by then, and says it was cut short', async () => {
    let calls = 0;
    const counting = async (c: ShrinkCandidate): Promise<boolean> => {
      calls++;
      return fakeBug(c);
    };
    const { candidate, cutShort, tests } = await shrinkSchedule(recorded, counting, { outOfTime: () => calls >= 3 });
    expect(cutShort).toBe(true);
    expect(tests).toBe(3);
    expect(await fakeBug(candidate)).toBe(true);
    expect(candidate.steps.length).toBeLessThanOrEqual(recorded.steps.length);
    expect((await shrinkSchedule(recorded, fakeBug, { maxTests: 200 })).cutShort).toBe(false);
  });

  it('with checkRecorded, asks its own oracle about the recorded schedule first and stops when that passes', async () => {
    let calls = 0;
    const flaky = async (): Promise<boolean> => {
      calls++;
      return Promise.resolve(false);
    };
    const result = await shrinkSchedule(recorded, fakeBug, { checkRecorded: flaky, maxTests: 200 });
    expect(result.reproducible).toBe(false);
    expect(calls).toBe(1);
    expect(result.candidate.steps).toEqual(recorded.steps);
    expect(result.phases.map((p) => p.phase)).toEqual(['recorded']);
    const checked = await shrinkSchedule(recorded, fakeBug, { checkRecorded: fakeBug, maxTests: 200 });
    expect(checked.reproducible).toBe(true);
    expect(checked.candidate).toEqual((await shrinkSchedule(recorded, fakeBug, { maxTests: 200 })).candidate);
  });

  it('never returns a candidate the oracle passed', async () => {
    const flaky = async (c: ShrinkCandidate): Promise<boolean> => c.steps.length >= 4;
    const { candidate } = await shrinkSchedule(recorded, flaky);
    expect(await flaky(candidate)).toBe(true);
    expect(candidate.steps).toHaveLength(4);
  });
});

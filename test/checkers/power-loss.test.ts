// The recovery checkers after power cuts: a loss is documented only when a node that acknowledged without fsync
// (forceSync=no, as the power-loss fault recorded it) lost power after the ack; otherwise it stays a violation.
import { describe, expect, it } from 'vitest';
import { checkConvergence } from '../../src/checkers/convergence.js';
import { unsyncedPowerCuts } from '../../src/checkers/power-loss.js';
import { checkSet } from '../../src/checkers/set.js';
import { HistoryBuilder } from '../workloads/history-builder.js';

/** A power-loss fault's completion as the fault records it: per node, its revert and its forceSync. */
function powerCut(h: HistoryBuilder, forceSync: Record<string, boolean>): void {
  const events = h.events;
  const push = (value: unknown): void => {
    events.push({
      index: events.length,
      time: events.length * 1_000_000,
      process: 'nemesis',
      type: 'info',
      f: 'start',
      value,
    });
  };
  push('power-loss-all');
  push({
    fault: 'power-loss-all',
    nodes: Object.keys(forceSync),
    powerLoss: Object.fromEntries(
      Object.entries(forceSync).map(([n, f]) => [n, { ok: true, removed: [], forceSync: f }]),
    ),
  });
}

describe('losses after power cuts', () => {
  it('reads the forceSync=no cuts from the nemesis records, and only those', () => {
    const h = new HistoryBuilder();
    powerCut(h, { n1: true, n2: true });
    powerCut(h, { n1: false, n2: true });
    h.heal();
    expect(unsyncedPowerCuts(h.events)).toEqual([{ index: 3, time: 3_000_000, nodes: ['n1'] }]);
  });

  it('an add acknowledged before a forceSync=no cut and lost is documented; one acknowledged after it is not', () => {
    const h = new HistoryBuilder();
    h.op(0, 'add', 0, 'ok', 0);
    powerCut(h, { n1: false, n2: false, n3: false });
    h.op(0, 'add', 1, 'ok', 1);
    h.heal();
    for (const n of ['n1', 'n2', 'n3']) h.finalRead(n, []);
    const result = checkSet(h.events);
    expect(result.valid).toBe(false);
    const lost = result.anomalies!.filter((a) => a.type === 'lost-write');
    expect(lost.filter((a) => a.documented).map((a) => a.description)).toEqual([
      expect.stringMatching(/n1: acknowledged add of 0 .*documented: n1, n2, n3 lost power with forceSync=no/),
      expect.stringMatching(/n2: acknowledged add of 0/),
      expect.stringMatching(/n3: acknowledged add of 0/),
    ]);
    expect(lost.filter((a) => !a.documented)).toHaveLength(3);
    expect(result.counts).toMatchObject({ lost: 2 });
  });

  it('with only documented losses the set is valid; with forceSync=yes the same loss is invalid', () => {
    const build = (forceSync: boolean) => {
      const h = new HistoryBuilder();
      h.op(0, 'add', 0, 'ok', 0);
      powerCut(h, { n1: forceSync, n2: forceSync, n3: forceSync });
      h.heal();
      for (const n of ['n1', 'n2', 'n3']) h.finalRead(n, []);
      return checkSet(h.events);
    };
    expect(build(false)).toMatchObject({ valid: true, counts: { lost: 1 } });
    expect(build(true)).toMatchObject({ valid: false, counts: { lost: 1 } });
  });

  it('divergence after a forceSync=no cut is documented, and invalid without one', () => {
    const build = (forceSync: boolean) => {
      const h = new HistoryBuilder();
      powerCut(h, { n1: forceSync });
      h.heal();
      h.finalRead('n1', [0]);
      h.finalRead('n2', [0, 1]);
      return checkConvergence(h.events);
    };
    const documented = build(false);
    expect(documented.valid).toBe(true);
    expect(documented.anomalies).toEqual([
      expect.objectContaining({
        type: 'divergent-data',
        documented: true,
        description: expect.stringMatching(/forceSync=no/),
      }),
    ]);
    expect(build(true).valid).toBe(false);
  });
});

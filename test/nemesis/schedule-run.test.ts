// Schedules at run time, on fake faults and a fake ensemble: what they request, in which order, and what the
// history records. (The Docker tests show the faults themselves.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeFault, fakeNemesisContext } from '../../src/fakes/memory.js';
import { HistoryWriter } from '../../src/history.js';
import type { NemesisContext } from '../../src/nemesis.js';
import { parseScenario, randomSchedule, scenarioSchedule, type NemesisSchedule } from '../../src/schedule.js';

async function runFor(schedule: NemesisSchedule, context: NemesisContext, ms: number): Promise<HistoryWriter> {
  const history = new HistoryWriter(join(mkdtempSync(join(tmpdir(), 'faultline-sched-')), 'history.jsonl'));
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  await schedule.run({ context, history, stop: stop.signal, onFault: () => {}, onOutcome: () => {} });
  clearTimeout(timer);
  await history.close();
  return history;
}

describe('random schedule at run time', () => {
  it('requests the same faults in the same order for the same seed', async () => {
    const sequences: string[][] = [];
    for (const _ of [1, 2]) {
      const requests: string[] = [];
      const faults = ['a', 'b', 'c'].map((n) => fakeFault(n, `family-${n}`, requests));
      const history = await runFor(randomSchedule(faults, 99, 0.01), fakeNemesisContext({ epoch: 1 }), 400);
      expect(history.events.filter((e) => e.f === 'start' && typeof e.value === 'object').length).toBeGreaterThan(5);
      sequences.push(
        history.events
          .filter((e) => e.f === 'start' && typeof e.value === 'string')
          .map((e) => String(e.value))
          .slice(0, 6),
      );
    }
    expect(sequences[0]).toHaveLength(6);
    expect(sequences[1]).toEqual(sequences[0]);
  });
});

describe('scenario at run time', () => {
  it('runs steps in order: for-heals, aliases as targets, wait-for a new epoch, family heals', async () => {
    const requests: string[] = [];
    const faults = [
      fakeFault('pause-follower', 'process', requests),
      fakeFault('kill-leader', 'process', requests),
      fakeFault('kill-follower', 'process', requests),
      fakeFault('partition-leader', 'partition', requests),
    ];
    const scenario = parseScenario(
      [
        'steps:',
        '  - fault: pause-follower',
        '    as: lagger',
        '    for: 0.05',
        '  - fault: kill-leader',
        '  - wait-for: new-epoch',
        '    node: lagger',
        '    timeout: 5',
        '  - fault: kill-follower',
        '    target: lagger',
        '  - heal: all',
      ].join('\n'),
      'sc.yaml',
      { faults, roles: ['leader', 'follower'], families: ['partition', 'process'] },
    );
    const state = { epoch: 1 };
    // The new epoch shows up a little after the leader is killed.
    setTimeout(() => {
      state.epoch = 2;
    }, 150);
    const history = await runFor(scenarioSchedule(scenario), fakeNemesisContext(state), 3000);
    expect(requests).toEqual([
      'pause-follower',
      'heal process',
      'kill-leader',
      'kill-follower@n2',
      'heal partition',
      'heal process',
    ]);
    const waited = history.events.find((e) => e.f === 'wait-for' && typeof e.value === 'object')!;
    expect(waited.value).toMatchObject({
      condition: 'new-epoch',
      watching: ['n2'],
      node: 'n2',
      epoch: 2,
      previousEpoch: 1,
    });
    const heals = history.events.filter((e) => e.f === 'heal' && typeof e.value === 'string').map((e) => e.value);
    // A heal is recorded under its family's name, whichever fault it ends.
    expect(heals).toEqual(['process', 'partition', 'process']);
  });
});

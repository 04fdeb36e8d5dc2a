// Schedules: determinism of the seeded random schedule, scenario YAML validation with line numbers.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadScenario, parseScenario, planRandomSchedule, type PlannedFault } from '../../src/schedule.js';
import { FAULT_CATALOGUE } from '../../nemesis/index.js';
import { describePlan } from '../../nemesis/describe.js';

function first(n: number, plan: Generator<PlannedFault>): PlannedFault[] {
  const out: PlannedFault[] = [];
  for (const step of plan) {
    out.push(step);
    if (out.length === n) break;
  }
  return out;
}

const faults = ['partition-leader', 'kill-leader', 'pause-follower', 'packet-loss'];

describe('random schedule', () => {
  it('gives the same fault requests for the same seed, different ones for another', () => {
    const a = first(40, planRandomSchedule(faults, 42, 10));
    expect(first(40, planRandomSchedule(faults, 42, 10))).toEqual(a);
    expect(first(40, planRandomSchedule(faults, 43, 10))).not.toEqual(a);
  });

  it('holds every fault once per round, with waits of 0.5-1.5 intervals', () => {
    const plan = first(40, planRandomSchedule(faults, 7, 10));
    for (let round = 0; round < 10; round++) {
      expect(
        plan
          .slice(round * 4, round * 4 + 4)
          .map((p) => p.fault)
          .sort(),
      ).toEqual([...faults].sort());
    }
    for (const p of plan) {
      expect(p.waitS).toBeGreaterThanOrEqual(5);
      expect(p.waitS).toBeLessThan(15);
    }
  });
});

describe('faultline nemesis plan', () => {
  it('prints the same plan for the same seed, resolving families', () => {
    const plan = describePlan(['kill', 'partition-bridge'], 7, 10, 8);
    expect(plan.split('\n')).toHaveLength(8);
    expect(plan).toContain('partition-bridge');
    expect(describePlan(['kill', 'partition-bridge'], 7, 10, 8)).toBe(plan);
    expect(describePlan(['none'], 7, 10, 8)).toBe('no faults');
  });
});

const bad = (text: string): string => {
  try {
    parseScenario(text, 'sc.yaml', FAULT_CATALOGUE);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('scenario files', () => {
  it('loads every shipped scenario', () => {
    for (const file of readdirSync('nemesis/scenarios').filter((f) => f.endsWith('.yaml')))
      expect(loadScenario(join('nemesis/scenarios', file), FAULT_CATALOGUE).steps.length).toBeGreaterThan(0);
    // The shipped findings, step kinds as shrink left them.
    const findings: [string, string[]][] = [
      ['paused-leader-skips-txns', ['fault', 'fault', 'heal', 'fault']],
      ['rejoined-follower-leads', ['fault', 'fault', 'fault', 'start']],
    ];
    for (const [name, kinds] of findings) {
      const found = loadScenario(`nemesis/scenarios/${name}.yaml`, FAULT_CATALOGUE);
      expect(found.steps.filter((s) => s.kind !== 'wait').map((s) => s.kind)).toEqual(kinds);
    }
  });

  it('loads the shipped example', () => {
    const scenario = loadScenario('nemesis/scenarios/lagging-follower.yaml', FAULT_CATALOGUE);
    expect(scenario.name).toBe('lagging-follower');
    expect(scenario.steps.map((s) => s.kind)).toEqual([
      'wait',
      'fault',
      'fault',
      'wait',
      'fault',
      'heal',
      'wait-for',
      'fault',
      'wait',
      'heal',
    ]);
    expect(scenario.steps[1]).toMatchObject({ kind: 'fault', forS: 10, as: 'lagger' });
    expect(scenario.steps[6]).toMatchObject({ kind: 'wait-for', condition: 'new-epoch', node: 'lagger', timeoutS: 30 });
  });

  it('reads per-node heals and start steps, with as: names as targets', () => {
    const scenario = parseScenario(
      [
        'steps:',
        '  - fault: kill-follower',
        '    as: lagger',
        '  - start: lagger',
        '  - heal: partition',
        '    target: n1+n2',
        '  - heal: all',
        '    target: n3',
      ].join('\n'),
      'sc.yaml',
      FAULT_CATALOGUE,
    );
    expect(scenario.steps[1]).toMatchObject({ kind: 'start', target: 'lagger' });
    expect(scenario.steps[2]).toMatchObject({ kind: 'heal', what: 'partition', target: 'n1+n2' });
    const all = scenario.steps[3] as Extract<(typeof scenario.steps)[number], { kind: 'heal' }>;
    // heal: all with a target heals every family that heals per node: membership does not.
    expect(all.faults.map((f) => f.family)).toEqual(['partition', 'packet', 'clock', 'disk', 'process']);
  });

  it('names the line and field of each problem', () => {
    expect(bad('steps:\n  - wait: 2\n  - fault: kil-leader\n')).toBe(
      'bad scenario sc.yaml:3 (steps[1].fault): unknown fault "kil-leader"',
    );
    expect(bad('steps:\n  - fault: kill-leader\n    fro: 3\n')).toMatch(
      /^bad scenario sc\.yaml:3 \(steps\[0\]\.fro\): unknown field "fro"/,
    );
    expect(bad('steps:\n  - wait: -1\n')).toMatch(/^bad scenario sc\.yaml:2 \(steps\[0\]\.wait\): must be above 0/);
    expect(bad('steps:\n  - wait-for: sunrise\n')).toMatch(
      /sc\.yaml:2 \(steps\[0\]\.wait-for\): must be one of leader, quorum, all-serving, new-epoch/,
    );
    expect(bad('steps:\n  - fault: kill-follower\n    target: lagger\n')).toMatch(
      /sc\.yaml:3 \(steps\[0\]\.target\): unknown target "lagger"/,
    );
    expect(bad('steps:\n  - fault: partition-halves\n    target: n1\n')).toMatch(
      /sc\.yaml:3 \(steps\[0\]\.target\): partition-halves takes no target/,
    );
    expect(bad('steps:\n  - heal: everything\n')).toMatch(/unknown family "everything"/);
    expect(bad('steps:\n  - heal: process\n    target: lagger\n')).toMatch(
      /sc\.yaml:3 \(steps\[0\]\.target\): unknown target "lagger"/,
    );
    expect(bad('steps:\n  - heal: membership\n    target: n2\n')).toMatch(
      /sc\.yaml:3 \(steps\[0\]\.target\): membership has no per-node heal/,
    );
    expect(bad('steps:\n  - wait: 1\n  - start: somewhere\n')).toMatch(
      /sc\.yaml:3 \(steps\[1\]\.start\): unknown target "somewhere"/,
    );
    expect(bad('steps:\n  - wait: 1\n    heal: all\n')).toMatch(/a step does one thing, not wait and heal/);
    expect(bad('name: x\n')).toMatch(/^bad scenario sc\.yaml:1 \(steps\)/);
    expect(bad('steps: [\n')).toMatch(/^bad scenario sc\.yaml:\d+: not valid YAML/);
    expect(() => loadScenario('/nonexistent.yaml', FAULT_CATALOGUE)).toThrow(/cannot read scenario/);
  });
});

// Recorded nemesis actions read back from history events (the composed schedule's fields and today's
// fault-specific ones), turned into scenario steps, and written as YAML that src/schedule.ts parses back to the
// same steps.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FAULT_CATALOGUE } from '../../nemesis/index.js';
import { readNemesisActions, workloadStartMs } from '../../src/explore/actions.js';
import {
  needsPerNodeSteps,
  nodesNamed,
  renderScenarioYaml,
  stepsFromActions,
  withNotesOf,
  type TimedStep,
} from '../../src/explore/scenario.js';
import type { HistoryEvent } from '../../src/history.js';
import { parseScenario } from '../../src/schedule.js';

let index = 0;
const ev = (ms: number, e: Partial<HistoryEvent>): HistoryEvent => ({
  index: index++,
  time: ms * 1e6,
  process: 'nemesis',
  type: 'info',
  f: 'start',
  value: null,
  ...e,
});

const roles = { n1: 'leader', n2: 'follower', n3: 'follower' };
const history: HistoryEvent[] = [
  // The harness's own heal before the run: outside the main phase.
  ev(100, { f: 'heal', value: 'partition' }),
  ev(150, { f: 'heal', value: { fault: 'partition', healed: [] } }),
  ev(1000, { process: 0, type: 'invoke', f: 'write', value: 1 }),
  // Today's records: fault-specific fields.
  ev(6000, { value: 'kill-leader' }),
  ev(6400, { value: { fault: 'kill-leader', target: 'leader', nodes: ['n1'], roles, signal: 'KILL', killed: ['n1'] } }),
  ev(16400, { f: 'heal', value: 'process' }),
  ev(17000, { f: 'heal', value: { fault: 'process', resumed: [], started: ['n1'] } }),
  // A failed action did nothing: left out.
  ev(20000, { value: 'pause-follower' }),
  ev(20100, { value: { fault: 'pause-follower' }, error: 'no follower' }),
  // An older record with no `nodes`, only `paused`.
  ev(22000, { value: 'pause-one' }),
  ev(22200, { value: { fault: 'pause-one', paused: ['n3'] } }),
  // The composed schedule's record: params, and a per-node heal.
  ev(25000, { value: 'packet-loss' }),
  ev(25300, { value: { fault: 'packet-loss', nodes: ['n2'], params: { percent: 30 }, roles } }),
  ev(27000, { f: 'heal', value: 'packet' }),
  ev(27100, { f: 'heal', value: { fault: 'packet', nodes: ['n2'], scope: 'node', roles } }),
  ev(30000, { value: 'partition-halves' }),
  ev(30200, { value: { fault: 'partition-halves', groups: [['n1'], ['n2', 'n3']] } }),
  // Today's random schedule heals under the fault's own name: read as its family.
  ev(40000, { f: 'heal', value: 'partition-halves' }),
  ev(40100, { f: 'heal', value: { fault: 'partition-halves', healed: [] } }),
  // After the main phase (1 s + 60 s): the final heal, not part of the schedule.
  ev(62000, { f: 'heal', value: 'process' }),
  ev(62500, { f: 'heal', value: { fault: 'process', started: [] } }),
];

const takesTarget = (fault: string): boolean =>
  FAULT_CATALOGUE.faults.find((f) => f.name === fault)?.defaultTarget !== undefined;
const familyOf = (name: string): string => FAULT_CATALOGUE.faults.find((f) => f.name === name)?.family ?? name;

describe('recorded nemesis actions', () => {
  it('reads completions with their nodes (from `nodes` or the older fields), leaving failed ones out', () => {
    const actions = readNemesisActions(history);
    expect(actions.map((a) => `${a.f} ${a.fault} ${a.nodes.join('+')}`)).toEqual([
      'heal partition ',
      'start kill-leader n1',
      'heal process ',
      'start pause-one n3',
      'start packet-loss n2',
      'heal packet n2',
      'start partition-halves ',
      'heal partition-halves ',
      'heal process ',
    ]);
    expect(actions[1]).toMatchObject({ invokedMs: 6000, completedMs: 6400, roles, target: 'leader' });
    expect(actions[4]!.params).toEqual({ percent: 30 });
    expect(actions[5]!.scope).toBe('node');
    expect(workloadStartMs(history)).toBe(1000);
  });

  it('turns the main phase into timed steps: node names and timings as recorded', () => {
    const steps = stepsFromActions(readNemesisActions(history), {
      startMs: 1000,
      endMs: 61_000,
      takesTarget,
      familyOf,
    });
    expect(steps.map((s) => [s.waitS, s.action])).toEqual([
      [5, { kind: 'fault', fault: 'kill-leader', target: 'n1' }],
      [10, { kind: 'heal', family: 'process' }],
      [5, { kind: 'fault', fault: 'pause-one', target: 'n3' }],
      [2.8, { kind: 'fault', fault: 'packet-loss', target: 'n2', params: { percent: 30 } }],
      [1.7, { kind: 'heal', family: 'packet', target: 'n2' }],
      [2.9, { kind: 'fault', fault: 'partition-halves' }],
      [9.8, { kind: 'heal', family: 'partition' }],
    ]);
    expect(steps[0]!.note).toBe('kill-leader on n1; roles: n1 leader, n2 follower, n3 follower');
    expect(needsPerNodeSteps(steps)).toBe(true);
    expect([...nodesNamed(steps)].sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it("comments a shrunk scenario with a replay's roles when the replay did the same actions, else keeps its own", () => {
    const kill = { kind: 'fault', fault: 'kill-one', target: 'n2' } as const;
    const heal = { kind: 'heal', family: 'process', target: 'n2' } as const;
    const shrunk: TimedStep[] = [
      { waitS: 8, action: kill, note: 'kill-one on n2; roles: n1 follower, n2 down, n3 leader' },
      { waitS: 3, action: heal, note: 'heal process of n2; roles: n1 leader, n2 down, n3 down' },
    ];
    const replayed: TimedStep[] = [
      { waitS: 8.1, action: kill, note: 'kill-one on n2; roles: n1 follower, n2 follower, n3 leader' },
      { waitS: 2.9, action: heal, note: 'heal process of n2; roles: n1 follower, n2 down, n3 leader' },
    ];
    const shown = withNotesOf(shrunk, replayed);
    expect(shown.map((s) => s.note)).toEqual(replayed.map((s) => s.note));
    // Waits and actions stay the shrunk scenario's own.
    expect(shown.map((s) => s.waitS)).toEqual([8, 3]);
    // A replay that did something else (a step failed, another node) lends no notes.
    expect(withNotesOf(shrunk, replayed.slice(0, 1))).toEqual(shrunk);
    const other = [{ ...replayed[0]!, action: { ...kill, target: 'n3' } }, replayed[1]!];
    expect(withNotesOf(shrunk, other)).toEqual(shrunk);
  });

  it('writes YAML that parseScenario reads back to the same steps, each step commented', () => {
    const steps = stepsFromActions(readNemesisActions(history), {
      startMs: 1000,
      endMs: 61_000,
      takesTarget,
      familyOf,
    });
    // Per-node heals and starts included: the scenario language takes `heal:` with `target:` and `start:`.
    const today = steps;
    expect(needsPerNodeSteps(today)).toBe(true);
    const yaml = renderScenarioYaml(today, { name: 'replay', description: 'test', header: ['from a test'] });
    expect(yaml).toContain('# kill-leader on n1; roles: n1 leader, n2 follower, n3 follower');
    expect(yaml.startsWith('# from a test')).toBe(true);
    const scenario = parseScenario(yaml, 'replay.yaml', FAULT_CATALOGUE);
    const back: TimedStep[] = [];
    let wait = 0;
    for (const s of scenario.steps) {
      if (s.kind === 'wait') wait += s.seconds;
      else if (s.kind === 'fault') {
        back.push({
          waitS: wait,
          action: {
            kind: 'fault',
            fault: s.fault.name,
            ...(s.target ? { target: s.target } : {}),
            ...(s.params ? { params: s.params } : {}),
          },
        });
        wait = 0;
      } else if (s.kind === 'heal') {
        back.push({ waitS: wait, action: { kind: 'heal', family: s.what, ...(s.target ? { target: s.target } : {}) } });
        wait = 0;
      } else if (s.kind === 'start') {
        back.push({ waitS: wait, action: { kind: 'start', node: s.target } });
        wait = 0;
      }
    }
    expect(back).toEqual(today.map(({ waitS, action }) => ({ waitS, action })));
  });

  it('writes per-node heals and starts as `heal: FAMILY` + `target:` and `start: NODE` steps', () => {
    const steps: TimedStep[] = [
      { waitS: 2, action: { kind: 'fault', fault: 'kill-one', target: 'n2' } },
      { waitS: 3, action: { kind: 'start', node: 'n2' } },
      { waitS: 0, action: { kind: 'heal', family: 'partition', target: 'n3' } },
    ];
    expect(parse(renderScenarioYaml(steps, { name: 'x', description: 'y' })).steps).toEqual([
      { wait: 2 },
      { fault: 'kill-one', target: 'n2' },
      { wait: 3 },
      { start: 'n2' },
      { heal: 'partition', target: 'n3' },
    ]);
  });

  it('reads a per-node process heal that started its node as a start step', () => {
    const steps = stepsFromActions(
      [
        {
          f: 'heal',
          fault: 'process',
          invokedMs: 2000,
          completedMs: 2500,
          nodes: ['n2'],
          roles: {},
          scope: 'node',
          started: ['n2'],
        },
      ],
      { startMs: 0, endMs: 10_000, takesTarget },
    );
    expect(steps.map((s) => s.action)).toEqual([{ kind: 'start', node: 'n2' }]);
  });
});

// The composed schedule without Docker: its pure plan (determinism, the minority rule, spells, the final heal, every
// family and target reachable), the fault tracker and target choice, and the schedule at run time on fake faults,
// whose history must follow the nemesis record contract (readNemesisActions reads it back).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseNode,
  COMPOSED_TARGETS,
  composedSchedule,
  majorityOf,
  minorityOf,
  planComposedSchedule,
  type ComposedOptions,
  type ComposedStep,
} from '../../src/composed.js';
import { NoTargetError } from '../../src/errors.js';
import { FaultTracker } from '../../src/fault-state.js';
import { HistoryWriter } from '../../src/history.js';
import { fakeFault, fakeNemesisContext, MemoryCluster } from '../../src/fakes/memory.js';
import type { Fault } from '../../src/nemesis.js';
import { faultOverlap, readNemesisActions } from '../../src/nemesis-actions.js';
import { Random } from '../../src/random.js';
import { composedFamilies, FAULTS } from '../../nemesis/index.js';
import { COMPOSED_FAMILY_NAMES, resolveRunConfig, RUN_SETTINGS } from '../../src/config.js';

const DEFAULT_FAMILIES = RUN_SETTINGS.composedFamilies.default;

function options(over: Partial<ComposedOptions> = {}): ComposedOptions {
  return {
    seed: 1,
    nodeCount: 3,
    families: composedFamilies(DEFAULT_FAMILIES),
    durationS: 600,
    maxFaulty: 1,
    majoritySpellS: 10,
    holdS: [5, 20],
    quietS: [5, 15],
    gapS: [1, 5],
    ...over,
  };
}

const plan = (o: ComposedOptions): ComposedStep[] => [...planComposedSchedule(o)];

/** Replays a plan's own model: the faulty count (same-node faults add none) after each step, and spell windows. */
function widths(steps: readonly ComposedStep[]): { atS: number; width: number }[] {
  const open = new Map<number, number>();
  const out: { atS: number; width: number }[] = [];
  for (const s of steps) {
    if (s.kind === 'start' && s.holdS !== undefined) open.set(s.id, s.target === 'same' ? 0 : 1);
    if (s.kind === 'heal') open.delete(s.id);
    out.push({ atS: s.atS, width: [...open.values()].reduce((a, b) => a + b, 0) });
  }
  return out;
}

describe('composed plan', () => {
  it('is a pure function of its options: the same seed gives the same requests, another seed others', () => {
    expect(plan(options({ seed: 42 }))).toEqual(plan(options({ seed: 42 })));
    expect(plan(options({ seed: 42 }))).not.toEqual(plan(options({ seed: 43 })));
    // The node count and the families are part of the function too.
    expect(plan(options({ seed: 42, nodeCount: 5, maxFaulty: 2 }))).not.toEqual(plan(options({ seed: 42 })));
  });

  it('keeps at most maxFaulty nodes faulty without spells, and never more than a majority with them', () => {
    for (let seed = 0; seed < 30; seed++) {
      for (const nodeCount of [3, 5]) {
        const none = plan(options({ seed, nodeCount, maxFaulty: minorityOf(nodeCount), majoritySpellS: 0 }));
        expect(Math.max(...widths(none).map((w) => w.width))).toBeLessThanOrEqual(minorityOf(nodeCount));
        const spells = plan(options({ seed, nodeCount, maxFaulty: minorityOf(nodeCount), majoritySpellS: 10 }));
        expect(Math.max(...widths(spells).map((w) => w.width))).toBeLessThanOrEqual(majorityOf(nodeCount));
      }
    }
  });

  it('bounds majority spells: above maxFaulty only within a spell length of a spell start (plus one gap)', () => {
    let sawSpell = false;
    for (let seed = 0; seed < 40; seed++) {
      const steps = plan(options({ seed, majoritySpellS: 8 }));
      const spellStarts = steps.filter((s) => s.kind === 'start' && s.spell).map((s) => s.atS);
      sawSpell ||= spellStarts.length > 0;
      for (let i = 1; i < spellStarts.length; i++)
        expect(spellStarts[i]! - spellStarts[i - 1]!).toBeGreaterThanOrEqual(3 * 8);
      for (const w of widths(steps)) {
        if (w.width <= 1) continue;
        const spell = spellStarts.filter((t) => t <= w.atS).pop();
        expect(spell).toBeDefined();
        // Back within maxFaulty at the first step after the spell (gaps are at most 5 s).
        expect(w.atS - spell!).toBeLessThanOrEqual(8 + 5);
      }
    }
    expect(sawSpell).toBe(true);
  });

  it('without early heals ends every fault at its hold (or a spell end, or the end), never sooner', () => {
    let early = 0;
    for (let seed = 0; seed < 30; seed++) {
      early += plan(options({ seed })).filter((s) => s.kind === 'heal' && s.why === 'early').length;
      const steps = plan(options({ seed, earlyHeals: false, gapS: [0.5, 2], holdS: [3, 10] }));
      expect(steps.filter((s) => s.kind === 'heal' && s.why === 'early')).toEqual([]);
      for (const heal of steps.filter((s) => s.kind === 'heal' && s.why === 'hold')) {
        const start = steps.find((s) => s.kind === 'start' && s.id === heal.id) as Extract<
          ComposedStep,
          { kind: 'start' }
        >;
        expect(heal.atS - start.atS).toBeGreaterThanOrEqual(start.holdS! - 0.001);
      }
    }
    // The default does heal early (so the rule is what removes them).
    expect(early).toBeGreaterThan(0);
  });

  it('always ends with every lasting fault healed, at or after the end of the phase', () => {
    for (let seed = 0; seed < 30; seed++) {
      const steps = plan(options({ seed, durationS: 45 }));
      expect(widths(steps).pop()?.width ?? 0).toBe(0);
      const lasting = steps.filter((s) => s.kind === 'start' && s.holdS !== undefined).map((s) => s.id);
      const healed = steps.filter((s) => s.kind === 'heal').map((s) => s.id);
      expect([...healed].sort((a, b) => a - b)).toEqual([...lasting].sort((a, b) => a - b));
      for (const s of steps.filter((s) => s.kind === 'heal' && s.why === 'final'))
        expect(s.atS).toBeGreaterThanOrEqual(45);
      // Requests are in time order.
      for (let i = 1; i < steps.length; i++) expect(steps[i]!.atS).toBeGreaterThanOrEqual(steps[i - 1]!.atS);
    }
  });

  it('reaches every family, every fault of it and every target kind', () => {
    const families = composedFamilies(COMPOSED_FAMILY_NAMES);
    const steps = plan(options({ families, durationS: 20_000, seed: 5 }));
    const starts = steps.filter((s) => s.kind === 'start');
    for (const family of families) {
      expect(starts.some((s) => s.family === family.name)).toBe(true);
      for (const fault of family.faults) expect(starts.some((s) => s.fault === fault)).toBe(true);
    }
    for (const target of COMPOSED_TARGETS) expect(starts.some((s) => s.target === target)).toBe(true);
    // Faults that take no node are started at their own default.
    expect(starts.filter((s) => s.family === 'membership').every((s) => s.target === 'default')).toBe(true);
  });

  it('draws only from the enabled families: the defaults leave disk, power loss, clock and membership out', () => {
    const starts = plan(options({ durationS: 5000 })).filter((s) => s.kind === 'start');
    const used = new Set(starts.map((s) => s.family));
    expect([...used].sort()).toEqual([...DEFAULT_FAMILIES].sort());
    for (const s of starts) expect(FAULTS[s.fault]).toBeDefined();
  });

  it('takes its rules from the settings table (flags and YAML spell ranges as 5-20)', () => {
    const config = resolveRunConfig({ nemesis: ['composed'], composedHoldS: '2-3' as never, composedMaxFaulty: 2 });
    expect(config.composedHoldS).toEqual([2, 3]);
    expect(config.composedMaxFaulty).toBe(2);
    expect(() => resolveRunConfig({ composedGapS: '0-1' as never })).toThrow(/range of seconds/);
    expect(() => resolveRunConfig({ composedFamilies: ['kill', 'lightning'] as never })).toThrow(/families among/);
  });
});

const { nodes } = new MemoryCluster(3);

describe('fault tracker and target choice', () => {
  it('ends a family on one node only, and remembers who came back last', () => {
    const t = new FaultTracker();
    t.add(1, 'kill-one', 'process', ['n2'], 1);
    t.add(2, 'partition-one', 'partition', ['n2'], 2);
    t.add(3, 'pause-one', 'process', ['n3'], 3);
    expect(t.faultyNodes()).toEqual(['n2', 'n3']);
    expect(t.maxActive).toBe(3);
    t.healNode('process', 'n2', 4);
    expect(t.get(1)).toBeUndefined();
    expect(t.get(3)).toBeDefined();
    expect(t.lastRejoined()).toBeUndefined(); // n2 is still cut off
    t.healNode('partition', 'n2', 5);
    expect(t.lastRejoined()).toBe('n2');
    t.healFamily('process', 6);
    expect(t.all()).toEqual([]);
    expect(t.lastRejoined()).toBe('n3');
  });

  it('resolves role targets from the roles given and avoids nodes already faulty', () => {
    const roles = { n1: 'follower', n2: 'leader', n3: 'follower' };
    const t = new FaultTracker();
    const random = new Random(1);
    expect(chooseNode('leader', nodes, roles, t, 'process', random)).toBe('n2');
    expect(chooseNode('highest', nodes, roles, t, 'process', random)).toBe('n3');
    t.add(1, 'partition-one', 'partition', ['n3']);
    expect(chooseNode('highest', nodes, roles, t, 'process', random)).toBe('n2');
    expect(chooseNode('follower', nodes, roles, t, 'process', random)).toBe('n1');
    expect(chooseNode('same', nodes, roles, t, 'process', random)).toBe('n3');
    expect(() => chooseNode('same', nodes, roles, t, 'partition', random)).toThrow(NoTargetError);
    expect(() => chooseNode('stale', nodes, roles, t, 'process', random)).toThrow(NoTargetError);
    expect(() =>
      chooseNode('leader', nodes, { n1: 'down', n2: 'looking', n3: 'follower' }, t, 'process', random),
    ).toThrow(NoTargetError);
  });
});

describe('composed schedule at run time (fake faults)', () => {
  it('starts, heals node by node and leaves nothing in force; its history follows the record contract', async () => {
    const log: string[] = [];
    const faults = new Map<string, Fault>([
      ['kill-one', fakeFault('kill-one', 'process', log, { healsNodes: true })],
      ['partition-one', fakeFault('partition-one', 'partition', log, { healsNodes: true })],
    ]);
    const schedule = composedSchedule({
      ...options({
        seed: 9,
        durationS: 1.5,
        maxFaulty: 2,
        holdS: [0.05, 0.2],
        quietS: [0.01, 0.02],
        gapS: [0.01, 0.05],
        families: [
          { name: 'kill', faults: ['kill-one'], lasting: true, healedBy: 'node', targets: ['leader', 'one', 'same'] },
          {
            name: 'partition',
            faults: ['partition-one'],
            lasting: true,
            healedBy: 'node',
            targets: ['one', 'highest'],
          },
        ],
      }),
      faults,
    });
    const history = new HistoryWriter(join(mkdtempSync(join(tmpdir(), 'faultline-composed-')), 'history.jsonl'));
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 1500);
    await schedule.run({
      context: fakeNemesisContext(),
      history,
      stop: stop.signal,
      onFault: () => {},
      onOutcome: () => {},
    });
    clearTimeout(timer);
    await history.close();
    const actions = readNemesisActions(history.events);
    const starts = actions.filter((a) => a.kind === 'start');
    expect(starts.length).toBeGreaterThan(2);
    for (const a of starts) {
      expect(a.nodes).toHaveLength(1);
      expect(['leader', 'one', 'same', 'highest']).toContain(a.target);
      expect(a.roles).toEqual({ n1: 'leader', n2: 'follower', n3: 'follower' });
      if (a.target === 'leader') expect(a.nodes).toEqual(['n1']);
    }
    const heals = actions.filter((a) => a.kind === 'heal');
    for (const h of heals) {
      expect(h.scope).toBe('node');
      expect(['process', 'partition']).toContain(h.fault);
      expect(h.nodes).toHaveLength(1);
    }
    // Every start was healed on its node by its family: nothing is left in force.
    const overlap = faultOverlap(actions, (f) => faults.get(f)!.family);
    expect(overlap.maxActive).toBeGreaterThanOrEqual(1);
    const open = new Map<string, number>();
    for (const a of actions) {
      const key = (fam: string) => `${fam}@${a.nodes[0]}`;
      if (a.kind === 'start') open.set(key(faults.get(a.fault)!.family), 1);
      else open.delete(key(a.fault));
    }
    expect([...open.keys()]).toEqual([]);
    expect(log.some((l) => l.startsWith('heal ') && l.includes('@'))).toBe(true);
  });
});

describe('readNemesisActions', () => {
  it('reads starts and heals with their request, nodes, roles and scope, in order', () => {
    const ev = (index: number, f: string, value: unknown, error?: string) => ({
      index,
      time: index * 1e6,
      process: 'nemesis' as const,
      type: 'info' as const,
      f,
      value,
      ...(error ? { error } : {}),
    });
    const roles = { n1: 'leader', n2: 'follower', n3: 'down' };
    const events = [
      ev(0, 'heal', 'partition'),
      ev(1, 'heal', { fault: 'partition', nodes: [], roles, scope: 'family', origin: 'harness' }),
      ev(2, 'start', 'kill-one'),
      ev(3, 'start', { fault: 'kill-one', nodes: ['n2'], roles, target: 'follower', params: { powerLoss: true } }),
      ev(4, 'start', 'pause-one'),
      ev(5, 'start', { fault: 'pause-one', nodes: ['n3'], roles, target: 'n3' }),
      ev(6, 'heal', 'process'),
      ev(7, 'heal', { fault: 'process', nodes: ['n2'], roles, scope: 'node', target: 'n2' }),
      ev(8, 'start', 'kill-leader'),
      ev(9, 'start', { fault: 'kill-leader', nodes: [], roles }, 'no leader'),
    ];
    const actions = readNemesisActions(events);
    expect(actions.map((a) => [a.kind, a.fault, a.nodes, a.scope, a.harness])).toEqual([
      ['heal', 'partition', [], 'family', true],
      ['start', 'kill-one', ['n2'], undefined, false],
      ['start', 'pause-one', ['n3'], undefined, false],
      ['heal', 'process', ['n2'], 'node', false],
      ['start', 'kill-leader', [], undefined, false],
    ]);
    expect(actions[1]).toMatchObject({ timeMs: 2, doneMs: 3, target: 'follower', params: { powerLoss: true }, roles });
    expect(actions[4]!.error).toBe('no leader');
    const overlap = faultOverlap(actions, (f) => (f.startsWith('kill') || f.startsWith('pause') ? 'process' : f));
    expect(overlap).toMatchObject({ maxActive: 2, maxFaultyNodes: 2 });
  });
});

describe('report bands of per-node heals', () => {
  it('ends a band when its family is healed on its last node, and leaves the other families open', async () => {
    const { buildFaultBands } = await import('../../src/report/data.js');
    const ev = (index: number, f: string, value: unknown) => ({
      index,
      time: index * 1e9,
      process: 'nemesis' as const,
      type: 'info' as const,
      f,
      value,
    });
    const bands = buildFaultBands(
      [
        ev(1, 'start', 'kill-one'),
        ev(2, 'start', { fault: 'kill-one', family: 'process', nodes: ['n2', 'n3'], roles: {} }),
        ev(3, 'start', 'partition-one'),
        ev(4, 'start', { fault: 'partition-one', family: 'partition', nodes: ['n1'], roles: {} }),
        ev(5, 'heal', 'process'),
        ev(6, 'heal', { fault: 'process', nodes: ['n2'], scope: 'node', roles: {} }),
        ev(7, 'heal', 'process'),
        ev(8, 'heal', { fault: 'process', nodes: ['n3'], scope: 'node', roles: {} }),
      ],
      10_000,
    );
    expect(bands.map((b) => [b.name, b.start, b.end])).toEqual([
      ['kill-one', 1000, 8000],
      ['partition-one', 3000, 10_000],
    ]);
  });
});

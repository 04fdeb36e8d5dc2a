// Explore's feedback without servers: protocol events and features read from hand-made server logs, schedule
// mutations, and the guide's corpus and fresh/mutant accounting with a FAKE observer.
import { describe, expect, it } from 'vitest';
import { coverageFeatures, protocolEvents } from '../../src/explore/coverage.js';
import { runExplore } from '../../src/explore/explore.js';
import { CoverageGuide, parseFeedbackShare, type TrialObservation } from '../../src/explore/guide.js';
import { MUTATIONS, mutateOnce, mutateSchedule } from '../../src/explore/mutate.js';
import type { TimedStep } from '../../src/explore/scenario.js';
import { COMPOSED_MIX, uniform, type ExploreSpace, type TrialPlan } from '../../src/explore/trials.js';
import { UsageError } from '../../src/errors.js';
import { Random } from '../../src/random.js';
import { exploreRecordSchema, type TrialRecord } from '../../src/store/explore.js';

const line = (time: string, cls: string, msg: string): string =>
  `2026-12-02T11:${time} [QuorumPeer[myid=1]] INFO org.apache.zookeeper.server.quorum.${cls} - ${msg}`;

describe('protocol events from server logs', () => {
  const logs = {
    n1: [
      line('00:00.100', 'QuorumPeerMain', 'Starting quorum peer, myid=1'),
      line('00:02.000', 'Leader', 'LEADING - LEADER ELECTION TOOK - 600 MS'),
      '\tat some.stack.Frame(Frame.java:1)',
      line('00:20.000', 'LearnerHandler', 'Unhandled scenario for peer sid: 2 fall back to use snapshot'),
    ].join('\n'),
    n2: [
      line('00:00.200', 'QuorumPeerMain', 'Starting quorum peer, myid=2'),
      line('00:02.500', 'Learner', 'Getting a diff from the leader 0x0'),
      line('00:10.000', 'QuorumPeerMain', 'Starting quorum peer, myid=2'),
      line('00:12.000', 'Learner', 'Truncating log to get in sync with the leader 0x100000004'),
      line('00:20.100', 'Learner', 'Getting a snapshot from leader 0x100000009'),
    ].join('\n'),
  };

  it('are read in time order across nodes, stack lines and other messages skipped', () => {
    const events = protocolEvents(logs);
    expect(events.map((e) => `${e.node} ${e.kind}${'how' in e ? ` ${e.how}` : ''}`)).toEqual([
      'n1 start',
      'n2 start',
      'n1 lead',
      'n2 sync DIFF',
      'n2 start',
      'n2 sync TRUNC',
      'n1 fallback',
      'n2 sync SNAP',
    ]);
  });

  it('become features that name states, not nodes, and each pair of consecutive labels', () => {
    const features = coverageFeatures(protocolEvents(logs));
    expect([...features].sort()).toEqual(
      [
        'lead(was start)',
        'sync DIFF(learner was start, leader was start)',
        'lead(was start) > sync DIFF(learner was start, leader was start)',
        // n2 restarted after its DIFF: it syncs again as a node that came from its own disk.
        'sync TRUNC(learner was start, leader was start)',
        'sync DIFF(learner was start, leader was start) > sync TRUNC(learner was start, leader was start)',
        'fallback(leader was start)',
        'sync TRUNC(learner was start, leader was start) > fallback(leader was start)',
        'sync SNAP(learner was TRUNC, leader was start)',
        'fallback(leader was start) > sync SNAP(learner was TRUNC, leader was start)',
        'elections 1',
      ].sort(),
    );
    // The same story on other nodes is the same coverage.
    const renamed = Object.fromEntries(Object.entries(logs).map(([n, t]) => [n === 'n1' ? 'n3' : 'n1', t]));
    expect([...coverageFeatures(protocolEvents(renamed))].sort()).toEqual([...features].sort());
  });

  it('a node elected after a DIFF sync, and a learner of that leader, are features of their own', () => {
    const f = coverageFeatures([
      { wallMs: 1, node: 'n1', kind: 'lead' },
      { wallMs: 2, node: 'n3', kind: 'sync', how: 'DIFF' },
      { wallMs: 3, node: 'n3', kind: 'lead' },
      { wallMs: 4, node: 'n2', kind: 'sync', how: 'DIFF' },
    ]);
    expect(f.has('lead(was DIFF)')).toBe(true);
    expect(f.has('sync DIFF(learner was start, leader was DIFF)')).toBe(true);
    expect(f.has('elections 2')).toBe(true);
    expect(coverageFeatures([]).size).toBe(0);
  });
});

const steps: TimedStep[] = [
  { waitS: 5, action: { kind: 'fault', fault: 'kill-one', target: 'n1' }, note: 'kill n1' },
  { waitS: 4, action: { kind: 'fault', fault: 'partition-isolate', target: 'n2+n3' } },
  { waitS: 6, action: { kind: 'heal', family: 'partition', target: 'n2' } },
  { waitS: 3, action: { kind: 'start', node: 'n1' } },
];

describe('schedule mutations', () => {
  it('wait changes one wait, drop removes one step, repeat copies a run of steps', () => {
    for (let seed = 1; seed < 40; seed++) {
      const wait = mutateOnce(steps, 'wait', new Random(seed), 3)!;
      expect(wait.filter((s, i) => s.waitS !== steps[i]!.waitS).length).toBeLessThanOrEqual(1);
      expect(wait.map((s) => s.action)).toEqual(steps.map((s) => s.action));
      const drop = mutateOnce(steps, 'drop', new Random(seed), 3)!;
      expect(drop).toHaveLength(3);
      const repeat = mutateOnce(steps, 'repeat', new Random(seed), 3)!;
      expect(repeat.length).toBeGreaterThan(steps.length);
      expect(repeat.length).toBeLessThanOrEqual(steps.length + 4);
      // Notes describe what a recorded step did; a mutant's steps have not run.
      for (const s of [...wait, ...drop, ...repeat]) expect(s.note).toBeUndefined();
    }
    expect(mutateOnce(steps.slice(0, 1), 'drop', new Random(1), 3)).toBeNull();
    expect(mutateOnce([], 'wait', new Random(1), 3)).toBeNull();
  });

  it('swap exchanges two node names in every step from one on, joined targets too', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed < 60; seed++) {
      const out = mutateOnce(steps, 'swap', new Random(seed), 3)!;
      const changed = out.findIndex((s, i) => JSON.stringify(s.action) !== JSON.stringify(steps[i]!.action));
      if (changed < 0) continue;
      // Every step before the first change is as it was; the names used are still the ensemble's.
      for (const s of out) expect(JSON.stringify(s.action)).not.toMatch(/n[04-9]/);
      seen.add(JSON.stringify(out[3]!.action));
    }
    expect(seen.size).toBeGreaterThan(1);
    const swapped = mutateOnce([steps[1]!], 'swap', new Random(3), 3)!;
    expect((swapped[0]!.action as { target: string }).target.split('+').sort()).not.toEqual(['n2', 'n3']);
  });

  it('mutateSchedule applies one to three, and never makes the waits outlast the run', () => {
    const names = new Set<string>();
    for (let seed = 1; seed < 200; seed++) {
      const m = mutateSchedule(steps, new Random(seed), 3, 30)!;
      expect(m.mutations.length).toBeGreaterThanOrEqual(1);
      expect(m.mutations.length).toBeLessThanOrEqual(3);
      m.mutations.forEach((n) => names.add(n));
      expect(m.steps.reduce((s, x) => s + x.waitS, 0)).toBeLessThanOrEqual(25);
    }
    expect([...names].sort()).toEqual([...MUTATIONS].sort());
  });
});

const space: ExploreSpace = {
  workloads: uniform(['register', 'set']),
  mixes: uniform([COMPOSED_MIX]),
  nodes: uniform([3, 5] as const),
};

/** A FAKE observer: features as the test says per trial, the fixed steps as every trial's schedule. */
function fakeObserver(featuresOf: (trial: TrialRecord) => string[]): (t: TrialRecord) => Promise<TrialObservation> {
  return (trial) => Promise.resolve({ features: new Set(featuresOf(trial)), steps, timeLimitS: 60 });
}

const record = (plan: TrialPlan, valid: boolean | 'unknown' = true): TrialRecord => ({
  index: plan.index,
  seed: plan.seed,
  workload: plan.workload,
  mix: plan.mix,
  nodes: plan.nodes,
  valid,
  runDir: `/runs/${plan.index}`,
  durationMs: 1000,
  anomalies: [],
});

describe('the coverage guide', () => {
  it('plans fresh trials until one reaches a new feature, then mutants of it about `share` of the time', async () => {
    const guide = new CoverageGuide(
      5,
      space,
      0.5,
      fakeObserver((t) => (t.index === 2 ? ['a', 'b'] : [])),
    );
    const plans: TrialPlan[] = [];
    for (let i = 0; i < 60; i++) {
      const plan = guide.plan(i);
      plans.push(plan);
      await guide.observe(plan, record(plan));
    }
    expect(plans.slice(0, 3).every((p) => !p.mutant)).toBe(true);
    const mutants = plans.filter((p) => p.mutant);
    expect(mutants.length).toBeGreaterThan(15);
    expect(mutants.length).toBeLessThan(45);
    for (const m of mutants) {
      expect(m.mutant!.of).toBe(2);
      expect(m.workload).toBe(plans[2]!.workload);
      expect(m.nodes).toBe(plans[2]!.nodes);
      expect(m.mutant!.mutations.length).toBeGreaterThan(0);
    }
    const r = guide.record();
    expect(r.features).toBe(2);
    expect(r.corpus).toBe(1);
    expect(r.fresh.trials + r.mutant.trials).toBe(60);
    expect(r.mutant.trials).toBe(mutants.length);
    expect(r.fresh.newFeatures).toBe(2);
    expect(r.curve.at(-1)).toEqual({ trial: 59, features: 2 });
  });

  it('share 0 plans exactly what planTrial does; a fresh plan equals it at every share', async () => {
    const off = new CoverageGuide(
      5,
      space,
      0,
      fakeObserver(() => ['x']),
    );
    const on = new CoverageGuide(
      5,
      space,
      1,
      fakeObserver((t) => [`f${t.index}`]),
    );
    const { planTrial } = await import('../../src/explore/trials.js');
    for (let i = 0; i < 10; i++) {
      const a = off.plan(i);
      expect(a).toEqual(planTrial(5, i, space));
      await off.observe(a, record(a));
      const b = on.plan(i);
      if (i === 0) expect(b).toEqual(planTrial(5, 0, space));
      else expect(b.mutant).toBeDefined();
      await on.observe(b, record(b, i === 4 ? false : true));
    }
    expect(on.record().mutant.invalid).toBe(1);
    expect(on.record().mutant.newFeatures).toBe(9);
  });

  it('a trial without a run directory counts but is not observed', async () => {
    let asked = 0;
    const guide = new CoverageGuide(1, space, 0.5, (t) => {
      asked++;
      return fakeObserver(() => ['a'])(t);
    });
    const plan = guide.plan(0);
    expect(await guide.observe(plan, { ...record(plan, 'unknown'), runDir: null })).toEqual({
      features: 0,
      newFeatures: 0,
    });
    expect(asked).toBe(0);
    expect(guide.record().fresh.trials).toBe(1);
  });

  it('runs inside runExplore: trial records carry their counts, explore.json its feedback', async () => {
    const guide = new CoverageGuide(
      3,
      space,
      0.5,
      fakeObserver((t) => [`w${t.workload}`, `n${t.nodes}`]),
    );
    const result = await runExplore(
      {
        seed: 3,
        server: 'fake',
        space,
        trials: 12,
        keepGoing: false,
        parallel: 1,
        abort: new AbortController().signal,
        guide,
      },
      (plan) =>
        Promise.resolve({
          ...record(plan),
          ...(plan.mutant ? { mutantOf: plan.mutant.of, mutations: plan.mutant.mutations } : {}),
        }),
      null,
    );
    expect(exploreRecordSchema.parse(result)).toEqual(result);
    expect(result.trials.every((t) => typeof t.newFeatures === 'number')).toBe(true);
    expect(result.trials.reduce((s, t) => s + (t.newFeatures ?? 0), 0)).toBe(result.feedback!.features);
    expect(result.feedback!.features).toBeGreaterThanOrEqual(2);
    expect(result.trials.some((t) => t.mutantOf !== undefined)).toBe(true);
  });

  it('--feedback takes a share from 0 to 1', () => {
    expect(parseFeedbackShare('0', '--feedback')).toBe(0);
    expect(parseFeedbackShare('0.25', '--feedback')).toBe(0.25);
    for (const bad of ['', 'half', '-0.1', '2'])
      expect(() => parseFeedbackShare(bad, '--feedback')).toThrow(UsageError);
  });
});

// Explore's bookkeeping without servers: trials drawn deterministically from the seed, the loop's budgets and its
// stop at the first invalid trial (with a FAKE trial runner and a FAKE shrinker), explore.json's schema.
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src/config.js';
import {
  exploreExitCode,
  MAX_UNRUNNABLE_TRIALS,
  runExplore,
  trialConfig,
  type ExploreOptions,
} from '../../src/explore/explore.js';
import { defaultSpace, spaceFrom } from '../../src/explore/space.js';
import { renderExploreHtml } from '../../src/explore/html.js';
import {
  COMPOSED_BRISK_MIX,
  FALLBACK_MIXES,
  parseDuration,
  parseWeights,
  planTrial,
  uniform,
  type ExploreSpace,
} from '../../src/explore/trials.js';
import { exploreRecordSchema, type TrialRecord } from '../../src/store/explore.js';
import { STORE_FORMAT } from '../../src/store/format.js';
import { ExitCode, UsageError } from '../../src/errors.js';

const space: ExploreSpace = {
  workloads: uniform(['register', 'set', 'multi-register', 'queue', 'bank']),
  mixes: uniform(FALLBACK_MIXES),
  nodes: uniform([3, 5] as const),
};

describe('trial plans', () => {
  it('are a function of the explore seed and the trial number alone', () => {
    const a = Array.from({ length: 30 }, (_, i) => planTrial(7, i, space));
    expect(Array.from({ length: 30 }, (_, i) => planTrial(7, i, space))).toEqual(a);
    expect(planTrial(7, 12, space)).toEqual(a[12]);
    expect(Array.from({ length: 30 }, (_, i) => planTrial(8, i, space))).not.toEqual(a);
    expect(new Set(a.map((t) => t.seed)).size).toBe(30);
    // Consecutive trials are independent draws, not near copies of each other.
    for (const seed of [1, 11, 12345]) {
      const first = Array.from({ length: 6 }, (_, i) => planTrial(seed, i, space));
      expect(new Set(first.map((t) => t.workload)).size).toBeGreaterThan(1);
    }
  });

  it('cover every workload, mix and size with uniform weights, and honour weights', () => {
    const many = Array.from({ length: 400 }, (_, i) => planTrial(1, i, space));
    for (const w of space.workloads) expect(many.some((t) => t.workload === w.value)).toBe(true);
    for (const m of FALLBACK_MIXES) expect(many.some((t) => t.mix === m.name)).toBe(true);
    expect(many.filter((t) => t.nodes === 5).length).toBeGreaterThan(150);
    const weighted = { ...space, workloads: parseWeights('register=9,set=1', 'workloads') };
    const registers = Array.from({ length: 400 }, (_, i) => planTrial(1, i, weighted)).filter(
      (t) => t.workload === 'register',
    ).length;
    expect(registers).toBeGreaterThan(320);
  });

  it('draw the composed schedule at both tempos by default, and a brisk trial runs with the brisk ranges', () => {
    const many = Array.from({ length: 100 }, (_, i) => planTrial(3, i, defaultSpace()));
    const brisk = many.filter((t) => t.mix === 'composed-brisk');
    expect(brisk.length).toBeGreaterThan(25);
    expect(many.filter((t) => t.mix === 'composed').length).toBeGreaterThan(25);
    const base = resolveRunConfig({});
    const config = trialConfig(base, brisk[0]!, '/tmp/runs');
    expect(config.nemesis).toEqual(['composed']);
    expect(config.composedGapS).toEqual(COMPOSED_BRISK_MIX.tempo!.gapS);
    expect(config.composedHoldS).toEqual(COMPOSED_BRISK_MIX.tempo!.holdS);
    expect(config.composedQuietS).toEqual(COMPOSED_BRISK_MIX.tempo!.quietS);
    expect(config.composedEarlyHeals).toBe(false);
    // The default tempo leaves the run's own ranges alone, and --mixes names the brisk one.
    const steady = trialConfig(
      base,
      many.find((t) => t.mix === 'composed')!,
      '/tmp/runs',
    );
    expect(steady.composedGapS).toEqual(base.composedGapS);
    expect(spaceFrom({ mixes: 'composed-brisk' }).mixes[0]!.value).toEqual(COMPOSED_BRISK_MIX);
  });

  it('draw any workload of the catalogue by name (acl included) and refuse names it does not have', () => {
    expect(spaceFrom({ workloads: 'acl=2,set' }).workloads).toEqual([
      { value: 'acl', weight: 2 },
      { value: 'set', weight: 1 },
    ]);
    expect(() => spaceFrom({ workloads: 'acls' })).toThrow(/unknown workload "acls"/);
  });

  it('draw settings profiles when asked, last, so the other draws stay as they were', () => {
    const withProfiles = spaceFrom({ profiles: 'default,snapshot-heavy' });
    const plain = defaultSpace();
    const a = Array.from({ length: 60 }, (_, i) => planTrial(5, i, withProfiles));
    const b = Array.from({ length: 60 }, (_, i) => planTrial(5, i, plain));
    expect(a.map(({ profile: _, ...rest }) => rest)).toEqual(b);
    expect(b.every((t) => t.profile === undefined)).toBe(true);
    const heavy = a.find((t) => t.profile?.name === 'snapshot-heavy')!;
    expect(a.some((t) => t.profile?.name === 'default')).toBe(true);
    const base = resolveRunConfig({ zookeeper: { tickTime: 700 } });
    const config = trialConfig(base, heavy, '/tmp/runs');
    expect(config.zookeeper).toEqual({ ...base.zookeeper, snapCount: 100 });
    expect(() => spaceFrom({ profiles: 'snappy' })).toThrow(/unknown profile "snappy"/);
  });

  it('check a mix of faults joined by + before any trial, and say what sizes there are', () => {
    expect(spaceFrom({ mixes: 'power-loss+kill,kill-one@n2+partition' }).mixes.map((m) => m.value.nemesis)).toEqual([
      ['power-loss', 'kill'],
      ['kill-one@n2', 'partition'],
    ]);
    expect(() => spaceFrom({ mixes: 'composed,nope' })).toThrow(UsageError);
    expect(() => spaceFrom({ mixes: 'kill+partiton' })).toThrow(/--mixes: "kill\+partiton" .*unknown fault "partiton"/);
    const sizes = ((): string => {
      try {
        spaceFrom({ sizes: '4' });
        return 'accepted';
      } catch (err) {
        return (err as UsageError).fix;
      }
    })();
    expect(sizes).toContain('3 or 5 nodes');
  });

  it('refuse bad weights and durations with a usage error', () => {
    expect(() => parseWeights('register=0', 'workloads')).toThrow(UsageError);
    expect(() => parseWeights('', 'workloads')).toThrow(UsageError);
    expect(parseDuration('30m', '--budget')).toBe(1800);
    expect(parseDuration('90', '--budget')).toBe(90);
    expect(() => parseDuration('soon', '--budget')).toThrow(UsageError);
  });
});

function fakeTrials(invalidAt: ReadonlySet<number>) {
  return async (plan: {
    index: number;
    seed: number;
    workload: string;
    mix: string;
    nodes: number;
  }): Promise<TrialRecord> => ({
    index: plan.index,
    seed: plan.seed,
    workload: plan.workload,
    mix: plan.mix,
    nodes: plan.nodes,
    valid: invalidAt.has(plan.index) ? false : true,
    runDir: `/runs/${plan.index}`,
    durationMs: 1000,
    anomalies: invalidAt.has(plan.index) ? ['set: lost: 3 acknowledged adds missing'] : [],
  });
}

const options = (o: Partial<ExploreOptions>): ExploreOptions => ({
  seed: 3,
  server: 'debian:trixie',
  space,
  keepGoing: false,
  parallel: 1,
  abort: new AbortController().signal,
  ...o,
});

describe('the explore loop (FAKE trial runner)', () => {
  it('stops at the first invalid trial and shrinks it', async () => {
    const shrunk: number[] = [];
    const record = await runExplore(options({ trials: 10 }), fakeTrials(new Set([3])), async (t) => {
      shrunk.push(t.index);
      return null;
    });
    expect(record.counts).toEqual({ trials: 4, valid: 3, invalid: 1, unknown: 0 });
    expect(record.findings.map((f) => f.trial)).toEqual([3]);
    expect(shrunk).toEqual([3]);
    expect(record.timeToFirstFailureMs).not.toBeNull();
    expect(exploreRecordSchema.parse(record)).toEqual(record);
  });

  it('goes on with --keep-going until the trial budget, in parallel', async () => {
    const record = await runExplore(
      options({ trials: 9, keepGoing: true, parallel: 3 }),
      fakeTrials(new Set([1, 5])),
      null,
    );
    expect(record.counts).toEqual({ trials: 9, valid: 7, invalid: 2, unknown: 0 });
    expect(record.trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(record.findings.every((f) => f.shrink === null)).toBe(true);
  });

  it('stops starting trials when the time budget is spent, and counts trials per hour', async () => {
    let clock = 0;
    const record = await runExplore(
      options({ budgetS: 10, now: () => clock }),
      async (plan) => {
        clock += 3000;
        return fakeTrials(new Set())(plan);
      },
      null,
    );
    expect(record.counts.trials).toBe(4);
    expect(record.trialsPerHour).toBe(1200);
    expect(record.timeToFirstFailureMs).toBeNull();
  });

  it('stops when trials in a row cannot run at all, and says why', async () => {
    const record = await runExplore(
      options({ keepGoing: true, parallel: 2 }),
      async (plan) => ({ ...(await fakeTrials(new Set())(plan)), valid: 'unknown', runDir: null, error: 'no engine' }),
      null,
    );
    // Two workers: the third failure stops them, and the other's trial in flight still counts.
    expect(record.counts.trials).toBeGreaterThanOrEqual(MAX_UNRUNNABLE_TRIALS);
    expect(record.counts.trials).toBeLessThanOrEqual(MAX_UNRUNNABLE_TRIALS + 1);
    expect(record.aborted).toBe(`${MAX_UNRUNNABLE_TRIALS} trials in a row could not run; the last: no engine`);
    expect(exploreExitCode(record)).toBe(ExitCode.unknown);
  });

  it('stops on abort and says so', async () => {
    const controller = new AbortController();
    const record = await runExplore(
      options({ trials: 100, abort: controller.signal }),
      async (plan) => {
        if (plan.index === 2) controller.abort('SIGINT');
        return fakeTrials(new Set())(plan);
      },
      null,
    );
    expect(record.counts.trials).toBe(3);
    expect(record.aborted).toBe('SIGINT');
  });
});

describe('explore.json and explore.html', () => {
  it('refuses a record of another format and renders findings with their shrunk scenario', () => {
    const record = {
      format: STORE_FORMAT,
      seed: 1,
      server: 'debian:trixie',
      startedAt: new Date(0).toISOString(),
      durationMs: 60_000,
      budget: { seconds: 600, trials: null, keepGoing: false },
      parallel: 1,
      counts: { trials: 1, valid: 0, invalid: 1, unknown: 0 },
      timeToFirstFailureMs: 60_000,
      trialsPerHour: 60,
      trials: [],
      findings: [
        {
          trial: 0,
          runDir: '/r/explores/x/runs/a',
          anomalies: ['set: lost: 166 acknowledged creates missing on n3'],
          shrink: {
            format: STORE_FORMAT,
            runDir: '/r/explores/x/runs/a',
            scenario: '/r/explores/x/runs/a/shrink/shrunk.yaml',
            steps: 4,
            nodes: 3,
            timeLimitS: 60,
            oracleTests: 12,
            replaysPerTest: 3,
            phases: [],
            reproduction: { server: 'debian:trixie', failed: 9, of: 10 },
            against: { server: 'debian:sid', failed: 0, of: 10 },
          },
        },
      ],
    };
    expect(exploreRecordSchema.safeParse(record).success).toBe(true);
    expect(exploreRecordSchema.safeParse({ ...record, format: 1 }).success).toBe(false);
    const html = renderExploreHtml(exploreRecordSchema.parse(record), '/r/explores/x');
    expect(html).toContain('href="runs/a/shrink/shrunk.yaml"');
    expect(html).toContain('9/10 on debian:trixie, 0/10 on debian:sid');
    expect(html).toContain('166 acknowledged creates missing');
  });
});

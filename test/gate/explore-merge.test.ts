// Sharded explores without servers: `--shard I/N` takes every Nth trial of the seed's sequence, and merging the
// shards gives the unsharded explore's trials; missing, mixed, doubled or edited shards are refused or unknown.
// Trials come from a FAKE runner.
import { describe, expect, it } from 'vitest';
import { exploreExitCode } from '../../src/explore/explore.js';
import { ShardMismatchError } from '../../src/gate/merge.js';
import { runExplore, type ExploreOptions } from '../../src/explore/explore.js';
import { mergeExploreShards, type FoundExplore } from '../../src/gate/explore-merge.js';
import { FALLBACK_MIXES, uniform, type ExploreSpace, type TrialPlan } from '../../src/explore/trials.js';
import { exploreRecordSchema, type ExploreRecord, type TrialRecord } from '../../src/store/explore.js';

const space: ExploreSpace = {
  workloads: uniform(['register', 'set', 'queue']),
  mixes: uniform(FALLBACK_MIXES),
  nodes: uniform([3, 5] as const),
};

/** A FAKE runner: trial 4 is invalid, the rest valid; run dirs below the shard's explore dir. */
const fakeRunner =
  (dir: string) =>
  (plan: TrialPlan): Promise<TrialRecord> =>
    Promise.resolve({
      index: plan.index,
      seed: plan.seed,
      workload: plan.workload,
      mix: plan.mix,
      nodes: plan.nodes,
      valid: plan.index === 4 ? false : true,
      runDir: `${dir}/runs/${plan.index}`,
      durationMs: 1000,
      anomalies: plan.index === 4 ? ['set: lost-write: fake'] : [],
    });

async function explore(shard: { index: number; count: number } | undefined, dir: string): Promise<ExploreRecord> {
  const options: ExploreOptions = {
    seed: 11,
    server: 'fake',
    space,
    trials: 7,
    keepGoing: true,
    parallel: 1,
    abort: new AbortController().signal,
    ...(shard ? { shard } : {}),
  };
  const record = await runExplore(options, fakeRunner(dir), null);
  return shard
    ? {
        ...record,
        shard: { ...shard, plan: 'p1', harness: { version: '1', commit: 'abc' }, exploreDir: dir },
      }
    : record;
}

describe('explore --shard', () => {
  it('runs every Nth trial of the sequence, and the shards merged are the unsharded explore', async () => {
    const whole = await explore(undefined, '/m/whole');
    const one = await explore({ index: 1, count: 2 }, '/m/one');
    const two = await explore({ index: 2, count: 2 }, '/m/two');
    expect(one.trials.map((t) => t.index)).toEqual([0, 2, 4, 6]);
    expect(two.trials.map((t) => t.index)).toEqual([1, 3, 5]);
    // Copied to another machine: run dirs follow the shard's directory.
    const merged = mergeExploreShards([
      { dir: '/copy/two', record: two },
      { dir: '/copy/one', record: one },
    ]);
    expect(exploreRecordSchema.parse(merged)).toEqual(merged);
    const strip = (t: TrialRecord) => ({
      index: t.index,
      seed: t.seed,
      workload: t.workload,
      mix: t.mix,
      valid: t.valid,
    });
    expect(merged.trials.map(strip)).toEqual(whole.trials.map(strip));
    expect(merged.trials[3]!.runDir).toBe('/copy/two/runs/3');
    expect(merged.counts).toEqual({ trials: 7, valid: 6, invalid: 1, unknown: 0 });
    expect(merged.findings.map((f) => [f.trial, f.runDir])).toEqual([[4, '/copy/one/runs/4']]);
    expect(merged.merged).toMatchObject({ count: 2, missing: [] });
    expect(exploreExitCode(merged)).toBe(1);
  });

  it('a missing shard leaves the merge unknown, never a pass', async () => {
    const two = await explore({ index: 2, count: 2 }, '/m/two');
    const merged = mergeExploreShards([{ dir: '/m/two', record: two }]);
    expect(merged.merged!.missing).toEqual([1]);
    expect(merged.counts.invalid).toBe(0);
    expect(exploreExitCode(merged)).toBe(2);
  });

  it('refuses shards of different plans, builds or counts, a shard given twice, a whole explore, an edited shard', async () => {
    const one = await explore({ index: 1, count: 2 }, '/m/one');
    const two = await explore({ index: 2, count: 2 }, '/m/two');
    const expectRefused = (found: FoundExplore[], message: RegExp): void => {
      let error: unknown;
      try {
        mergeExploreShards(found);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ShardMismatchError);
      expect((error as Error).message).toMatch(message);
    };
    const other = { ...two, shard: { ...two.shard!, plan: 'p2' } };
    expectRefused(
      [
        { dir: '/a', record: one },
        { dir: '/b', record: other },
      ],
      /plans .*differ[\s\S]*shard 1\/2 \(\/a\)[\s\S]*shard 2\/2 \(\/b\)/,
    );
    expectRefused(
      [
        { dir: '/a', record: one },
        { dir: '/b', record: { ...two, shard: { ...two.shard!, harness: { version: '1', commit: 'def' } } } },
      ],
      /Faultline builds differ/,
    );
    expectRefused(
      [
        { dir: '/a', record: one },
        { dir: '/b', record: { ...two, shard: { ...two.shard!, count: 3 } } },
      ],
      /shard counts differ/,
    );
    expectRefused(
      [
        { dir: '/a', record: one },
        { dir: '/b', record: one },
      ],
      /shard 1\/2 is given twice: \/a and \/b/,
    );
    const whole = await explore(undefined, '/m/whole');
    expectRefused([{ dir: '/w', record: whole }], /a whole explore \(run without --shard\), not a shard/);
    expectRefused(
      [{ dir: '/a', record: { ...one, trials: [...one.trials, two.trials[0]!] } }],
      /holds trial 1, which falls to shard 2\/2/,
    );
    expectRefused([], /no shard to merge/);
  });
});

// A short real explore: two trials on 3 nodes against real containers, each an ordinary run in the store, with
// feedback at share 1 so the second is a mutant of the first (whose real server logs gave protocol features); then
// the first trial's recorded schedule replayed twice, side by side. Checks the bookkeeping and that every trial left nothing behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realTrialRunner, runExplore } from '../../src/explore/explore.js';
import { guideFor, observeTrialRun } from '../../src/explore/guide.js';
import { loadRecordedSchedule, replayCandidate } from '../../src/explore/replay.js';
import { FALLBACK_MIXES, uniform } from '../../src/explore/trials.js';
import { MemoryLogger } from '../../src/log.js';
import { readTestRecord } from '../../src/store/format.js';
import { exploreRecordSchema, type TrialRecord } from '../../src/store/explore.js';
import { phaseTimingsSchema, TIMINGS_FILE } from '../../src/store/reuse.js';
import { leftovers, shortTestConfig } from './helpers.js';

describe('explore (real containers)', () => {
  it('runs two short trials as store runs, and replays the first one from its recorded actions', async () => {
    const base = shortTestConfig({ timeLimitS: 12, nemesisIntervalS: 3 });
    const abort = new AbortController().signal;
    const space = {
      workloads: uniform(['register', 'set']),
      mixes: uniform(FALLBACK_MIXES.slice(0, 2)),
      nodes: uniform([3] as const),
    };
    const record = await runExplore(
      {
        seed: 5,
        server: base.server,
        space,
        trials: 2,
        keepGoing: true,
        parallel: 1,
        abort,
        ...guideFor(5, space, 1),
      },
      realTrialRunner(base, base.resultsDir, new MemoryLogger(), abort),
      null,
    );
    expect(exploreRecordSchema.parse(record).counts.trials).toBe(2);
    for (const t of record.trials) {
      expect(t.runDir).not.toBeNull();
      const test = readTestRecord(t.runDir!);
      expect(test.config.seed).toBe(t.seed);
      expect(test.config.workload).toBe(t.workload);
      expect(await leftovers(test.runId)).toEqual([]);
    }
    // Feedback: the servers' logs of trial 0 showed its start, its election and its learners' syncs.
    const [first, second] = record.trials as [TrialRecord, TrialRecord];
    const seen = await observeTrialRun(first);
    expect(seen.features.has('lead(was start)')).toBe(true);
    expect([...seen.features].some((f) => /^sync (DIFF|SNAP|TRUNC)\(/.test(f))).toBe(true);
    expect(first.newFeatures).toBe(seen.features.size);
    expect(second.mutantOf).toBe(0);
    expect(second.mutations!.length).toBeGreaterThan(0);
    expect(readTestRecord(second.runDir!).config.scenario).toMatch(/mutants\/trial-1\.yaml$/);
    expect(record.feedback).toMatchObject({ share: 1, corpus: expect.any(Number) as number });
    expect(record.feedback!.mutant.trials).toBe(1);
    const recorded = await loadRecordedSchedule(first.runDir!);
    expect(recorded.steps.length).toBeGreaterThan(0);
    // Two replays side by side (as shrink runs a candidate's replays): both ran, each in its own run dir, at once.
    const { scenario, runs } = await replayCandidate(
      recorded.config,
      { nodes: recorded.config.nodes, steps: recorded.steps },
      { times: 2, parallel: 2, dir: join(base.resultsDir, 'replay'), log: new MemoryLogger(), abort },
    );
    expect(existsSync(scenario)).toBe(true);
    expect(runs).toHaveLength(2);
    expect(new Set(runs.map((r) => r.runDir)).size).toBe(2);
    const spans = runs.map((r) => {
      expect(readTestRecord(r.runDir).config.scenario).toBe(scenario);
      const start = Date.parse(readTestRecord(r.runDir).startedAt);
      const phases = phaseTimingsSchema.parse(JSON.parse(readFileSync(join(r.runDir, TIMINGS_FILE), 'utf8')));
      return [start, start + (phases.total ?? 0)] as const;
    });
    expect(spans[0]![0]).toBeLessThan(spans[1]![1]);
    expect(spans[1]![0]).toBeLessThan(spans[0]![1]);
  }, 600_000);
});

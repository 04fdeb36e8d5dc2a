// A short real explore: two trials on 3 nodes against real containers, each an ordinary run in the store; then the
// first trial's recorded schedule replayed once. Checks the bookkeeping and that every trial left nothing behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realTrialRunner, runExplore } from '../../src/explore/explore.js';
import { loadRecordedSchedule, replayCandidate } from '../../src/explore/replay.js';
import { FALLBACK_MIXES, uniform } from '../../src/explore/trials.js';
import { MemoryLogger } from '../../src/log.js';
import { readTestRecord } from '../../src/store/format.js';
import { exploreRecordSchema } from '../../src/store/explore.js';
import { leftovers, shortTestConfig } from './helpers.js';

describe('explore (real containers)', () => {
  it('runs two short trials as store runs, and replays the first one from its recorded actions', async () => {
    const base = shortTestConfig({ timeLimitS: 12, nemesisIntervalS: 3 });
    const abort = new AbortController().signal;
    const record = await runExplore(
      {
        seed: 5,
        server: base.server,
        space: {
          workloads: uniform(['register', 'set']),
          mixes: uniform(FALLBACK_MIXES.slice(0, 2)),
          nodes: uniform([3] as const),
        },
        trials: 2,
        keepGoing: true,
        parallel: 1,
        abort,
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
    const recorded = await loadRecordedSchedule(record.trials[0]!.runDir!);
    expect(recorded.steps.length).toBeGreaterThan(0);
    const { scenario, runs } = await replayCandidate(
      recorded.config,
      { nodes: recorded.config.nodes, steps: recorded.steps },
      { times: 1, dir: join(base.resultsDir, 'replay'), log: new MemoryLogger(), abort },
    );
    expect(existsSync(scenario)).toBe(true);
    expect(runs).toHaveLength(1);
    expect(readTestRecord(runs[0]!.runDir).config.scenario).toBe(scenario);
  }, 600_000);
});

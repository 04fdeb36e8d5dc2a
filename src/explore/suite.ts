// A gate suite's explore entry: an explore for its budget against the gate's build, its findings shrunk, its
// explore.json and explore.html written in the gate's directory.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunConfig } from '../config.js';
import type { Logger } from '../log.js';
import { createEnsemblePool } from '../run/pool.js';
import { EXPLORE_HTML, EXPLORE_JSON, type ExploreRecord } from '../store/explore.js';
import { writeJson } from '../store/index.js';
import { realTrialRunner, runExplore } from './explore.js';
import { DEFAULT_FEEDBACK_SHARE, guideFor } from './guide.js';
import { renderExploreHtml } from './html.js';
import { shrinkRun } from './shrink-run.js';
import { spaceFrom } from './space.js';
import { parseDuration } from './trials.js';

export interface SuiteExplore {
  test: string;
  seed: number;
  config: RunConfig;
  spec: {
    budget: string;
    trials?: number;
    workloads?: string;
    mixes?: string;
    sizes?: string;
    profiles?: string;
    /** The share of mutant trials (explore feedback; default DEFAULT_FEEDBACK_SHARE). */
    feedback?: number;
    keepGoing?: boolean;
    shrink?: boolean;
    replays?: number;
    /** How long each finding's shrink may take (default: half the budget). */
    shrinkBudget?: string;
    /** Replays of each minimal scenario for its reproduction rate (default 3). */
    rateReplays?: number;
  };
}

/**
 * Runs a suite's explore as `faultline explore` runs one: `parallel` trials at once (the gate's, since its runs are
 * done by then), on ensembles from a pool that resets and checks each between trials.
 */
export async function runSuiteExplore(
  entry: SuiteExplore,
  dir: string,
  log: Logger,
  abort: AbortSignal,
  parallel = 1,
): Promise<{ test: string; dir: string; record: ExploreRecord }> {
  const { spec } = entry;
  const space = spaceFrom(spec);
  const pool = createEnsemblePool({ keep: parallel * 2 });
  const record = await runExplore(
    {
      seed: entry.seed,
      server: entry.config.server,
      space,
      budgetS: parseDuration(spec.budget, 'budget'),
      ...(spec.trials !== undefined ? { trials: spec.trials } : {}),
      keepGoing: spec.keepGoing ?? false,
      parallel,
      abort,
      ...guideFor(entry.seed, space, spec.feedback ?? DEFAULT_FEEDBACK_SHARE),
    },
    realTrialRunner(entry.config, dir, log, abort, { pool }),
    spec.shrink === false
      ? null
      : (trial) =>
          shrinkRun(trial.runDir!, {
            replays: spec.replays ?? 3,
            rateReplays: spec.rateReplays ?? 3,
            parallel: spec.keepGoing ? 1 : parallel,
            // A gate must end: each finding's shrink gets a time budget, after which its smallest failure so far stands.
            deadline:
              Date.now() +
              1000 *
                (spec.shrinkBudget
                  ? parseDuration(spec.shrinkBudget, 'shrinkBudget')
                  : parseDuration(spec.budget, 'budget') / 2),
            log,
            abort,
          }),
  ).finally(() => pool.close().catch((err: Error) => log.warn(err.message)));
  writeJson(join(dir, EXPLORE_JSON), record);
  writeFileSync(join(dir, EXPLORE_HTML), renderExploreHtml(record, resolve(dir)));
  return { test: entry.test, dir, record };
}

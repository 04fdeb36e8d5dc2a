// Shrinking a failing run for real: the recorded schedule, the replay oracle (every one of k replays must fail on
// a checker the run failed), then the minimal scenario's reproduction rate and its result on another build.
// Writes shrink/shrunk.yaml (each step commented with what it did in a failing replay, and the roles then) and
// shrink/shrink.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { writeReport } from '../report/index.js';
import { UsageError } from '../errors.js';
import { STORE_FORMAT } from '../store/format.js';
import { SHRINK_DIR, SHRINK_JSON, SHRUNK_SCENARIO, type ShrinkRecord } from '../store/explore.js';
import { writeJson } from '../store/index.js';
import { loadRecordedSchedule, replayCandidate } from './replay.js';
import { renderScenarioYaml, withNotesOf } from './scenario.js';
import { shrinkSchedule, type ShrinkCandidate } from './shrink.js';

export interface ShrinkRunOptions {
  /** Replays per candidate; a candidate is kept only when all fail. */
  replays: number;
  /** Replays of the minimal scenario to measure its reproduction rate. */
  rateReplays: number;
  against?: string;
  maxTests?: number;
  /** Replays at once (default 1): a candidate's k replays, and the rate replays, run side by side. */
  parallel?: number;
  /** Stop trying candidates after this time (ms since the epoch); the smallest failing one so far is kept. */
  deadline?: number;
  log: Logger;
  abort: AbortSignal;
}

export async function shrinkRun(runDir: string, options: ShrinkRunOptions): Promise<ShrinkRecord> {
  const recorded = await loadRecordedSchedule(runDir);
  if (recorded.steps.length === 0)
    throw new UsageError(
      `${runDir} recorded no nemesis action in its main phase: nothing to shrink`,
      'Shrink a run whose schedule started faults.',
    );
  const dir = join(runDir, SHRINK_DIR);
  const replay = {
    dir,
    log: options.log,
    abort: options.abort,
    checkers: recorded.invalidCheckers,
    parallel: options.parallel ?? 1,
  };
  let n = 0;
  const fails = async (candidate: ShrinkCandidate): Promise<boolean> => {
    const { runs } = await replayCandidate(
      recorded.config,
      candidate,
      { ...replay, times: options.replays, stopAtPass: true },
      `candidate-${++n}`,
    );
    return runs.length === options.replays && runs.every((r) => r.failed);
  };
  const result = await shrinkSchedule({ nodes: recorded.config.nodes, steps: recorded.steps }, fails, {
    ...(options.maxTests !== undefined ? { maxTests: options.maxTests } : {}),
    timeLimitS: recorded.config.timeLimitS,
    // A finding that comes back in one of k replays is worth shrinking (candidates must fail in all k); one that
    // never comes back is not.
    checkRecorded: async (candidate) =>
      (
        await replayCandidate(
          recorded.config,
          candidate,
          { ...replay, times: options.replays, stopAtFail: true },
          `recorded`,
        )
      ).runs.some((r) => r.failed),
    ...(options.deadline !== undefined ? { outOfTime: () => Date.now() > options.deadline! } : {}),
    onTest: (phase, c, failed) =>
      options.log.info(
        `shrink ${phase}: ${c.steps.length} steps on ${c.nodes} nodes ${failed ? 'still fails' : 'passes'}`,
      ),
  });
  const rate = await replayCandidate(
    recorded.config,
    result.candidate,
    { ...replay, times: options.rateReplays },
    'rate',
  );
  const reproduction = {
    server: recorded.config.server,
    failed: rate.runs.filter((r) => r.failed).length,
    of: rate.runs.length,
  };
  let against: ShrinkRecord['against'] = null;
  if (options.against) {
    const other = await replayCandidate(
      recorded.config,
      result.candidate,
      { ...replay, times: options.rateReplays, server: options.against },
      'against',
    );
    against = { server: options.against, failed: other.runs.filter((r) => r.failed).length, of: other.runs.length };
  }
  // The comments say what each step did in a failing replay of the minimal scenario (its roles, not the original's).
  const shown = rate.runs.find((r) => r.failed) ?? rate.runs[0];
  const steps = shown
    ? withNotesOf(result.candidate.steps, (await loadRecordedSchedule(shown.runDir)).steps)
    : result.candidate.steps;
  const scenario = join(dir, SHRUNK_SCENARIO);
  const timeLimitS = result.candidate.timeLimitS ?? recorded.config.timeLimitS;
  const header = [
    `Shrunk from ${runDir} (${recorded.config.workload}, ${recorded.config.server}) by faultline shrink:`,
    result.reproducible
      ? `${result.candidate.steps.length} steps on ${result.candidate.nodes} nodes after ${result.tests} candidates of ${options.replays} replays each${result.cutShort ? ' (cut short by its time budget: smaller ones may fail too)' : ''}.`
      : `Not shrunk: the recorded schedule did not fail in any of ${options.replays} replays, so no smaller candidate could be judged; these are its ${result.candidate.steps.length} steps as recorded.`,
    `Reproduces in ${reproduction.failed} of ${reproduction.of} replays on ${reproduction.server}` +
      (against ? `; ${against.failed} of ${against.of} on ${against.server}.` : '.'),
    `Run it: faultline test --workload ${recorded.config.workload} --nodes ${result.candidate.nodes} --time-limit ${timeLimitS} --server ${recorded.config.server} --scenario ${SHRUNK_SCENARIO}`,
  ];
  writeFileSync(
    scenario,
    renderScenarioYaml(steps, {
      name: 'shrunk',
      description: `minimal failing schedule of ${runDir}`,
      header,
    }),
  );
  const record: ShrinkRecord = {
    format: STORE_FORMAT,
    runDir,
    scenario,
    steps: result.candidate.steps.length,
    nodes: result.candidate.nodes,
    timeLimitS,
    oracleTests: result.tests,
    replaysPerTest: options.replays,
    phases: result.phases,
    reproduction,
    against,
    ...(result.cutShort ? { cutShort: true } : {}),
    ...(result.reproducible ? {} : { recordedReproduces: false }),
  };
  writeJson(join(dir, SHRINK_JSON), record);
  // The failing run's report links to it.
  await writeReport(runDir).catch((err: Error) => options.log.warn(`report.html not rewritten: ${err.message}`));
  return record;
}

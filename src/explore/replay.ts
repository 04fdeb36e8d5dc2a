// Replaying a recorded run: its nemesis actions as a scenario (node names and timings as recorded) with the same
// workload and settings, run K times; and the shrink oracle built on it (a candidate fails when every one of k
// replays is invalid on a checker the original run failed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_CATALOGUE } from '../../nemesis/index.js';
import type { RunConfig } from '../config.js';
import { readHistory } from '../history.js';
import type { Logger } from '../log.js';
import { forEachParallel } from '../parallel.js';
import { executeTest, type ExecutedRun } from '../run/execute.js';
import type { RunOutcome } from '../runner.js';
import { readResults, readTestRecord } from '../store/format.js';
import { HISTORY_FILE } from '../store/index.js';
import { readNemesisActions, workloadStartMs } from './actions.js';
import { renderScenarioYaml, stepsFromActions, type TimedStep } from './scenario.js';
import type { ShrinkCandidate } from './shrink.js';

export interface RecordedSchedule {
  config: RunConfig;
  steps: TimedStep[];
  /** Checkers that found the original run invalid. */
  invalidCheckers: string[];
}

const takesTarget = (fault: string): boolean =>
  FAULT_CATALOGUE.faults.find((f) => f.name === fault)?.defaultTarget !== undefined;

/** A run's config and its main phase's nemesis actions as timed steps. */
export async function loadRecordedSchedule(runDir: string): Promise<RecordedSchedule> {
  const { config } = readTestRecord(runDir);
  const events = await readHistory(join(runDir, HISTORY_FILE));
  const startMs = workloadStartMs(events);
  const steps = stepsFromActions(readNemesisActions(events), {
    startMs,
    endMs: startMs + config.timeLimitS * 1000,
    takesTarget,
    familyOf: (name) => FAULT_CATALOGUE.faults.find((f) => f.name === name)?.family ?? name,
  });
  let invalidCheckers: string[] = [];
  try {
    invalidCheckers = Object.entries(readResults(runDir).checkers)
      .filter(([, r]) => r.valid === false && !r.advisory)
      .map(([name]) => name);
  } catch {
    // No results (an aborted run): any invalid replay counts.
  }
  return { config, steps, invalidCheckers };
}

/** Non-documented anomalies of a run's outcome, as "checker: type: description" (as gate records them). */
export function anomaliesOf(outcome: RunOutcome): string[] {
  const out: string[] = [];
  for (const [name, result] of Object.entries(outcome.checkers)) {
    if (result.advisory) continue;
    const real = (result.anomalies ?? []).filter((a) => !a.documented);
    for (const a of real) out.push(`${name}: ${a.type}: ${a.description}`);
    if (result.valid === false && real.length === 0)
      out.push(`${name}: invalid${result.reason ? ` (${result.reason})` : ''}`);
  }
  return out;
}

export interface ReplayRun {
  runDir: string;
  valid: boolean | 'unknown';
  failed: boolean;
  anomalies: string[];
}

export interface ReplayOptions {
  times: number;
  server?: string;
  /** Where the scenario and the replays' runs go. */
  dir: string;
  log: Logger;
  abort: AbortSignal;
  /** Replays at once (default 1). */
  parallel?: number;
  /** Runs one replay (default: executeTest; the tests of the parallel bookkeeping pass a FAKE). */
  execute?: (config: RunConfig, log: Logger, abort: AbortSignal) => Promise<Pick<ExecutedRun, 'outcome' | 'runDir'>>;
  /** Stop at the first replay that does not fail (the shrink oracle needs every one to fail). */
  stopAtPass?: boolean;
  /** Stop at the first replay that fails (enough to show a failure comes back). */
  stopAtFail?: boolean;
  /** Which checkers count: a replay fails when one of these is invalid (empty: any invalid checker). */
  checkers?: readonly string[];
  header?: string[];
  onRun?: (run: ReplayRun, i: number) => void;
}

/** Writes a candidate as scenario YAML and runs it `times` times with the recorded config. */
export async function replayCandidate(
  base: RunConfig,
  candidate: ShrinkCandidate,
  options: ReplayOptions,
  name = 'replay',
): Promise<{ scenario: string; runs: ReplayRun[] }> {
  mkdirSync(options.dir, { recursive: true });
  const scenario = join(options.dir, `${name}.yaml`);
  writeFileSync(
    scenario,
    renderScenarioYaml(candidate.steps, {
      name,
      description: `the recorded nemesis actions of a run, ${candidate.steps.length} steps on ${candidate.nodes} nodes`,
      ...(options.header ? { header: options.header } : {}),
    }),
  );
  const config: RunConfig = {
    ...base,
    name: `${name}`,
    nodes: candidate.nodes as RunConfig['nodes'],
    timeLimitS: candidate.timeLimitS ?? base.timeLimitS,
    scenario,
    server: options.server ?? base.server,
    resultsDir: join(options.dir, 'runs'),
  };
  const execute = options.execute ?? executeTest;
  const done: { i: number; run: ReplayRun }[] = [];
  // Once a replay meets a stop condition no more start; those running finish and count, so a parallel oracle
  // judges at least the replays a sequential one would.
  await forEachParallel(
    options.times,
    options.parallel ?? 1,
    async (i) => {
      const { outcome, runDir } = await execute(config, options.log, options.abort);
      const invalid = Object.entries(outcome.checkers).filter(([, r]) => r.valid === false && !r.advisory);
      const failed =
        outcome.valid === false && (!options.checkers?.length || invalid.some(([n]) => options.checkers!.includes(n)));
      const run = { runDir, valid: outcome.valid, failed, anomalies: anomaliesOf(outcome) };
      done.push({ i, run });
      options.onRun?.(run, i);
      return (options.stopAtPass && !failed) || (options.stopAtFail && failed);
    },
    () => options.abort.aborted,
  );
  const runs = done.sort((a, b) => a.i - b.i).map((d) => d.run);
  return { scenario, runs };
}

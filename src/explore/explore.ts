// `faultline explore`: trials back to back, each an ordinary run in the store with its own seed, until a budget of
// time or trials, or the first invalid trial; each finding shrunk to a short scenario. The loop is pure over a
// trial runner and a shrinker, so its bookkeeping is tested without servers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config.js';
import { ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import { executeTest, type ExecuteOptions } from '../run/execute.js';
import { STORE_FORMAT } from '../store/format.js';
import type { ExploreRecord, FeedbackRecord, Finding, ShrinkRecord, TrialRecord } from '../store/explore.js';
import type { TrialGuide } from './guide.js';
import { anomaliesOf } from './replay.js';
import { renderScenarioYaml } from './scenario.js';
import { planTrial, type ExploreSpace, type TrialPlan } from './trials.js';

export interface ExploreOptions {
  seed: number;
  server: string;
  space: ExploreSpace;
  budgetS?: number;
  trials?: number;
  keepGoing: boolean;
  parallel: number;
  abort: AbortSignal;
  /** Absent: every trial is planTrial's fresh draw. */
  guide?: TrialGuide;
  /**
   * One shard of N (index from 1): this explore runs trials index-1, index-1+N, index-1+2N... of the seed's
   * sequence, so N shards with `trials` T run between them exactly the T trials of one explore.
   */
  shard?: { index: number; count: number };
  /** Told after every trial (and every shrink), for the live table. */
  onUpdate?: (record: ExploreRecord, running: TrialPlan[]) => void;
  now?: () => number;
}

export type TrialRunner = (plan: TrialPlan) => Promise<TrialRecord>;
export type FindingShrinker = (trial: TrialRecord) => Promise<ShrinkRecord | null>;

/** The counts, rates and time to first failure of the trials so far. */
export function summarizeExplore(
  options: Pick<ExploreOptions, 'seed' | 'server' | 'budgetS' | 'trials' | 'keepGoing' | 'parallel'>,
  startedAt: Date,
  durationMs: number,
  trials: readonly TrialRecord[],
  findings: readonly Finding[],
  firstFailureMs: number | null,
  feedback?: FeedbackRecord,
): ExploreRecord {
  const count = (v: TrialRecord['valid']): number => trials.filter((t) => t.valid === v).length;
  return {
    format: STORE_FORMAT,
    seed: options.seed,
    server: options.server,
    startedAt: startedAt.toISOString(),
    durationMs,
    budget: { seconds: options.budgetS ?? null, trials: options.trials ?? null, keepGoing: options.keepGoing },
    parallel: options.parallel,
    counts: { trials: trials.length, valid: count(true), invalid: count(false), unknown: count('unknown') },
    timeToFirstFailureMs: firstFailureMs,
    trialsPerHour: durationMs > 0 ? Math.round((trials.length / durationMs) * 3_600_000 * 10) / 10 : 0,
    trials: [...trials].sort((a, b) => a.index - b.index),
    findings: [...findings],
    ...(feedback ? { feedback } : {}),
  };
}

/**
 * Trials in a row that could not run at all (no run dir: the engine gone, the image missing) before explore stops:
 * more of them would fail the same way, in a loop as fast as they fail.
 */
export const MAX_UNRUNNABLE_TRIALS = 3;

/**
 * Runs trials `parallel` at a time until the budget ends, a trial is invalid (unless keepGoing), abort, or
 * MAX_UNRUNNABLE_TRIALS in a row could not run.
 */
export async function runExplore(
  options: ExploreOptions,
  runTrial: TrialRunner,
  shrink: FindingShrinker | null,
): Promise<ExploreRecord> {
  const now = options.now ?? Date.now;
  const startedAt = new Date(now());
  const t0 = now();
  const trials: TrialRecord[] = [];
  const findings: Finding[] = [];
  const running = new Map<number, TrialPlan>();
  let firstFailureMs: number | null = null;
  let next = 0;
  let stop = false;
  let unrunnable = 0;
  let halted: string | undefined;
  const summary = (): ExploreRecord =>
    summarizeExplore(options, startedAt, now() - t0, trials, findings, firstFailureMs, options.guide?.record());
  const indexOf = (k: number): number => (options.shard ? options.shard.index - 1 + k * options.shard.count : k);
  const moreAllowed = (): boolean =>
    !stop &&
    !options.abort.aborted &&
    (options.trials === undefined || indexOf(next) < options.trials) &&
    (options.budgetS === undefined || now() - t0 < options.budgetS * 1000);
  const worker = async (): Promise<void> => {
    while (moreAllowed()) {
      const index = indexOf(next++);
      const plan = options.guide ? options.guide.plan(index) : planTrial(options.seed, index, options.space);
      running.set(plan.index, plan);
      options.onUpdate?.(summary(), [...running.values()]);
      let trial = await runTrial(plan);
      // Coverage is a measurement: a log that cannot be read costs the trial its counts, not the explore.
      if (options.guide) trial = { ...trial, ...(await options.guide.observe(plan, trial).catch(() => ({}))) };
      running.delete(plan.index);
      trials.push(trial);
      unrunnable = trial.runDir === null ? unrunnable + 1 : 0;
      if (unrunnable >= MAX_UNRUNNABLE_TRIALS && !halted) {
        stop = true;
        halted = `${MAX_UNRUNNABLE_TRIALS} trials in a row could not run; the last: ${trial.error ?? 'no reason given'}`;
      }
      if (trial.valid === false) {
        firstFailureMs ??= now() - t0;
        if (!options.keepGoing) stop = true;
        const finding: Finding = { trial: trial.index, runDir: trial.runDir, anomalies: trial.anomalies, shrink: null };
        findings.push(finding);
        options.onUpdate?.(summary(), [...running.values()]);
        if (shrink && trial.runDir && !options.abort.aborted) {
          try {
            finding.shrink = await shrink(trial);
          } catch (err) {
            finding.shrinkError = (err as Error).message;
          }
        }
      }
      options.onUpdate?.(summary(), [...running.values()]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel) }, worker));
  const record = summary();
  if (options.abort.aborted) return { ...record, aborted: String(options.abort.reason ?? 'aborted') };
  return halted ? { ...record, aborted: halted } : record;
}

/** A trial's config: the explore's base settings with the trial's workload, faults, size and seed (and a mutant's scenario file). */
export function trialConfig(base: RunConfig, plan: TrialPlan, resultsDir: string, scenario?: string): RunConfig {
  return {
    ...base,
    ...(scenario ? { scenario } : {}),
    name: `explore-${plan.workload}`,
    seed: plan.seed,
    workload: plan.workload,
    nemesis: plan.nemesis,
    ...(plan.tempo
      ? {
          composedGapS: plan.tempo.gapS,
          composedHoldS: plan.tempo.holdS,
          composedQuietS: plan.tempo.quietS,
          composedEarlyHeals: plan.tempo.earlyHeals,
        }
      : {}),
    nodes: plan.nodes,
    ...(plan.profile ? { zookeeper: { ...base.zookeeper, ...plan.profile.zookeeper } } : {}),
    resultsDir,
  };
}

/**
 * The real trial runner: one `faultline test` run in the explore's runs dir; a harness error is an unknown trial.
 * `shared` carries what trials may share: the environment (engine and image, checked once), or an ensemble pool.
 */
export function realTrialRunner(
  base: RunConfig,
  exploreDir: string,
  log: Logger,
  abort: AbortSignal,
  shared: ExecuteOptions = {},
): TrialRunner {
  return async (plan) => {
    const started = Date.now();
    const base2 = {
      index: plan.index,
      seed: plan.seed,
      workload: plan.workload,
      mix: plan.mix,
      nodes: plan.nodes,
      ...(plan.profile ? { profile: plan.profile.name } : {}),
      ...(plan.mutant ? { mutantOf: plan.mutant.of, mutations: plan.mutant.mutations } : {}),
    };
    try {
      const scenario = plan.mutant ? writeMutantScenario(exploreDir, plan) : undefined;
      const config = trialConfig(base, plan, join(exploreDir, 'runs'), scenario);
      const { outcome, runDir } = await executeTest(config, log, abort, shared);
      return {
        ...base2,
        valid: outcome.valid,
        runDir,
        durationMs: Date.now() - started,
        anomalies: anomaliesOf(outcome),
        ...(outcome.error ? { error: outcome.error } : outcome.aborted ? { error: `aborted: ${outcome.aborted}` } : {}),
      };
    } catch (err) {
      log.warn(`trial ${plan.index} failed: ${(err as Error).message}`);
      return {
        ...base2,
        valid: 'unknown',
        runDir: null,
        durationMs: Date.now() - started,
        anomalies: [],
        error: (err as Error).message,
      };
    }
  };
}

/** A mutant's schedule as a scenario file in the explore's directory (mutants/trial-N.yaml). */
function writeMutantScenario(exploreDir: string, plan: TrialPlan): string {
  const dir = join(exploreDir, 'mutants');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `trial-${plan.index}.yaml`);
  const mutant = plan.mutant!;
  writeFileSync(
    path,
    renderScenarioYaml(mutant.steps, {
      name: `trial-${plan.index}`,
      description: `trial ${mutant.of}'s schedule, mutated (${mutant.mutations.join(', ')})`,
    }),
  );
  return path;
}

/** Exit codes as gate's: invalid 1; unknown trials, no trial, or missing shards 2; else 0. */
export function exploreExitCode(record: ExploreRecord): number {
  if (record.counts.invalid > 0) return ExitCode.invalid;
  if (record.counts.unknown > 0 || record.counts.trials === 0 || (record.merged?.missing.length ?? 0) > 0)
    return ExitCode.unknown;
  return ExitCode.valid;
}

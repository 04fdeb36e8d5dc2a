// Many runs, a few at a time: what `gate` and `compare` share. Each run is an ordinary `faultline test` run
// (its own network, run dir and report); this collects what each one decided and measured.
import { cpus, freemem } from 'node:os';
import { join } from 'node:path';
import { prepareEnvironment, type Environment } from '../../docker/environment.js';
import type { Anomaly, CheckerResult } from '../checker.js';
import type { RunConfig } from '../config.js';
import { readHistory } from '../history.js';
import type { Logger } from '../log.js';
import { readRoleChanges, ROLES_FILE } from '../role-changes.js';
import { executeTest, summarizeVersions } from '../run/execute.js';
import { readResults } from '../store/format.js';
import type { RunMetrics, RunRecord } from '../store/gate.js';
import { HISTORY_FILE } from '../store/index.js';
import { computeRunMetrics } from './metrics.js';
import { forEachParallel } from '../parallel.js';

export interface BatchRun {
  /** Groups runs: a suite's test name, or a compare variant. */
  group: string;
  repetition: number;
  seed: number;
  config: RunConfig;
}

/** Ensembles at once: a core and ~1.5 GiB of free memory each (3 JVMs of 256 MiB plus the clients), at least 1. */
export function machineParallelLimit(): number {
  return Math.max(1, Math.min(cpus().length, Math.floor(freemem() / (1.5 * 2 ** 30))));
}

function describeAnomaly(checker: string, a: Anomaly): string {
  return `${checker}: ${a.type}: ${a.description}`;
}

/** Forwards only warnings, prefixed with the run, so parallel runs do not garble the terminal. */
class RunPrefixLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly prefix: string,
  ) {}
  info(): void {}
  warn(message: string): void {
    this.inner.warn(`[${this.prefix}] ${message}`);
  }
  debug(): void {}
  status(): void {}
}

async function runOne(run: BatchRun, log: Logger, abort: AbortSignal, environment: Environment): Promise<RunRecord> {
  const label = `${run.group}#${run.repetition + 1}`;
  const started = Date.now();
  const base = { group: run.group, repetition: run.repetition, seed: run.seed, server: run.config.server };
  try {
    const { outcome, runDir, runId } = await executeTest(run.config, new RunPrefixLogger(log, label), abort, {
      environment,
    });
    const anomalies: string[] = [];
    const undecided: string[] = [];
    for (const [name, result] of Object.entries(outcome.checkers)) {
      if (result.advisory) continue;
      for (const a of result.anomalies ?? []) if (!a.documented) anomalies.push(describeAnomaly(name, a));
      if (result.valid === false && !(result.anomalies ?? []).some((a) => !a.documented))
        anomalies.push(`${name}: invalid${result.reason ? ` (${result.reason})` : ''}`);
      if (result.valid === 'unknown') undecided.push(`${name}: ${result.reason ?? result.error ?? 'undecided'}`);
    }
    return {
      ...base,
      valid: outcome.valid,
      runId,
      runDir,
      durationMs: Date.now() - started,
      serverVersion:
        outcome.serverVersions && Object.keys(outcome.serverVersions).length
          ? summarizeVersions(outcome.serverVersions)
          : null,
      anomalies,
      undecided,
      ...(outcome.aborted ? { error: `aborted: ${outcome.aborted}` } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.incomplete ? { undecided: [...undecided, `incomplete: ${outcome.incomplete}`] } : {}),
      metrics: await measureRun(runDir, outcome.checkers, outcome.recovery),
    };
  } catch (err) {
    // A harness error is no verdict on the server: the run counts as unknown, and the batch goes on.
    log.warn(`[${label}] run failed: ${(err as Error).message}`);
    return {
      ...base,
      valid: 'unknown',
      runId: null,
      runDir: null,
      durationMs: Date.now() - started,
      serverVersion: null,
      anomalies: [],
      undecided: [],
      error: (err as Error).message,
      metrics: null,
    };
  }
}

/** The run's measures from its history on disk; null when the history is missing or empty. */
export async function measureRun(
  runDir: string,
  checkers: Record<string, CheckerResult>,
  recovery: { quorumMs?: number } | null | undefined,
): Promise<RunMetrics | null> {
  const events = await readHistory(join(runDir, HISTORY_FILE)).catch(() => []);
  return events.length
    ? computeRunMetrics(events, checkers, recovery, await readRoleChanges(join(runDir, ROLES_FILE)))
    : null;
}

/** Measures a recorded run again (after the measures changed) from its history and results.json. */
export async function remeasure(record: RunRecord): Promise<RunRecord> {
  if (!record.runDir) return record;
  const results = readResults(record.runDir);
  return { ...record, metrics: await measureRun(record.runDir, results.checkers, results.recovery) };
}

export interface BatchOptions {
  parallel: number;
  /** Start no further run once one is invalid. */
  stopOnInvalid?: boolean;
  abort: AbortSignal;
  log: Logger;
  onDone?: (record: RunRecord, done: number, total: number) => void;
}

/** Runs the batch, `parallel` at a time; records come back in the batch's order. Skipped runs are left out. */
export async function runBatch(runs: readonly BatchRun[], options: BatchOptions): Promise<RunRecord[]> {
  // Build every image once, up front: parallel runs must not build the same image side by side.
  const environments = new Map<string, Environment>();
  for (const server of new Set(runs.map((r) => r.config.server)))
    environments.set(server, await prepareEnvironment(server, options.log));
  const records = new Array<RunRecord | undefined>(runs.length);
  let done = 0;
  const started = Date.now();
  const status = setInterval(
    () => options.log.status(`${done}/${runs.length} runs done, ${Math.round((Date.now() - started) / 1000)} s`),
    1000,
  );
  try {
    await forEachParallel(
      runs.length,
      options.parallel,
      async (index) => {
        const run = runs[index]!;
        const record = await runOne(run, options.log, options.abort, environments.get(run.config.server)!);
        records[index] = record;
        done++;
        options.onDone?.(record, done, runs.length);
        return record.valid === false && options.stopOnInvalid === true;
      },
      () => options.abort.aborted,
    );
  } finally {
    clearInterval(status);
    options.log.status(null);
  }
  return records.filter((r): r is RunRecord => r !== undefined);
}

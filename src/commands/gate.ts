// `faultline gate SUITE.yaml`: every run of a suite against one server build; gate.json, JUnit XML and an HTML
// summary; the exit code says whether the build passes (0), has a bug (1) or could not be judged (2).
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { createRunDir, writeJson } from '../store/index.js';
import type { RunRecord } from '../store/gate.js';
import { machineParallelLimit, runBatch } from '../gate/batch.js';
import {
  GATE_HTML,
  GATE_JSON,
  GATE_JUNIT,
  gateExitCode,
  gateSummaryLine,
  renderGateHtml,
  renderJUnit,
  runCaseName,
  summarizeGate,
} from '../gate/outputs.js';
import { expectedExploreSeconds, expectedRunSeconds, parseShard, shardGatePlan, shardLabel } from '../gate/shard.js';
import { harnessBuild } from '../harness-build.js';
import { runSuiteExplore } from '../explore/suite.js';
import { loadSuite, planSuite, planSuiteExplores, type PlannedExplore, type PlannedRun } from '../gate/spec.js';
import { planRun } from '../run/execute.js';
import { addRunOptions, runLayerFromCommand } from './run-options.js';
import { abortOnSignals } from './signals.js';

interface GateFlags {
  parallel?: string;
  resultsDir: string;
  stopOnInvalid?: boolean;
  dryRun?: boolean;
  shard?: string;
}

/** The --parallel flag, else the suite's, never above what the machine holds (unless asked for explicitly). */
export function resolveParallel(
  flag: string | undefined,
  suiteValue: number | undefined,
  machine = machineParallelLimit(),
): number {
  if (flag !== undefined) {
    const n = Number(flag);
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new UsageError(
        `--parallel must be a whole number from 1 to 16, not "${flag}"`,
        'For example --parallel 2.',
      );
    return n;
  }
  return Math.max(1, Math.min(suiteValue ?? machine, machine));
}

function logRunDone(log: Logger, record: RunRecord, done: number, total: number): void {
  const verdict = record.valid === true ? 'valid' : record.valid === false ? 'INVALID' : 'unknown';
  const detail = record.error ?? (record.anomalies.length ? `${record.anomalies.length} anomalies` : '');
  log.info(
    `[${done}/${total}] ${runCaseName(record)}: ${verdict} in ${Math.round(record.durationMs / 1000)} s${detail ? ` (${detail.split('\n')[0]})` : ''}${record.runDir ? `, ${record.runDir}` : ''}`,
  );
}

/** Run settings the gate sets itself: run names and seeds come from the suite, and it has its own results dir. */
const GATE_OWN = ['name', 'seed', 'resultsDir'];

export function registerGateCommand(program: Command): void {
  const command = program
    .command('gate')
    .description(
      'run a suite of tests against a server build and decide: exit 0 all valid, 1 any invalid, 2 some unknown',
    )
    .argument('<suite>', 'suite YAML file, e.g. suites/default.yaml')
    .option('--parallel <n>', "runs at once (default: the suite's, capped by cores and free memory)")
    .option('--results-dir <dir>', 'where the gate and its runs are stored', 'results')
    .option('--stop-on-invalid', 'start no further run after an invalid one')
    .option('--dry-run', 'validate the suite and list the runs without running them')
    .option(
      '--shard <i/n>',
      'run only shard I of N (1-based): a deterministic share of the runs, balanced by expected time; `faultline merge` joins the shards',
    );
  // Every run setting as a flag too: it overrides the suite for every test (e.g. --server debian:sid).
  addRunOptions(command, GATE_OWN).action(async (suitePath: string, flags: GateFlags) => {
    const log = new ConsoleLogger();
    const suite = loadSuite(suitePath);
    const overrides = runLayerFromCommand(command, GATE_OWN);
    // Every name of every run is resolved before anything is created: a bad test is a usage error, not a run.
    for (const run of planSuite(suite, { overrides, resultsDir: flags.resultsDir })) {
      try {
        planRun(run.config);
      } catch (err) {
        if (err instanceof UsageError)
          throw new UsageError(`suite ${suitePath}, test ${run.test}: ${err.message}`, err.fix);
        throw err;
      }
    }
    const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
    // Dry runs plan into a placeholder directory and create nothing.
    const gateDir = flags.dryRun
      ? join(flags.resultsDir, 'gates', suite.name, '<timestamp>')
      : createRunDir(join(flags.resultsDir, 'gates'), suite.name);
    const allRuns = planSuite(suite, { overrides, resultsDir: join(gateDir, 'runs') });
    const allExplores = planSuiteExplores(suite, { overrides, resultsDir: join(gateDir, 'explores') });
    // Every shard plans the whole suite, then keeps its share: the partition is the same on every machine.
    const sharding = shard ? shardGatePlan(allRuns, allExplores, shard.count) : undefined;
    const mine = <T extends PlannedRun | PlannedExplore>(entries: T[]): T[] =>
      sharding ? entries.filter((e) => sharding.shardOf(e) === shard!.index) : entries;
    const runs = mine(allRuns);
    const exploreEntries = mine(allExplores);
    const entryCount = allRuns.length + allExplores.length;
    if (shard && shard.count > entryCount)
      throw new UsageError(
        `--shard ${shardLabel(shard)}: suite ${suite.name} has only ${entryCount} runs and explores, so some shards would hold none`,
        `Use at most ${entryCount} shards.`,
      );
    const parallel = resolveParallel(flags.parallel, suite.parallel);
    const planned = runs.reduce((s, r) => s + r.config.timeLimitS, 0);
    log.info(
      `Gate ${suite.name}${shard ? ` shard ${shardLabel(shard)}` : ''}: ${runs.length}${shard ? ` of ${allRuns.length}` : ''} runs (${Math.round(planned / 60)} min of main phases)${exploreEntries.length ? ` and ${exploreEntries.length} explore${exploreEntries.length === 1 ? '' : 's'}` : ''}, ${parallel} at a time; ${gateDir}`,
    );
    if (flags.dryRun) {
      if (sharding) {
        const expected = new Array<number>(shard!.count).fill(0);
        for (const r of allRuns) expected[sharding.shardOf(r) - 1]! += expectedRunSeconds(r.config);
        for (const e of allExplores) expected[sharding.shardOf(e) - 1]! += expectedExploreSeconds(e.spec);
        log.info(`  expected seconds per shard: ${expected.map((e, i) => `${i + 1}: ${e}`).join(', ')}`);
      }
      for (const r of runs)
        log.info(
          `  ${r.test} #${r.repetition + 1}: seed ${r.seed}, ${r.config.server}, ${r.config.workload}, nemesis ${r.config.nemesis.join(',')}, ${r.config.timeLimitS} s`,
        );
      for (const e of exploreEntries)
        log.info(
          `  ${e.test} (explore): seed ${e.seed}, ${e.config.server}, budget ${e.spec.budget}${e.spec.trials !== undefined ? ` or ${e.spec.trials} trials` : ''}, ${e.spec.shrink === false ? 'no shrink' : `findings shrunk (${e.spec.replays ?? 3} replays per candidate)`}`,
        );
      return;
    }
    const startedAt = new Date();
    const abort = abortOnSignals(log);
    try {
      const records = await runBatch(
        runs.map((r) => ({ group: r.test, repetition: r.repetition, seed: r.seed, config: r.config })),
        {
          parallel,
          stopOnInvalid: flags.stopOnInvalid ?? suite.stopOnInvalid ?? false,
          abort: abort.signal,
          log,
          onDone: (record, done, total) => logRunDone(log, record, done, total),
        },
      );
      // Explore entries after the tests, one at a time, each with the gate's parallel trials. A sharded gate runs
      // those dealt to its shard: an explore is one seeded search, never split between shards.
      const explores = [];
      for (const entry of exploreEntries) {
        if (abort.signal.aborted) break;
        log.info(`Explore ${entry.test}: budget ${entry.spec.budget}, seed ${entry.seed}`);
        const dir = join(gateDir, 'explores', entry.test);
        const done = await runSuiteExplore(
          { ...entry, config: { ...entry.config, resultsDir: dir } },
          dir,
          log,
          abort.signal,
          parallel,
        );
        const c = done.record.counts;
        log.info(`Explore ${entry.test}: ${c.trials} trials, ${c.invalid} invalid, ${c.unknown} unknown`);
        explores.push(done);
      }
      const gate = {
        ...summarizeGate(suite.name, overrides.server ?? null, startedAt, records, explores),
        ...(shard && sharding
          ? {
              shard: {
                ...shard,
                plan: sharding.plan,
                overrides: { ...overrides } as Record<string, unknown>,
                harness: harnessBuild(),
                planned: sharding.planned,
                plannedExplores: sharding.plannedExplores,
                gateDir: resolve(gateDir),
              },
            }
          : {}),
      };
      writeJson(join(gateDir, GATE_JSON), gate);
      writeFileSync(join(gateDir, GATE_JUNIT), renderJUnit(gate));
      writeFileSync(join(gateDir, GATE_HTML), renderGateHtml(gate, resolve(gateDir)));
      log.info(`Gate ${suite.name}: ${gateSummaryLine(gate)}; ${(gate.durationMs / 60_000).toFixed(1)} min`);
      log.info(`Outputs: ${join(gateDir, GATE_JSON)}, ${GATE_JUNIT}, ${GATE_HTML}`);
      process.exitCode = abort.signal.aborted ? 130 : gateExitCode(gate);
    } finally {
      abort.dispose();
    }
  });
}

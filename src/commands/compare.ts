// `faultline compare`: the same seeded fault schedule against several configs or builds, N times each, side by side.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { remeasure, runBatch } from '../gate/batch.js';
import {
  buildComparison,
  planComparison,
  parseVariant,
  COMPARE_HTML,
  COMPARE_MD,
  renderCompareHtml,
  renderCompareMarkdown,
} from '../gate/compare.js';
import { derivedSeed } from '../gate/spec.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { planRun } from '../run/execute.js';
import { COMPARE_JSON, readComparison, type Comparison, type RunRecord } from '../store/gate.js';
import { createRunDir, writeJson } from '../store/index.js';
import { resolveParallel } from './gate.js';
import { addRunOptions, runLayerFromCommand } from './run-options.js';
import { abortOnSignals } from './signals.js';

interface CompareFlags {
  variant: string[];
  repetitions: string;
  seed?: string;
  name: string;
  parallel?: string;
  resultsDir: string;
  from?: string;
}

function writeComparison(dir: string, comparison: Comparison, log: Logger): void {
  writeJson(join(dir, COMPARE_JSON), comparison);
  const markdown = renderCompareMarkdown(comparison);
  writeFileSync(join(dir, COMPARE_MD), markdown);
  writeFileSync(join(dir, COMPARE_HTML), renderCompareHtml(comparison, resolve(dir)));
  process.stdout.write(markdown);
  log.info(`Outputs: ${join(dir, COMPARE_JSON)}, ${COMPARE_MD}, ${COMPARE_HTML}`);
}

/** Rebuilds a comparison's outputs from its runs on disk, with the current measures. */
async function remeasureComparison(dir: string, log: Logger): Promise<void> {
  const previous = readComparison(dir);
  const byVariant = new Map<string, RunRecord[]>();
  for (const v of previous.variants) byVariant.set(v.variant, await Promise.all(v.runs.map(remeasure)));
  const comparison = buildComparison({ ...previous, startedAtMs: Date.now() - previous.durationMs }, byVariant);
  writeComparison(dir, comparison, log);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Run settings compare sets itself: each run's name and seed, and its own results dir. */
const COMPARE_OWN = ['name', 'seed', 'resultsDir'];

export function registerCompareCommand(program: Command): void {
  const command = program
    .command('compare')
    .description(
      'run the same seeded fault schedule against several configs or builds, N times each, and compare recovery side by side',
    )
    .option(
      '--variant <settings>',
      'a config or build, as key=value,... (any setting by its YAML name, e.g. forceSync=no, tickTime=2000, server=debian:sid); repeat for each',
      collect,
      [],
    )
    .option('--from <dir>', 'measure the runs of an earlier comparison again and rewrite its outputs (no new runs)')
    .option('--repetitions <n>', 'runs per variant (repetition i has the same seed in every variant)', '3')
    .option('--seed <n>', 'seed of the first repetition (default: derived from --name)')
    .option('--name <name>', 'comparison name (results/compares/<name>/<timestamp>)', 'compare')
    .option('--parallel <n>', 'runs at once (default: what the machine holds)')
    .option('--results-dir <dir>', 'where the comparison and its runs are stored', 'results');
  // Every run setting as a flag too: the base of every variant (a variant's own settings win).
  addRunOptions(command, COMPARE_OWN).action(async (flags: CompareFlags) => {
    const log = new ConsoleLogger();
    if (flags.from) {
      await remeasureComparison(flags.from, log);
      return;
    }
    if (flags.variant.length < 2)
      throw new UsageError(
        'compare needs at least two --variant options',
        'For example --variant forceSync=yes --variant forceSync=no.',
      );
    const variants = flags.variant.map(parseVariant);
    const repetitions = Number(flags.repetitions);
    if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 100)
      throw new UsageError(
        `--repetitions must be 1 to 100, not "${flags.repetitions}"`,
        'For example --repetitions 3.',
      );
    const firstSeed = flags.seed !== undefined ? Number(flags.seed) : derivedSeed('compare', flags.name);
    if (!Number.isInteger(firstSeed) || firstSeed < 0 || firstSeed > 2 ** 31 - 1 - repetitions)
      throw new UsageError(
        `--seed must be a whole number from 0 to 2147483647, not "${flags.seed}"`,
        'For example --seed 1.',
      );
    const seeds = Array.from({ length: repetitions }, (_, i) => firstSeed + i);
    const base = runLayerFromCommand(command, COMPARE_OWN);
    // Every name of every run is resolved before anything is created.
    for (const run of planComparison(flags.name, base, variants, seeds, flags.resultsDir)) planRun(run.config);
    const dir = createRunDir(join(flags.resultsDir, 'compares'), flags.name);
    const runs = planComparison(flags.name, base, variants, seeds, join(dir, 'runs'));
    const parallel = resolveParallel(flags.parallel, undefined);
    log.info(
      `Compare ${flags.name}: ${variants.length} variants × ${repetitions} repetitions, ${parallel} at a time; ${dir}`,
    );
    const startedAtMs = Date.now();
    const abort = abortOnSignals(log);
    try {
      const records = await runBatch(runs, {
        parallel,
        abort: abort.signal,
        log,
        onDone: (r, done, total) =>
          log.info(
            `[${done}/${total}] ${r.group} #${r.repetition + 1}: ${r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown'}, elect ${r.metrics?.timeToElectMs.map((t) => Math.round(t)).join('/') ?? '?'} ms${r.error ? ` (${r.error.split('\n')[0]})` : ''}`,
          ),
      });
      const byVariant = new Map<string, RunRecord[]>(
        variants.map((v) => [v.label, records.filter((r) => r.group === v.label)]),
      );
      const comparison = buildComparison(
        {
          name: flags.name,
          startedAt: new Date(startedAtMs).toISOString(),
          startedAtMs,
          repetitions,
          seeds,
          schedule: {
            nemesis: runs[0]!.config.nemesis,
            nemesisIntervalS: runs[0]!.config.nemesisIntervalS,
            timeLimitS: runs[0]!.config.timeLimitS,
            workload: runs[0]!.config.workload,
          },
        },
        byVariant,
      );
      writeComparison(dir, comparison, log);
      process.exitCode = abort.signal.aborted ? 130 : 0;
    } finally {
      abort.dispose();
    }
  });
}

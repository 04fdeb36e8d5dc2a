// `faultline compare`: the same seeded fault schedule against several configs or builds, N times each, side by side.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { parseOrThrow, parseSettingsList, SETTING_NAMES, zooKeeperSettingsSchema } from '../settings.js';
import { createRunDir, readJson, writeJson } from '../store.js';
import { remeasure, runBatch, type BatchRun, type RunRecord } from '../gate/batch.js';
import {
  buildComparison,
  type Comparison,
  COMPARE_HTML,
  COMPARE_JSON,
  COMPARE_MD,
  renderCompareHtml,
  renderCompareMarkdown,
} from '../gate/compare.js';
import { derivedSeed, resolveSpec, SUITE_RUN_DEFAULTS } from '../gate/spec.js';
import { resolveParallel } from './gate.js';
import { abortOnSignals, type TestFlags } from './test.js';

interface CompareFlags {
  variant: string[];
  repetitions: string;
  seed?: string;
  name: string;
  server?: string;
  nodes: string;
  workload: string;
  nemesis: string;
  nemesisInterval: string;
  timeLimit: string;
  concurrency: string;
  rate: string;
  parallel?: string;
  resultsDir: string;
  from?: string;
}

/** Keys a variant may set besides ZooKeeper settings. */
const RUN_KEYS = ['server', 'nodes', 'driverConnect'] as const;

export interface Variant {
  label: string;
  server?: string;
  nodes?: 3 | 5;
  /** Issue #15: recipe workloads' Curator connect string, node or ensemble. */
  driverConnect?: 'node' | 'ensemble';
  zookeeper: Record<string, unknown>;
}

/** `forceSync=no,tickTime=2000` or `server=debian:sid`: the variant's label is the text itself. */
export function parseVariant(text: string): Variant {
  const raw = parseSettingsList(text, `--variant ${text}`);
  const variant: Variant = { label: text, zookeeper: {} };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'server') variant.server = String(value);
    else if (key === 'nodes') {
      if (value !== '3' && value !== '5')
        throw new UsageError(`--variant ${text}: nodes must be 3 or 5`, 'For example --variant nodes=5.');
      variant.nodes = Number(value) as 3 | 5;
    } else if (key === 'driverConnect') {
      if (value !== 'node' && value !== 'ensemble')
        throw new UsageError(
          `--variant ${text}: driverConnect must be node or ensemble`,
          'For example --variant driverConnect=ensemble.',
        );
      variant.driverConnect = value;
    } else variant.zookeeper[key] = value;
  }
  parseOrThrow(
    zooKeeperSettingsSchema,
    variant.zookeeper,
    `--variant ${text}`,
    `A variant sets ${[...RUN_KEYS, ...SETTING_NAMES].join(', ')} as key=value,...`,
  );
  return variant;
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
  const previous = readJson<Comparison>(join(dir, COMPARE_JSON), 'compare.json');
  const byVariant = new Map<string, RunRecord[]>();
  for (const v of previous.variants) byVariant.set(v.variant, await Promise.all(v.runs.map(remeasure)));
  const comparison = buildComparison({ ...previous, startedAtMs: Date.now() - previous.durationMs }, byVariant);
  writeComparison(dir, comparison, log);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'run the same seeded fault schedule against several configs or builds, N times each, and compare recovery side by side',
    )
    .option(
      '--variant <settings>',
      'a config or build, as key=value,... (e.g. forceSync=no, tickTime=2000, server=debian:sid); repeat for each',
      collect,
      [],
    )
    .option('--from <dir>', 'measure the runs of an earlier comparison again and rewrite its outputs (no new runs)')
    .option('--repetitions <n>', 'runs per variant (repetition i has the same seed in every variant)', '3')
    .option('--seed <n>', 'seed of the first repetition (default: derived from --name)')
    .option('--name <name>', 'comparison name (results/compares/<name>/<timestamp>)', 'compare')
    .option('--server <build>', 'server build of variants that do not set one', SUITE_RUN_DEFAULTS.server)
    .option('--nodes <n>', 'ensemble size of variants that do not set one', '3')
    .option('--workload <name>', 'workload', 'register')
    .option('--nemesis <list>', 'fault schedule, comma-separated', 'kill-leader')
    .option('--nemesis-interval <s>', 'seconds between nemesis actions', '6')
    .option('--time-limit <s>', 'main phase of each run, seconds', '36')
    .option('--concurrency <n>', 'client processes', '8')
    .option('--rate <r>', 'target ops per second', '50')
    .option('--parallel <n>', 'runs at once (default: what the machine holds)')
    .option('--results-dir <dir>', 'where the comparison and its runs are stored', 'results')
    .action(async (flags: CompareFlags) => {
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
      const seeds = Array.from({ length: repetitions }, (_, i) => firstSeed + i);
      const dir = createRunDir(join(flags.resultsDir, 'compares'), flags.name);
      const base: TestFlags = {
        ...SUITE_RUN_DEFAULTS,
        server: flags.server ?? SUITE_RUN_DEFAULTS.server,
        nodes: flags.nodes,
        workload: flags.workload,
        nemesis: flags.nemesis,
        nemesisInterval: flags.nemesisInterval,
        timeLimit: flags.timeLimit,
        concurrency: flags.concurrency,
        rate: flags.rate,
        resultsDir: join(dir, 'runs'),
      };
      // Interleave variants within a repetition, so a slow patch of the machine hits every variant alike.
      const runs: BatchRun[] = [];
      for (const [repetition, seed] of seeds.entries()) {
        for (const [i, v] of variants.entries()) {
          const config = resolveSpec(
            base,
            [
              {
                ...(v.server ? { server: v.server } : {}),
                ...(v.nodes ? { nodes: v.nodes } : {}),
                ...(v.driverConnect ? { driverConnect: v.driverConnect } : {}),
                zookeeper: zooKeeperSettingsSchema.parse(v.zookeeper),
              },
            ],
            { seed, name: `${flags.name}.v${i + 1}` },
          );
          runs.push({ group: v.label, repetition, seed, config });
        }
      }
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
              workload: flags.workload,
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

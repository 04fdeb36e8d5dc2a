// `faultline explore`: trials back to back until a budget or the first invalid one; a live table, explore.json and
// explore.html, each finding shrunk. Exit codes as gate: 0 no invalid trial, 1 one or more, 2 unknowns only.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { prepareEnvironment } from '../../docker/environment.js';
import { resolveRunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { exploreExitCode, realTrialRunner, runExplore } from '../explore/explore.js';
import { DEFAULT_FEEDBACK_SHARE, guideFor, parseFeedbackShare } from '../explore/guide.js';
import { renderExploreHtml } from '../explore/html.js';
import { shrinkRun } from '../explore/shrink-run.js';
import { spaceFrom } from '../explore/space.js';
import { parseDuration } from '../explore/trials.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { EXPLORE_HTML, EXPLORE_JSON } from '../store/explore.js';
import { createRunDir, writeJson } from '../store/index.js';
import { createEnsemblePool } from '../run/pool.js';
import { resolveParallel } from './gate.js';
import { parseShard, planDigest, portableConfig } from '../gate/shard.js';
import { harnessBuild } from '../harness-build.js';
import { addRunOptions, runLayerFromCommand } from './run-options.js';
import { abortOnSignals } from './signals.js';
import { renderExploreTable, LiveTable } from './explore-table.js';

interface ExploreFlags {
  budget?: string;
  trials?: string;
  keepGoing?: boolean;
  parallel?: string;
  workloads?: string;
  mixes?: string;
  sizes?: string;
  profiles?: string;
  feedback: string;
  shrink: boolean;
  replays: string;
  against?: string;
  exploreSeed?: string;
  shard?: string;
  resultsDir: string;
}

/** Settings explore chooses per trial (or owns), so they are not flags here. */
const EXPLORE_OWN = ['name', 'seed', 'resultsDir', 'workload', 'nemesis', 'nodes', 'scenario'];

export function registerExploreCommand(program: Command): void {
  const command = program
    .command('explore')
    .description(
      'run trials (random workloads, fault mixes, 3 or 5 nodes) until a budget or the first invalid one; shrink each finding',
    )
    .option('--budget <duration>', 'stop starting trials after this long (30m, 1h, 90s)')
    .option('--trials <n>', 'stop after this many trials')
    .option('--keep-going', 'go on after an invalid trial')
    .option('--parallel <n>', 'trials at once (default: what the machine holds: one per core, capped by free memory)')
    .option(
      '--workloads <list>',
      'workloads and weights, e.g. register=2,set=1 (default: register, set, multi-register, queue, bank alike)',
    )
    .option(
      '--mixes <list>',
      'fault mixes and weights: composed, composed-brisk (its own gap, hold and quiet ranges), kill+partition, pause+partition, kill+pause, crash+packet, kill+pause+partition+packet, or faults joined by + (default: composed and composed-brisk alike)',
    )
    .option('--sizes <list>', 'ensemble sizes and weights, e.g. 3=2,5=1 (default: 3 and 5 alike)')
    .option(
      '--profiles <list>',
      "server settings profiles and weights: default (the run's settings), snapshot-heavy (snapCount 100), e.g. default,snapshot-heavy (default: the run's settings only)",
    )
    .option(
      '--feedback <share>',
      "the share of trials that mutate the schedule of a trial whose servers reached new protocol states (DIFF, SNAP, TRUNC syncs, elections, from the servers' logs); 0: every trial a fresh draw, coverage only recorded",
      String(DEFAULT_FEEDBACK_SHARE),
    )
    .option('--no-shrink', 'do not shrink findings')
    .option('--replays <k>', 'shrink: replays per candidate, all of which must fail', '3')
    .option('--against <build>', 'shrink: also replay each minimal scenario on this build')
    .option('--explore-seed <n>', 'the seed every trial seed derives from (default: random)')
    .option(
      '--shard <I/N>',
      'run shard I of N (trials I-1, I-1+N, ...; needs --explore-seed); `faultline merge` joins the shards',
    )
    .option('--results-dir <dir>', 'where the explore and its runs are stored', 'results');
  addRunOptions(command, EXPLORE_OWN).action(async (flags: ExploreFlags) => {
    const log = new ConsoleLogger();
    const overrides = runLayerFromCommand(command, EXPLORE_OWN);
    const base = resolveRunConfig(overrides);
    const space = spaceFrom(flags);
    const budgetS = flags.budget ? parseDuration(flags.budget, '--budget') : undefined;
    const trials = flags.trials !== undefined ? Number(flags.trials) : undefined;
    if (trials !== undefined && (!Number.isInteger(trials) || trials < 1))
      throw new UsageError(
        `--trials must be a whole number above 0, not "${flags.trials}"`,
        'For example --trials 10.',
      );
    const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
    if (shard && flags.exploreSeed === undefined)
      throw new UsageError(
        '--shard needs --explore-seed: every shard must draw from the same sequence of trials',
        `For example --explore-seed 42 --shard ${flags.shard} on every machine.`,
      );
    const seed = flags.exploreSeed !== undefined ? Number(flags.exploreSeed) : randomBytes(4).readUInt32BE() >>> 1;
    // As gate does: a lone explore uses the machine (two trials at once here, on 2 cores).
    const parallel = resolveParallel(flags.parallel, undefined);
    const share = parseFeedbackShare(flags.feedback, '--feedback');
    const dir = createRunDir(join(flags.resultsDir, 'explores'), 'explore');
    log.info(
      `Explore ${base.server}, seed ${seed}: ${budgetS ? `${budgetS} s` : ''}${budgetS && trials ? ' or ' : ''}${trials ? `${trials} trials` : ''}${!budgetS && !trials ? 'until the first invalid trial' : ''}, ${parallel} at a time; ${dir}`,
    );
    const abort = abortOnSignals(log);
    const quiet: Logger = { info: () => {}, debug: () => {}, status: () => {}, warn: (m) => log.warn(m) };
    const table = new LiveTable();
    // Engine and image checked once; containers reused between trials of one size (an idle ensemble per size and
    // parallel trial), stopped when a trial ends, reset and checked clean before the next.
    const pool = createEnsemblePool({ keep: parallel * 2 });
    try {
      const environment = await prepareEnvironment(base.server, log, abort.signal);
      const record = await runExplore(
        {
          seed,
          server: base.server,
          space,
          ...(budgetS !== undefined ? { budgetS } : {}),
          ...(trials !== undefined ? { trials } : {}),
          keepGoing: flags.keepGoing ?? false,
          parallel,
          abort: abort.signal,
          ...guideFor(seed, space, share),
          ...(shard ? { shard } : {}),
          onUpdate: (r, running) => table.update(renderExploreTable(r, running)),
        },
        realTrialRunner(base, dir, quiet, abort.signal, { environment, pool }),
        flags.shrink
          ? (trial) =>
              shrinkRun(trial.runDir!, {
                replays: Number(flags.replays),
                rateReplays: 10,
                // The explore has stopped starting trials unless it keeps going: its slots are the shrink's.
                parallel: flags.keepGoing ? 1 : parallel,
                ...(flags.against ? { against: flags.against } : {}),
                log: quiet,
                abort: abort.signal,
              })
          : null,
      );
      if (shard)
        record.shard = {
          ...shard,
          plan: planDigest([
            { seed, space, budgetS, trials, keepGoing: flags.keepGoing ?? false, share },
            portableConfig(base),
          ]),
          harness: harnessBuild(),
          exploreDir: resolve(dir),
        };
      table.done(renderExploreTable(record, []));
      writeJson(join(dir, EXPLORE_JSON), record);
      writeFileSync(join(dir, EXPLORE_HTML), renderExploreHtml(record, resolve(dir)));
      const c = record.counts;
      log.info(
        `Explore: ${c.trials} trials, ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown in ${(record.durationMs / 60_000).toFixed(1)} min (${record.trialsPerHour}/h); first failure: ${record.timeToFirstFailureMs === null ? 'none' : `${Math.round(record.timeToFirstFailureMs / 1000)} s`}`,
      );
      if (record.aborted && !abort.signal.aborted) log.warn(`Explore stopped early: ${record.aborted}`);
      for (const f of record.findings)
        log.info(
          `  trial ${f.trial}: ${f.runDir}${f.shrink ? `; shrunk: ${f.shrink.scenario} (${f.shrink.steps} steps)` : ''}`,
        );
      log.info(`Outputs: ${join(dir, EXPLORE_JSON)}, ${EXPLORE_HTML}`);
      process.exitCode = abort.signal.aborted ? 130 : exploreExitCode(record);
    } finally {
      await pool.close().catch((err: Error) => log.warn(err.message));
      abort.dispose();
    }
  });
}

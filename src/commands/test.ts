// `faultline test`: one run, end to end, with its verdict as the exit code.
import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_NEMESIS, FAULT_CATALOGUE, familyHealers, resolveFaults } from '../../nemesis/index.js';
import { loadScenario, randomSchedule, scenarioSchedule } from '../schedule.js';
import { DRIVER_WORKLOADS, resolveWorkload, WORKLOADS } from '../../workloads/index.js';
import { driverImageName, ensureDriverImage } from '../../docker/driver.js';
import { DEFAULT_SERVER } from '../../docker/image.js';
import { DEFAULT_CLIENT_OPTIONS } from '../client.js';
import { DockerCluster } from '../cluster.js';
import { describeCheckerResult } from '../checker.js';
import { exitCodeForVerdict, UsageError } from '../errors.js';
import { ConsoleLogger, FileLogger, type Logger } from '../log.js';
import { runTest, type RunOutcome, type Test } from '../runner.js';
import { createRunDir, HARNESS_LOG, HISTORY_FILE, readJson, RESULTS_FILE, TEST_FILE, writeJson } from '../store.js';
import { DEFAULT_ZOOKEEPER_CONFIG, ZooKeeperDb } from '../zookeeper.js';
import { prepareEnvironment } from './setup.js';
import { addZooKeeperOptions, settingsFromFlags, toZooKeeperConfig, type ZooKeeperFlags } from '../settings.js';
import { checkObservers, resolveTestFile } from '../gate/spec.js';
import { writeReport } from '../report/index.js';
import { BACKUP_DAMAGE, parseDrOption, withDisasterRecovery } from '../dr.js';

const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

/** The resolved configuration of a run, as written to test.json. */
export const testConfigSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'name may hold letters, digits, ".", "_" and "-" only'),
  server: z.string(),
  nodes: z.union([z.literal(3), z.literal(5)], { error: 'nodes must be 3 or 5' }),
  timeLimitS: int('time-limit', 1, 86_400),
  concurrency: int('concurrency', 1, 1000),
  rate: z.coerce.number({ error: 'rate must be a number' }).positive('rate must be above 0'),
  seed: int('seed', 0, 2 ** 31 - 1),
  nemesis: z.array(z.string()).min(1),
  nemesisIntervalS: z.coerce.number().positive('nemesis-interval must be above 0'),
  /** A YAML scenario file; when given it replaces the random schedule of --nemesis. */
  scenario: z.string().optional(),
  workload: z.string(),
  readMode: z.enum(['sync', 'plain', 'none'], { error: 'read-mode must be sync, plain or none' }),
  // --- Run settings added with the Curator driver (issue #15); the lead moves them into src/config.ts. ---
  /** Recipe workloads: each Curator client on its worker's node (node) or on the whole ensemble (ensemble). */
  driverConnect: z.enum(['node', 'ensemble'], { error: 'driver-connect must be node or ensemble' }).default('node'),
  // --- end of issue #15 settings ---
  resultsDir: z.string(),
  zookeeper: z.object({
    tickTime: int('tick-time', 100, 60_000),
    initLimit: int('init-limit', 1, 1000),
    syncLimit: int('sync-limit', 1, 1000),
    heapMb: int('heap', 64, 65_536),
    extra: z.record(z.string(), z.string()),
    observers: int('observers', 0, 2).optional(),
    jvmProperties: z.record(z.string(), z.string()).optional(),
  }),
  client: z.object({ sessionTimeoutMs: z.number(), connectTimeoutMs: z.number(), opTimeoutMs: z.number() }),
  recoveryTimeoutS: int('recovery-timeout', 5, 3600),
  /** The disaster-recovery scenario (--dr): backups under load, then disaster and restores. */
  dr: z.object({ damage: z.array(z.enum(BACKUP_DAMAGE)), seedOne: z.boolean() }).optional(),
});

export type TestConfig = z.infer<typeof testConfigSchema>;

export interface TestFlags extends ZooKeeperFlags {
  name: string;
  server: string;
  nodes: string;
  timeLimit: string;
  concurrency: string;
  rate: string;
  seed?: string;
  nemesis: string;
  nemesisInterval: string;
  scenario?: string;
  workload: string;
  readMode: string;
  /** Issue #15: recipe workloads' Curator connect string (node or ensemble). */
  driverConnect?: string;
  resultsDir: string;
  tickTime: string;
  syncLimit: string;
  opTimeout: string;
  dr?: string | boolean;
}

export function resolveTestConfig(flags: TestFlags): TestConfig {
  const raw = {
    name: flags.name,
    server: flags.server,
    nodes: Number(flags.nodes),
    timeLimitS: flags.timeLimit,
    concurrency: flags.concurrency,
    rate: flags.rate,
    seed: flags.seed ?? randomBytes(4).readUInt32BE() >>> 1,
    nemesis: flags.nemesis
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    nemesisIntervalS: flags.nemesisInterval,
    ...(flags.scenario ? { scenario: flags.scenario } : {}),
    workload: flags.workload,
    readMode: flags.readMode,
    ...(flags.driverConnect !== undefined ? { driverConnect: flags.driverConnect } : {}),
    resultsDir: flags.resultsDir,
    zookeeper: toZooKeeperConfig(settingsFromFlags(flags)),
    client: { ...DEFAULT_CLIENT_OPTIONS, opTimeoutMs: Number(flags.opTimeout) * 1000 },
    recoveryTimeoutS: 120,
    ...(flags.dr !== undefined ? { dr: parseDrOption(flags.dr, flags.workload) } : {}),
  };
  const parsed = testConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`bad option: ${issue.message}`, 'Run `faultline test --help` for the accepted values.');
  }
  if (!Number.isFinite(parsed.data.client.opTimeoutMs) || parsed.data.client.opTimeoutMs <= 0) {
    throw new UsageError('bad option: op-timeout must be a positive number of seconds', 'For example --op-timeout 5.');
  }
  return checkObservers(parsed.data);
}

/** Runs a resolved test config: environment, run dir, run, verdict files. Returns the outcome and the run dir. */
export async function executeTest(
  config: TestConfig,
  terminal: Logger,
  abort: AbortSignal,
): Promise<{ outcome: RunOutcome; runDir: string; runId: string }> {
  // Resolve names first, so a typo fails before a minute of image building.
  // --nemesis also takes a scenario file in place of a fault list.
  const scenarioPath =
    config.scenario ??
    (config.nemesis.length === 1 && /\.ya?ml$/i.test(config.nemesis[0]!) ? config.nemesis[0] : undefined);
  const faults = scenarioPath ? [] : resolveFaults(config.nemesis);
  const scenario = scenarioPath ? loadScenario(scenarioPath, FAULT_CATALOGUE) : undefined;
  const workload = resolveWorkload(
    config.workload,
    {
      readMode: config.readMode,
      driverConnect: config.driverConnect,
      ...(DRIVER_WORKLOADS.has(config.workload) ? { driverImage: driverImageName() } : {}),
    },
    config.client,
  );
  const env = await prepareEnvironment(config.server, terminal);
  if (DRIVER_WORKLOADS.has(config.workload)) await ensureDriverImage(env.docker, terminal);
  const runDir = createRunDir(config.resultsDir, config.name);
  if (scenarioPath) copyFileSync(scenarioPath, join(runDir, 'scenario.yaml'));
  const log = new FileLogger(terminal, join(runDir, HARNESS_LOG));
  const runId = `${config.name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 20)}-${randomBytes(3).toString('hex')}`;
  writeJson(join(runDir, TEST_FILE), {
    ...config,
    runId,
    image: env.image,
    startedAt: new Date().toISOString(),
    command: process.argv.slice(2),
  });
  log.info(`Run ${runId}: ${runDir}`);

  const cluster = new DockerCluster(
    env.docker,
    { runId, testName: config.name, runDir, image: env.image.name, nodeCount: config.nodes },
    log,
  );
  const baseTest: Test = {
    name: config.name,
    seed: config.seed,
    timeLimitS: config.timeLimitS,
    concurrency: config.concurrency,
    rate: config.rate,
    nemesisIntervalS: config.nemesisIntervalS,
    opTimeoutMs: config.client.opTimeoutMs,
    recoveryTimeoutS: config.recoveryTimeoutS,
    cluster,
    db: new ZooKeeperDb(cluster, config.zookeeper, log),
    workload,
    // Every family is healed before and after the run, whichever faults the schedule uses.
    faults: familyHealers(),
    schedule: scenario ? scenarioSchedule(scenario) : randomSchedule(faults, config.seed, config.nemesisIntervalS),
    historyPath: join(runDir, HISTORY_FILE),
    runDir,
  };
  const test = config.dr
    ? withDisasterRecovery(
        baseTest,
        {
          docker: env.docker,
          image: env.image.name,
          runId,
          testName: config.name,
          runDir,
          nodeCount: config.nodes,
          zookeeper: config.zookeeper,
          seed: config.seed,
          abort,
        },
        config.dr,
      )
    : baseTest;
  try {
    const outcome = await runTest(test, log, abort);
    // The version the servers report, not the one the build promised: recorded with the config too.
    const server = {
      build: config.server,
      image: env.image.name,
      version: outcome.serverVersions ? summarizeVersions(outcome.serverVersions) : null,
      versions: outcome.serverVersions ?? {},
    };
    writeJson(join(runDir, TEST_FILE), {
      ...readJson<Record<string, unknown>>(join(runDir, TEST_FILE), 'test.json'),
      serverVersion: server.version,
    });
    writeJson(join(runDir, RESULTS_FILE), {
      valid: outcome.valid,
      server,
      checkers: outcome.checkers,
      stats: outcome.stats,
      leaders: outcome.leaders,
      leaderChanges: outcome.leaderChanges,
      recovery: outcome.recovery ?? null,
      ...(outcome.aborted ? { aborted: outcome.aborted } : {}),
    });
    await writeReport(runDir).catch((err: Error) =>
      log.warn(
        `report.html not written: ${err.message} (the verdict stands; retry with \`faultline report ${runDir}\`)`,
      ),
    );
    return { outcome, runDir, runId };
  } finally {
    // Containers, network, and with them every iptables rule: gone whatever happened.
    await cluster
      .teardown()
      .catch((err: Error) => log.warn(`teardown failed: ${err.message}; run \`faultline clean --run ${runId}\``));
    log.info(`Removed the containers and network of run ${runId}.`);
  }
}

/** One version when every node reports the same one (they should), else each distinct one. */
export function summarizeVersions(versions: Record<string, string>): string {
  return [...new Set(Object.values(versions))].sort().join(' / ');
}

/**
 * Turns SIGINT/SIGTERM, and an error thrown outside the run's own control flow, into an abort, so the run
 * still heals and removes its containers. A second signal exits at once (then `faultline clean` cleans up).
 */
export function abortOnSignals(log: Logger): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      log.warn(`${sig} again: exiting now; run \`faultline clean\` to remove what is left.`);
      process.exit(130);
    }
    log.warn(`${sig}: stopping the run, healing and removing its containers (press Ctrl-C again to exit at once)...`);
    controller.abort(sig);
  };
  const crash = (err: unknown): void => {
    log.warn(
      `harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}; stopping the run and cleaning up...`,
    );
    process.exitCode = 3;
    if (!controller.signal.aborted)
      controller.abort(`harness error: ${err instanceof Error ? err.message : String(err)}`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('uncaughtException', crash);
      process.off('unhandledRejection', crash);
    },
  };
}

export function printVerdict(log: Logger, outcome: RunOutcome, runDir: string): void {
  const verdict = outcome.valid === true ? 'VALID' : outcome.valid === false ? 'INVALID' : 'UNKNOWN';
  const s = outcome.stats;
  log.info('');
  log.info(
    `ops: ${s.ok} ok, ${s.fail} fail, ${s.info} info; nemesis actions: ${s.nemesis}; leaders: ${outcome.leaders.join(' → ') || 'unknown'}`,
  );
  for (const [name, result] of Object.entries(outcome.checkers)) {
    log.info(`  ${describeCheckerResult(name, result)}`);
  }
  log.info(`Verdict: ${verdict}${outcome.aborted ? ` (aborted: ${outcome.aborted})` : ''}`);
  log.info(`Results: ${runDir}`);
}

export function registerTestCommand(program: Command): void {
  addZooKeeperOptions(program.command('test'))
    .description('run a ZooKeeper ensemble under faults with a concurrent workload, then check the history')
    .option('--name <name>', 'test name (results/<name>/<timestamp>)', 'register')
    .option('--server <build>', 'server build', DEFAULT_SERVER)
    .option('--nodes <n>', 'ensemble size: 3 or 5', '3')
    .option('--time-limit <s>', 'length of the main phase, seconds', '60')
    .option('--concurrency <n>', 'client processes', '10')
    .option('--rate <r>', 'target ops per second over all processes', '50')
    .option('--seed <n>', 'random seed (default: random, recorded in test.json)')
    .option(
      '--nemesis <list>',
      'faults (names, families such as kill, or family:option such as kill:follower), comma-separated, or none, on a seeded random schedule; or a scenario file (.yaml)',
      DEFAULT_NEMESIS.join(','),
    )
    .option(
      '--scenario <file>',
      'a YAML scenario of timed fault steps, instead of --nemesis (example: nemesis/scenarios/lagging-follower.yaml)',
    )
    .option('--nemesis-interval <s>', 'seconds between nemesis actions', '10')
    .option('--workload <name>', `workload: ${Object.keys(WORKLOADS).join(', ')}`, 'register')
    .option('--read-mode <mode>', 'register reads: sync (sync then get), plain (get only) or none', 'sync')
    .option(
      '--driver-connect <mode>',
      "recipe workloads (lock, election): each Curator client on its worker's node (node) or the whole ensemble (ensemble)",
      'node',
    )
    .option('--tick-time <ms>', 'ZooKeeper tickTime', String(DEFAULT_ZOOKEEPER_CONFIG.tickTime))
    .option('--sync-limit <ticks>', 'ZooKeeper syncLimit', String(DEFAULT_ZOOKEEPER_CONFIG.syncLimit))
    .option(
      '--op-timeout <s>',
      'seconds before an op is given up as unknown (info)',
      String(DEFAULT_CLIENT_OPTIONS.opTimeoutMs / 1000),
    )
    .option(
      '--dr [damage]',
      "disaster recovery (set workload): back up a node's data dir live and stopped under load, destroy the ensemble, restore each backup into a fresh one and check it; optional damaged copies to restore too: truncate-log, flip-log, flip-snapshot, drop-logs (comma-separated)",
    )
    .option('--results-dir <dir>', 'where runs are stored', 'results')
    .option('--file <yaml>', 'a YAML test file (fields as in a suite test); flags given here win over it')
    .action(async (flags: TestFlags & { file?: string }, command: Command) => {
      const config = flags.file
        ? resolveTestFile(flags.file, flags, (key) => command.getOptionValueSource(key) === 'cli')
        : resolveTestConfig(flags);
      const log = new ConsoleLogger();
      const abort = abortOnSignals(log);
      try {
        const { outcome, runDir } = await executeTest(config, log, abort.signal);
        printVerdict(log, outcome, runDir);
        process.exitCode = outcome.aborted
          ? String(outcome.aborted).startsWith('SIG')
            ? 130
            : 3
          : exitCodeForVerdict(outcome.valid);
      } finally {
        abort.dispose();
      }
    });
}

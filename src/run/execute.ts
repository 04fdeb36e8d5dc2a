// Assembling and running one test from its config: the core service every command (test, gate, compare) and the
// tests use. Names are resolved before anything starts, so a typo fails before a minute of image building; then
// the environment, the run directory, the run itself, and the store files (test.json, results.json, report).
import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareEnvironment, type Environment } from '../../docker/environment.js';
import { composedFamilies, FAULT_CATALOGUE, FAULTS, familyHealers, resolveFaults } from '../../nemesis/index.js';
import { composedSchedule, minorityOf, type ComposedFamily, type ComposedParts } from '../composed.js';
import { mountsPowerLoss, schedulesPowerLoss } from '../../nemesis/power-loss/faults.js';
import { ensurePowerLossPackages, PowerLossFilesystems, powerLossBinary } from '../../nemesis/power-loss/fs.js';
import { DRIVER_WORKLOADS, resolveWorkload } from '../../workloads/index.js';
import { driverImageName, ensureDriverImage } from '../../docker/driver.js';
import { configConvergenceChecker } from '../checkers/membership.js';
import { recoveryChecker } from '../checkers/recovery.js';
import { serverLogChecker } from '../checkers/server-log.js';
import type { Checker } from '../checker.js';
import { DEFAULT_LOG_PATTERNS, parseLogPattern, type LogPattern } from '../server-logs.js';
import { scanRunLogs, writeServerLogs } from '../store/server-logs.js';
import type { ClientOptions } from '../client.js';
import { DockerCluster } from '../cluster.js';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { withDisasterRecovery } from '../dr/index.js';
import { FileLogger, type Logger } from '../log.js';
import { paramProblems, type Fault } from '../nemesis.js';
import { writeReport } from '../report/index.js';
import { runTest, type RunOutcome, type Test } from '../runner.js';
import { loadScenario, randomSchedule, scenarioSchedule, type Scenario } from '../schedule.js';
import { STORE_FORMAT, type Results, type TestRecord } from '../store/format.js';
import { REUSE_FILE, REUSE_FORMAT, TIMINGS_FILE, type PhaseTimings, type ReuseRecord } from '../store/reuse.js';
import type { EnsemblePool } from './pool.js';
import {
  createRunDir,
  RESULTS_RESERVE,
  RESULTS_RESERVE_BYTES,
  ensureResultsDir,
  HARNESS_LOG,
  HISTORY_FILE,
  RESULTS_FILE,
  TEST_FILE,
  writeJson,
} from '../store/index.js';
import type { Workload } from '../workload.js';
import { ZooKeeperDb, zooKeeperConfigOf } from '../zookeeper.js';
import { AbortedError } from '../time.js';

/** The client options a config asks for. */
export function clientOptionsOf(config: RunConfig): ClientOptions {
  return {
    sessionTimeoutMs: config.sessionTimeoutS * 1000,
    connectTimeoutMs: 3000,
    opTimeoutMs: config.opTimeoutS * 1000,
  };
}

/** The workload a config names, with its options (recipe workloads run Curator in the driver's image). */
export function workloadOf(config: RunConfig): Workload {
  return resolveWorkload(
    config.workload,
    {
      readMode: config.readMode,
      driverConnect: config.driverConnect,
      ...(DRIVER_WORKLOADS.has(config.workload) ? { driverImage: driverImageName() } : {}),
    },
    clientOptionsOf(config),
  );
}

/** The log oracle's patterns for a config: ZooKeeper's signs of trouble and the test's own (a bad one is refused). */
export function logPatternsOf(config: RunConfig): LogPattern[] {
  const own = config.logPatterns.map((spec) => {
    const pattern = parseLogPattern(spec);
    if (typeof pattern === 'string')
      throw new UsageError(
        `--log-pattern: ${pattern}`,
        'Give name=regex (invalid when a server logs it) or name~regex (advisory), e.g. oom=OutOfMemoryError.',
      );
    return pattern;
  });
  return [...own, ...DEFAULT_LOG_PATTERNS];
}

/** The checkers every run of a config gets beside its workload's: the log and restart oracles. */
export function runCheckersOf(config: RunConfig): Record<string, Checker> {
  return { 'server-log': serverLogChecker(logPatternsOf(config)), recovery: recoveryChecker };
}

/** What a config names, resolved: the faults or the scenario, and the workload. */
export interface RunParts {
  faults: Fault[];
  /** --nemesis composed: the families it draws from (`faults` then holds every fault they may start). */
  composed?: ComposedFamily[];
  scenario?: Scenario;
  scenarioPath?: string;
  workload: Workload;
}

/**
 * Resolves every name in a config (faults, scenario, workload) without starting anything; an unknown or
 * impossible one is a UsageError. `gate --dry-run` runs this for every planned run.
 */
export function resolveRunParts(config: RunConfig): RunParts {
  // --nemesis also takes a scenario file in place of a fault list.
  const only = config.nemesis.length === 1 ? config.nemesis[0] : undefined;
  const scenarioPath = config.scenario ?? (only !== undefined && /\.ya?ml$/i.test(only) ? only : undefined);
  const workload = workloadOf(config);
  const nodes = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
  if (scenarioPath) {
    const scenario = loadScenario(scenarioPath, FAULT_CATALOGUE);
    checkScenarioNodes(scenario, nodes);
    return { faults: [], scenario, scenarioPath, workload };
  }
  if (only === 'composed') {
    const composed = composedFamilies(config.composedFamilies);
    const faults = [...new Set(composed.flatMap((f) => f.faults))].map((name) => FAULTS[name]!);
    return { faults, composed, workload };
  }
  const faults = resolveFaults(config.nemesis);
  for (const fault of faults) {
    const aimed = fault.defaultTarget;
    const missing = typeof aimed === 'object' ? aimed.nodes.filter((n) => !nodes.includes(n)) : [];
    if (missing.length)
      throw new UsageError(
        `--nemesis ${fault.name}: this ensemble of ${config.nodes} nodes has no ${missing.join(', ')}`,
        `Aim at ${nodes.join(', ')} (or a role such as follower), or run more nodes (--nodes 5).`,
      );
  }
  return { faults, workload };
}

/** The composed schedule's parts from a config: its rules from the settings table, its faults by name. */
export function composedPartsOf(config: RunConfig, families: readonly ComposedFamily[]): ComposedParts {
  return {
    seed: config.seed,
    nodeCount: config.nodes,
    families,
    durationS: config.timeLimitS,
    maxFaulty: Math.min(config.composedMaxFaulty ?? minorityOf(config.nodes), config.nodes),
    majoritySpellS: config.composedMajorityS,
    holdS: config.composedHoldS,
    quietS: config.composedQuietS,
    gapS: config.composedGapS,
    earlyHeals: config.composedEarlyHeals,
    faults: new Map(families.flatMap((f) => f.faults).map((name) => [name, FAULTS[name]!])),
  };
}

/** A scenario's node names (targets, params, wait-for nodes) must be nodes of the ensemble that will run it. */
function checkScenarioNodes(scenario: Scenario, nodes: readonly string[]): void {
  const fix = `This ensemble has ${nodes.join(', ')}: aim at those, or at a role (leader, follower, one...).`;
  const named = (text: string | undefined): string[] =>
    text !== undefined && /^n\d+(\+n\d+)*$/.test(text) ? text.split('+').filter((n) => !nodes.includes(n)) : [];
  for (const step of scenario.steps) {
    const target = step.kind === 'fault' ? step.target : step.kind === 'wait-for' ? step.node : undefined;
    const missing = named(target);
    if (missing.length)
      throw new UsageError(`bad scenario ${step.where}: no node ${missing.join(', ')} in this ensemble`, fix);
    if (step.kind === 'fault' && step.params) {
      const problems = paramProblems(step.fault, step.params, nodes);
      if (problems.length) throw new UsageError(`bad scenario ${step.where}: ${problems.join('; ')}`, fix);
    }
  }
}

/** Client faults (pause-client) act on the Curator driver's JVMs: a workload without them cannot be given one. */
function checkClientFaults(config: RunConfig, parts: RunParts): void {
  const faults = parts.scenario
    ? parts.scenario.steps.flatMap((s) => (s.kind === 'fault' ? [s.fault] : []))
    : parts.faults;
  const clientFaults = [...new Set(faults.filter((f) => f.targetsClients).map((f) => f.name))];
  if (clientFaults.length && !DRIVER_WORKLOADS.has(config.workload))
    throw new UsageError(
      `${clientFaults.join(', ')} pauses a Curator driver JVM, and the ${config.workload} workload runs none`,
      `Use it with a recipe workload (${[...DRIVER_WORKLOADS].join(', ')}), or leave it out.`,
    );
}

/** The fault families a run's schedule uses. */
function familiesOf(parts: RunParts): Set<string> {
  return new Set(
    parts.scenario
      ? parts.scenario.steps.flatMap((s) => (s.kind === 'fault' ? [s.fault.family] : []))
      : parts.faults.map((f) => f.family),
  );
}

/**
 * The servers must start ready for the fault families a run uses: libfaketime preloaded for clock faults (the wall
 * clock only, unless the run says all), reconfig enabled for membership faults. Applied before test.json is
 * written, so the record says how the servers really ran.
 */
export function withFaultFamilySettings(config: RunConfig, parts: RunParts): RunConfig {
  const families = familiesOf(parts);
  const zookeeper = { ...config.zookeeper };
  if (families.has('clock') && !zookeeper.fakeClock) zookeeper.fakeClock = 'wall';
  if (families.has('membership')) {
    if (zookeeper.reconfig === false)
      throw new UsageError(
        'membership faults need reconfig, and this run sets reconfig=no',
        'Drop reconfig=no (membership faults turn it on), or the membership faults.',
      );
    zookeeper.reconfig = true;
  }
  return { ...config, zookeeper };
}

/**
 * A config as it will run, and its parts: every name resolved and checked against the ensemble, the settings its
 * fault families need applied, and the checkers its settings call for added. Nothing starts: `test --dry-run`, gate
 * and compare validate every run with this before the first begins.
 */
export function planRun(requested: RunConfig): { config: RunConfig; parts: RunParts } {
  const resolved = resolveRunParts(requested);
  checkClientFaults(requested, resolved);
  const config = withFaultFamilySettings(requested, resolved);
  if (config.powerLossFs === 'off' && schedulesPowerLoss(resolved.faults, resolved.scenario))
    throw new UsageError(
      'the schedule cuts power, but the power-loss filesystem is off (--power-loss-fs off)',
      'Use --power-loss-fs auto (the default) or on, or leave the power-loss faults out.',
    );
  // A reconfig-enabled ensemble's configuration is checked after recovery too; every run's logs and restarts.
  const parts: RunParts = {
    ...resolved,
    workload: {
      ...resolved.workload,
      checkers: {
        ...resolved.workload.checkers,
        ...(config.zookeeper.reconfig ? { 'config-convergence': configConvergenceChecker } : {}),
        ...runCheckersOf(config),
      },
    },
  };
  return { config, parts };
}

/** Summarises the versions the nodes report: one when they agree (they should), else each distinct one. */
export function summarizeVersions(versions: Record<string, string>): string {
  return [...new Set(Object.values(versions))].sort().join(' / ');
}

export interface ExecutedRun {
  outcome: RunOutcome;
  runDir: string;
  runId: string;
  /** Wall-clock ms of each phase, as timings.json has them. */
  phases: PhaseTimings;
}

/** Why a run cannot take its containers from a pool, if it cannot: it changes them in ways a reset cannot undo. */
export function poolRefusal(config: RunConfig, mountsPowerLossFs: boolean): string | undefined {
  if (mountsPowerLossFs) return 'the power-loss filesystem is mounted under each node before its container exists';
  if (config.zookeeper.reconfig) return 'membership changes add and remove node containers';
  if (config.dr) return 'disaster recovery builds ensembles of its own';
  return undefined;
}

export interface ExecuteOptions {
  /** The command line that started the run, for test.json (runs started from code have none). */
  command?: readonly string[];
  /** An environment already prepared (a batch of runs prepares it once). */
  environment?: Environment;
  /**
   * Run on a pooled ensemble (src/run/pool.ts) when the run allows it: an idle one of the same image and size, reset
   * and checked clean, or new containers the pool keeps for the next run. reuse.json says which, and the check.
   */
  pool?: EnsemblePool;
}

/** Runs a resolved config: environment, run directory, the run, and the verdict files; containers removed after. */
export async function executeTest(
  requested: RunConfig,
  terminal: Logger,
  abort: AbortSignal,
  options: ExecuteOptions = {},
): Promise<ExecutedRun> {
  const { config, parts } = planRun(requested);
  // Before the engine, the image and the ensemble: a results directory that cannot be written is a usage error now.
  ensureResultsDir(config.resultsDir);
  const mountPowerLoss = mountsPowerLoss(config.powerLossFs, parts.faults, parts.scenario);
  if (mountPowerLoss) {
    // Installed and built now, so a missing package shows before a minute of image building.
    await ensurePowerLossPackages(terminal);
    await powerLossBinary();
  }
  const env = options.environment ?? (await prepareEnvironment(config.server, terminal, abort));
  if (DRIVER_WORKLOADS.has(config.workload)) await ensureDriverImage(env.docker, terminal, abort);
  // Stopped while the environment was prepared: nothing of the run exists yet, so nothing to record or remove.
  if (abort.aborted) throw new AbortedError('preparing the environment');
  const runDir = createRunDir(config.resultsDir, config.name);
  // Room kept for the verdict: when the disk fills up during the run (history, server data), this is given back
  // just before results.json is written, so a full disk still ends in a verdict that names it.
  const reserve = join(runDir, RESULTS_RESERVE);
  writeFileSync(reserve, Buffer.alloc(RESULTS_RESERVE_BYTES));
  if (parts.scenarioPath) copyFileSync(parts.scenarioPath, join(runDir, 'scenario.yaml'));
  const log = new FileLogger(terminal, join(runDir, HARNESS_LOG));
  const runId = `${config.name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 20)}-${randomBytes(3).toString('hex')}`;
  const record: TestRecord = {
    format: STORE_FORMAT,
    config,
    runId,
    image: env.image,
    startedAt: new Date().toISOString(),
    command: [...(options.command ?? [])],
  };
  writeJson(join(runDir, TEST_FILE), record);
  log.info(`Run ${runId}: ${runDir}`);

  const started = Date.now();
  const powerLoss = mountPowerLoss
    ? new PowerLossFilesystems({ runId, model: config.powerLossEntries, log })
    : undefined;
  const refusal = options.pool ? poolRefusal(config, mountPowerLoss) : undefined;
  const lease =
    options.pool && !refusal
      ? await options.pool.acquire(
          env.docker,
          { image: env.image.name, nodeCount: config.nodes, storeRoot: config.resultsDir },
          log,
        )
      : undefined;
  if (options.pool)
    writeJson(
      join(runDir, REUSE_FILE),
      (lease?.record ?? {
        format: REUSE_FORMAT,
        reused: false,
        ensemble: null,
        trial: 0,
        reason: `the run's own containers: ${refusal ?? 'no pool'}`,
        readyMs: 0,
      }) satisfies ReuseRecord,
    );
  const readyMs = Date.now() - started;
  const cluster = new DockerCluster(
    env.docker,
    {
      runId,
      testName: config.name,
      runDir,
      image: env.image.name,
      nodeCount: config.nodes,
      ...(powerLoss ? { dataDirMount: powerLoss } : {}),
      ...(lease ? { pooled: lease.ensemble } : {}),
    },
    log,
  );
  const zookeeper = zooKeeperConfigOf(config.zookeeper);
  const baseTest: Test = {
    name: config.name,
    seed: config.seed,
    timeLimitS: config.timeLimitS,
    concurrency: config.concurrency,
    rate: config.rate,
    nemesisIntervalS: config.nemesisIntervalS,
    opTimeoutMs: config.opTimeoutS * 1000,
    recoveryTimeoutS: config.recoveryTimeoutS,
    cluster,
    db: new ZooKeeperDb(cluster, zookeeper, log),
    workload: parts.workload,
    // Every family is healed before and after the run, whichever faults the schedule uses.
    faults: familyHealers(),
    schedule: parts.scenario
      ? scenarioSchedule(parts.scenario)
      : parts.composed
        ? composedSchedule(composedPartsOf(config, parts.composed))
        : randomSchedule(parts.faults, config.seed, config.nemesisIntervalS),
    historyPath: join(runDir, HISTORY_FILE),
    runDir,
    collectServerLogs: (historyStartMs, nodes) => {
      const logs = scanRunLogs(runDir, nodes, logPatternsOf(config), historyStartMs);
      writeServerLogs(runDir, logs);
      return Promise.resolve(logs);
    },
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
          zookeeper,
          seed: config.seed,
          abort,
        },
        config.dr,
      )
    : baseTest;
  let outcome: RunOutcome | undefined;
  const phases: PhaseTimings = { format: REUSE_FORMAT };
  try {
    outcome = await runTest(test, log, abort);
    Object.assign(phases, outcome.phases, { cluster: readyMs + (outcome.phases.cluster ?? 0) });
    const reportStart = Date.now();
    // The version the servers report, not the one the build promised: recorded with the config too.
    const version = outcome.serverVersions ? summarizeVersions(outcome.serverVersions) : null;
    rmSync(reserve, { force: true });
    writeJson(join(runDir, TEST_FILE), { ...record, serverVersion: version } satisfies TestRecord);
    const results: Results = {
      format: STORE_FORMAT,
      valid: outcome.valid,
      server: { build: config.server, image: env.image.name, version, versions: outcome.serverVersions ?? {} },
      checkers: outcome.checkers,
      stats: outcome.stats,
      leaders: outcome.leaders,
      leaderChanges: outcome.leaderChanges,
      recovery: outcome.recovery ?? null,
      nemesis: outcome.nemesis,
      ...(outcome.aborted ? { aborted: outcome.aborted } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.incomplete ? { incomplete: outcome.incomplete } : {}),
    };
    writeJson(join(runDir, RESULTS_FILE), results);
    await writeReport(runDir).catch((err: Error) =>
      log.warn(
        `report.html not written: ${err.message} (the verdict stands; retry with \`faultline report ${runDir}\`)`,
      ),
    );
    phases.report = Date.now() - reportStart;
    return { outcome, runDir, runId, phases };
  } finally {
    rmSync(reserve, { force: true });
    const teardownStart = Date.now();
    // Containers, network, and with them every iptables rule: gone whatever happened.
    await cluster
      .teardown()
      .catch((err: Error) => log.warn(`teardown failed: ${err.message}; run \`faultline clean --run ${runId}\``));
    if (lease) {
      // Kept for the next run only when this one ended normally (an environment failure may have broken them).
      const reusable = outcome !== undefined && !outcome.error && !outcome.aborted;
      await lease
        .release(reusable)
        .catch((err: Error) => log.warn(`releasing pooled ensemble ${lease.ensemble.id}: ${err.message}`));
      log.info(
        reusable
          ? `Gave ensemble ${lease.ensemble.id} back to the pool.`
          : `Removed pooled ensemble ${lease.ensemble.id}.`,
      );
    } else log.info(`Removed the containers and network of run ${runId}.`);
    phases.teardown = Date.now() - teardownStart;
    phases.total = Date.now() - started;
    if (phases.main !== undefined) phases.overhead = phases.total - phases.main;
    writeJson(join(runDir, TIMINGS_FILE), phases);
    for (const [node, stats] of Object.entries(powerLoss?.finalStats ?? {}))
      log.debug(
        `${node}: power-loss filesystem counters at unmount: ${JSON.stringify({ ...stats, lastRevert: undefined })}`,
      );
  }
}

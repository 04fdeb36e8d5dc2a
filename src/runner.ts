// Orchestration of one test run: cluster up, database up, clients and nemesis run concurrently,
// everything healed and torn down, the history checked. Teardown happens on success, failure and abort.
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import { describeFailure, type Validity } from './errors.js';
import { overallValidity, type CheckContext, type Checker, type CheckerResult } from './checker.js';
import type { Cluster, ClusterNode } from './cluster.js';
import { HistoryWriter, type HistoryEvent } from './history.js';
import type { Logger } from './log.js';
import { healAll, type Fault, type NemesisContext } from './nemesis.js';
import { Random } from './random.js';
import type { NemesisSchedule } from './schedule.js';
import { measureRecovery, recoveryPhase, type RecoveryTimings } from './recovery.js';
import { FINAL_RECOVERY, type FinalRecovery } from './final-state.js';
import type { ServerLogs } from './server-logs.js';
import { ROLES_FILE, startRoleMonitor, type RoleMonitor } from './roles.js';
import { AbortedError, sleep, TimeoutError, withTimeout } from './time.js';
import type { Completion, Workload, WorkloadClient } from './workload.js';
import type { Database } from './zookeeper.js';

/** Everything a run is made of: one plain object assembled from the parts. */
export interface Test {
  name: string;
  seed: number;
  timeLimitS: number;
  concurrency: number;
  /** Target ops per second over all processes. */
  rate: number;
  /** Seconds between nemesis actions (a fault, then its heal, then the next fault...). */
  nemesisIntervalS: number;
  opTimeoutMs: number;
  /** How long the ensemble may take to serve again after the final heal. */
  recoveryTimeoutS: number;
  cluster: Cluster;
  db: Database;
  workload: Workload;
  /** Faults whose families are healed before the run, at its end and at teardown (normally one of each family). */
  faults: Fault[];
  /** When which fault starts and heals (a seeded random schedule or a scenario); absent: no faults during the run. */
  schedule?: NemesisSchedule;
  historyPath: string;
  runDir: string;
  /** After the recovery reads, before the history closes (the disaster-recovery scenario restores backups here). */
  afterRecovery?: (history: HistoryWriter, log: Logger, abort: AbortSignal) => Promise<void>;
  /**
   * Reads the servers' logs after the run (the log oracle), given the wall clock of the history's time 0 and the
   * nodes; what it returns goes to the checkers. Absent: no log is read.
   */
  collectServerLogs?: (historyStartMs: number, nodes: readonly string[]) => Promise<ServerLogs>;
}

export interface RunOutcome {
  valid: Validity;
  checkers: Record<string, CheckerResult>;
  /** Set when the run stopped early on request (Ctrl-C, SIGTERM): the history is partial and was not checked. */
  aborted?: string;
  /** Set when the environment failed the run (a vanished container, a full disk...): the cause in plain words. */
  error?: string;
  /** Set when the run did not do what it was asked (requested faults that failed or never took effect). */
  incomplete?: string;
  stats: RunStats;
  /** What the nemesis was asked for and what came of it. */
  nemesis: NemesisTally;
  /** After the final heal: ms to heal, then (from the heal's start) to a leader, a first write, every node serving. */
  recovery?: { healMs: number; finalReadMs?: number } & RecoveryTimings;
  leaders: string[];
  /** Each time a node reported leading (role monitor), on the history's clock in ns: the report's leader marks. */
  leaderChanges: { time: number; leader: string }[];
  /** Node → the version its srvr reported when the ensemble first served. */
  serverVersions?: Record<string, string>;
  /** Wall-clock ms of each phase the run went through (timings.json; the trial-overhead bench reads them). */
  phases: RunPhases;
}

/** The phases of runTest, in order; the run's caller adds its own (containers, report, teardown). */
export interface RunPhases {
  cluster?: number;
  dbStart?: number;
  quorum?: number;
  prepare?: number;
  main?: number;
  heal?: number;
  finalReads?: number;
  check?: number;
}

export interface RunStats {
  ok: number;
  fail: number;
  info: number;
  nemesis: number;
}

/** Faults the schedule requested, by outcome. */
export interface NemesisTally {
  requested: number;
  done: number;
  skipped: { fault: string; reason: string }[];
  failed: { fault: string; error: string }[];
}

interface LiveState {
  stats: RunStats;
  fault: string | null;
  startedAt: number;
}

/** How long the ensemble may take to serve before the run starts, and the budget of each checker. */
const START_TIMEOUT_MS = 90_000;
const CHECK_TIMEOUT_MS = 120_000;

/**
 * Runs a test end to end and always comes back with an outcome: a verdict, or `unknown` with the reason (aborted,
 * an environment failure, an incomplete schedule). `abort` stops whatever phase is going within moments; the
 * teardown heal and the history's close always run.
 */
export async function runTest(test: Test, log: Logger, abort: AbortSignal): Promise<RunOutcome> {
  // Workers, schedule and monitors all listen to the run's abort at once: many listeners are expected.
  setMaxListeners(0, abort);
  const history = new HistoryWriter(test.historyPath);
  const random = new Random(test.seed);
  const nemesisContext: NemesisContext = { cluster: test.cluster, db: test.db, log, random: random.fork(1) };
  const live: LiveState = { stats: { ok: 0, fail: 0, info: 0, nemesis: 0 }, fault: null, startedAt: 0 };
  const tally: NemesisTally = { requested: 0, done: 0, skipped: [], failed: [] };
  const leaders: string[] = [];
  const leaderChanges: RunOutcome['leaderChanges'] = [];
  let error: string | undefined;
  let recovery: RunOutcome['recovery'];
  let healed = false;
  let serverVersions: Record<string, string> | undefined;
  let roles: RoleMonitor | undefined;
  const reason = (): string => String(abort.reason ?? 'aborted');
  const phases: RunPhases = {};
  let mark = Date.now();
  const endPhase = (name: keyof RunPhases): void => {
    const now = Date.now();
    phases[name] = now - mark;
    mark = now;
  };

  try {
    await test.cluster.setup();
    endPhase('cluster');
    await test.db.setup();
    endPhase('dbStart');
    log.info('Waiting for every node to serve...');
    const initial = await withTimeout(
      test.db.waitForQuorum(START_TIMEOUT_MS, { all: true, signal: abort }),
      START_TIMEOUT_MS + 5000,
      'the ensemble to serve',
      abort,
    );
    serverVersions = Object.fromEntries(initial.filter((s) => s.versionText).map((s) => [s.node, s.versionText!]));
    endPhase('quorum');
    const firstLeader = await test.db.leader();
    log.info(`Ensemble serving; leader ${firstLeader?.name ?? 'unknown'}.`);
    // From here to the end of recovery, every role change of every node goes to roles.jsonl.
    roles = startRoleMonitor(
      test.cluster.nodes,
      (node, timeoutMs) => test.db.status(node, timeoutMs),
      join(test.runDir, ROLES_FILE),
      () => history.now(),
    );
    // Nemesis records take every node's role from the monitor's latest view (no probe of their own).
    const monitor = roles;
    nemesisContext.currentRoles = () => monitor.current();
    // Heal before the run too (idempotent): every family starts from a clean slate, and the history says so.
    const preHealErrors = await healAll(test.faults, nemesisContext, history);
    if (preHealErrors.length) throw preHealErrors[0]!;
    await withTimeout(test.workload.setup(test.cluster.nodes[0]!), 60_000, 'the workload setup', abort);
    await withTimeout(
      test.workload.start?.({ cluster: test.cluster, log, concurrency: test.concurrency }) ?? Promise.resolve(),
      180_000,
      'the workload start (driver processes)',
      abort,
    );
    if (abort.aborted) throw new AbortedError('start-up');
    endPhase('prepare');

    // The main phase: clients and nemesis side by side until the time limit or an abort.
    const phase = new AbortController();
    // Every worker, the schedule and the monitors wait on it at once: many listeners are expected, not a leak.
    setMaxListeners(0, phase.signal);
    const stopPhase = (): void => phase.abort();
    abort.addEventListener('abort', stopPhase);
    const timer = sleep(test.timeLimitS * 1000, phase.signal).then(stopPhase);
    nemesisContext.signal = phase.signal;
    live.startedAt = Date.now();
    const status = setInterval(() => log.status(statusLine(live, test)), 500);
    log.info(
      `Running ${test.workload.name} for ${test.timeLimitS} s with ${test.concurrency} processes` +
        `, nemesis: ${test.schedule?.description ?? 'none'}.`,
    );
    try {
      await Promise.all([
        ...Array.from({ length: test.concurrency }, (_, w) =>
          runWorker(test, w, history, random.fork(100 + w), live, phase.signal, log),
        ),
        runNemesis(test, nemesisContext, history, live, tally, phase.signal),
      ]);
    } finally {
      stopPhase();
      await timer;
      clearInterval(status);
      abort.removeEventListener('abort', stopPhase);
      log.status(null);
      endPhase('main');
      await test.workload.stop?.().catch((err: Error) => log.warn(`stopping the workload: ${err.message}`));
    }
    if (abort.aborted) throw new AbortedError('the main phase');

    // Heal everything, then measure how long the ensemble takes to serve again.
    const healStart = Date.now();
    const healErrors = await healAll(test.faults, nemesisContext, history);
    healed = true;
    const healMs = Date.now() - healStart;
    if (healErrors.length) throw healErrors[0]!;
    log.info('Healed; waiting for the ensemble to recover...');
    let recoveryNodes: readonly ClusterNode[] = test.cluster.nodes;
    try {
      recovery = {
        healMs,
        ...(await withTimeout(
          measureRecovery(test.cluster, test.db, healStart, test.recoveryTimeoutS * 1000, abort),
          test.recoveryTimeoutS * 1000 + 5000,
          'recovery after the heal',
          abort,
        )),
      };
      log.info(
        `Recovery after the heal: leader ${recovery.leaderMs} ms, first write ${recovery.firstWriteMs} ms, every node serving ${recovery.quorumMs} ms.`,
      );
    } catch (err) {
      // The restart oracle: nodes that do not serve again are the finding (node-did-not-recover), not a timeout of
      // the run; unless the cluster itself is broken (a container gone), which stays the environment's failure.
      const broken = abort.aborted ? undefined : await test.cluster.health?.().catch(() => undefined);
      log.debug(`recovery wait ended: ${describeFailure(err)}; cluster health: ${broken ?? 'fine'}`);
      if (abort.aborted || broken) throw err;
      recoveryNodes = await recordUnrecovered(test, history, describeFailure(err), log);
    }
    await roles.stop();
    endPhase('heal');
    // With no serving node left there is nothing to read; with some, they are read (the others are the finding).
    const { readMs } = recoveryNodes.length
      ? await withTimeout(
          recoveryPhase(recoveryNodes, test.db, test.workload, history, log, {
            readTimeoutMs: 60_000,
            settleTimeoutMs: 20_000,
            signal: abort,
          }),
          90_000,
          'the recovery reads',
          abort,
        )
      : { readMs: 0 };
    if (recovery) recovery.finalReadMs = readMs;
    await test.afterRecovery?.(history, log, abort);
    endPhase('finalReads');
  } catch (err) {
    // A requested stop is reported as aborted below; anything else is the environment failing the run.
    if (!abort.aborted) {
      error = await explainFailure(err, test);
      log.warn(`The run failed: ${error}`);
    }
  } finally {
    // Teardown heal, when the run stopped (abort, error) before its final heal: nothing of the nemesis stays.
    if (!healed && live.startedAt > 0) await healAll(test.faults, nemesisContext, history).catch(() => []);
    await roles?.stop();
    // Polls of different nodes finish out of order: sort by when each was sent.
    for (const change of [...(roles?.changes ?? [])].sort((a, b) => a.time - b.time)) {
      if (change.role !== 'leader') continue;
      leaderChanges.push({ time: change.time, leader: change.node });
      if (leaders[leaders.length - 1] !== change.node) leaders.push(change.node);
    }
    await history.close();
    log.status(null);
  }
  if (history.failure && !error) error = `history.jsonl could not be written: ${describeFailure(history.failure)}`;

  const base = {
    stats: live.stats,
    nemesis: tally,
    leaders,
    leaderChanges,
    ...(recovery ? { recovery } : {}),
    ...(serverVersions ? { serverVersions } : {}),
    phases,
  };
  if (abort.aborted) {
    log.warn(
      `Run aborted (${reason()}): not checking a partial history; \`faultline analyze ${test.runDir}\` can still check it.`,
    );
    return { valid: 'unknown', checkers: {}, aborted: reason(), ...base };
  }
  if (error !== undefined) return { valid: 'unknown', checkers: {}, error, ...base };
  // The log oracle reads what every server wrote (history time 0 on the wall clock maps log lines onto the history).
  const serverLogs = await test
    .collectServerLogs?.(
      Date.now() - history.now() / 1e6,
      test.cluster.nodes.map((n) => n.name),
    )
    .catch((err: Error) => {
      log.warn(`the servers' logs could not be read: ${err.message}`);
      return undefined;
    });
  log.info('Checking the history...');
  const checkers = await runCheckers(test.workload.checkers, history.events, {
    runDir: test.runDir,
    timeoutMs: CHECK_TIMEOUT_MS,
    signal: abort,
    ...(serverLogs ? { serverLogs } : {}),
  });
  endPhase('check');
  if (abort.aborted) return { valid: 'unknown', checkers, aborted: reason(), ...base };
  const incomplete = incompleteSchedule(test, tally);
  if (incomplete) log.warn(`The run did not do what it was asked: ${incomplete}`);
  // Advisory checkers test what ZooKeeper does not promise in this mode (e.g. linearizable plain reads): reported,
  // not counted. A bug found stands even when the schedule fell short; a pass does not.
  const checked = overallValidity(checkers);
  return {
    valid: incomplete && checked === true ? 'unknown' : checked,
    checkers,
    ...(incomplete ? { incomplete } : {}),
    ...base,
  };
}

/**
 * Records which nodes did not serve when the recovery timeout ran out (a 'final' fail event for the restart oracle)
 * and returns the nodes that do serve, when a leader leads them (none otherwise: there is nothing to read).
 */
async function recordUnrecovered(
  test: Test,
  history: HistoryWriter,
  reason: string,
  log: Logger,
): Promise<ClusterNode[]> {
  const nodes = test.cluster.nodes;
  const [statuses, running] = await Promise.all([
    Promise.all(nodes.map((n) => test.db.status(n))),
    Promise.all(nodes.map((n) => test.db.isRunning(n).catch(() => false))),
  ]);
  const value: FinalRecovery = {
    timeoutS: test.recoveryTimeoutS,
    reason,
    nodes: Object.fromEntries(
      nodes.map((n, i) => [
        n.name,
        { serving: statuses[i]!.serving, mode: statuses[i]!.mode ?? null, running: running[i]! },
      ]),
    ),
  };
  history.append({ process: 'final', type: 'invoke', f: FINAL_RECOVERY, value: null });
  history.append({ process: 'final', type: 'fail', f: FINAL_RECOVERY, value });
  const down = nodes.filter((_, i) => !statuses[i]!.serving).map((n) => n.name);
  log.warn(
    `Not recovered within ${test.recoveryTimeoutS} s of the heal: ${down.join(', ') || 'no single node'} (${reason}).`,
  );
  const led = statuses.some((s) => s.mode === 'leader');
  return led ? nodes.filter((_, i) => statuses[i]!.serving) : [];
}

/** Why a run that asked for faults is no test of them: none took effect, or some failed. */
function incompleteSchedule(test: Test, tally: NemesisTally): string | undefined {
  if (!test.schedule || test.schedule.faultCount === 0) return undefined;
  if (tally.failed.length > 0)
    return `${tally.failed.length} of ${tally.requested} requested faults failed (${tally.failed
      .slice(0, 3)
      .map((f) => `${f.fault}: ${f.error}`)
      .join('; ')})`;
  if (tally.done === 0)
    return tally.requested === 0
      ? 'the schedule requested no fault before the main phase ended'
      : `none of the ${tally.requested} requested faults took effect (${tally.skipped.length} found no target)`;
  return undefined;
}

/** The environment's failure in plain words: a vanished container or engine is named as such. */
async function explainFailure(err: unknown, test: Test): Promise<string> {
  const health = await test.cluster.health?.().catch(() => undefined);
  const cause = describeFailure(err);
  return health ? `${health} (${cause})` : cause;
}

export async function runCheckers(
  checkers: Record<string, Checker>,
  events: readonly HistoryEvent[],
  context: CheckContext,
): Promise<Record<string, CheckerResult>> {
  const results: Record<string, CheckerResult> = {};
  for (const [name, checker] of Object.entries(checkers)) {
    if (context.signal?.aborted) break;
    try {
      results[name] = await withTimeout(
        checker.check(events, context),
        context.timeoutMs + 10_000,
        `checker ${name}`,
        context.signal,
      );
    } catch (err) {
      if (err instanceof AbortedError) break;
      results[name] = { valid: 'unknown', error: (err as Error).message };
    }
  }
  return results;
}

/**
 * One worker: a sequence of processes bound to one node (worker w talks to node w mod n). A process whose
 * operation ends in info (outcome unknown) is retired, as in Jepsen: the worker goes on as a new process.
 */
async function runWorker(
  test: Test,
  worker: number,
  history: HistoryWriter,
  random: Random,
  live: LiveState,
  stop: AbortSignal,
  log: Logger,
): Promise<void> {
  const node = test.cluster.nodes[worker % test.cluster.nodes.length]!;
  let process = worker;
  let client: WorkloadClient | undefined;
  // Each worker starts an op every concurrency/rate seconds on average, with jitter so they do not march in step.
  // The gap runs from the previous op's start, not its end (as Jepsen's stagger), so the op's own latency does not
  // slow the run below its rate; an op slower than its gap starts the next at once, with no burst to catch up.
  const meanDelayMs = (1000 * test.concurrency) / test.rate;
  let nextStart = Date.now();
  while (!stop.aborted) {
    if (!client) {
      client = await openClient(test, node, log, stop);
      if (!client) break;
    }
    const op = test.workload.generator({ process, random });
    history.append({
      process,
      type: 'invoke',
      f: op.f,
      value: op.value,
      node: node.name,
      ...(op.key !== undefined ? { key: op.key } : {}),
    });
    let completion: Completion;
    try {
      completion = await withTimeout(client.invoke(op), test.opTimeoutMs, `${op.f} on ${node.name}`);
    } catch (err) {
      completion = {
        type: 'info',
        value: op.value,
        error: err instanceof TimeoutError ? 'timeout' : (err as Error).message,
      };
    }
    history.append({
      process,
      type: completion.type,
      f: op.f,
      value: completion.value,
      node: node.name,
      ...(op.key !== undefined ? { key: op.key } : {}),
      ...(completion.error !== undefined ? { error: completion.error } : {}),
      ...(completion.zxid !== undefined ? { zxid: completion.zxid } : {}),
    });
    live.stats[completion.type]++;
    // Outcome unknown, or the session is gone (later ops would fail unsent): go on as a new process, new session.
    if (completion.type === 'info' || client.isOpen?.() === false) {
      const retired = client;
      client = undefined;
      process += test.concurrency;
      void retired.close().catch(() => undefined);
    }
    nextStart = Math.max(nextStart + random.float() * 2 * meanDelayMs, Date.now());
    await sleep(nextStart - Date.now(), stop);
  }
  await client?.close().catch(() => undefined);
}

/** Opens a client, retrying while the node does not answer (it may be down or cut off). */
async function openClient(
  test: Test,
  node: ClusterNode,
  log: Logger,
  stop: AbortSignal,
): Promise<WorkloadClient | undefined> {
  let lastError = '';
  while (!stop.aborted) {
    try {
      return await withTimeout(test.workload.openClient(node), test.opTimeoutMs, `connect to ${node.name}`, stop);
    } catch (err) {
      if (err instanceof AbortedError) break;
      const message = (err as Error).message;
      if (message !== lastError) log.debug(`client for ${node.name}: ${message}`);
      lastError = message;
      await sleep(500, stop);
    }
  }
  return undefined;
}

/** Runs the test's nemesis schedule, keeping the live status line, the nemesis count and the tally up to date. */
async function runNemesis(
  test: Test,
  context: NemesisContext,
  history: HistoryWriter,
  live: LiveState,
  tally: NemesisTally,
  stop: AbortSignal,
): Promise<void> {
  if (!test.schedule) return;
  await test.schedule.run({
    context,
    history,
    stop,
    onFault: (active) => {
      live.fault = active;
      if (active !== null) live.stats.nemesis++;
    },
    onOutcome: (fault, outcome, detail) => {
      tally.requested++;
      if (outcome === 'done') tally.done++;
      else if (outcome === 'skipped') tally.skipped.push({ fault, reason: detail ?? '' });
      else tally.failed.push({ fault, error: detail ?? '' });
    },
  });
}

function statusLine(live: LiveState, test: Test): string {
  const elapsed = Math.round((Date.now() - live.startedAt) / 1000);
  const s = live.stats;
  return `${elapsed}/${test.timeLimitS} s | ok ${s.ok}  fail ${s.fail}  info ${s.info} | fault: ${live.fault ?? 'none'}`;
}

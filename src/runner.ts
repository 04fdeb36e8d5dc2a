// Orchestration of one test run: cluster up, database up, clients and nemesis run concurrently,
// everything healed and torn down, the history checked. Teardown happens on success, failure and abort.
import { join } from 'node:path';
import type { Validity } from './errors.js';
import { overallValidity, type Checker, type CheckerResult } from './checker.js';
import type { Cluster, ClusterNode } from './cluster.js';
import { HistoryWriter, type HistoryEvent } from './history.js';
import type { Logger } from './log.js';
import { healAll, measureRecovery, type Fault, type NemesisContext, type RecoveryTimings } from './nemesis.js';
import { Random } from './random.js';
import type { NemesisSchedule } from './schedule.js';
import { recoveryPhase } from './recovery.js';
import { ROLES_FILE, startRoleMonitor, type RoleMonitor } from './roles.js';
import { sleep, TimeoutError, withTimeout } from './time.js';
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
  afterRecovery?: (history: HistoryWriter, log: Logger) => Promise<void>;
}

export interface RunOutcome {
  valid: Validity;
  checkers: Record<string, CheckerResult>;
  /** Set when the run stopped early (Ctrl-C, harness error): the history is partial. */
  aborted?: string;
  stats: RunStats;
  /** After the final heal: ms to heal, then (from the heal's start) to a leader, a first write, every node serving. */
  recovery?: { healMs: number; finalReadMs?: number } & RecoveryTimings;
  leaders: string[];
  /** Each time a node reported leading (role monitor), on the history's clock in ns: the report's leader marks. */
  leaderChanges: { time: number; leader: string }[];
  /** Node → the version its srvr reported when the ensemble first served. */
  serverVersions?: Record<string, string>;
}

export interface RunStats {
  ok: number;
  fail: number;
  info: number;
  nemesis: number;
}

interface LiveState {
  stats: RunStats;
  fault: string | null;
  startedAt: number;
}

/** Runs a test end to end. `abort` stops the main phase early; teardown always runs. */
export async function runTest(test: Test, log: Logger, abort: AbortSignal): Promise<RunOutcome> {
  const history = new HistoryWriter(test.historyPath);
  const random = new Random(test.seed);
  const nemesisContext: NemesisContext = { cluster: test.cluster, db: test.db, log, random: random.fork(1) };
  const live: LiveState = { stats: { ok: 0, fail: 0, info: 0, nemesis: 0 }, fault: null, startedAt: 0 };
  const leaders: string[] = [];
  const leaderChanges: RunOutcome['leaderChanges'] = [];
  let aborted: string | undefined;
  let recovery: RunOutcome['recovery'];
  let healed = false;
  let serverVersions: Record<string, string> | undefined;
  let roles: RoleMonitor | undefined;
  const onAbort = (): void => {
    aborted = String(abort.reason ?? 'aborted');
  };
  abort.addEventListener('abort', onAbort);

  try {
    await test.cluster.setup();
    await test.db.setup();
    log.info('Waiting for every node to serve...');
    const initial = await test.db.waitForQuorum(90_000, { all: true });
    serverVersions = Object.fromEntries(initial.filter((s) => s.versionText).map((s) => [s.node, s.versionText!]));
    const firstLeader = await test.db.leader();
    log.info(`Ensemble serving; leader ${firstLeader?.name ?? 'unknown'}.`);
    // From here to the end of recovery, every role change of every node goes to roles.jsonl.
    roles = startRoleMonitor(test.cluster.nodes, join(test.runDir, ROLES_FILE), () => history.now());
    // Heal before the run too (idempotent): every family starts from a clean slate, and the history says so.
    const preHealErrors = await healAll(test.faults, nemesisContext, history);
    if (preHealErrors.length) throw preHealErrors[0]!;
    await test.workload.setup(test.cluster.nodes[0]!);
    await test.workload.start?.({ cluster: test.cluster, log, concurrency: test.concurrency });
    if (abort.aborted) throw new Error('aborted');

    // The main phase: clients and nemesis side by side until the time limit or an abort.
    const phase = new AbortController();
    const stopPhase = (): void => phase.abort();
    abort.addEventListener('abort', stopPhase);
    const timer = setTimeout(stopPhase, test.timeLimitS * 1000);
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
        runNemesis(test, nemesisContext, history, live, phase.signal),
      ]);
    } finally {
      clearTimeout(timer);
      clearInterval(status);
      abort.removeEventListener('abort', stopPhase);
      log.status(null);
      await test.workload.stop?.().catch((err: Error) => log.warn(`stopping the workload: ${err.message}`));
    }

    // Heal everything, then measure how long the ensemble takes to serve again.
    const healStart = Date.now();
    const healErrors = await healAll(test.faults, nemesisContext, history);
    healed = true;
    const healMs = Date.now() - healStart;
    if (healErrors.length) throw healErrors[0]!;
    if (!aborted) {
      log.info('Healed; waiting for the ensemble to recover...');
      recovery = { healMs, ...(await measureRecovery(test.cluster, test.db, healStart, test.recoveryTimeoutS * 1000)) };
      await roles.stop();
      log.info(
        `Recovery after the heal: leader ${recovery.leaderMs} ms, first write ${recovery.firstWriteMs} ms, every node serving ${recovery.quorumMs} ms.`,
      );
      log.info(`Recovered: every node serves ${(recovery.quorumMs / 1000).toFixed(1)} s after the heal began.`);
      const { readMs } = await recoveryPhase(test.cluster.nodes, test.workload, history, log, {
        readTimeoutMs: 60_000,
        settleTimeoutMs: 20_000,
      });
      recovery.finalReadMs = readMs;
      await test.afterRecovery?.(history, log);
    }
  } catch (err) {
    if (!aborted) throw err;
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
    abort.removeEventListener('abort', onAbort);
    await history.close();
    log.status(null);
  }

  if (aborted) {
    log.warn(
      `Run aborted (${aborted}): not checking a partial history; \`faultline analyze ${test.runDir}\` can still check it.`,
    );
    return {
      valid: 'unknown',
      checkers: {},
      aborted,
      stats: live.stats,
      leaders,
      leaderChanges,
      ...(recovery ? { recovery } : {}),
      ...(serverVersions ? { serverVersions } : {}),
    };
  }
  log.info('Checking the history...');
  const checkers = await runCheckers(test.workload.checkers, history.events, {
    runDir: test.runDir,
    timeoutMs: 120_000,
  });
  // Advisory checkers test what ZooKeeper does not promise in this mode (e.g. linearizable plain reads): reported, not counted.
  return {
    valid: overallValidity(checkers),
    checkers,
    stats: live.stats,
    leaders,
    leaderChanges,
    ...(recovery ? { recovery } : {}),
    ...(serverVersions ? { serverVersions } : {}),
  };
}

export async function runCheckers(
  checkers: Record<string, Checker>,
  events: readonly HistoryEvent[],
  context: { runDir?: string; timeoutMs: number },
): Promise<Record<string, CheckerResult>> {
  const results: Record<string, CheckerResult> = {};
  for (const [name, checker] of Object.entries(checkers)) {
    try {
      results[name] = await checker.check(events, context);
    } catch (err) {
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
  // Each process waits concurrency/rate seconds on average between ops, with jitter so they do not march in step.
  const meanDelayMs = (1000 * test.concurrency) / test.rate;
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
    await sleep(random.float() * 2 * meanDelayMs);
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
      return await withTimeout(test.workload.openClient(node), test.opTimeoutMs, `connect to ${node.name}`);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastError) log.debug(`client for ${node.name}: ${message}`);
      lastError = message;
      await sleep(500);
    }
  }
  return undefined;
}

/** Runs the test's nemesis schedule, keeping the live status line and the nemesis count up to date. */
async function runNemesis(
  test: Test,
  context: NemesisContext,
  history: HistoryWriter,
  live: LiveState,
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
  });
}

function statusLine(live: LiveState, test: Test): string {
  const elapsed = Math.round((Date.now() - live.startedAt) / 1000);
  const s = live.stats;
  return `${elapsed}/${test.timeLimitS} s | ok ${s.ok}  fail ${s.fail}  info ${s.info} | fault: ${live.fault ?? 'none'}`;
}

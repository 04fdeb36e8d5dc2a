// Disaster recovery (issue 8): under a running set workload, back up one node's data dir the ways operators do
// (copied live, and copied from a stopped node), optionally damage copies of a backup, then destroy the whole
// ensemble and restore every backup into a fresh one. The restored state must be a consistent cut of the history;
// what it lacks is the recovery point. Everything lands in the history: backups, the disaster and restores as
// 'nemesis' info pairs (fault bands in the report), the restored nodes' reads as 'final' events keyed by restore.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { Anomaly, Checker, CheckerResult } from './checker.js';
import { DockerCluster, type ClusterNode } from './cluster.js';
import { mergeValidity, UsageError, type Validity } from './errors.js';
import { pairOperations, type HistoryEvent, type HistoryWriter, type Operation } from './history.js';
import type { Logger } from './log.js';
import type { Test } from './runner.js';
import type { NemesisContext } from './nemesis.js';
import { Random } from './random.js';
import type { NemesisSchedule, ScheduleRun } from './schedule.js';
import { sleep, withTimeout } from './time.js';
import type { Workload } from './workload.js';
import { renderZooCfg, waitUntilStopped, ZooKeeperDb, type ZooKeeperConfig } from './zookeeper.js';
import { filesByZxid, flipBits, parseTxnLog, truncateTxnLog, TXN_LOG_HEADER_BYTES } from '../nemesis/disk.js';

/** Damage applied to a copy of the live backup before it is restored (none: the backup as taken). */
export const BACKUP_DAMAGE = ['none', 'truncate-log', 'flip-log', 'flip-snapshot', 'drop-logs'] as const;
export type BackupDamage = (typeof BACKUP_DAMAGE)[number];

export type BackupKind = 'live' | 'stopped';
/** all: every node seeded from the backup; one: n1 seeded, the others empty, syncing from it. */
export type SeedMode = 'all' | 'one';

export interface DrOptions {
  /** Damaged copies of the live backup to restore, besides the intact backups. */
  damage: BackupDamage[];
  /** Also restore the live backup into one seeded node with the others empty. */
  seedOne: boolean;
}

export const RESTORE_READ = 'restore-read';
/** Missing adds named in one anomaly, at most. */
const MAX_CITED = 20;
const BACKUP_DIR = 'backups';

/** What a backup holds: files copied and the zxids they reach. */
export interface BackupContents {
  files: string[];
  bytes: number;
  /** Hex zxid in the name of the newest snapshot copied (null: none). */
  snapshotZxid: string | null;
  /** Hex zxid of the last complete txn record in the newest log, or the snapshot's when no log has records. */
  lastZxid: string | null;
}

const hex = (n: bigint): string => n.toString(16);
const zxidOfName = (name: string): bigint => BigInt(`0x${name.slice(name.indexOf('.') + 1)}`);

/** The zxid of a txn log's last complete record: TxnHeader (clientId 8, cxid 4, zxid 8) follows checksum 8 + length 4. */
export function lastLoggedZxid(logPath: string): bigint | undefined {
  const data = readFileSync(logPath);
  const last = parseTxnLog(data).records.at(-1);
  return last ? data.readBigInt64BE(last.offset + 12 + 12) : undefined;
}

/** Reads what a backup dir (its version-2/) holds. */
export function describeBackup(dir: string): BackupContents {
  const v2 = join(dir, 'version-2');
  const files = existsSync(v2) ? readdirSync(v2).sort() : [];
  const snapshot = filesByZxid(v2, 'snapshot')[0];
  let last = snapshot ? zxidOfName(snapshot) : undefined;
  for (const log of filesByZxid(v2, 'log')) {
    const zxid = (() => {
      try {
        return lastLoggedZxid(join(v2, log));
      } catch {
        return undefined;
      }
    })();
    if (zxid !== undefined) {
      if (last === undefined || zxid > last) last = zxid;
      break; // the newest log with records holds the newest txns
    }
  }
  return {
    files,
    bytes: files.reduce((sum, f) => sum + statSync(join(v2, f)).size, 0),
    snapshotZxid: snapshot ? hex(zxidOfName(snapshot)) : null,
    lastZxid: last === undefined ? null : hex(last),
  };
}

/**
 * Copies what a restore needs from a data dir: the newest snapshot, the txn logs that may hold txns after it
 * (those starting after it, and the one it falls in), and the epoch files. Snapshot first, then logs, so a
 * live copy's logs reach at least as far as its snapshot.
 */
export function copyBackup(dataDir: string, destDir: string): BackupContents {
  const src = join(dataDir, 'version-2');
  const dest = join(destDir, 'version-2');
  mkdirSync(dest, { recursive: true });
  const snapshot = filesByZxid(src, 'snapshot')[0];
  const since = snapshot ? zxidOfName(snapshot) : 0n;
  const logs = filesByZxid(src, 'log');
  const firstNeeded = logs.findIndex((l) => zxidOfName(l) <= since);
  const needed = firstNeeded < 0 ? logs : logs.slice(0, firstNeeded + 1);
  for (const name of [...(snapshot ? [snapshot] : []), ...needed.reverse(), 'currentEpoch', 'acceptedEpoch']) {
    if (existsSync(join(src, name))) copyFileSync(join(src, name), join(dest, name));
  }
  return describeBackup(destDir);
}

/** Copies a backup and damages the copy; returns what was done (file, offsets, bytes) for the record. */
export function damageBackup(
  srcDir: string,
  destDir: string,
  damage: BackupDamage,
  random: Random,
): Record<string, unknown> {
  mkdirSync(join(destDir, 'version-2'), { recursive: true });
  for (const name of readdirSync(join(srcDir, 'version-2')))
    copyFileSync(join(srcDir, 'version-2', name), join(destDir, 'version-2', name));
  const v2 = join(destDir, 'version-2');
  const newestLog = filesByZxid(v2, 'log')[0];
  const snapshot = filesByZxid(v2, 'snapshot')[0];
  const need = (file: string | undefined, what: string): string => {
    if (!file) throw new Error(`backup ${srcDir} has no ${what} to damage`);
    return join(v2, file);
  };
  switch (damage) {
    case 'none':
      return {};
    case 'truncate-log': {
      // A third of the records (at least one): enough that acknowledged adds from before the backup go.
      const path = need(newestLog, 'txn log');
      const records = parseTxnLog(readFileSync(path)).records.length;
      return truncateTxnLog(path, { records: Math.max(1, Math.floor(records / 3)) });
    }
    case 'flip-log': {
      const path = need(newestLog, 'txn log');
      return flipBits(path, 1, TXN_LOG_HEADER_BYTES, parseTxnLog(readFileSync(path)).dataEnd, random);
    }
    case 'flip-snapshot': {
      const path = need(snapshot, 'snapshot');
      return flipBits(path, 1, 0, statSync(path).size, random);
    }
    case 'drop-logs': {
      const dropped = filesByZxid(v2, 'log');
      for (const name of dropped) rmSync(join(v2, name));
      return { dropped };
    }
  }
}

/** Records one DR action as an info pair from the nemesis; the completion carries what it did (or the error). */
async function recordDr(
  history: HistoryWriter,
  f: 'backup' | 'disaster' | 'restore',
  name: string,
  action: () => Promise<Record<string, unknown>>,
  plan: Record<string, unknown> = {},
): Promise<Record<string, unknown> | undefined> {
  history.append({ process: 'nemesis', type: 'info', f, value: name });
  try {
    const done = await action();
    history.append({ process: 'nemesis', type: 'info', f, value: { fault: name, ...plan, ...done } });
    return done;
  } catch (err) {
    // The plan (which backup, which damage) is recorded with a failure too: the checker judges by it.
    history.append({
      process: 'nemesis',
      type: 'info',
      f,
      value: { fault: name, ...plan },
      error: (err as Error).message,
    });
    return undefined;
  }
}

/** A follower to back up (any node when none is known); `avoid` spreads the two backups over two nodes. */
async function pickFollower(context: NemesisContext, avoid?: string): Promise<ClusterNode> {
  const leader = await context.db.leader().catch(() => undefined);
  const nodes = context.cluster.nodes;
  return nodes.find((n) => n.name !== leader?.name && n.name !== avoid) ?? nodes[0]!;
}

/**
 * The leader's last zxid (hex) when a backup starts: every add acknowledged before then is at or below it. A backup
 * whose last zxid is lower copied a lagging replica (ZooKeeper promises a quorum has each write, not every node).
 */
async function committedZxid(context: NemesisContext): Promise<string | null> {
  const leader = await context.db.leader().catch(() => undefined);
  const zxid = leader ? (await context.db.status(leader)).zxid : undefined;
  return zxid === undefined ? null : hex(BigInt(zxid));
}

/** Takes both backups during the main phase (at 40% and 65% of it), next to whatever the base schedule does. */
export function backupSchedule(base: NemesisSchedule | undefined, timeLimitS: number, runDir: string): NemesisSchedule {
  const takeBackups = async (run: ScheduleRun): Promise<void> => {
    const { context, history, stop } = run;
    // Resolves false when the main phase ends first.
    const wait = (ms: number): Promise<boolean> => delay(ms, true, { signal: stop }).catch(() => false);
    if (!(await wait(timeLimitS * 400))) return;
    const liveNode = await pickFollower(context);
    await recordDr(history, 'backup', 'backup-live', async () => ({
      backup: 'live',
      node: liveNode.name,
      committedAtStart: await committedZxid(context),
      ...copyBackup(join(liveNode.hostDir, 'data'), join(runDir, BACKUP_DIR, 'live')),
    }));
    if (!(await wait(timeLimitS * 250))) return;
    const stoppedNode = await pickFollower(context, liveNode.name);
    await recordDr(history, 'backup', 'backup-stopped', async () => {
      // A clean stop (TERM), as an operator would; the node serves again once the copy is done.
      const committedAtStart = await committedZxid(context);
      await context.db.signal(stoppedNode, 'TERM');
      await waitUntilStopped(context.db, stoppedNode, 10_000);
      try {
        return {
          backup: 'stopped',
          node: stoppedNode.name,
          committedAtStart,
          ...copyBackup(join(stoppedNode.hostDir, 'data'), join(runDir, BACKUP_DIR, 'stopped')),
        };
      } finally {
        await context.db.start(stoppedNode);
      }
    });
  };
  return {
    description: `${base?.description ?? 'none'}; backups: live copy at ${(timeLimitS * 0.4).toFixed(0)} s, stopped copy at ${(timeLimitS * 0.65).toFixed(0)} s`,
    run: async (run) => {
      await Promise.all([base?.run(run), takeBackups(run)]);
    },
  };
}

export interface RestoreEnvironment {
  docker: Docker;
  image: string;
  runId: string;
  testName: string;
  runDir: string;
  nodeCount: number;
  zookeeper: ZooKeeperConfig;
  seed: number;
  /** The run's abort (Ctrl-C): the restores not yet begun are skipped. */
  abort?: AbortSignal;
}

interface RestorePlan {
  name: string;
  backup: BackupKind;
  damage: BackupDamage;
  mode: SeedMode;
}

export function restorePlans(options: DrOptions): RestorePlan[] {
  const plans: RestorePlan[] = [
    { name: 'restore-live', backup: 'live', damage: 'none', mode: 'all' },
    { name: 'restore-stopped', backup: 'stopped', damage: 'none', mode: 'all' },
  ];
  if (options.seedOne) plans.push({ name: 'restore-live-one', backup: 'live', damage: 'none', mode: 'one' });
  for (const damage of options.damage)
    if (damage !== 'none') plans.push({ name: `restore-live-${damage}`, backup: 'live', damage, mode: 'all' });
  return plans;
}

/** The first error line of a node's server log: why a restored server did not start. */
function startFailure(node: ClusterNode): string | undefined {
  const path = join(node.hostDir, 'logs', 'zookeeper.log');
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n');
  // The first error and the first exception (its cause, e.g. "CRC check failed"), without timestamps.
  const found = [lines.find((l) => /\b(ERROR|FATAL)\b/.test(l)), lines.find((l) => /Exception: /.test(l))]
    .filter((l): l is string => l !== undefined)
    .map((l) => l.replace(/^\S+ \[[^\]]*\] /, '').trim());
  return found.length ? [...new Set(found)].join('; ').slice(0, 500) : undefined;
}

/**
 * Destroys the ensemble (containers and data dirs), then restores each planned backup into a fresh ensemble,
 * waits for a serving quorum, reads the whole set from every node, and removes that ensemble again.
 */
export async function disasterAndRestore(
  env: RestoreEnvironment,
  plans: readonly RestorePlan[],
  original: { teardown(): Promise<void>; nodes: readonly ClusterNode[] },
  workload: Workload,
  history: HistoryWriter,
  log: Logger,
): Promise<void> {
  await recordDr(history, 'disaster', 'disaster', async () => {
    await original.teardown();
    for (const node of original.nodes) rmSync(join(node.hostDir, 'data'), { recursive: true, force: true });
    return { destroyed: original.nodes.map((n) => n.name) };
  });
  const random = new Random(env.seed).fork(8);
  for (const [i, plan] of plans.entries()) {
    if (env.abort?.aborted) {
      log.warn(`Aborted: ${plans.length - i} restores skipped.`);
      break;
    }
    const backupDir = join(env.runDir, BACKUP_DIR, plan.backup);
    if (!existsSync(join(backupDir, 'version-2'))) {
      log.warn(`${plan.name}: no ${plan.backup} backup was taken; skipped`);
      continue;
    }
    log.info(
      `${plan.name}: restoring the ${plan.backup} backup${plan.damage !== 'none' ? ` (damaged: ${plan.damage})` : ''} into a fresh ensemble (${plan.mode === 'all' ? 'every node seeded' : 'n1 seeded, the others empty'})...`,
    );
    const restoreDir = join(env.runDir, 'restores', plan.name);
    const cluster = new DockerCluster(
      env.docker,
      {
        runId: `${env.runId}-r${i + 1}`,
        testName: env.testName,
        runDir: restoreDir,
        image: env.image,
        nodeCount: env.nodeCount,
      },
      log,
    );
    const db = new ZooKeeperDb(cluster, env.zookeeper, log);
    const started = Date.now();
    try {
      await recordDr(
        history,
        'restore',
        plan.name,
        async () => {
          const source = plan.damage === 'none' ? backupDir : join(env.runDir, BACKUP_DIR, `live-${plan.damage}`);
          const damage = plan.damage === 'none' ? {} : damageBackup(backupDir, source, plan.damage, random);
          await cluster.setup();
          for (const node of plan.mode === 'all' ? cluster.nodes : cluster.nodes.slice(0, 1)) {
            const dest = join(node.hostDir, 'data', 'version-2');
            mkdirSync(dest, { recursive: true });
            for (const name of readdirSync(join(source, 'version-2')))
              copyFileSync(join(source, 'version-2', name), join(dest, name));
          }
          const contents = describeBackup(source);
          const base = {
            backup: plan.backup,
            damage: plan.damage,
            ...(plan.damage !== 'none' ? { damageDone: damage } : {}),
            mode: plan.mode,
            snapshotZxid: contents.snapshotZxid,
            lastZxid: contents.lastZxid,
          };
          try {
            if (plan.mode === 'all') await db.setup();
            else await startSeededFirst(cluster.nodes, env.zookeeper, db);
            await waitForRestoredQuorum(db, cluster.nodes, 45_000);
          } catch (err) {
            const why = cluster.nodes.map((n) => startFailure(n)).find((m) => m !== undefined);
            throw new Error(
              `the restored ensemble did not serve: ${(err as Error).message}${why ? `; server log: ${why}` : ''}`,
              { cause: err },
            );
          }
          const quorumMs = Date.now() - started;
          await readRestored(plan.name, cluster.nodes, workload, history);
          log.info(`${plan.name}: serving after ${(quorumMs / 1000).toFixed(1)} s, read from every node.`);
          return { ...base, quorumMs, recoveryMs: Date.now() - started };
        },
        { backup: plan.backup, damage: plan.damage, mode: plan.mode },
      );
    } finally {
      await cluster
        .teardown()
        .catch((err: Error) => log.warn(`teardown of ${plan.name} failed: ${err.message}; run \`faultline clean\``));
    }
  }
}

/**
 * One seeded node, the others empty: the seeded node starts first and the empty ones a moment later, as an operator
 * would. Started together, the two empty nodes can elect each other before the seeded one loads its snapshot,
 * and the restored ensemble comes up empty.
 */
async function startSeededFirst(
  nodes: readonly ClusterNode[],
  config: ZooKeeperConfig,
  db: ZooKeeperDb,
): Promise<void> {
  for (const node of nodes) {
    writeFileSync(join(node.hostDir, 'conf', 'zoo.cfg'), renderZooCfg(config, nodes, node));
    writeFileSync(join(node.hostDir, 'data', 'myid'), `${node.id}\n`);
  }
  await db.start(nodes[0]!);
  await sleep(3000);
  await Promise.all(nodes.slice(1).map((n) => db.start(n)));
}

/** Waits for every node of the restored ensemble to serve; gives up early once a majority of servers have exited. */
async function waitForRestoredQuorum(db: ZooKeeperDb, nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const majority = Math.floor(nodes.length / 2) + 1;
  const deadline = Date.now() + timeoutMs;
  let exitedChecks = 0;
  for (;;) {
    try {
      await db.waitForQuorum(Math.min(5000, Math.max(1, deadline - Date.now())), { all: true });
      return;
    } catch (err) {
      const running = (await Promise.all(nodes.map((n) => db.isRunning(n)))).filter(Boolean).length;
      exitedChecks = running < majority ? exitedChecks + 1 : 0;
      if (exitedChecks >= 2) throw new Error(`only ${running} of ${nodes.length} servers still run`, { cause: err });
      if (Date.now() >= deadline) throw err;
      await sleep(250);
    }
  }
}

/** Reads the workload's whole state from each restored node; a restore that lost the set's parent znode reads empty. */
async function readRestored(
  restore: string,
  nodes: readonly ClusterNode[],
  workload: Workload,
  history: HistoryWriter,
): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      history.append({ process: 'final', type: 'invoke', f: RESTORE_READ, key: restore, value: null, node: node.name });
      try {
        const state = await withTimeout(workload.finalRead!(node), 30_000, `read of ${restore} on ${node.name}`);
        history.append({ process: 'final', type: 'ok', f: RESTORE_READ, key: restore, value: state, node: node.name });
      } catch (err) {
        const message = (err as Error).message;
        if (/no ?node/i.test(message))
          history.append({
            process: 'final',
            type: 'ok',
            f: RESTORE_READ,
            key: restore,
            value: [],
            node: node.name,
            error: message,
          });
        else
          history.append({
            process: 'final',
            type: 'info',
            f: RESTORE_READ,
            key: restore,
            value: null,
            node: node.name,
            error: message,
          });
      }
    }),
  );
}

/** Pairs of DR info events in a history: the invocation's time and the completion's value. */
interface DrEvent {
  name: string;
  startNs: number;
  endNs: number;
  value: Record<string, unknown>;
  error?: string;
  index: number;
}

function drEvents(history: readonly HistoryEvent[], f: string): DrEvent[] {
  const out: DrEvent[] = [];
  const pending = new Map<string, number>();
  for (const e of history) {
    if (e.process !== 'nemesis' || e.f !== f) continue;
    if (typeof e.value === 'string') pending.set(e.value, e.time);
    else {
      const value = (e.value ?? {}) as Record<string, unknown>;
      const name = String(value.fault);
      out.push({
        name,
        startNs: pending.get(name) ?? e.time,
        endNs: e.time,
        value,
        index: e.index,
        ...(e.error ? { error: e.error } : {}),
      });
    }
  }
  return out;
}

export type RestoreStatus = 'complete' | 'data-loss' | 'inconsistent' | 'failed-to-start' | 'unread';

export interface RestoreResult {
  status: RestoreStatus;
  backup: string;
  damage: string;
  mode: string;
  message?: string;
  lastZxid?: unknown;
  /** Acknowledged adds from before the backup started that are missing (per the worst node). */
  lostBeforeBackup: number;
  /** Acknowledged adds after the backup started that are missing: the recovery point, in ops. */
  missingAfterBackupStart: number;
  /** From the restored cut (the last acknowledged add before which nothing is missing) to the last acknowledged add. */
  recoveryPointS: number | null;
  /** From the restore's start to every node read. */
  recoveryTimeS: number | null;
  converged: boolean;
  /** The backup's last zxid was below the leader's when it started: the copied replica lagged. */
  laggingReplica: boolean;
}

function laggingBackup(backup: Record<string, unknown> | undefined): boolean {
  const last = backup?.lastZxid;
  const committed = backup?.committedAtStart;
  if (typeof last !== 'string' || typeof committed !== 'string') return false;
  return BigInt(`0x${last}`) < BigInt(`0x${committed}`);
}

/**
 * The DR check. Each restore's nodes must agree, hold nothing never attempted, and form a consistent cut: no
 * acknowledged add is missing whose acknowledgement came before another present add was invoked. An intact
 * backup must hold every add acknowledged before it started; a damaged one may lose them (reported, expected),
 * or fail to start with the server's message. An inconsistent restore is always invalid.
 */
export function checkRestores(history: readonly HistoryEvent[]): CheckerResult {
  const ops = pairOperations(history).filter((op) => op.f === 'add');
  const acked = ops.filter((op) => op.type === 'ok').sort((a, b) => a.completeTime - b.completeTime);
  const attempted = new Map<number, Operation>();
  for (const op of ops) if (op.type !== 'fail') attempted.set(op.input as number, op);
  const backups = new Map(
    drEvents(history, 'backup').map((b) => [b.value.backup === undefined ? b.name : String(b.value.backup), b]),
  );
  const anomalies: Anomaly[] = [];
  const restores: Record<string, RestoreResult> = {};
  const verdicts: Validity[] = [];
  const lastAckNs = acked.at(-1)?.completeTime ?? 0;

  for (const restore of drEvents(history, 'restore')) {
    const v = restore.value;
    const damaged = v.damage !== undefined && v.damage !== 'none';
    const backup = backups.get(String(v.backup));
    const reads = history.filter(
      (e) => e.process === 'final' && e.f === RESTORE_READ && e.key === restore.name && e.type !== 'invoke',
    );
    const result: RestoreResult = {
      status: 'complete',
      backup: v.backup === undefined ? '?' : String(v.backup),
      damage: v.damage === undefined ? 'none' : String(v.damage),
      mode: v.mode === undefined ? '?' : String(v.mode),
      lastZxid: v.lastZxid,
      lostBeforeBackup: 0,
      missingAfterBackupStart: 0,
      recoveryPointS: null,
      recoveryTimeS: typeof v.recoveryMs === 'number' ? v.recoveryMs / 1000 : null,
      converged: true,
      laggingReplica: false,
    };
    restores[restore.name] = result;
    if (restore.error) {
      result.status = 'failed-to-start';
      result.message = restore.error;
      // A damaged backup may be refused; an intact one must restore.
      if (!damaged)
        anomalies.push({
          type: 'restore-failed',
          ops: [restore.index],
          description: `${restore.name}: ${restore.error}`,
        });
      verdicts.push(damaged ? true : false);
      continue;
    }
    const unread = reads.length === 0 || reads.some((r) => r.type !== 'ok');
    const backupStart = backup?.startNs ?? Infinity;
    const lagged = laggingBackup(backup?.value);
    result.laggingReplica = lagged;
    // Loss the harness caused (damage) or the copied replica's lag explains: reported, documented, not a failure.
    const expectedLoss = damaged || lagged;
    let inconsistent = false;
    let dataLoss = false;
    const okReads = reads.filter((r) => r.type === 'ok');
    const first = JSON.stringify([...((okReads[0]?.value ?? []) as number[])].sort((a, b) => a - b));
    for (const read of okReads) {
      const present = new Set(read.value as number[]);
      const where = `${restore.name} ${read.node}`;
      if (JSON.stringify([...present].sort((a, b) => a - b)) !== first) result.converged = false;
      let latestInvoke = -Infinity;
      for (const element of present) {
        const op = attempted.get(element);
        if (!op) {
          inconsistent = true;
          anomalies.push({
            type: 'unexpected-element',
            ops: [read.index],
            description: `${where}: ${element} is present but was never added`,
          });
        } else latestInvoke = Math.max(latestInvoke, op.invokeTime);
      }
      const holes: Operation[] = [];
      const lostOps: Operation[] = [];
      let missingAfter = 0;
      // The cut: the last acknowledgement up to which every acknowledged add is present.
      let cutNs = 0;
      let whole = true;
      for (const op of acked) {
        if (present.has(op.input as number)) {
          if (whole) cutNs = op.completeTime;
          continue;
        }
        whole = false;
        if (op.completeTime < latestInvoke) holes.push(op);
        else if (op.completeTime < backupStart) lostOps.push(op);
        else missingAfter++;
      }
      // One anomaly per node and kind, naming the adds (the first few) and pointing at their invocations.
      const cite = (missing: Operation[]): { ops: number[]; list: string } => ({
        ops: [...missing.slice(0, MAX_CITED).map((op) => op.invokeIndex), read.index],
        list:
          missing
            .slice(0, MAX_CITED)
            .map((op) => String(op.input))
            .join(', ') + (missing.length > MAX_CITED ? ', ...' : ''),
      });
      if (holes.length) {
        inconsistent = true;
        const { ops, list } = cite(holes);
        anomalies.push({
          type: 'cut-violation',
          ops,
          description: `${where}: ${holes.length} acknowledged adds missing though later ones are present (${list})`,
        });
      }
      if (lostOps.length) {
        dataLoss = true;
        const { ops, list } = cite(lostOps);
        const type = damaged ? 'backup-data-loss' : lagged ? 'lagging-backup' : 'lost-write';
        anomalies.push({
          type,
          ops,
          description: `${where}: ${lostOps.length} adds acknowledged before the backup started are missing (${list})`,
          ...(expectedLoss ? { documented: true } : {}),
        });
      }
      const lost = lostOps.length;
      result.lostBeforeBackup = Math.max(result.lostBeforeBackup, lost);
      result.missingAfterBackupStart = Math.max(result.missingAfterBackupStart, missingAfter);
      const pointS = whole ? 0 : (lastAckNs - cutNs) / 1e9;
      result.recoveryPointS = Math.max(result.recoveryPointS ?? 0, Math.round(pointS * 1000) / 1000);
    }
    if (!result.converged) {
      inconsistent = true;
      anomalies.push({
        type: 'divergence',
        ops: okReads.map((r) => r.index),
        description: `${restore.name}: the restored nodes hold different sets`,
      });
    }
    // What the nodes read show decides; nodes left unread make an otherwise clean restore unknown.
    result.status = inconsistent ? 'inconsistent' : dataLoss ? 'data-loss' : unread ? 'unread' : 'complete';
    verdicts.push(inconsistent || (dataLoss && !expectedLoss) ? false : unread ? 'unknown' : true);
  }
  const summary = Object.values(restores);
  // One line per run for the terminal: each restore's outcome, recovery point and recovery time.
  const reason = Object.entries(restores)
    .map(
      ([name, r]) =>
        `${name}: ${r.status}` +
        (r.recoveryTimeS !== null
          ? `, RPO ${r.missingAfterBackupStart + r.lostBeforeBackup} ops / ${r.recoveryPointS ?? 0} s, RTO ${r.recoveryTimeS} s`
          : ''),
    )
    .join('; ');
  return {
    valid: summary.length === 0 ? 'unknown' : mergeValidity(verdicts),
    ...(reason ? { reason } : {}),
    counts: {
      backups: backups.size,
      restores: summary.length,
      complete: summary.filter((r) => r.status === 'complete').length,
      dataLoss: summary.filter((r) => r.status === 'data-loss').length,
      inconsistent: summary.filter((r) => r.status === 'inconsistent').length,
      failedToStart: summary.filter((r) => r.status === 'failed-to-start').length,
    },
    backups: Object.fromEntries(
      [...backups].map(([k, b]) => [
        k,
        {
          node: b.value.node,
          startS: b.startNs / 1e9,
          endS: b.endNs / 1e9,
          snapshotZxid: b.value.snapshotZxid,
          lastZxid: b.value.lastZxid,
          committedAtStart: b.value.committedAtStart,
          laggingReplica: laggingBackup(b.value),
          ...(b.error ? { error: b.error } : {}),
        },
      ]),
    ),
    restores,
    anomalies,
  };
}

export const restoreChecker: Checker = { check: async (history) => checkRestores(history) };

/** `--dr` (no value) or `--dr truncate-log,drop-logs,...`: the damaged copies of the live backup to restore too. */
export function parseDrOption(value: string | boolean | undefined, workload: string): DrOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (workload !== 'set')
    throw new UsageError(
      `--dr needs --workload set (not ${workload})`,
      "Restores are checked against the set workload's distinct adds.",
    );
  const names =
    value === true
      ? []
      : value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const unknown = names.filter((n) => !(BACKUP_DAMAGE as readonly string[]).includes(n));
  if (unknown.length)
    throw new UsageError(`unknown backup damage: ${unknown.join(', ')}`, `Choose from ${BACKUP_DAMAGE.join(', ')}.`);
  return { damage: names as BackupDamage[], seedOne: true };
}

/** Turns a test into the DR scenario: backups during the main phase, then disaster, restores and their check. */
export function withDisasterRecovery(test: Test, env: RestoreEnvironment, options: DrOptions): Test {
  const workload: Workload = { ...test.workload, checkers: { ...test.workload.checkers, restore: restoreChecker } };
  return {
    ...test,
    workload,
    schedule: backupSchedule(test.schedule, test.timeLimitS, test.runDir),
    afterRecovery: (history, log) =>
      disasterAndRestore(env, restorePlans(options), test.cluster, workload, history, log),
  };
}

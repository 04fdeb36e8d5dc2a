// Disaster recovery, the disaster and the restores: the ensemble destroyed, then every planned backup restored
// into a fresh ensemble, which must serve and is read back from every node.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { DockerCluster, type ClusterNode } from '../cluster.js';
import type { BackupDamage, DrSettings } from '../config.js';
import type { HistoryWriter } from '../history.js';
import type { Logger } from '../log.js';
import { Random } from '../random.js';
import { sleep, withTimeout } from '../time.js';
import type { Workload } from '../workload.js';
import { renderZooCfg, ZooKeeperDb, type ZooKeeperConfig } from '../zookeeper.js';
import { BACKUP_DIR, damageBackup, describeBackup, type BackupKind } from './backup.js';
import { RESTORE_READ } from './checker.js';
import { recordDr } from './schedule.js';

/** all: every node seeded from the backup; one: n1 seeded, the others empty, syncing from it. */
export type SeedMode = 'all' | 'one';

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

export function restorePlans(options: DrSettings): RestorePlan[] {
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

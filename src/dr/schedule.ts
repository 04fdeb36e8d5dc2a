// Disaster recovery, under load: both backups taken during the main phase, beside the base fault schedule.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ClusterNode } from '../cluster.js';
import type { HistoryWriter } from '../history.js';
import type { NemesisContext } from '../nemesis.js';
import type { NemesisSchedule, ScheduleRun } from '../schedule.js';
import { waitUntilStopped } from '../zookeeper.js';
import { BACKUP_DIR, copyBackup, hex } from './backup.js';

/** Records one DR action as an info pair from the nemesis; the completion carries what it did (or the error). */
export async function recordDr(
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
    // The backups are the DR scenario's own faults: a run of them alone is complete.
    faultCount: base?.faultCount ?? 0,
    description: `${base?.description ?? 'none'}; backups: live copy at ${(timeLimitS * 0.4).toFixed(0)} s, stopped copy at ${(timeLimitS * 0.65).toFixed(0)} s`,
    run: async (run) => {
      await Promise.all([base?.run(run), takeBackups(run)]);
    },
  };
}

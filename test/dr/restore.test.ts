// A real disaster-recovery run on a 3-node ZooKeeper 3.8.0 ensemble: backups taken live and from a stopped
// follower under a set workload, the ensemble destroyed, every backup restored into a fresh ensemble (seeded on
// every node, and on one node only), plus damaged copies: a truncated newest log, a backup without its logs, and
// a flipped bit in the log and in the snapshot.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeTest } from '../../src/run/execute.js';
import type { BackupDamage } from '../../src/config.js';
import type { RestoreResult } from '../../src/dr/checker.js';
import { failingCheckers } from '../../src/checker.js';
import { readHistory } from '../../src/history.js';
import { MemoryLogger } from '../../src/log.js';
import { leftovers, shortTestConfig } from '../integration/helpers.js';

describe('disaster recovery on a real ensemble', () => {
  it('restores intact backups valid, reports the loss of a truncated log and of missing logs, never passes a corrupt one', async () => {
    const config = {
      ...shortTestConfig({
        name: 'dr',
        workload: 'set',
        nemesis: ['none'],
        timeLimitS: 16,
        rate: 40,
        concurrency: 4,
      }),
      dr: { damage: ['truncate-log', 'drop-logs', 'flip-log', 'flip-snapshot'] as BackupDamage[], seedOne: true },
    };
    const log = new MemoryLogger();
    const { outcome, runDir, runId } = await executeTest(config, log, new AbortController().signal);
    const restore = outcome.checkers.restore!;
    const restores = restore.restores as Record<string, RestoreResult>;
    const detail = JSON.stringify({ restores, backups: restore.backups }, null, 1);
    for (const name of ['restore-live', 'restore-stopped', 'restore-live-one']) {
      expect(restores[name], detail).toMatchObject({ status: 'complete', converged: true, lostBeforeBackup: 0 });
      expect(restores[name]!.recoveryTimeS, detail).toBeGreaterThan(0);
    }
    // The stopped copy was taken later than the live one: it misses no more.
    expect(restores['restore-stopped']!.missingAfterBackupStart).toBeLessThanOrEqual(
      restores['restore-live']!.missingAfterBackupStart + 5,
    );
    // Damaged: a consistent cut that lost acknowledged adds, reported as documented loss (the harness did it).
    expect(restores['restore-live-truncate-log'], detail).toMatchObject({ status: 'data-loss', converged: true });
    expect(restores['restore-live-truncate-log']!.lostBeforeBackup).toBeGreaterThan(0);
    expect(restores['restore-live-drop-logs']!.status, detail).toMatch(/^(data-loss|failed-to-start)$/);
    // A flipped bit: refused with the server's reason, or a consistent cut; never an inconsistent restore.
    for (const name of ['restore-live-flip-log', 'restore-live-flip-snapshot']) {
      const flipped = restores[name]!;
      expect(flipped.status, detail).toMatch(/^(failed-to-start|data-loss|complete)$/);
      if (flipped.status === 'failed-to-start') expect(flipped.message, detail).toMatch(/did not serve/);
    }
    expect(restore.anomalies!.some((a) => a.type === 'backup-data-loss' && a.documented === true)).toBe(true);
    expect(
      restore.anomalies!.filter((a) => !a.documented),
      detail,
    ).toEqual([]);
    expect(restore.valid).toBe(true);
    // Every checker, named, so a failure says which one and why.
    expect(failingCheckers(outcome.checkers)).toEqual([]);
    expect(outcome.valid).toBe(true);

    const history = await readHistory(join(runDir, 'history.jsonl'));
    const nemesis = history
      .filter((e) => e.process === 'nemesis')
      .map((e) => `${e.f}:${typeof e.value === 'string' ? e.value : 'done'}`);
    expect(nemesis).toEqual(
      expect.arrayContaining([
        'backup:backup-live',
        'backup:backup-stopped',
        'disaster:disaster',
        'restore:restore-live',
      ]),
    );
    expect(existsSync(join(runDir, 'backups', 'live', 'version-2'))).toBe(true);
    for (const id of [runId, ...Array.from({ length: 7 }, (_, i) => `${runId}-r${i + 1}`)])
      expect(await leftovers(id)).toEqual([]);
  }, 240_000);
});

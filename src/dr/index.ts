// Disaster recovery (issue 8): under a running set workload, back up one node's data dir the ways operators do
// (copied live, and copied from a stopped node), optionally damage copies of a backup, then destroy the whole
// ensemble and restore every backup into a fresh one. The restored state must be a consistent cut of the history;
// what it lacks is the recovery point. Everything lands in the history: backups, the disaster and restores as
// 'nemesis' info pairs (fault bands in the report), the restored nodes' reads as 'final' events keyed by restore.
// Files: backup.ts (copies and damage), schedule.ts (backups under load), restore.ts (disaster and restores),
// checker.ts (the restore check). The setting itself (--dr, `dr:`) is in src/config.ts.
import type { DrSettings } from '../config.js';
import type { Test } from '../runner.js';
import type { Workload } from '../workload.js';
import { restoreChecker } from './checker.js';
import { disasterAndRestore, restorePlans, type RestoreEnvironment } from './restore.js';
import { backupSchedule } from './schedule.js';

export { restoreChecker } from './checker.js';
export type { RestoreEnvironment } from './restore.js';

/** Turns a test into the DR scenario: backups during the main phase, then disaster, restores and their check. */
export function withDisasterRecovery(test: Test, env: RestoreEnvironment, options: DrSettings): Test {
  const workload: Workload = { ...test.workload, checkers: { ...test.workload.checkers, restore: restoreChecker } };
  return {
    ...test,
    workload,
    schedule: backupSchedule(test.schedule, test.timeLimitS, test.runDir),
    afterRecovery: (history, log) =>
      disasterAndRestore(env, restorePlans(options), test.cluster, workload, history, log),
  };
}

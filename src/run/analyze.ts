// Checking a recorded run again, offline, from its history and test.json: also the way to a verdict for a run
// whose harness crashed or was interrupted. results.json is rewritten with the new checker results.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckerResult } from '../checker.js';
import { overallValidity } from '../checker.js';
import { restoreChecker } from '../dr/index.js';
import { readHistory, type HistoryEvent } from '../history.js';
import type { Logger } from '../log.js';
import { runCheckers } from '../runner.js';
import { readResults, readTestRecord, STORE_FORMAT, type Results } from '../store/format.js';
import { HISTORY_FILE, RESULTS_FILE, writeJson } from '../store/index.js';
import { readServerLogs, scanRunLogs, writeServerLogs } from '../store/server-logs.js';
import { logPatternsOf, runCheckersOf, workloadOf } from './execute.js';

function countStats(history: readonly HistoryEvent[]): Results['stats'] {
  const stats = { ok: 0, fail: 0, info: 0, nemesis: 0 };
  for (const e of history) {
    if (typeof e.process === 'number' && e.type !== 'invoke') stats[e.type]++;
    else if (e.process === 'nemesis' && typeof e.value !== 'string' && e.f === 'start') stats.nemesis++;
  }
  return stats;
}

/** The nodes a run directory has (nodes/<n>/), or n1..nN when it has none. */
function nodesOf(runDir: string, count: number): string[] {
  const dir = join(runDir, 'nodes');
  const found = existsSync(dir) ? readdirSync(dir).filter((n) => /^n\d+$/.test(n)) : [];
  return found.length ? found.sort() : Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** Checks a run directory's history again with its workload's checkers; returns and writes the new results. */
export async function analyzeRun(
  runDir: string,
  options: { timeoutMs: number; log: Logger },
): Promise<{ results: Results; checkers: Record<string, CheckerResult>; events: number }> {
  const record = readTestRecord(runDir);
  const config = record.config;
  const history = await readHistory(join(runDir, HISTORY_FILE), (msg) => options.log.warn(msg));
  const workload = workloadOf(config);
  // The servers' logs as the run read them; a run that has none (its harness died first) gets them read now, its
  // history's time 0 taken as the run's start (a little early: findings' times are approximate).
  const serverLogs =
    readServerLogs(runDir) ??
    scanRunLogs(runDir, nodesOf(runDir, config.nodes), logPatternsOf(config), Date.parse(record.startedAt));
  writeServerLogs(runDir, serverLogs);
  // A disaster-recovery run (--dr) is checked by the restore checker too.
  const checkers = await runCheckers(
    { ...workload.checkers, ...runCheckersOf(config), ...(config.dr ? { restore: restoreChecker } : {}) },
    history,
    { runDir, timeoutMs: options.timeoutMs, serverLogs },
  );
  // A run whose harness died before its results keeps what the history says; one that finished keeps its measures.
  const previous = existsSync(join(runDir, RESULTS_FILE)) ? readResults(runDir) : undefined;
  const results: Results = {
    ...(previous ?? {
      format: STORE_FORMAT,
      server: { build: config.server, image: record.image.name, version: record.serverVersion ?? null, versions: {} },
      stats: countStats(history),
      leaders: [],
      leaderChanges: [],
      recovery: null,
    }),
    valid: overallValidity(checkers),
    checkers,
    analyzedAt: new Date().toISOString(),
  };
  writeJson(join(runDir, RESULTS_FILE), results);
  return { results, checkers, events: history.length };
}

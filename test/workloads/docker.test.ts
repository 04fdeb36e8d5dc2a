// Real runs on a 3-node ZooKeeper 3.8.0 ensemble: every workload valid under partitions and kills (acl with
// snapCount 100, its outsiders refused), a full-cluster crash that loses nothing, and the checkers' teeth: truncated
// logs on every node lose acknowledged adds (exit 1), plain reads on an isolated follower are stale
// (linearizability) yet sequentially consistent.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeTest } from '../../src/run/execute.js';
import { exitCodeForVerdict } from '../../src/errors.js';
import { readHistory } from '../../src/history.js';
import { MemoryLogger } from '../../src/log.js';
import { sleep } from '../../src/time.js';
import { filesByZxid, parseTxnLog, truncateTxnLog } from '../../nemesis/disk.js';
import { readFileSync } from 'node:fs';
import type { RunLayer } from '../../src/config.js';
import { leftovers, shortTestConfig } from '../integration/helpers.js';

async function run(overrides: RunLayer) {
  const config = shortTestConfig({ timeLimitS: 10, nemesisIntervalS: 3, rate: 60, ...overrides });
  const result = await executeTest(config, new MemoryLogger(), new AbortController().signal);
  expect(await leftovers(result.runId)).toEqual([]);
  return { ...result, config };
}

/** The run directory executeTest creates under resultsDir/name, once it exists. */
async function awaitRunDir(resultsDir: string, name: string): Promise<string> {
  for (;;) {
    const parent = join(resultsDir, name);
    const runs = existsSync(parent) ? readdirSync(parent).filter((d) => d !== 'latest') : [];
    if (runs.length > 0 && existsSync(join(parent, runs[0]!, 'history.jsonl'))) return join(parent, runs[0]!);
    await sleep(200);
  }
}

/**
 * While kill-all has every node down (between its start and its heal), cut the last third of the records of
 * every node's newest transaction log: acknowledged writes in that tail are gone from every replica.
 */
async function truncateLogsWhileAllDown(resultsDir: string, name: string): Promise<number> {
  const runDir = await awaitRunDir(resultsDir, name);
  for (;;) {
    const history = await readHistory(join(runDir, 'history.jsonl')).catch(() => []);
    const killed = history.find(
      (e) =>
        e.process === 'nemesis' && e.f === 'start' && (e.value as { killed?: string[] } | null)?.killed?.length === 3,
    );
    if (killed) break;
    await sleep(100);
  }
  let removed = 0;
  for (const node of readdirSync(join(runDir, 'nodes'))) {
    const dir = join(runDir, 'nodes', node, 'data', 'version-2');
    const newest = filesByZxid(dir, 'log')[0];
    if (!newest) continue;
    const records = parseTxnLog(readFileSync(join(dir, newest))).records.length;
    const cut = Math.max(1, Math.floor(records / 3));
    truncateTxnLog(join(dir, newest), { records: cut });
    removed += cut;
  }
  return removed;
}

describe('workloads on a real ensemble', () => {
  it.each(['register', 'multi-register', 'set', 'queue', 'bank', 'session'])(
    '%s is valid under leader partitions and kills',
    async (workload) => {
      // A 2 s interval fits both faults (each held 2 s after a 1-3 s wait) into the 10 s run.
      const { outcome, runDir } = await run({
        workload,
        name: `wl-${workload}`,
        nemesisIntervalS: 2,
        ...(workload === 'session' ? { rate: 20 } : {}),
      });
      const started = (await readHistory(join(runDir, 'history.jsonl'))).filter(
        (e) => e.process === 'nemesis' && e.f === 'start' && typeof e.value === 'object',
      );
      expect(new Set(started.map((e) => (e.value as { fault: string }).fault))).toEqual(
        new Set(['partition-leader', 'kill-leader']),
      );
      for (const [name, result] of Object.entries(outcome.checkers))
        expect(result.valid, `${name}: ${JSON.stringify(result).slice(0, 600)}`).toBe(true);
      expect(outcome.valid).toBe(true);
      expect(outcome.stats.ok).toBeGreaterThan(20);
    },
    150_000,
  );

  it('acl is valid under leader partitions and kills with snapCount 100, and unauthenticated reads were refused', async () => {
    const { outcome, runDir } = await run({
      workload: 'acl',
      name: 'wl-acl',
      nemesisIntervalS: 2,
      timeLimitS: 20,
      zookeeper: { tickTime: 500, syncLimit: 5, snapCount: 100 },
    });
    const started = (await readHistory(join(runDir, 'history.jsonl'))).filter(
      (e) => e.process === 'nemesis' && e.f === 'start' && typeof e.value === 'object',
    );
    expect(new Set(started.map((e) => (e.value as { fault: string }).fault))).toEqual(
      new Set(['partition-leader', 'kill-leader']),
    );
    for (const [name, result] of Object.entries(outcome.checkers))
      expect(result.valid, `${name}: ${JSON.stringify(result).slice(0, 600)}`).toBe(true);
    const counts = outcome.checkers.acl!.counts!;
    // Outsiders were really refused (NOAUTH), during the run and by every node after recovery; insiders read.
    expect(counts.unauthenticatedRefused).toBeGreaterThan(0);
    expect(counts.finalUnauthenticatedRefused).toBeGreaterThan(0);
    expect(counts.authenticatedReads).toBeGreaterThan(0);
    expect(counts.acknowledgedWrites).toBeGreaterThan(20);
    expect(counts.bypassed).toBe(0);
    expect(outcome.valid).toBe(true);
  }, 150_000);

  it('set survives a full-cluster crash under load: nothing acknowledged lost, replicas converge', async () => {
    const { outcome, runDir } = await run({
      workload: 'set',
      name: 'crash',
      nemesis: ['kill-all'],
      nemesisIntervalS: 4,
      timeLimitS: 12,
    });
    const history = await readHistory(join(runDir, 'history.jsonl'));
    expect(
      history.some((e) => e.f === 'start' && (e.value as { killed?: string[] } | null)?.killed?.length === 3),
    ).toBe(true);
    expect(outcome.checkers.set).toMatchObject({ valid: true, counts: { lost: 0 } });
    expect(outcome.checkers.convergence?.valid).toBe(true);
    expect(history.filter((e) => e.process === 'final' && e.f === 'final-read' && e.type === 'ok')).toHaveLength(3);
  }, 150_000);

  it("set reports lost acknowledged adds, exit code 1, after every node's txn log is truncated while all are down", async () => {
    const config = shortTestConfig({
      workload: 'set',
      name: 'truncate',
      nemesis: ['kill-all'],
      nemesisIntervalS: 6,
      timeLimitS: 14,
      rate: 60,
    });
    const [{ outcome, runId }, removed] = await Promise.all([
      executeTest(config, new MemoryLogger(), new AbortController().signal),
      truncateLogsWhileAllDown(config.resultsDir, config.name),
    ]);
    expect(removed).toBeGreaterThan(0);
    const set = outcome.checkers.set!;
    expect(set.valid).toBe(false);
    expect((set.counts as { lost: number }).lost).toBeGreaterThan(0);
    expect(set.anomalies![0]).toMatchObject({ type: 'lost-write' });
    expect(exitCodeForVerdict(outcome.valid)).toBe(1);
    expect(await leftovers(runId)).toEqual([]);
  }, 150_000);

  it('register with plain reads on an isolated follower: stale under linearizability, sequentially consistent', async () => {
    // A long syncLimit keeps the isolated follower serving (stale) reads for the whole partition; its clients
    // block at their first write, so several of them (5 per node) make a read right after the cut likely.
    const { outcome } = await run({
      name: 'plain',
      readMode: 'plain',
      nemesis: ['partition-follower'],
      nemesisIntervalS: 3,
      timeLimitS: 20,
      rate: 100,
      concurrency: 15,
      zookeeper: { syncLimit: 20 },
    });
    const lin = outcome.checkers.linearizable!;
    expect(lin.valid).toBe(false);
    expect(lin.advisory).toBe(true);
    expect(lin.anomalies!.some((a) => a.type === 'stale-read' && a.documented === true)).toBe(true);
    expect(outcome.checkers.sequential?.valid).toBe(true);
    expect(outcome.checkers.durability?.valid).toBe(true);
    expect(outcome.valid).toBe(true);
  }, 150_000);
});

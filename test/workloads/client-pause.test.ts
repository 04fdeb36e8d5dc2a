// A paused lock holder on a real 3-node ensemble: pause-client stops one Curator driver JVM for 4.5 s, past its
// 2 s session and short of the 10 s op timeout (so its op in flight is not given up). When the JVM is the holder's,
// its session expires, the other client takes the lock, and the holder resumes still holding: the unfenced lock must
// show that overlap as documented (its holder saw LOST); the fenced lock must stay valid under the same fault.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/history.js';
import { HISTORY_FILE } from '../../src/store/index.js';
import { MemoryLogger } from '../../src/log.js';
import { executeTest } from '../../src/run/execute.js';
import { leftovers, shortTestConfig } from '../integration/helpers.js';

/** Pause one client JVM, again and again: the seeded random picks it among the clients serving then. */
const SCENARIO = [
  'name: paused-client',
  'repeat: true',
  'steps:',
  '  - wait: 1',
  '  - fault: pause-client',
  '    params: { durationMs: 4500 }',
  '  - wait: 1',
].join('\n');

async function pausedRun(workload: 'lock' | 'lock-fenced', timeLimitS: number) {
  const config = shortTestConfig({
    name: `cp-${workload}`,
    server: 'debian:sid',
    workload,
    timeLimitS,
    // Two clients: a pause hits the holder or the one waiting for it, about half the time each.
    concurrency: 2,
    rate: 20,
    sessionTimeoutS: 2,
    opTimeoutS: 10,
  });
  const scenario = join(config.resultsDir, 'paused-client.yaml');
  writeFileSync(scenario, SCENARIO);
  const run = await executeTest({ ...config, scenario }, new MemoryLogger(), new AbortController().signal);
  const history = await readHistory(join(run.runDir, HISTORY_FILE));
  const pauses = history.flatMap((e) => {
    const v = e.value as { fault?: unknown; pid?: unknown; resumed?: unknown } | null;
    return e.process === 'nemesis' && e.f === 'start' && v && typeof v === 'object' && v.fault === 'pause-client'
      ? [v]
      : [];
  });
  return { ...run, pauses };
}

describe('a paused lock holder', () => {
  it('makes the unfenced lock overlap, documented, and leaves no stopped JVM or container behind', async () => {
    const { outcome, runId, pauses } = await pausedRun('lock', 45);
    expect(await leftovers(runId)).toEqual([]);
    expect(outcome.error).toBeUndefined();
    // Every pause stopped a JVM that served a client and resumed it: none stayed stopped.
    expect(pauses.length).toBeGreaterThanOrEqual(3);
    for (const p of pauses) expect(p).toMatchObject({ pid: expect.any(Number), resumed: true });
    const lock = outcome.checkers.lock!;
    const counts = lock.counts ?? {};
    expect(counts.documentedOverlaps, JSON.stringify(counts)).toBeGreaterThanOrEqual(1);
    expect((lock as { overlapRate?: number }).overlapRate).toBeGreaterThan(0);
    // Every overlap is the documented one: its first holder had lost its session.
    expect(counts.overlaps).toBe(counts.documentedOverlaps);
    expect(lock.valid).toBe(true);
  }, 240_000);

  it('leaves the fenced lock valid: the stale holder is fenced off', async () => {
    const { outcome, runId, pauses } = await pausedRun('lock-fenced', 30);
    expect(await leftovers(runId)).toEqual([]);
    expect(outcome.error).toBeUndefined();
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    const lock = outcome.checkers.lock!;
    const violations = (lock.anomalies ?? []).filter((a) => !a.documented);
    expect(violations, JSON.stringify(violations).slice(0, 800)).toEqual([]);
    expect(lock.valid).toBe(true);
    expect(lock.counts?.staleWrites ?? 0).toBe(0);
  }, 240_000);
});

// A real, short run: 3 ZooKeeper 3.8.0 nodes in Docker, register workload, leader partitions and leader kills.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeTest } from '../../src/run/execute.js';
import { readHistory } from '../../src/history.js';
import { MemoryLogger } from '../../src/log.js';
import { leftovers, shortTestConfig } from './helpers.js';

describe('faultline test, end to end', () => {
  it('runs under partitions and leader kills, changes leader, stays valid and leaves nothing behind', async () => {
    const config = shortTestConfig();
    const { outcome, runDir, runId } = await executeTest(config, new MemoryLogger(), new AbortController().signal);

    const history = await readHistory(join(runDir, 'history.jsonl'));
    const okProcesses = new Set(
      history.filter((e) => e.type === 'ok' && e.process !== 'nemesis').map((e) => e.process),
    );
    expect(okProcesses.size).toBeGreaterThanOrEqual(3);
    const nemesis = history.filter((e) => e.process === 'nemesis');
    expect(nemesis.some((e) => e.f === 'start' && (e.value as { fault?: string }).fault === 'partition-leader')).toBe(
      true,
    );
    expect(nemesis.some((e) => e.f === 'start' && (e.value as { fault?: string }).fault === 'kill-leader')).toBe(true);
    expect(nemesis.some((e) => e.f === 'heal')).toBe(true);

    expect(new Set(outcome.leaders).size).toBeGreaterThanOrEqual(2);
    expect(outcome.checkers.linearizable?.valid).toBe(true);
    expect(outcome.valid).toBe(true);

    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as { valid: unknown };
    expect(results.valid).toBe(true);
    for (const file of [
      'test.json',
      'harness.log',
      'nodes/n1/conf/zoo.cfg',
      'nodes/n1/data/myid',
      'nodes/n1/logs/zookeeper.log',
    ]) {
      expect(existsSync(join(runDir, file)), file).toBe(true);
    }
    expect(await leftovers(runId)).toEqual([]);
  }, 240_000);
});

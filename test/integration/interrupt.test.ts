// Ctrl-C during a run: the harness heals, removes its containers and network, and keeps the history so far.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/history.js';
import { sleep } from '../../src/time.js';
import { leftovers, shortTestConfig } from './helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'faultline.js');

describe('Ctrl-C', () => {
  it('leaves no container or network behind and keeps the history written so far', async () => {
    const { resultsDir } = shortTestConfig();
    const child = execa('node', [BIN, 'test', '--name', 'interrupted', '--time-limit', '300', '--nemesis-interval', '3', '--results-dir', resultsDir], { reject: false, all: true });
    // Wait until the main phase has recorded a few operations.
    const latest = join(resultsDir, 'latest');
    let lines = 0;
    for (let i = 0; i < 240 && lines < 50; i++) {
      await sleep(500);
      try {
        lines = readFileSync(join(latest, 'history.jsonl'), 'utf8').split('\n').length;
      } catch { /* not started yet */ }
    }
    expect(lines).toBeGreaterThanOrEqual(50);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);

    const runId = (JSON.parse(readFileSync(join(latest, 'test.json'), 'utf8')) as { runId: string }).runId;
    expect(await leftovers(runId)).toEqual([]);
    const history = await readHistory(join(latest, 'history.jsonl'));
    expect(history.length).toBeGreaterThanOrEqual(lines - 1);
    expect(history.some((e) => e.type === 'ok')).toBe(true);
  }, 240_000);
});

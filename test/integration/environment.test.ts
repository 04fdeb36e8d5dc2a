// Failures of the environment end in a verdict (issue 18): a node's container killed from outside the harness, and
// a results disk that fills up during the run. Each ends UNKNOWN with the cause in results.json, exit 3, the
// history kept, nothing left behind.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { LABEL_NODE, LABEL_RUN } from '../../src/cluster.js';
import { sleep } from '../../src/time.js';
import { leftovers } from './helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'faultline.js');

const runArgs = (resultsDir: string, extra: string[]): string[] => [
  BIN,
  'test',
  '--time-limit',
  '30',
  '--recovery-timeout',
  '20',
  '--results-dir',
  resultsDir,
  ...extra,
];

function readRun(resultsDir: string): { valid: unknown; error?: string; runId: string; dir: string } {
  const dir = join(resultsDir, 'latest');
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { valid: unknown; error?: string };
  const { runId } = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8')) as { runId: string };
  return { ...results, runId, dir };
}

describe('environment failures (real containers)', () => {
  it('a node container killed from outside: UNKNOWN, the container named, exit 3', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'faultline-envkill-'));
    const child = execa('node', runArgs(resultsDir, []), { reject: false, all: true });
    const docker = new Docker();
    let killed = false;
    for (let i = 0; i < 240 && !killed; i++) {
      await sleep(500);
      if (!existsSync(join(resultsDir, 'latest', 'history.jsonl'))) continue;
      const lines = readFileSync(join(resultsDir, 'latest', 'history.jsonl'), 'utf8').split('\n');
      if (lines.length < 200) continue;
      const { runId } = JSON.parse(readFileSync(join(resultsDir, 'latest', 'test.json'), 'utf8')) as {
        runId: string;
      };
      const [n2] = await docker.listContainers({ filters: { label: [`${LABEL_RUN}=${runId}`, `${LABEL_NODE}=n2`] } });
      if (!n2) continue;
      await docker.getContainer(n2.Id).kill();
      killed = true;
    }
    expect(killed).toBe(true);
    const done = await child;
    expect(done.exitCode, done.all).toBe(3);
    const run = readRun(resultsDir);
    expect(run.valid).toBe('unknown');
    expect(run.error).toMatch(/n2's container .*(stopped|removed) from outside the harness/);
    expect(done.all).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(run.dir, 'history.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(200);
    expect(await leftovers(run.runId)).toEqual([]);
    rmSync(resultsDir, { recursive: true, force: true });
  }, 300_000);

  it('a results disk that fills up: UNKNOWN, named a full disk, results.json still written, exit 3', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'faultline-envfull-'));
    // 1.6 MB: room for the run's start, full within seconds at 200 ops/s (history, server logs and data).
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1600k', 'tmpfs', resultsDir]);
    try {
      const done = await execa('node', runArgs(resultsDir, ['--rate', '200']), { reject: false, all: true });
      expect(done.exitCode, done.all).toBe(3);
      const run = readRun(resultsDir);
      expect(run.valid).toBe('unknown');
      expect(run.error).toMatch(/the disk is full \(ENOSPC/);
      expect(done.all).toMatch(/Verdict: UNKNOWN/);
      expect(done.all).not.toMatch(/unexpected error|\n\s+at /);
      expect(existsSync(join(run.dir, '.results-reserve'))).toBe(false);
      expect(await leftovers(run.runId)).toEqual([]);
    } finally {
      await execa('umount', [resultsDir]);
      rmSync(resultsDir, { recursive: true, force: true });
    }
  }, 300_000);
});

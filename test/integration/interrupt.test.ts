// Ctrl-C during a run: the harness heals, removes its containers and network, and keeps the history so far.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/history.js';
import { sleep } from '../../src/time.js';
import { leftovers, shortTestConfig } from './helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'faultline.js');

/** `faultline test` in a child process, in a fresh results dir. */
function launch(name: string, timeLimitS: number, intervalS: number, extra: string[] = []) {
  const { resultsDir } = shortTestConfig();
  const args = ['--name', name, '--time-limit', String(timeLimitS), '--nemesis-interval', String(intervalS)];
  const child = execa('node', [BIN, 'test', ...args, '--results-dir', resultsDir, ...extra], {
    reject: false,
    all: true,
  });
  return { child, resultsDir };
}

/** Starts `faultline test` in a child process and waits until its history holds at least `minLines` lines. */
async function startRun(name: string, minLines: number, extra: string[] = []) {
  const { child, resultsDir } = launch(name, 300, 3, extra);
  const latest = join(resultsDir, 'latest');
  let lines = 0;
  for (let i = 0; i < 360 && lines < minLines; i++) {
    await sleep(500);
    try {
      lines = readFileSync(join(latest, 'history.jsonl'), 'utf8').split('\n').length;
    } catch {
      /* not started yet */
    }
  }
  const runId = (): string => (JSON.parse(readFileSync(join(latest, 'test.json'), 'utf8')) as { runId: string }).runId;
  return { child, latest, lines, runId };
}

describe('a killed harness', () => {
  it('leaves objects that `faultline clean` finds by label and removes', async () => {
    const { child, lines, runId } = await startRun('killed', 20);
    expect(lines).toBeGreaterThanOrEqual(20);
    child.kill('SIGKILL');
    await child;
    expect((await leftovers(runId())).length).toBeGreaterThan(0);
    const clean = await execa('node', [BIN, 'clean'], { reject: false, all: true });
    expect(clean.exitCode, clean.all).toBe(0);
    expect(await leftovers(runId())).toEqual([]);
  }, 240_000);
});

describe('Ctrl-C', () => {
  it('leaves no container or network behind and keeps the history written so far', async () => {
    const { child, latest, lines, runId } = await startRun('interrupted', 50);
    expect(lines).toBeGreaterThanOrEqual(50);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);

    expect(await leftovers(runId())).toEqual([]);
    const history = await readHistory(join(latest, 'history.jsonl'));
    expect(history.length).toBeGreaterThanOrEqual(lines - 1);
    expect(history.some((e) => e.type === 'ok')).toBe(true);
  }, 240_000);
});

/** Curator driver JVMs visible on this host (they run in the driver sidecar's PID namespace, under the host's). */
async function driverProcesses(): Promise<number> {
  const found = await execa('pgrep', ['-f', 'FaultlineDriver'], { reject: false });
  return found.stdout.split('\n').filter(Boolean).length;
}

describe('a recipe run (Curator driver sidecar)', () => {
  it('stopped by Ctrl-C leaves no container, network or driver JVM behind', async () => {
    const { child, latest, lines, runId } = await startRun('interrupted-lock', 30, [
      '--workload',
      'lock',
      '--concurrency',
      '4',
    ]);
    expect(lines).toBeGreaterThanOrEqual(30);
    expect(await driverProcesses()).toBeGreaterThan(0);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(await leftovers(runId())).toEqual([]);
    expect(await driverProcesses()).toBe(0);
    const history = await readHistory(join(latest, 'history.jsonl'));
    expect(history.some((e) => e.f === 'acquire' && e.type === 'ok')).toBe(true);
  }, 300_000);

  it('killed, leaves its driver sidecar to `faultline clean`', async () => {
    const { child, runId } = await startRun('killed-lock', 30, ['--workload', 'election', '--concurrency', '4']);
    child.kill('SIGKILL');
    await child;
    expect((await leftovers(runId())).some((name) => name.endsWith('-driver'))).toBe(true);
    const clean = await execa('node', [BIN, 'clean'], { reject: false, all: true });
    expect(clean.exitCode, clean.all).toBe(0);
    expect(await leftovers(runId())).toEqual([]);
    expect(await driverProcesses()).toBe(0);
  }, 300_000);
});

/**
 * Ctrl-C in each phase of a run after the image (whose build has its own test): the moment is a line the harness
 * prints as the phase begins. Each run must exit with 130 within 5 s of the signal and leave nothing behind.
 */
describe('Ctrl-C in each phase', () => {
  const phases: [phase: string, marker: string][] = [
    ['start-up, waiting for the ensemble to serve', 'Waiting for every node to serve'],
    ['preparation (pre-heal, workload setup)', 'Ensemble serving'],
    ['recovery after the final heal', 'Healed; waiting for the ensemble to recover'],
    ['checking, report and teardown', 'Checking the history'],
  ];
  it.each(phases)(
    '%s: exit 130 within 5 s, nothing left',
    async (_phase, marker) => {
      const { child, resultsDir } = launch('phase', 8, 2, ['--nemesis', 'kill-leader']);
      let signalledAt = 0;
      child.all?.on('data', (chunk: Buffer) => {
        if (signalledAt === 0 && chunk.toString().includes(marker)) {
          signalledAt = Date.now();
          child.kill('SIGINT');
        }
      });
      const result = await child;
      const exitedAt = Date.now();
      expect(signalledAt, `never printed "${marker}":\n${result.all}`).toBeGreaterThan(0);
      expect(result.exitCode, result.all).toBe(130);
      expect(exitedAt - signalledAt, result.all).toBeLessThan(5000);
      const runId = (JSON.parse(readFileSync(join(resultsDir, 'latest', 'test.json'), 'utf8')) as { runId: string })
        .runId;
      expect(await leftovers(runId)).toEqual([]);
    },
    180_000,
  );
});

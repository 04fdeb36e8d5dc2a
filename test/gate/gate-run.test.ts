// `faultline gate` for real, through the CLI: a two-test suite run two at a time, each ensemble on its own
// network, with its three outputs and the exit code that matches the verdicts.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { GateResult } from '../../src/store/gate.js';
import { leftovers } from '../integration/helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'faultline.js');

function findFile(dir: string, name: string): string | undefined {
  const entry = readdirSync(dir, { withFileTypes: true, recursive: true }).find((e) => e.name === name && e.isFile());
  return entry ? join(entry.parentPath, entry.name) : undefined;
}

describe('faultline gate on a real engine', () => {
  it('runs a suite two at a time on separate networks and writes gate.json, junit.xml and gate.html', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-gate-'));
    const suite = join(dir, 'tiny.yaml');
    writeFileSync(
      suite,
      [
        'name: tiny',
        'parallel: 2',
        'defaults: { nodes: 3, timeLimit: 12, concurrency: 4, rate: 30, nemesisInterval: 4, zookeeper: { tickTime: 500, syncLimit: 5 } }',
        'tests:',
        '  - { name: register-kill, workload: register, nemesis: [kill-leader] }',
        '  - { name: set-crash, workload: set, nemesis: [crash-leader] }',
        '',
      ].join('\n'),
    );
    const resultsDir = join(dir, 'results');
    const gate = await execa('node', [BIN, 'gate', suite, '--results-dir', resultsDir, '--parallel', '2'], {
      reject: false,
      all: true,
    });
    expect(gate.exitCode, gate.all).toBe(0);

    const gateJson = findFile(resultsDir, 'gate.json')!;
    const result = JSON.parse(readFileSync(gateJson, 'utf8')) as GateResult;
    expect(result.counts).toEqual({ runs: 2, valid: 2, invalid: 0, unknown: 0, errors: 0 });
    const gateDir = join(gateJson, '..');
    expect(readFileSync(join(gateDir, 'junit.xml'), 'utf8')).toMatch(/<testsuite [^>]*tests="2"[^>]*failures="0"/);
    expect(readFileSync(join(gateDir, 'gate.html'), 'utf8')).toContain('set-crash');

    // Side by side: the two runs overlap in time, each on its own /24.
    const spans = result.runs.map((r) => {
      const started = Date.parse(
        (JSON.parse(readFileSync(join(r.runDir!, 'test.json'), 'utf8')) as { startedAt: string }).startedAt,
      );
      return [started, started + r.durationMs] as const;
    });
    // (durationMs also counts a little before test.json's startedAt: demand a long overlap, not a touch.)
    expect(Math.min(spans[0]![1], spans[1]![1]) - Math.max(spans[0]![0], spans[1]![0])).toBeGreaterThan(5000);
    const subnets = result.runs.map(
      (r) => /network \S+ \((172\.29\.\d+\.0\/24)\)/.exec(readFileSync(join(r.runDir!, 'harness.log'), 'utf8'))?.[1],
    );
    expect(subnets.every((s) => s !== undefined)).toBe(true);
    expect(new Set(subnets).size).toBe(2);
    for (const r of result.runs) expect(await leftovers(r.runId!)).toEqual([]);
  }, 300_000);
});

// `faultline gate` for real, through the CLI: a two-test suite run two at a time, each ensemble on its own
// network, with its three outputs and the exit code that matches the verdicts; then its explore entry, whose trials
// also run two at a time, on ensembles a pool reuses.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { GateResult } from '../../src/store/gate.js';
import type { ExploreRecord } from '../../src/store/explore.js';
import { REUSE_FILE } from '../../src/store/reuse.js';
import { readTestRecord } from '../../src/store/format.js';
import { leftovers } from '../integration/helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'faultline.js');

function findFile(dir: string, name: string): string | undefined {
  const entry = readdirSync(dir, { withFileTypes: true, recursive: true }).find((e) => e.name === name && e.isFile());
  return entry ? join(entry.parentPath, entry.name) : undefined;
}

/** How long two runs ran at the same time, from each one's start (test.json) and duration. */
function overlapMs(a: { runDir?: string | null; durationMs: number }, b: typeof a): number {
  const span = (r: typeof a): [number, number] => {
    const started = Date.parse(readTestRecord(r.runDir!).startedAt);
    return [started, started + r.durationMs];
  };
  const [x, y] = [span(a), span(b)];
  return Math.min(x[1], y[1]) - Math.max(x[0], y[0]);
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
        '  - { name: explore, explore: { budget: 5m, trials: 3, sizes: "3", workloads: register, shrink: false } }',
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
    // Two runs and the explore, each a test case.
    const junit = readFileSync(join(gateDir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite [^>]*tests="3"[^>]*failures="0"/);
    expect(junit).toMatch(/<testcase name="explore \(explore, seed \d+\)"/);
    expect(readFileSync(join(gateDir, 'gate.html'), 'utf8')).toContain('set-crash');

    // Side by side: the two runs overlap in time, each on its own /24.
    // (durationMs also counts a little before test.json's startedAt: demand a long overlap, not a touch.)
    expect(overlapMs(result.runs[0]!, result.runs[1]!)).toBeGreaterThan(5000);
    const subnets = result.runs.map(
      (r) => /network \S+ \((172\.29\.\d+\.0\/24)\)/.exec(readFileSync(join(r.runDir!, 'harness.log'), 'utf8'))?.[1],
    );
    expect(subnets.every((s) => s !== undefined)).toBe(true);
    expect(new Set(subnets).size).toBe(2);
    for (const r of result.runs) expect(await leftovers(r.runId!)).toEqual([]);

    // The explore, as `faultline explore` runs one: two trials at once, the third on containers the pool kept.
    const explore = JSON.parse(readFileSync(findFile(gateDir, 'explore.json')!, 'utf8')) as ExploreRecord;
    expect(explore.counts).toMatchObject({ trials: 3, invalid: 0 });
    const [t0, t1, t2] = explore.trials;
    expect(overlapMs(t0!, t1!)).toBeGreaterThan(5000);
    const reuse = JSON.parse(readFileSync(join(t2!.runDir!, REUSE_FILE), 'utf8')) as { reused: boolean };
    expect(reuse.reused).toBe(true);
    for (const t of explore.trials) expect(await leftovers(readTestRecord(t.runDir!).runId)).toEqual([]);
  }, 300_000);
});

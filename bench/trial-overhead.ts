// Trial overhead (issue 13, item 6): everything in a trial but its main phase (containers, server start, quorum,
// setup, heal and recovery, final reads, checking, report, teardown), per phase, for a fresh run as `faultline test`
// makes it (its own environment check, containers and network created and removed) and for pooled trials as explore
// runs them (one environment, containers reused through src/run/pool.ts). Trials per hour follow for a given main
// phase length. The target is at most 10 s of overhead on 5 nodes.
// Run: npm run bench:trial [-- --server debian:sid --nodes 3,5 --trials 3 --time-limit 5 --main 60
//      --save FILE --baseline FILE]. `--save` writes the medians as JSON; `--baseline` prints ratios against such a
// file (e.g. measured on an older commit in the same sitting: a number from another day or machine means little).
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareEnvironment } from '../docker/environment.js';
import { resolveRunConfig, type RunConfig } from '../src/config.js';
import { MemoryLogger } from '../src/log.js';
import { executeTest } from '../src/run/execute.js';
import { createEnsemblePool } from '../src/run/pool.js';
import type { PhaseTimings } from '../src/store/reuse.js';

const PHASES = [
  'cluster',
  'dbStart',
  'quorum',
  'prepare',
  'heal',
  'finalReads',
  'check',
  'report',
  'teardown',
] as const satisfies readonly (keyof PhaseTimings)[];

export interface TrialRow {
  kind: 'fresh' | 'pooled-new' | 'pooled-reused';
  nodes: number;
  phases: PhaseTimings;
  /** The executeTest call, start to end (a fresh run includes its environment check). */
  wallMs: number;
  /** wallMs without the main phase. */
  overheadMs: number;
  valid: string;
}

export interface TrialBenchResult {
  server: string;
  /** Per node count: median overhead (ms) of fresh and of reused pooled trials, and their phases. */
  medians: Record<string, { fresh: number; pooled: number; freshPhases: PhaseTimings; pooledPhases: PhaseTimings }>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function medianPhases(rows: TrialRow[]): PhaseTimings {
  const out: PhaseTimings = { format: 1 };
  for (const p of [...PHASES, 'main', 'overhead'] as const) {
    const xs = rows.map((r) => r.phases[p]).filter((x): x is number => x !== undefined);
    if (xs.length) out[p] = median(xs);
  }
  return out;
}

const s = (ms: number | undefined): string => (ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(1));

export async function runTrialOverheadBench(
  options: {
    server?: string;
    nodes?: number[];
    trials?: number;
    timeLimitS?: number;
    mainS?: number;
    save?: string;
    baseline?: string;
  } = {},
): Promise<TrialBenchResult> {
  const server = options.server ?? 'debian:sid';
  const nodeCounts = options.nodes ?? [3, 5];
  const trials = options.trials ?? 3;
  const timeLimitS = options.timeLimitS ?? 5;
  const mainS = options.mainS ?? 60;
  const log = new MemoryLogger();
  const resultsDir = mkdtempSync(join(tmpdir(), 'faultline-bench-trial-'));
  console.log(
    `\nTrial overhead: ${server}, nodes ${nodeCounts.join(', ')}, ${timeLimitS} s main phases, 1 fresh run and ${trials} pooled trials each (load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  // Prepared once, as explore does; a fresh run below checks it again as `faultline test` does.
  const environment = await prepareEnvironment(server, log);
  const rows: TrialRow[] = [];
  for (const nodes of nodeCounts) {
    const config = resolveRunConfig({
      name: `bench-trial-${nodes}`,
      server,
      nodes: nodes as RunConfig['nodes'],
      timeLimitS,
      resultsDir,
      seed: 1,
      nemesis: ['kill', 'partition'],
      nemesisIntervalS: 2,
    });
    const record = (kind: TrialRow['kind'], run: Awaited<ReturnType<typeof executeTest>>, wallMs: number): void => {
      const row: TrialRow = {
        kind,
        nodes,
        phases: run.phases,
        wallMs,
        overheadMs: wallMs - (run.phases.main ?? 0),
        valid: String(run.outcome.valid),
      };
      rows.push(row);
      console.log(
        `  ${nodes} nodes ${kind.padEnd(13)} overhead ${s(row.overheadMs).padStart(5)} s  ` +
          PHASES.map((p) => `${p} ${s(run.phases[p])}`).join('  ') +
          `  (main ${s(run.phases.main)}, valid ${row.valid})`,
      );
    };
    let started = Date.now();
    record('fresh', await executeTest(config, log, new AbortController().signal), Date.now() - started);
    const pool = createEnsemblePool();
    try {
      for (let i = 0; i < trials; i++) {
        started = Date.now();
        const run = await executeTest(config, log, new AbortController().signal, { pool, environment });
        record(i === 0 ? 'pooled-new' : 'pooled-reused', run, Date.now() - started);
      }
    } finally {
      await pool.close();
    }
  }

  const baseline = options.baseline
    ? (JSON.parse(readFileSync(options.baseline, 'utf8')) as TrialBenchResult)
    : undefined;
  const result: TrialBenchResult = { server, medians: {} };
  console.log(`\n  per-trial overhead (s, medians)   trials/hour at ${mainS} s main phases`);
  for (const nodes of nodeCounts) {
    const fresh = rows.filter((r) => r.nodes === nodes && r.kind === 'fresh');
    const reused = rows.filter((r) => r.nodes === nodes && r.kind === 'pooled-reused');
    const f = median(fresh.map((r) => r.overheadMs));
    const p = median(reused.map((r) => r.overheadMs));
    result.medians[String(nodes)] = {
      fresh: f,
      pooled: p,
      freshPhases: medianPhases(fresh),
      pooledPhases: medianPhases(reused),
    };
    const perHour = (ms: number): string => (3600 / (mainS + ms / 1000)).toFixed(0);
    const base = baseline?.medians[String(nodes)];
    console.log(
      `  ${nodes} nodes: fresh ${s(f)}  pooled ${s(p)}  (pooled/fresh ${(p / f).toFixed(2)})` +
        `  | trials/hour fresh ${perHour(f)}, pooled ${perHour(p)}` +
        (base
          ? `  | vs baseline: fresh ${(f / base.fresh).toFixed(2)}, pooled ${(p / base.fresh).toFixed(2)} of its fresh ${s(base.fresh)}`
          : '') +
        `  | target ≤ 10 s: ${p <= 10_000 ? 'met' : 'not met'} pooled, ${f <= 10_000 ? 'met' : 'not met'} fresh`,
    );
  }
  console.log(
    `  load at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; runs in ${resultsDir}`,
  );
  if (options.save) writeFileSync(options.save, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  const num = (name: string): number | undefined => (arg(name) !== undefined ? Number(arg(name)) : undefined);
  await runTrialOverheadBench({
    ...(arg('--server') ? { server: arg('--server')! } : {}),
    ...(arg('--nodes') ? { nodes: arg('--nodes')!.split(',').map(Number) } : {}),
    ...(num('--trials') !== undefined ? { trials: num('--trials')! } : {}),
    ...(num('--time-limit') !== undefined ? { timeLimitS: num('--time-limit')! } : {}),
    ...(num('--main') !== undefined ? { mainS: num('--main')! } : {}),
    ...(arg('--save') ? { save: arg('--save')! } : {}),
    ...(arg('--baseline') ? { baseline: arg('--baseline')! } : {}),
  });
}

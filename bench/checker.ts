// Benchmark of the linearizability checkers (the search in src/porcupine via src/checkers/linearizable.ts, and
// the zxid checker) on Porcupine's corpus and on synthetic histories, and of `faultline check`'s start-up. Each
// case runs in a fresh child process (so peak memory is that case's own); we print the median wall time of the
// measured runs, ops/s and the peak RSS. A ratio is printed only against another case of the same run (column
// "vs"); nothing is compared with numbers from elsewhere (bench/README.md says how to time Porcupine by hand).
// How many runs, and how many warm-up runs before them, is printed with each row (see runCase).
// Run: npm run bench:checker [-- --only NAME].
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { convertHistory, type LinearizableModelName } from '../src/checkers/linearizable.js';
import { convertZxidHistory, decideZxidHistory, NotZxidHistory } from '../src/checkers/zxid-history.js';
import { decideZxidRegister } from '../src/checkers/zxid-register.js';
import { columnsToEvents, zookeeperRegisterColumns } from './zxid-history.js';
import { parseEdnHistory, parseJepsenLog } from '../src/formats/index.js';
import type { HistoryEvent } from '../src/history.js';
import { resolveRunConfig } from '../src/config.js';
import { MemoryLogger } from '../src/log.js';
import { writeReport } from '../src/report/index.js';
import { analyzeRun } from '../src/run/analyze.js';
import { STORE_FORMAT, type TestRecord } from '../src/store/format.js';
import { HISTORY_FILE, TEST_FILE, writeJson } from '../src/store/index.js';
import {
  checkOperations,
  checkOperationsParallel,
  kvSinglePartitionModel,
  type KvInput,
  type KvOutput,
  type Operation,
} from '../src/porcupine/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** bench/ in the sources, dist/bench/ when compiled: the repository root is found by its package.json. */
const repoRoot =
  [path.resolve(here, '..'), path.resolve(here, '..', '..')].find(
    (dir) => readdirSync(dir).includes('package.json') && readdirSync(dir).includes('src'),
  ) ?? process.cwd();
const corpusDir = path.resolve(repoRoot, 'test', 'fixtures', 'porcupine');

export interface BenchRow {
  name: string;
  ops: number;
  /** Median of the measured runs. */
  ms: number;
  /** The first (cold) run, JIT warm-up included. */
  firstMs: number;
  /** Untimed runs before the measured ones. */
  warmups: number;
  /** Measured runs. */
  runs: number;
  /** Checks per measured run: short cases are timed in back-to-back batches (as Go's testing.B does), ms per check. */
  batch: number;
  /** CPU time (all threads) of the median run: close to the wall time of an idle machine when others load it. */
  cpuMs: number;
  opsPerSecond: number;
  peakMiB: number;
  verdict: string;
  /** The case of the same run this one is compared with, and this one's median / that case's. */
  vs?: string;
  ratio?: number;
}

interface Case {
  name: string;
  /** Another case of this bench: the table shows its median divided by this one's. */
  vs?: string;
  /** Each run is one process (start-up cases): no warm-up, no batching, this many runs. */
  runs?: number;
  /** Loads the inputs (not timed) and returns the timed check. */
  prepare(): { ops: number; run(): Promise<string> };
}

function etcdEvents(): HistoryEvent[][] {
  const dir = path.join(corpusDir, 'jepsen');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .filter((t) => t.trim() !== '')
    .map((t) => parseJepsenLog(t));
}
const kvEvents = (name: string): HistoryEvent[] =>
  parseEdnHistory(readFileSync(path.join(corpusDir, 'kv', `${name}.txt`), 'utf8'));

/**
 * A case over histories in our JSONL event form. Conversion to porcupine operations happens while preparing
 * (untimed), as Porcupine's own benchmark times CheckOperations on already parsed operations.
 */
function historyCase(
  name: string,
  load: () => HistoryEvent[][],
  model: LinearizableModelName,
  stopEarly = false,
): Case {
  return {
    name,
    prepare() {
      const converted = load().map((h) => convertHistory(h, model));
      return {
        ops: converted.reduce((n, c) => n + c.operations.length, 0),
        async run() {
          const verdicts = new Set<string>();
          let partitions = 0;
          let decided = 0;
          for (const c of converted) {
            const result = await checkOperationsParallel(c.model, c.operations, {
              stopEarly,
              timeoutMs: 60_000,
              workers: c.operations.length >= 50_000 ? availableParallelism() : 1,
            });
            verdicts.add(result.result);
            partitions += result.partitions.length;
            decided += result.partitions.filter((p) => p.result !== 'unknown').length;
          }
          return `${[...verdicts].join('/')}${decided < partitions || partitions > converted.length ? ` (${decided}/${partitions} keys decided)` : ''}`;
        },
      };
    },
  };
}

/**
 * A linearizable cas-register history: each process runs ops back to back with random latencies; every op takes
 * effect at a random instant of its interval, and its output is what the register held then. Written values are
 * unique, so reads pin the state. About 0.1% of ops crash (info, open-ended).
 */
export function syntheticRegisterHistory(opsCount: number, processes: number, keys: number, seed = 1): HistoryEvent[] {
  let x = seed >>> 0 || 1;
  const random = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  interface Pending {
    time: number;
    process: number;
    type: 'invoke' | 'ok' | 'fail' | 'info';
    f: string;
    value: unknown;
    key: number;
    error?: string;
  }
  const raw: Pending[] = [];
  const values = new Map<number, number | null>();
  const clock = new Array<number>(processes).fill(0);
  let nextValue = 0;
  let processIds = Array.from({ length: processes }, (_, p) => p);
  let nextProcessId = processes;
  // Effects applied in order of their effect time: generate per process, then sort effects globally.
  const effects: { at: number; apply: () => void }[] = [];
  for (let i = 0; i < opsCount; i++) {
    const slot = i % processes;
    const process = processIds[slot] as number;
    const start = (clock[slot] as number) + random() * 5;
    const end = start + 1 + random() * 20;
    clock[slot] = end;
    const key = Math.floor(random() * keys);
    const at = start + random() * (end - start);
    const r = random();
    const crashed = random() < 0.001;
    const invoke: Pending = { time: start, process, type: 'invoke', f: 'read', value: null, key };
    const complete: Pending = { time: end, process, type: 'ok', f: 'read', value: null, key };
    if (r < 0.5) {
      effects.push({
        at,
        apply: () => {
          complete.value = values.get(key) ?? null;
        },
      });
    } else if (r < 0.8) {
      const v = nextValue++;
      invoke.f = complete.f = 'write';
      invoke.value = complete.value = v;
      effects.push({
        at,
        apply: () => {
          values.set(key, v);
        },
      });
    } else {
      const v = nextValue++;
      invoke.f = complete.f = 'cas';
      effects.push({
        at,
        apply: () => {
          // Compare against the current value half the time, a stale one otherwise.
          const current = values.get(key) ?? null;
          const from = random() < 0.5 ? current : v - 1;
          invoke.value = complete.value = [from, v];
          if (current === from) values.set(key, v);
          else {
            complete.type = 'fail';
            complete.error = 'value-mismatch';
          }
        },
      });
    }
    raw.push(invoke);
    if (crashed) {
      complete.type = 'info';
      complete.value = null;
      // A crashed process continues under a new id (it may still be running the op).
      processIds = processIds.map((p, s) => (s === slot ? nextProcessId++ : p));
      if (invoke.f === 'read') effects.pop();
    }
    raw.push(complete);
  }
  effects.sort((a, b) => a.at - b.at);
  for (const e of effects) e.apply();
  raw.sort((a, b) => a.time - b.time);
  return raw.map((e, index) => {
    const event: HistoryEvent = {
      index,
      time: Math.round(e.time * 1000),
      process: e.process,
      type: e.type,
      f: e.f,
      value: e.type === 'info' ? null : e.value,
      key: e.key,
    };
    if (e.error) event.error = e.error;
    return event;
  });
}

/** The zxid checker on a history given as events: pairing, conversion to columns and the decision are timed. */
function zxidEventsCase(name: string, load: () => HistoryEvent[], vs?: string): Case {
  return {
    name,
    ...(vs !== undefined ? { vs } : {}),
    prepare() {
      const events = load();
      return {
        ops: events.length / 2,
        async run() {
          const history = convertZxidHistory(events);
          if (history instanceof NotZxidHistory) throw new Error(history.reason);
          return String(decideZxidHistory(history).valid);
        },
      };
    },
  };
}

/** The zxid checker's core on columns (ten million ops do not fit in memory as event objects). */
function zxidColumnsCase(name: string, count: number, phantom = false): Case {
  return {
    name,
    prepare() {
      const ops = zookeeperRegisterColumns(count, { concurrency: 20, unknown: 0.05, phantom });
      return {
        ops: count,
        async run() {
          const decision = decideZxidRegister(ops, { initialValue: 0 });
          return decision.valid ? 'true' : `false (${decision.violation?.type})`;
        },
      };
    },
  };
}

/**
 * One process per run, start to exit, in this process's environment: `command` (node, or the `faultline`
 * launcher as a user runs it) with the case's arguments.
 */
function startupCase(name: string, args: () => string[], vs?: string, command = process.execPath): Case {
  return {
    name,
    runs: 21,
    ...(vs !== undefined ? { vs } : {}),
    prepare() {
      const argv = args();
      return {
        ops: 0,
        async run() {
          const r = spawnSync(command, argv, { stdio: ['ignore', 'ignore', 'ignore'] });
          return `exit ${r.status}`;
        },
      };
    },
  };
}

const scratch = (): string => mkdtempSync(path.join(tmpdir(), 'faultline-bench-'));
/** The `faultline` command as npm installs it (bin/faultline), and its Node entry, run as `node bin/faultline.js`. */
const launcher = path.join(repoRoot, 'bin', 'faultline');
const cli = path.join(repoRoot, 'bin', 'faultline.js');
function smallHistory(): string {
  const file = path.join(scratch(), 'small.jsonl');
  writeFileSync(
    file,
    [
      { index: 0, time: 0, process: 0, type: 'invoke', f: 'write', value: 1 },
      { index: 1, time: 1, process: 0, type: 'ok', f: 'write', value: 1 },
      { index: 2, time: 2, process: 1, type: 'invoke', f: 'read', value: null },
      { index: 3, time: 3, process: 1, type: 'ok', f: 'read', value: 1 },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n') + '\n',
  );
  return file;
}
function emptyFile(): string {
  const file = path.join(scratch(), 'empty.jsonl');
  writeFileSync(file, '');
  return file;
}

/** A linearizable cas-register history of one key with one read, late, of a value no op wrote. */
function phantomReadHistory(count: number): HistoryEvent[] {
  const events = syntheticRegisterHistory(count, 20, 1);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as HistoryEvent;
    if (e.f === 'read' && e.type === 'ok') {
      events[i] = { ...e, value: -1 };
      break;
    }
  }
  return events;
}

const HOUR_RATE = 200;
const HOUR_SECONDS = 3600;

/**
 * Fills DIR with a synthesised 1-hour register run at 200 ops/s (720k ops on 3 nodes, 5% unknown outcomes). Run
 * in a process of its own (`--make-hour-run DIR`), so that the case's peak memory is not the generator's.
 */
function makeHourRun(dir: string): void {
  const config = resolveRunConfig({
    name: 'bench-hour',
    workload: 'register',
    nodes: 3,
    rate: HOUR_RATE,
    timeLimitS: HOUR_SECONDS,
    concurrency: 10,
    nemesis: ['none'],
    seed: 1,
  });
  const record: TestRecord = {
    format: STORE_FORMAT,
    config,
    runId: 'bench-hour',
    image: { name: 'bench', server: config.server, recipeHash: 'bench' },
    startedAt: new Date(0).toISOString(),
    command: [],
  };
  writeJson(path.join(dir, TEST_FILE), record);
  mkdirSync(path.join(dir, 'nodes'));
  const events = columnsToEvents(
    zookeeperRegisterColumns(HOUR_RATE * HOUR_SECONDS, { concurrency: 10, unknown: 0.05 }),
  );
  const file = openSync(path.join(dir, HISTORY_FILE), 'w');
  // Times spread evenly over the hour, in nanoseconds as the runner records them; each op on its worker's node.
  const step = (HOUR_SECONDS * 1e9) / events.length;
  let chunk = '';
  events.forEach((e, i) => {
    chunk += JSON.stringify({ ...e, time: Math.round(i * step), node: `n${1 + ((e.process as number) % 3)}` }) + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(file, chunk);
      chunk = '';
    }
  });
  writeSync(file, chunk);
  closeSync(file);
}

/** What a 1-hour run costs once its main phase is over: `faultline analyze` (read, every checker) and the report. */
function hourRunCase(): Case {
  return {
    name: '1-hour run at 200 ops/s: analyze and report',
    prepare() {
      const dir = scratch();
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--make-hour-run', dir], { stdio: 'inherit' });
      return {
        ops: HOUR_RATE * HOUR_SECONDS,
        async run() {
          const { results } = await analyzeRun(dir, { timeoutMs: 120_000, log: new MemoryLogger() });
          await writeReport(dir);
          return String(results.valid);
        },
      };
    },
  };
}

const cases: Case[] = [
  historyCase('etcd: all 102 histories', etcdEvents, 'cas-register'),
  historyCase(
    'etcd_002',
    () => [parseJepsenLog(readFileSync(path.join(corpusDir, 'jepsen', 'etcd_002.log'), 'utf8'))],
    'cas-register',
  ),
  historyCase(
    'etcd_007',
    () => [parseJepsenLog(readFileSync(path.join(corpusDir, 'jepsen', 'etcd_007.log'), 'utf8'))],
    'cas-register',
  ),
  historyCase('kv c50-ok', () => [kvEvents('c50-ok')], 'kv'),
  historyCase('kv c10-ok', () => [kvEvents('c10-ok')], 'kv'),
  {
    name: 'kv c10-ok, one partition',
    prepare() {
      const { operations } = convertHistory(kvEvents('c10-ok'), 'kv');
      return {
        ops: operations.length,
        run: async () =>
          checkOperations(kvSinglePartitionModel(), operations as Operation<KvInput, KvOutput>[], { timeoutMs: 60_000 })
            .result,
      };
    },
  },
  historyCase('kv c50-bad, every key (no early stop)', () => [kvEvents('c50-bad')], 'kv'),
  historyCase(
    'synthetic 100k ops, 1 key, 20 processes',
    () => [syntheticRegisterHistory(100_000, 20, 1)],
    'cas-register',
  ),
  historyCase('synthetic 1M ops, 1,000 keys', () => [syntheticRegisterHistory(1_000_000, 50, 1000)], 'cas-register'),
  // Converted while preparing, like every search case: the pre-pass and the check are timed.
  historyCase(
    'pre-pass: 1M ops, 1 key, a read of a value never written',
    () => [phantomReadHistory(1_000_000)],
    'cas-register',
  ),
  historyCase(
    'search by value: ZooKeeper register 100k ops, 5% unknown',
    () => [columnsToEvents(zookeeperRegisterColumns(100_000, { concurrency: 20, unknown: 0.05 }))],
    'cas-register',
  ),
  zxidEventsCase(
    'zxid checker: the same 100k ops',
    () => columnsToEvents(zookeeperRegisterColumns(100_000, { concurrency: 20, unknown: 0.05 })),
    'search by value: ZooKeeper register 100k ops, 5% unknown',
  ),
  zxidEventsCase('zxid checker: 1M ops from events, 5% unknown', () =>
    columnsToEvents(zookeeperRegisterColumns(1_000_000, { concurrency: 20, unknown: 0.05 })),
  ),
  zxidColumnsCase('zxid checker: 10M ops (columns), 5% unknown', 10_000_000),
  zxidColumnsCase('zxid checker: 10M ops (columns), a read of a zxid nobody made', 10_000_000, true),
  hourRunCase(),
  startupCase('start-up: node -e 0 (no Faultline)', () => ['-e', '0']),
  startupCase(
    'start-up: faultline check, empty file',
    () => ['check', '--model', 'cas-register', emptyFile()],
    'start-up: node -e 0 (no Faultline)',
    launcher,
  ),
  startupCase(
    'start-up: faultline check, 2-op file',
    () => ['check', '--model', 'cas-register', smallHistory()],
    'start-up: node -e 0 (no Faultline)',
    launcher,
  ),
  // The same through Node directly: it keeps NODE_EXTRA_CA_CERTS when the environment sets it (this machine's does).
  startupCase(
    'start-up: node bin/faultline.js check, 2-op file',
    () => [cli, 'check', '--model', 'cas-register', smallHistory()],
    'start-up: faultline check, 2-op file',
  ),
  startupCase(
    'start-up: the same, unbundled (dist/src/cli.js)',
    () => [path.join(repoRoot, 'dist', 'src', 'cli.js'), 'check', '--model', 'cas-register', smallHistory()],
    'start-up: faultline check, 2-op file',
  ),
];

/** CPU time of this process's finished children (Linux: /proc/self/stat's cutime + cstime), ms; 0 elsewhere. */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of the file (cutime, cstime), counted after the command name: indexes 13 and 14.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/**
 * Runs one case in this process. A short case (first run under 100 ms) is warmed up, as Go's benchmarks run
 * compiled code and repeat: runs until 1 s of checking or 200 runs, then 21 measured runs. A longer case is
 * measured three times with no warm-up (its first, cold run is one of the three), and one over 20 s only once.
 * Every run starts after a full GC, so it does not pay for the garbage of the one before.
 */
async function runCase(c: Case): Promise<BenchRow> {
  const prepared = c.prepare();
  const cpuOf = new Map<number, number>();
  let verdict = '';
  // A full GC before each measured run (not between the checks of a batch), so one run's garbage is not the next one's bill.
  const timed = async (batch = 1): Promise<number> => {
    (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    const children = childrenCpuMs();
    const started = performance.now();
    for (let i = 0; i < batch; i++) verdict = await prepared.run();
    const ms = (performance.now() - started) / batch;
    const used = process.cpuUsage(cpu);
    // A start-up case's CPU time is the spawned CLI's: what it would take on an idle machine, roughly.
    cpuOf.set(
      ms,
      c.runs !== undefined ? (childrenCpuMs() - children) / batch : (used.user + used.system) / 1000 / batch,
    );
    return ms;
  };
  const firstMs = await timed();
  let warmups = 0;
  let runs: number;
  let batch = 1;
  const times: number[] = [];
  if (c.runs !== undefined) {
    times.push(firstMs);
    runs = c.runs;
  } else if (firstMs < 100) {
    warmups = 1;
    let lastMs = firstMs;
    for (let spent = firstMs; spent < 1000 && warmups < 200; warmups++) {
      lastMs = await timed();
      spent += lastMs;
    }
    // A check of well under a millisecond is timed over a batch of about 20 ms: one timer read per check would
    // measure the timer and the forced GC's cold caches as much as the check.
    batch = Math.max(1, Math.min(1000, Math.round(20 / Math.max(lastMs, 0.001))));
    runs = 21;
  } else {
    times.push(firstMs);
    runs = firstMs > 20_000 ? 1 : 3;
  }
  while (times.length < runs) times.push(await timed(batch));
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)] as number;
  const row: BenchRow = {
    name: c.name,
    ops: prepared.ops,
    ms: Math.round(ms * 100) / 100,
    firstMs: Math.round(firstMs * 100) / 100,
    warmups,
    runs,
    batch,
    cpuMs: Math.round((cpuOf.get(ms) ?? 0) * 100) / 100,
    opsPerSecond: prepared.ops > 0 ? Math.round(prepared.ops / (ms / 1000)) : 0,
    peakMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    verdict,
  };
  if (c.vs !== undefined) row.vs = c.vs;
  return row;
}

function format(rows: readonly BenchRow[]): string {
  const header = [
    'case',
    'ops',
    'warm-up',
    'runs',
    'checks/run',
    'median ms',
    'first ms',
    'cpu ms',
    'ops/s',
    'peak MiB',
    'verdict',
    'vs (same run)',
  ];
  const body = rows.map((r) => [
    r.name,
    String(r.ops),
    String(r.warmups),
    String(r.runs),
    String(r.batch),
    r.ms < 10 ? r.ms.toFixed(2) : r.ms.toFixed(1),
    r.firstMs.toFixed(1),
    r.cpuMs < 10 ? r.cpuMs.toFixed(2) : r.cpuMs.toFixed(1),
    r.opsPerSecond.toLocaleString('en'),
    String(r.peakMiB),
    r.verdict,
    r.vs !== undefined && r.ratio !== undefined
      ? `${r.ratio < 0.1 ? r.ratio.toFixed(3) : r.ratio.toFixed(2)}x the time of "${r.vs}"`
      : r.vs
        ? `"${r.vs}" not run`
        : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  return [header, ...body]
    .map((cells) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '),
    )
    .join('\n');
}

/** Runs every case, each in its own child process, prints the table and returns the rows. */
export async function runCheckerBench(options: { only?: string } = {}): Promise<BenchRow[]> {
  const script = fileURLToPath(import.meta.url);
  const rows: BenchRow[] = [];
  const loadBefore = loadavg()[0] ?? 0;
  for (const c of cases) {
    if (options.only && !c.name.includes(options.only)) continue;
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', script, '--case', c.name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const row = JSON.parse(out.trim().split('\n').pop() as string) as BenchRow;
    rows.push(row);
    const other = rows.find((r) => r.name === row.vs);
    if (other) row.ratio = Math.round((row.ms / other.ms) * 1000) / 1000;
    process.stdout.write(
      `${row.name}: ${row.ms.toFixed(2)} ms (median of ${row.runs} runs of ${row.batch} checks after ${row.warmups} warm-up checks), ${row.peakMiB} MiB, ${row.verdict}\n`,
    );
  }
  process.stdout.write(
    `\nLinearizability checker, ${new Date().toISOString()}, ${availableParallelism()} cores, load average ` +
      `${loadBefore.toFixed(1)} at the start and ${(loadavg()[0] ?? 0).toFixed(1)} at the end (other work on the machine slows every case).\nmedian ms: median over the measured runs (runs) of the time per\n` +
      'check, each run timing checks/run checks back to back after a full GC, after that many untimed warm-up checks (warm-up);\n' +
      `first ms: the first, cold check (JIT warm-up included); cpu ms: CPU time per check in the median run (start-up\n` +
      `cases: the spawned CLI's, 10 ms resolution); peak MiB: the case's process (for start-up: the\n` +
      `bench's, not the CLI's). "vs": this case's median over the other case's, both measured now.\n${format(rows)}\n`,
  );
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--case');
  const hourRun = process.argv.indexOf('--make-hour-run');
  if (hourRun >= 0) makeHourRun(process.argv[hourRun + 1] as string);
  else if (at >= 0) {
    const name = process.argv[at + 1];
    const c = cases.find((k) => k.name === name);
    if (!c) throw new Error(`no bench case named ${name}`);
    process.stdout.write(JSON.stringify(await runCase(c)) + '\n');
  } else {
    const only = process.argv.indexOf('--only');
    await runCheckerBench(only >= 0 ? { only: process.argv[only + 1] as string } : {});
  }
}

// Pure transformation of a run (history events, results.json, test.json, node logs) into the data a report
// draws. Everything here is deterministic and DOM-free so it can be unit-tested; times are milliseconds
// since the start of the history.
import type { CheckerResult } from '../checker.js';
import type { PartitionFailure } from '../checkers/linearizable.js';
import { reproduceArgs, type RunConfig } from '../config.js';
import type { HistoryEvent, Operation } from '../history.js';
import { pairOperations } from '../history.js';
import type { NodeRole, RoleChange } from '../role-changes.js';
import type { Results, TestRecord } from '../store/format.js';
import { buildCoordination, type CoordinationView } from './coordination.js';

export const OUTCOMES = ['ok', 'fail', 'info'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One lane of the history graph: a client process, grouped by the node it talks to. */
export interface Lane {
  process: number;
  node: string;
}

/**
 * Client operations in columns (one array per field) so a 200k-op history stays a few MB of JSON
 * and the browser draws from typed-array-like data without per-op objects.
 */
export interface OpColumns {
  lane: number[];
  /** Invocation time, ms. */
  start: number[];
  /** Completion time, ms; -1 when the op never completed. */
  end: number[];
  /** Index into OUTCOMES. */
  outcome: number[];
  /** Index into fNames. */
  f: number[];
  fNames: string[];
  /** Invoke event index in history.jsonl: the op's name in counterexamples and the CLI. */
  index: number[];
  /** JSON text of the invocation value, completion value, and error (empty when absent). */
  input: string[];
  output: string[];
  error: string[];
  /** Keys as text; empty string when the workload has no keys. */
  key: string[];
}

export interface FaultBand {
  name: string;
  start: number;
  /** ms; the end of the history when the fault was never healed. */
  end: number;
  /** What the nemesis reported doing (JSON text of its completion values). */
  detail: string;
  /** Node names the fault targeted (isolated, killed, ...), when the nemesis said so. */
  targets: string[];
}

export interface LeaderMark {
  time: number;
  from: string;
  to: string;
  /** True when the time comes from the fault that hit the old leader, not from an observation. */
  inferred: boolean;
}

export interface CounterexampleView {
  key: string;
  prefixLength: number;
  stateBefore: string;
  /** Row numbers (into OpColumns) of the shown tail of the longest linearizable prefix, in linearization order. */
  prefix: number[];
  unplaced: { row: number; description: string }[];
  /** Why, when the checker decided without a search (the zxid checker names the contradiction). */
  reason?: string;
}

export interface LatencySeries {
  label: string;
  f: string;
  outcome: Outcome;
  /** Invocation time (s) and latency (ms); the slowest op per time bucket when the series is long. */
  x: number[];
  y: number[];
}

export interface QuantileRow {
  f: string;
  outcome: Outcome;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ThroughputSeries {
  /** Bucket start, s. */
  x: number[];
  /** Completions per second, by outcome. */
  ok: number[];
  fail: number[];
  info: number[];
}

export interface LogExcerpt {
  fault: number;
  node: string;
  /** Relative path (from the run directory) of the full log. */
  path: string;
  lines: string[];
}

export interface LogFindingMark {
  /** ms on the history's clock; null when the line's time could not be read. */
  time: number | null;
  node: string;
  pattern: string;
  line: number;
  text: string;
  documented: boolean;
}

/** The log oracle's marks from results.json (the server-log checker's `first`), ordered by time. */
export function buildLogFindings(results: Results | undefined): LogFindingMark[] {
  const first = results?.checkers['server-log']?.first;
  if (!Array.isArray(first)) return [];
  return (first as (Omit<LogFindingMark, 'time'> & { time: unknown })[])
    .map((f) => ({ ...f, time: typeof f.time === 'number' ? f.time / 1e6 : null }))
    .sort((a, b) => (a.time ?? Infinity) - (b.time ?? Infinity));
}

/** The restart oracle's anomalies from results.json. */
export function buildUnrecovered(results: Results | undefined): ReportData['unrecovered'] {
  return (results?.checkers.recovery?.anomalies ?? [])
    .filter((a) => a.type === 'node-did-not-recover')
    .map((a) => ({
      node: /^(\S+)/.exec(a.description)?.[1] ?? '',
      description: a.description,
      documented: a.documented === true,
    }));
}

export interface CheckerSummary {
  name: string;
  valid: true | false | 'unknown';
  details: string;
}

export interface ReportData {
  title: string;
  verdict: true | false | 'unknown';
  checkers: CheckerSummary[];
  stats: Record<string, number>;
  summary: [string, string][];
  configDiff: [string, string, string][];
  reproduce: string;
  durationMs: number;
  lanes: Lane[];
  ops: OpColumns;
  faults: FaultBand[];
  leaders: LeaderMark[];
  leaderSequence: string[];
  /** Per node, its roles over time as the monitor saw them: [start ms, end ms, role]. Empty for older runs. */
  roles: RoleSpans[];
  counterexamples: CounterexampleView[];
  latency: LatencySeries[];
  quantiles: QuantileRow[];
  throughput: ThroughputSeries;
  recovery: [string, string][];
  dataLoss: { title: string; value: unknown }[];
  logs: LogExcerpt[];
  logNote: string;
  /** The log oracle's findings (first match of each pattern per node), marked on the history graph. */
  logFindings: LogFindingMark[];
  /** Nodes that did not serve again after the final heal (the restart oracle), with their last errors. */
  unrecovered: { node: string; description: string; documented: boolean }[];
  /** Issue #15: lock holds / leadership terms as bands, watch notifications as ticks (recipe and watch workloads). */
  coordination?: CoordinationView;
  /** Clock offsets each node's server really had, as the clock faults read them back (empty: no clock faults). */
  clocks: ClockSeries[];
  /** Each node's membership over time, from the membership faults' configurations (empty: none). */
  membership: MembershipSpans[];
  /** The minimal failing scenario `faultline shrink` wrote for this run, when it did (a link, relative to the run). */
  shrunk?: ShrunkLink;
}

export interface ShrunkLink {
  href: string;
  summary: string;
}

/** One node's clock readings: [time ms, wall offset ms, monotonic offset ms or null]. */
export interface ClockSeries {
  node: string;
  points: [number, number, number | null][];
}

export interface MembershipSpans {
  node: string;
  /** [start ms, end ms, role, config version] */
  spans: [number, number, 'participant' | 'observer', string][];
}

export interface RoleSpans {
  node: string;
  spans: [number, number, NodeRole][];
}

/** What readers of a run directory hand to buildReportData. */
export interface RunInput {
  events: readonly HistoryEvent[];
  /** results.json; absent while a run is going or when its harness died. */
  results: Results | undefined;
  /** test.json; absent for a bare history. */
  test: TestRecord | undefined;
  /** The config `faultline test` runs with no flags, to show only what this run changed. */
  defaults: RunConfig | undefined;
  /** Node name → { relative path, text } of each node's log. */
  nodeLogs: { node: string; path: string; text: string }[];
  /** roles.jsonl: each node's role changes (absent for runs from before the role monitor). */
  roles?: readonly RoleChange[];
}

const MS_PER_NS = 1e-6;
const LATENCY_POINTS_PER_SERIES = 4000;
const THROUGHPUT_MAX_BUCKETS = 600;
/** Log lines shown around a fault: from shortly before it starts to a while after it heals. */
const LOG_BEFORE_MS = 2000;
const LOG_AFTER_MS = 5000;
const LOG_LINES_PER_EXCERPT = 200;

const round2 = (x: number): number => Math.round(x * 100) / 100;
const json = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v));

/** Orders lanes by node (n1, n2, ..., n10 naturally), then by process id. */
export function buildLanes(ops: readonly Operation[]): Lane[] {
  const nodeOf = new Map<number, string>();
  for (const op of ops) if (!nodeOf.has(op.process)) nodeOf.set(op.process, op.node ?? '?');
  const collator = new Intl.Collator('en', { numeric: true });
  return [...nodeOf]
    .map(([process, node]) => ({ process, node }))
    .sort((a, b) => collator.compare(a.node, b.node) || a.process - b.process);
}

export function buildOpColumns(ops: readonly Operation[], lanes: readonly Lane[]): OpColumns {
  const laneOf = new Map(lanes.map((l, i) => [l.process, i]));
  const fNames: string[] = [];
  const fIndex = new Map<string, number>();
  const cols: OpColumns = {
    lane: [],
    start: [],
    end: [],
    outcome: [],
    f: [],
    fNames,
    index: [],
    input: [],
    output: [],
    error: [],
    key: [],
  };
  for (const op of ops) {
    let f = fIndex.get(op.f);
    if (f === undefined) {
      f = fNames.length;
      fNames.push(op.f);
      fIndex.set(op.f, f);
    }
    cols.lane.push(laneOf.get(op.process) ?? 0);
    cols.start.push(round2(op.invokeTime * MS_PER_NS));
    cols.end.push(Number.isFinite(op.completeTime) ? round2(op.completeTime * MS_PER_NS) : -1);
    cols.outcome.push(OUTCOMES.indexOf(op.type));
    cols.f.push(f);
    cols.index.push(op.invokeIndex);
    cols.input.push(json(op.input));
    cols.output.push(json(op.output));
    cols.error.push(op.error ?? '');
    cols.key.push(op.key === undefined ? '' : String(op.key));
  }
  return cols;
}

function targetsOf(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  const targets = new Set<string>();
  for (const field of ['isolated', 'killed', 'paused', 'node', 'nodes', 'target', 'targets', 'leader']) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v === 'string') targets.add(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') targets.add(x);
  }
  return [...targets];
}

const DR_ACTIONS = new Set(['backup', 'disaster', 'restore']);

/**
 * Fault intervals from nemesis events. A `start` (invoke + completion) opens a fault named by its value;
 * the next `heal` closes the open fault of that name (or the oldest open one). Heals of nothing open are ignored.
 */
export function buildFaultBands(events: readonly HistoryEvent[], endMs: number): FaultBand[] {
  const bands: FaultBand[] = [];
  const open: FaultBand[] = [];
  // Starts whose record names their family (and the nodes they hit), for heals that end them node by node.
  const familyOfBand = new Map<FaultBand, string>();
  const pendingNodes = new Map<FaultBand, Set<string>>();
  let pendingStart: { name: string; time: number } | undefined;
  const drStarts = new Map<string, number>();
  for (const e of events) {
    if (e.process !== 'nemesis') continue;
    const name = typeof e.value === 'string' ? e.value : (faultNameOf(e.value) ?? e.f);
    const time = round2(e.time * MS_PER_NS);
    if (DR_ACTIONS.has(e.f)) {
      // Backups, the disaster and restores (the DR scenario): each band runs from its invocation to its completion.
      if (typeof e.value === 'string') drStarts.set(name, time);
      else
        bands.push({
          name,
          start: drStarts.get(name) ?? time,
          end: time,
          detail: json(e.value) + (e.error ? ` (error: ${e.error})` : ''),
          targets: targetsOf(e.value),
        });
    } else if (e.f === 'start') {
      if (typeof e.value === 'string') {
        pendingStart = { name, time };
        continue;
      }
      // The completion: the fault is in force from its invocation.
      const band: FaultBand = {
        name,
        start: pendingStart?.time ?? time,
        end: endMs,
        detail: json(e.value),
        targets: targetsOf(e.value),
      };
      pendingStart = undefined;
      bands.push(band);
      open.push(band);
      const family = (e.value as { family?: unknown }).family;
      if (typeof family === 'string') {
        familyOfBand.set(band, family);
        const nodes = (e.value as { nodes?: unknown }).nodes;
        pendingNodes.set(band, new Set(Array.isArray(nodes) ? (nodes as string[]) : []));
      }
    } else if (e.f === 'heal') {
      if (typeof e.value === 'string') continue; // the heal's invocation; the band ends when the heal completes
      const v = e.value as { scope?: unknown; nodes?: unknown };
      // Records that name each start's family: a heal ends its family's bands; one of scope node only on its nodes
      // (a band on several nodes ends when the last of them is healed).
      const ofFamily = open.filter((b) => familyOfBand.get(b) === name);
      if (ofFamily.length > 0) {
        const healed = v.scope === 'node' && Array.isArray(v.nodes) ? (v.nodes as string[]) : undefined;
        for (const band of ofFamily) {
          const left = pendingNodes.get(band)!;
          if (healed) {
            if (!healed.some((n) => left.has(n))) continue;
            for (const n of healed) left.delete(n);
            if (left.size > 0) continue;
          }
          band.end = time;
          band.detail += ` → ${json(e.value)}`;
          open.splice(open.indexOf(band), 1);
        }
        continue;
      }
      const at = open.findIndex((b) => b.name === name && !familyOfBand.has(b));
      const legacy = open.filter((b) => !familyOfBand.has(b));
      const band = at >= 0 ? open[at] : legacy[0];
      if (band) {
        open.splice(open.indexOf(band), 1);
        band.end = time;
        band.detail += ` → ${json(e.value)}`;
      }
    }
  }
  // A start that never completed still marks when the nemesis acted.
  if (pendingStart)
    bands.push({
      name: pendingStart.name,
      start: pendingStart.time,
      end: endMs,
      detail: '(no completion recorded)',
      targets: [],
    });
  return bands;
}

function faultNameOf(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { fault?: unknown }).fault === 'string')
    return (value as { fault: string }).fault;
  return undefined;
}

/**
 * Leader changes. results.json may carry timed observations (`leaderChanges: [{time (ns), leader}]`);
 * otherwise only the sequence of leaders is known, and each change is placed at the first later fault
 * that targeted the old leader, marked as inferred.
 */
export function buildLeaderMarks(results: Results | undefined, faults: readonly FaultBand[]): LeaderMark[] {
  if (results && results.leaderChanges.length > 0) {
    const marks: LeaderMark[] = [];
    let previous = '';
    for (const c of results.leaderChanges) {
      if (previous && previous !== c.leader)
        marks.push({ time: round2(c.time * MS_PER_NS), from: previous, to: c.leader, inferred: false });
      previous = c.leader;
    }
    return marks;
  }
  const sequence = results?.leaders ?? [];
  const marks: LeaderMark[] = [];
  let searchFrom = 0;
  for (let i = 1; i < sequence.length; i++) {
    const from = sequence[i - 1]!;
    const to = sequence[i]!;
    const at = faults.findIndex((b, j) => j >= searchFrom && b.targets.includes(from));
    const band = at >= 0 ? faults[at] : faults[searchFrom];
    if (!band) break;
    marks.push({ time: band.start, from, to, inferred: true });
    searchFrom = (at >= 0 ? at : searchFrom) + 1;
  }
  return marks;
}

/** Each node's role changes as spans on the report's time axis; the last span of a node runs to `endMs`. */
export function buildRoleSpans(changes: readonly RoleChange[], endMs: number): RoleSpans[] {
  const byNode = new Map<string, RoleChange[]>();
  for (const c of [...changes].sort((a, b) => a.time - b.time)) {
    if (!byNode.has(c.node)) byNode.set(c.node, []);
    byNode.get(c.node)!.push(c);
  }
  return [...byNode]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([node, list]) => ({
      node,
      spans: list.map((c, i): [number, number, NodeRole] => [
        round2(c.time * MS_PER_NS),
        round2(Math.max(c.time * MS_PER_NS, list[i + 1] ? list[i + 1]!.time * MS_PER_NS : endMs)),
        c.role,
      ]),
    }));
}

/** Maps each porcupine failure to rows of the op table. */
export function buildCounterexamples(
  failures: readonly PartitionFailure[],
  ops: OpColumns,
  prefixShown = 40,
): CounterexampleView[] {
  const rowOfIndex = new Map(ops.index.map((idx, row) => [idx, row]));
  return failures.map((failure) => ({
    key: failure.key === null ? '' : String(failure.key),
    prefixLength: failure.prefixLength,
    stateBefore: failure.stateBefore,
    prefix: failure.longestPrefix
      .slice(-prefixShown)
      .map((i) => rowOfIndex.get(i))
      .filter((r): r is number => r !== undefined),
    unplaced: failure.unplaced.flatMap((u) => {
      const row = rowOfIndex.get(u.index);
      return row === undefined ? [] : [{ row, description: u.description }];
    }),
    ...(failure.reason !== undefined ? { reason: failure.reason } : {}),
  }));
}

/** The q-quantile (0..1) of ascending-sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Latency points per (f, outcome) for completed ops, thinned to the slowest op per time bucket. */
export function buildLatency(
  ops: OpColumns,
  durationMs: number,
): { series: LatencySeries[]; quantiles: QuantileRow[] } {
  const groups = new Map<string, { f: string; outcome: Outcome; rows: number[] }>();
  for (let row = 0; row < ops.start.length; row++) {
    if (ops.end[row]! < 0) continue;
    const f = ops.fNames[ops.f[row]!]!;
    const outcome = OUTCOMES[ops.outcome[row]!]!;
    const label = `${f} ${outcome}`;
    let g = groups.get(label);
    if (!g) groups.set(label, (g = { f, outcome, rows: [] }));
    g.rows.push(row);
  }
  const series: LatencySeries[] = [];
  const quantiles: QuantileRow[] = [];
  const bucketMs = Math.max(1, durationMs / LATENCY_POINTS_PER_SERIES);
  for (const [label, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const latencies = g.rows.map((r) => ops.end[r]! - ops.start[r]!);
    const sorted = [...latencies].sort((a, b) => a - b);
    quantiles.push({
      f: g.f,
      outcome: g.outcome,
      count: sorted.length,
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: sorted[sorted.length - 1]!,
    });
    const x: number[] = [];
    const y: number[] = [];
    if (g.rows.length <= LATENCY_POINTS_PER_SERIES) {
      g.rows.forEach((r, i) => {
        x.push(ops.start[r]! / 1000);
        y.push(round2(latencies[i]!));
      });
    } else {
      // Keep the slowest op per bucket: outliers are what a reader looks for.
      const slowest = new Map<number, number>();
      g.rows.forEach((r, i) => {
        const b = Math.floor(ops.start[r]! / bucketMs);
        const best = slowest.get(b);
        if (best === undefined || latencies[best]! < latencies[i]!) slowest.set(b, i);
      });
      for (const i of [...slowest.values()].sort((a, b) => a - b)) {
        x.push(ops.start[g.rows[i]!]! / 1000);
        y.push(round2(latencies[i]!));
      }
    }
    series.push({ label, f: g.f, outcome: g.outcome, x, y });
  }
  return { series, quantiles };
}

/** Completions per second by outcome, in at most THROUGHPUT_MAX_BUCKETS buckets of whole seconds or more. */
export function buildThroughput(ops: OpColumns, durationMs: number): ThroughputSeries {
  const bucketS = Math.max(1, Math.ceil(durationMs / 1000 / THROUGHPUT_MAX_BUCKETS));
  const n = Math.max(1, Math.ceil(durationMs / 1000 / bucketS));
  const counts = OUTCOMES.map(() => new Array<number>(n).fill(0));
  for (let row = 0; row < ops.end.length; row++) {
    const end = ops.end[row]!;
    if (end < 0) continue;
    const b = Math.min(n - 1, Math.floor(end / 1000 / bucketS));
    counts[ops.outcome[row]!]![b]!++;
  }
  const perSecond = (c: number[]): number[] => c.map((v) => round2(v / bucketS));
  return {
    x: Array.from({ length: n }, (_, i) => i * bucketS),
    ok: perSecond(counts[0]!),
    fail: perSecond(counts[1]!),
    info: perSecond(counts[2]!),
  };
}

const LOG_LINE = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)[,.](\d{3})\S*\s.*\b(WARN|ERROR|FATAL)\b/;

/**
 * WARN/ERROR lines of each node's log within each fault's window. Log timestamps are wall-clock (UTC, as the
 * containers run); the history starts at test.json's startedAt, which anchors the two.
 */
export function buildLogExcerpts(
  nodeLogs: RunInput['nodeLogs'],
  faults: readonly FaultBand[],
  startedAtMs: number,
): LogExcerpt[] {
  const excerpts: LogExcerpt[] = [];
  for (const log of nodeLogs) {
    const timed: { t: number; line: string }[] = [];
    for (const line of log.text.split('\n')) {
      const m = LOG_LINE.exec(line);
      if (!m) continue;
      const wall = Date.parse(`${m[1]}T${m[2]}.${m[3]}Z`);
      if (Number.isFinite(wall)) timed.push({ t: wall - startedAtMs, line });
    }
    faults.forEach((band, fault) => {
      const lines = timed
        .filter((l) => l.t >= band.start - LOG_BEFORE_MS && l.t <= band.end + LOG_AFTER_MS)
        .map((l) => l.line);
      if (lines.length > 0)
        excerpts.push({ fault, node: log.node, path: log.path, lines: lines.slice(0, LOG_LINES_PER_EXCERPT) });
    });
  }
  return excerpts;
}

/** Leaf-by-leaf differences between a config and the defaults, as [path, default, this run]. */
export function diffConfig(
  config: Record<string, unknown>,
  defaults: Record<string, unknown>,
  ignore: ReadonlySet<string>,
): [string, string, string][] {
  const diffs: [string, string, string][] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (ignore.has(path)) return;
    const isObject = (v: unknown): v is Record<string, unknown> =>
      v !== null && typeof v === 'object' && !Array.isArray(v);
    if (isObject(a) && isObject(b)) {
      for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) walk(a[k], b[k], path ? `${path}.${k}` : k);
      return;
    }
    // A setting the run did not record (an older or synthetic test.json) is not a change.
    if (a !== undefined && json(a) !== json(b)) diffs.push([path, b === undefined ? '(none)' : json(b), json(a)]);
  };
  walk(config, defaults, '');
  return diffs;
}

/** Settings that name a run rather than configure it. */
const NOT_CONFIG = new Set(['name', 'seed', 'resultsDir']);

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command that reruns this test with the same seed, derived from the settings table (src/config.ts). */
export function reproduceCommand(test: TestRecord | undefined): string {
  if (!test) return '';
  return ['npx', 'faultline', ...reproduceArgs(test.config)].map(shellQuote).join(' ');
}

function describeChecker(name: string, r: CheckerResult): CheckerSummary {
  const valid = r.valid;
  const parts: string[] = [];
  if (typeof r.model === 'string') parts.push(`model ${r.model}`);
  if (typeof r.ops === 'number') parts.push(`${r.ops} ops`);
  if (typeof r.partitions === 'number') parts.push(`${r.partitions} key${r.partitions === 1 ? '' : 's'}`);
  if (typeof r.ms === 'number') parts.push(`${r.ms.toFixed(0)} ms`);
  if (Array.isArray(r.failures)) parts.push(`${r.failures.length} failing key${r.failures.length === 1 ? '' : 's'}`);
  if (typeof r.reason === 'string') parts.push(r.reason);
  if (r.anomalies && r.anomalies.length > 0) {
    const byType = new Map<string, number>();
    for (const a of r.anomalies) {
      const label = `${a.type}${a.documented === true ? ' (documented)' : ''}`;
      byType.set(label, (byType.get(label) ?? 0) + 1);
    }
    parts.push([...byType].map(([type, n]) => `${type} ×${n}`).join(', '));
  }
  if (r.advisory === true) parts.push('advisory: not promised in this mode, does not decide the run');
  return { name, valid, details: parts.join(', ') };
}

/** Results fields about data loss (issue 5's durability checks), wherever they sit: top level or in a checker. */
const DATA_LOSS_FIELDS = ['lost', 'recovered', 'unexpected', 'convergence', 'divergent', 'finalStates', 'nodeStates'];

function collectDataLoss(results: Results | undefined): { title: string; value: unknown }[] {
  const found: { title: string; value: unknown }[] = [];
  const scan = (obj: object, where: string): void => {
    const fields = obj as Record<string, unknown>;
    for (const field of DATA_LOSS_FIELDS)
      if (fields[field] !== undefined)
        found.push({ title: where ? `${where}: ${field}` : field, value: fields[field] });
  };
  if (!results) return found;
  scan(results, '');
  for (const [name, c] of Object.entries(results.checkers)) scan(c, name);
  return found;
}

function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

interface ClockReadingValue {
  at?: unknown;
  node?: unknown;
  wallMs?: unknown;
  monotonicMs?: unknown;
}

/**
 * Clock offsets from the clock faults' records: every reading (start, heal, a strobe's samples) carries the true
 * time it was taken at, placed on the report's axis with test.json's startedAt (or the event's own time without it).
 */
export function buildClockSeries(events: readonly HistoryEvent[], startedAtMs: number): ClockSeries[] {
  const byNode = new Map<string, [number, number, number | null][]>();
  const add = (r: ClockReadingValue, fallbackMs: number): void => {
    if (typeof r.node !== 'string' || typeof r.wallMs !== 'number') return;
    const t = typeof r.at === 'number' && Number.isFinite(startedAtMs) ? r.at - startedAtMs : fallbackMs;
    if (!byNode.has(r.node)) byNode.set(r.node, []);
    byNode.get(r.node)!.push([round2(t), r.wallMs, typeof r.monotonicMs === 'number' ? r.monotonicMs : null]);
  };
  for (const e of events) {
    if (e.process !== 'nemesis' || e.value === null || typeof e.value !== 'object') continue;
    const v = e.value as { clocks?: unknown; strobed?: Record<string, { samples?: unknown }> };
    const at = round2(e.time * MS_PER_NS);
    if (Array.isArray(v.clocks)) for (const r of v.clocks as ClockReadingValue[]) add(r, at);
    for (const strobe of Object.values(v.strobed ?? {}))
      if (Array.isArray(strobe.samples)) for (const r of strobe.samples as ClockReadingValue[]) add(r, at);
  }
  return [...byNode]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([node, points]) => ({ node, points: points.sort((a, b) => a[0] - b[0]) }));
}

/**
 * Membership bands from the membership faults' records: the configuration before the first action holds from the
 * start, each recorded configuration after an action from that action's completion on.
 */
export function buildMembershipSpans(events: readonly HistoryEvent[], endMs: number): MembershipSpans[] {
  type Config = { version: string; members: Record<string, string> };
  const timeline: [number, Config][] = [];
  for (const e of events) {
    if (e.process !== 'nemesis' || e.value === null || typeof e.value !== 'object') continue;
    const v = e.value as { configBefore?: Config; configAfter?: Config };
    if (v.configBefore && timeline.length === 0) timeline.push([0, v.configBefore]);
    if (v.configAfter) timeline.push([round2(e.time * MS_PER_NS), v.configAfter]);
  }
  const nodes = new Map<string, MembershipSpans['spans']>();
  timeline.forEach(([start, config], i) => {
    const end = timeline[i + 1]?.[0] ?? endMs;
    for (const [node, role] of Object.entries(config.members)) {
      if (role !== 'participant' && role !== 'observer') continue;
      if (!nodes.has(node)) nodes.set(node, []);
      const spans = nodes.get(node)!;
      const last = spans[spans.length - 1];
      if (last && last[1] === start && last[2] === role && last[3] === config.version) last[1] = end;
      else spans.push([start, end, role, config.version]);
    }
  });
  return [...nodes]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([node, spans]) => ({ node, spans }));
}

export function buildReportData(input: RunInput): ReportData {
  const { events, results, test } = input;
  const config = test?.config;
  const lastNs = events.reduce((m, e) => Math.max(m, e.time), 0);
  const durationMs = round2(lastNs * MS_PER_NS);
  const paired = pairOperations(events);
  const lanes = buildLanes(paired);
  const ops = buildOpColumns(paired, lanes);
  const faults = buildFaultBands(events, durationMs);
  const checkerResults = Object.entries(results?.checkers ?? {});
  const checkers = checkerResults.map(([name, r]) => describeChecker(name, r));
  const failures = checkerResults.flatMap(([, c]) => (c as { failures?: PartitionFailure[] }).failures ?? []);
  const { series: latency, quantiles } = buildLatency(ops, durationMs);
  const verdict = results?.valid ?? 'unknown';
  const str = (v: unknown): string =>
    v === undefined || v === null ? '—' : Array.isArray(v) ? v.join(', ') : String(v);
  const summary: [string, string][] = [
    ['test', str(config?.name)],
    ['started', str(test?.startedAt)],
    ['duration', formatMs(durationMs)],
    ['server build', `${str(config?.server)}${test ? ` (image ${test.image.name})` : ''}`],
    ['ensemble', `${str(config?.nodes)} nodes`],
    ['workload', `${str(config?.workload)}${config ? `, ${config.readMode} reads` : ''}`],
    [
      'nemesis',
      `${str(config?.scenario ?? config?.nemesis)}${config && !config.scenario ? ` every ${config.nemesisIntervalS} s` : ''}`,
    ],
    ['concurrency', `${str(config?.concurrency)} processes at ${str(config?.rate)} ops/s`],
    ['seed', str(config?.seed)],
    ['run id', str(test?.runId)],
  ];
  if (results?.aborted) summary.push(['aborted', results.aborted]);
  const recovery: [string, string][] = results?.recovery
    ? Object.entries(results.recovery).map(([k, v]) => [
        k
          .replace(/Ms$/, '')
          .replace(/([A-Z])/g, ' $1')
          .toLowerCase(),
        typeof v === 'number' && /Ms$/.test(k) ? formatMs(v) : str(v),
      ])
    : [];
  const startedAtMs = test ? Date.parse(test.startedAt) : NaN;
  const logs = Number.isFinite(startedAtMs) ? buildLogExcerpts(input.nodeLogs, faults, startedAtMs) : [];
  const silent =
    input.nodeLogs.length > 0 &&
    input.nodeLogs.every(
      (l) => /NOP\) logger implementation|no-operation \(NOP\)/.test(l.text) && !LOG_LINE.test(l.text),
    );
  return {
    title: `${str(config?.name)} ${str(test?.startedAt)}`,
    verdict,
    checkers,
    stats: results ? { ...results.stats } : {},
    summary,
    configDiff: config && input.defaults ? diffConfig(config, input.defaults, NOT_CONFIG) : [],
    reproduce: reproduceCommand(test),
    durationMs,
    lanes,
    ops,
    faults,
    leaders: buildLeaderMarks(results, faults),
    roles: buildRoleSpans(input.roles ?? [], durationMs),
    leaderSequence: results?.leaders ?? [],
    counterexamples: buildCounterexamples(failures, ops),
    latency,
    quantiles,
    throughput: buildThroughput(ops, durationMs),
    recovery,
    dataLoss: collectDataLoss(results),
    logs,
    logFindings: buildLogFindings(results),
    unrecovered: buildUnrecovered(results),
    clocks: buildClockSeries(events, startedAtMs),
    membership: buildMembershipSpans(events, durationMs),
    logNote: silent
      ? "The servers wrote no log lines: this image runs ZooKeeper with SLF4J's no-operation logger. The full console output is linked below."
      : logs.length === 0
        ? 'No WARN or ERROR lines within any fault window.'
        : '',
    ...coordinationOf(events, test),
  };
}

function coordinationOf(
  events: readonly HistoryEvent[],
  test: TestRecord | undefined,
): { coordination?: CoordinationView } {
  const view = buildCoordination(events, test?.config.workload);
  return view ? { coordination: view } : {};
}

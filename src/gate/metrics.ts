// Recovery and availability measures of one run, computed from its history and results.json, so a gate or a
// comparison can line runs up. Times are milliseconds.
import type { CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent } from '../history.js';
import { quantile } from '../report/data.js';

export interface RunMetrics {
  /** Acknowledged writes missing after recovery (lost-write anomalies over all checkers). */
  lostWrites: number;
  /** Share of completed client ops that were ok, among ops invoked while a fault was in force. */
  availabilityDuringFaults: number | null;
  /** Per fault: from the fault's start to the first ok write after it (a write needs an elected leader). */
  timeToElectMs: number[];
  /** Per heal: from the heal's end to the first ok write after it. */
  timeToFirstWriteAfterHealMs: number[];
  /** After the final heal: until every node served again (results.json recovery.quorumMs). */
  timeUntilAllServeMs: number | null;
  /** ok op latency quantiles. */
  latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  ops: { ok: number; fail: number; info: number };
}

const WRITES = new Set(['write', 'cas', 'add', 'enqueue', 'transfer', 'create']);

interface Window {
  start: number;
  end: number;
}

/**
 * Fault windows in ms: a start completion until the next heal completion of the same fault (or the end). Heals
 * are those that ended a fault: the runner also heals every family before and after the main phase.
 */
function faultWindows(events: readonly HistoryEvent[]): { windows: Window[]; heals: number[] } {
  const windows: Window[] = [];
  const heals: number[] = [];
  const open = new Map<string, number>();
  const endMs = (events[events.length - 1]?.time ?? 0) / 1e6;
  for (const e of events) {
    // A nemesis action is an info pair; the second event (an object value) says what was done and when it was done.
    if (e.process !== 'nemesis' || typeof e.value !== 'object' || e.value === null || e.error) continue;
    const fault = String((e.value as { fault?: unknown }).fault);
    const ms = e.time / 1e6;
    if (e.f === 'start') open.set(fault, ms);
    if (e.f === 'heal') {
      const start = open.get(fault);
      if (start === undefined) continue;
      heals.push(ms);
      windows.push({ start, end: ms });
      open.delete(fault);
    }
  }
  for (const start of open.values()) windows.push({ start, end: endMs });
  return { windows, heals };
}

export function computeRunMetrics(events: readonly HistoryEvent[], checkers: Record<string, CheckerResult>, recovery: { quorumMs?: number } | null | undefined): RunMetrics {
  const ops = pairOperations(events);
  const { windows, heals } = faultWindows(events);
  const okWrites = ops.filter((o) => o.type === 'ok' && WRITES.has(o.f)).map((o) => o.completeTime / 1e6).sort((a, b) => a - b);
  const firstWriteAfter = (ms: number): number | undefined => {
    const t = okWrites.find((w) => w > ms);
    return t === undefined ? undefined : t - ms;
  };
  const inFault = ops.filter((o) => o.completeTime !== Infinity && windows.some((w) => o.invokeTime / 1e6 >= w.start && o.invokeTime / 1e6 < w.end));
  const latencies = ops.filter((o) => o.type === 'ok').map((o) => (o.completeTime - o.invokeTime) / 1e6).sort((a, b) => a - b);
  const lostWrites = Object.values(checkers).reduce((n, c) => n + (c.anomalies ?? []).filter((a) => a.type === 'lost-write' && !a.documented).length, 0);
  return {
    lostWrites,
    availabilityDuringFaults: inFault.length ? inFault.filter((o) => o.type === 'ok').length / inFault.length : null,
    timeToElectMs: windows.map((w) => firstWriteAfter(w.start)).filter((v): v is number => v !== undefined),
    timeToFirstWriteAfterHealMs: heals.map(firstWriteAfter).filter((v): v is number => v !== undefined),
    timeUntilAllServeMs: recovery?.quorumMs ?? null,
    latencyMs: latencies.length ? { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1]! } : null,
    ops: { ok: ops.filter((o) => o.type === 'ok').length, fail: ops.filter((o) => o.type === 'fail').length, info: ops.filter((o) => o.type === 'info').length },
  };
}

/** Spread of a measure over runs (or over faults of several runs). */
export interface Spread {
  n: number;
  min: number;
  median: number;
  mean: number;
  max: number;
  sd: number;
}

export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const sd = Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / sorted.length);
  return { n: sorted.length, min: sorted[0]!, median: quantile(sorted, 0.5), mean, max: sorted[sorted.length - 1]!, sd };
}

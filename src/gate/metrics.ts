// Recovery and availability measures of one run, computed from its history and results.json, so a gate or a
// comparison can line runs up. Times are milliseconds.
import type { CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent } from '../history.js';
import { quantile } from '../report/data.js';
import { newLeaderAfter, rolesAt, SERVING_ROLES, type RoleChange } from '../roles.js';

export interface RunMetrics {
  /** Acknowledged writes missing after recovery (lost-write anomalies over all checkers). */
  lostWrites: number;
  /** Share of completed client ops that were ok, among ops invoked while a fault was in force. */
  availabilityDuringFaults: number | null;
  /** Per fault: from the fault's start to the first ok write after it (a write needs an elected leader). */
  timeToElectMs: number[];
  /**
   * Per fault that changed the leader before its heal: from the fault's request to the first report of a new
   * leader by the node itself (roles.jsonl, polled every 200 ms).
   */
  timeToNewLeaderMs: number[];
  /** Per node that was down or not serving at a heal: from the last such heal to the node serving again (roles.jsonl). */
  rejoinMs: number[];
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

/** Nemesis info events that succeeded: the request time of each fault start, and every heal's completion time, in ns. */
function nemesisTimes(events: readonly HistoryEvent[]): { starts: { requested: number; healed: number }[]; healsNs: number[] } {
  const starts: { requested: number; healed: number }[] = [];
  const healsNs: number[] = [];
  const requested = new Map<string, number>();
  const open = new Map<string, { requested: number; healed: number }>();
  for (const e of events) {
    if (e.process !== 'nemesis') continue;
    const done = typeof e.value === 'object' && e.value !== null;
    // The request is the first event of the pair (its value is the fault's name or request), the completion the second.
    if (!done) {
      requested.set(`${e.f}`, e.time);
      continue;
    }
    if (e.error) continue;
    const fault = String((e.value as { fault?: unknown }).fault);
    if (e.f === 'start') {
      const start = { requested: requested.get('start') ?? e.time, healed: Infinity };
      starts.push(start);
      open.set(fault, start);
    } else if (e.f === 'heal') {
      healsNs.push(e.time);
      const start = open.get(fault);
      if (start) start.healed = e.time;
      open.delete(fault);
    }
  }
  return { starts, healsNs };
}

/** Per leader-changing fault: request → a new leader reports itself, before the fault's heal. */
function newLeaderTimes(roles: readonly RoleChange[], starts: readonly { requested: number; healed: number }[]): number[] {
  const times: number[] = [];
  for (const start of starts) {
    const before = [...rolesAt(roles, start.requested)].filter(([, role]) => role === 'leader').map(([node]) => node);
    const next = newLeaderAfter(roles, start.requested, before.length === 1 ? before[0] : undefined);
    if (next && start.requested + next.ms * 1e6 <= start.healed) times.push(next.ms);
  }
  return times;
}

/**
 * Per spell of a node not serving that a heal fell into: from the last heal inside the spell to the node serving.
 * Spells with no heal in them (a follower waiting out an election) are elections, not rejoins.
 */
function rejoinTimes(roles: readonly RoleChange[], healsNs: readonly number[]): number[] {
  const times: number[] = [];
  const spellStart = new Map<string, number>();
  for (const c of roles) {
    if (!SERVING_ROLES.has(c.role)) {
      if (!spellStart.has(c.node)) spellStart.set(c.node, c.time);
      continue;
    }
    const from = spellStart.get(c.node);
    spellStart.delete(c.node);
    if (from === undefined) continue;
    const lastHeal = healsNs.filter((h) => h >= from && h <= c.time).pop();
    if (lastHeal !== undefined) times.push((c.time - lastHeal) / 1e6);
  }
  return times;
}

export function computeRunMetrics(events: readonly HistoryEvent[], checkers: Record<string, CheckerResult>, recovery: { quorumMs?: number } | null | undefined, roles: readonly RoleChange[] = []): RunMetrics {
  const ops = pairOperations(events);
  const { windows, heals } = faultWindows(events);
  const { starts, healsNs } = nemesisTimes(events);
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
    timeToNewLeaderMs: newLeaderTimes(roles, starts),
    rejoinMs: rejoinTimes(roles, healsNs),
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

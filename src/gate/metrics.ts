// Recovery and availability measures of one run, computed from its history and results.json, so a gate or a
// comparison can line runs up. Times are milliseconds.
import type { CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent } from '../history.js';
import { quantile } from '../report/data.js';
import { newLeaderAfter, rolesAt, SERVING_ROLES, type RoleChange } from '../role-changes.js';
import type { RunMetrics, Spread } from '../store/gate.js';

export type { RunMetrics, Spread } from '../store/gate.js';

const WRITES = new Set(['write', 'cas', 'add', 'enqueue', 'transfer', 'create']);

interface Window {
  /** When the fault was asked for (its first event): the measure of a new leader starts here. */
  requested: number;
  start: number;
  end: number;
}

/**
 * Fault windows in ms: a start completion until the next heal completion of the same fault (or the end). Heals
 * are those that ended a fault: the runner also heals every family before and after the main phase, and those
 * count only in `allHeals`.
 */
function faultWindows(events: readonly HistoryEvent[]): { windows: Window[]; heals: number[]; allHeals: number[] } {
  const windows: Window[] = [];
  const heals: number[] = [];
  const allHeals: number[] = [];
  const open = new Map<string, Omit<Window, 'end'>>();
  const familyOf = new Map<string, string>();
  const endMs = (events[events.length - 1]?.time ?? 0) / 1e6;
  let startRequested: number | undefined;
  for (const e of events) {
    if (e.process !== 'nemesis') continue;
    const ms = e.time / 1e6;
    // A nemesis action is an info pair: the request (the fault's name), then an object saying what was done.
    if (typeof e.value !== 'object' || e.value === null) {
      if (e.f === 'start') startRequested = ms;
      continue;
    }
    if (e.error) continue;
    const fault = String((e.value as { fault?: unknown }).fault);
    const family = (e.value as { family?: unknown }).family;
    if (e.f === 'start') {
      open.set(fault, { requested: startRequested ?? ms, start: ms });
      if (typeof family === 'string') familyOf.set(fault, family);
    }
    if (e.f === 'heal') {
      allHeals.push(ms);
      // Heals name the family (partition, process), starts the fault: a heal closes the fault of its own name if
      // one is open (records from before that rule), else the oldest open one.
      const name = open.has(fault)
        ? fault
        : ([...open.keys()].find((k) => familyOf.get(k) === fault) ?? open.keys().next().value);
      const started = name === undefined ? undefined : open.get(name);
      if (started === undefined || name === undefined) continue;
      heals.push(ms);
      windows.push({ ...started, end: ms });
      open.delete(name);
    }
  }
  for (const started of open.values()) windows.push({ ...started, end: endMs });
  return { windows, heals, allHeals };
}

/** Per leader-changing fault: request → a new leader reports itself, before the fault's heal. */
function newLeaderTimes(roles: readonly RoleChange[], windows: readonly Window[]): number[] {
  const times: number[] = [];
  for (const w of windows) {
    const before = [...rolesAt(roles, w.requested * 1e6)].filter(([, role]) => role === 'leader').map(([node]) => node);
    const next = newLeaderAfter(roles, w.requested * 1e6, before.length === 1 ? before[0] : undefined);
    if (next && w.requested + next.ms <= w.end) times.push(next.ms);
  }
  return times;
}

/**
 * Per spell of a node not serving that a heal fell into: from the last heal inside the spell to the node serving.
 * Spells with no heal in them (a follower waiting out an election) are elections, not rejoins.
 */
function rejoinTimes(roles: readonly RoleChange[], healsMs: readonly number[]): number[] {
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
    const lastHeal = healsMs.filter((h) => h * 1e6 >= from && h * 1e6 <= c.time).pop();
    if (lastHeal !== undefined) times.push(c.time / 1e6 - lastHeal);
  }
  return times;
}

export function computeRunMetrics(
  events: readonly HistoryEvent[],
  checkers: Record<string, CheckerResult>,
  recovery: { quorumMs?: number } | null | undefined,
  roles: readonly RoleChange[] = [],
): RunMetrics {
  const ops = pairOperations(events);
  const { windows, heals, allHeals } = faultWindows(events);
  const okWrites = ops
    .filter((o) => o.type === 'ok' && WRITES.has(o.f))
    .map((o) => o.completeTime / 1e6)
    .sort((a, b) => a - b);
  const firstWriteAfter = (ms: number): number | undefined => {
    const t = okWrites.find((w) => w > ms);
    return t === undefined ? undefined : t - ms;
  };
  const inFault = ops.filter(
    (o) =>
      o.completeTime !== Infinity && windows.some((w) => o.invokeTime / 1e6 >= w.start && o.invokeTime / 1e6 < w.end),
  );
  const latencies = ops
    .filter((o) => o.type === 'ok')
    .map((o) => (o.completeTime - o.invokeTime) / 1e6)
    .sort((a, b) => a - b);
  const lostWrites = (documented: boolean): number =>
    Object.values(checkers).reduce(
      (n, c) => n + (c.anomalies ?? []).filter((a) => a.type === 'lost-write' && !a.documented === !documented).length,
      0,
    );
  return {
    lostWrites: lostWrites(false),
    documentedLostWrites: lostWrites(true),
    availabilityDuringFaults: inFault.length ? inFault.filter((o) => o.type === 'ok').length / inFault.length : null,
    timeToElectMs: windows.map((w) => firstWriteAfter(w.start)).filter((v): v is number => v !== undefined),
    timeToNewLeaderMs: newLeaderTimes(roles, windows),
    rejoinMs: rejoinTimes(roles, allHeals),
    timeToFirstWriteAfterHealMs: heals.map(firstWriteAfter).filter((v): v is number => v !== undefined),
    timeUntilAllServeMs: recovery?.quorumMs ?? null,
    latencyMs: latencies.length
      ? {
          p50: quantile(latencies, 0.5),
          p95: quantile(latencies, 0.95),
          p99: quantile(latencies, 0.99),
          max: latencies[latencies.length - 1]!,
        }
      : null,
    ops: {
      ok: ops.filter((o) => o.type === 'ok').length,
      fail: ops.filter((o) => o.type === 'fail').length,
      info: ops.filter((o) => o.type === 'info').length,
    },
  };
}

export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const sd = Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / sorted.length);
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: quantile(sorted, 0.5),
    mean,
    max: sorted[sorted.length - 1]!,
    sd,
  };
}

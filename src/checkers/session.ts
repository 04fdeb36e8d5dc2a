// The session checker: every ephemeral znode's session has ended by the recovery phase (closed, or abandoned and
// expired), so no node may still hold one (ZOOKEEPER-2355 / ZOOKEEPER-5010 style divergence). And the expiry rule:
// a session expires only when the server has not heard from its client for the session timeout, by true time.
// ZooKeeper measures that on the leader's monotonic clock (Time.currentElapsedTime, i.e. System.nanoTime), so an
// earlier expiry is explained (documented) only by a clock fault that moved a monotonic clock (fakeClock=all) on the
// client's server or on the leader while the session was held; an early expiry under wall-clock-only faults, or
// none, is a violation.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';

/** How far below the session timeout a measured silence may be before an expiry counts as early, ms. */
export const EXPIRY_MARGIN_MS = 500;

/** A clock fault's window and whom it hit: its targets, and the node that led when it started. */
interface ClockWindow {
  start: number;
  end: number;
  nodes: string[];
  leader?: string;
  monotonic: boolean;
  index: number;
}

/**
 * Clock fault windows from the nemesis events: from the start's invocation (the clock moves while the fault runs,
 * before its completion is recorded) to the completion of the clock family's next heal.
 */
export function clockWindows(history: readonly HistoryEvent[]): ClockWindow[] {
  const windows: ClockWindow[] = [];
  const open: ClockWindow[] = [];
  let invokedAt: number | undefined;
  for (const e of history) {
    if (e.process === 'nemesis' && e.f === 'start' && typeof e.value === 'string') invokedAt = e.time;
    if (e.process !== 'nemesis' || typeof e.value !== 'object' || e.value === null) continue;
    const v = e.value as { fault?: string; nodes?: string[]; roles?: Record<string, string>; fakeClock?: string };
    if (e.f === 'start' && v.fault?.startsWith('clock-')) {
      const leader = Object.entries(v.roles ?? {}).find(([, r]) => r === 'leader')?.[0];
      const w: ClockWindow = {
        start: invokedAt ?? e.time,
        end: Infinity,
        nodes: v.nodes ?? [],
        ...(leader ? { leader } : {}),
        monotonic: v.fakeClock === 'all',
        index: e.index,
      };
      windows.push(w);
      open.push(w);
    } else if (e.f === 'heal' && (v.fault === 'clock' || v.fault?.startsWith('clock-'))) {
      // A per-node heal ends the clock faults of its nodes only; a family heal ends them all.
      const scoped = (v as { scope?: string }).scope === 'node' ? (v.nodes ?? []) : undefined;
      for (let i = open.length - 1; i >= 0; i--) {
        const w = open[i]!;
        if (scoped) {
          const healed = w.nodes.filter((n) => scoped.includes(n));
          const rest = w.nodes.filter((n) => !scoped.includes(n));
          if (healed.length === 0) continue;
          if (rest.length > 0) {
            // Its healed nodes' window ends here; the rest's goes on.
            windows.push({ ...w, nodes: healed, end: e.time });
            w.nodes = rest;
            continue;
          }
        }
        w.end = e.time;
        open.splice(i, 1);
      }
    }
  }
  return windows;
}

/** The expiry rule over the held sessions: early expiries, each explained by a monotonic clock fault or not. */
export function checkExpiries(history: readonly HistoryEvent[]): {
  anomalies: Anomaly[];
  counts: Record<string, number>;
} {
  const windows = clockWindows(history);
  const anomalies: Anomaly[] = [];
  const counts = { held: 0, expired: 0, earlyExpiries: 0, explainedByClock: 0, lost: 0 };
  for (const op of pairOperations(history)) {
    if (op.f !== 'hold' || op.output === undefined) continue;
    const out = op.output as { outcome?: string; silentMs?: number; timeoutMs?: number; heardBeforeEndMs?: number };
    if (out.outcome === 'held') counts.held++;
    if (out.outcome === 'lost') counts.lost++;
    if (out.outcome !== 'expired') continue;
    counts.expired++;
    if (out.silentMs === undefined || out.timeoutMs === undefined || out.silentMs >= out.timeoutMs - EXPIRY_MARGIN_MS)
      continue;
    counts.earlyExpiries++;
    // While the session was held: from its invocation to the op's end.
    const explaining = windows.find(
      (w) =>
        w.monotonic &&
        w.start <= op.completeTime &&
        w.end >= op.invokeTime &&
        (w.nodes.includes(op.node ?? '') || (w.leader !== undefined && w.nodes.includes(w.leader))),
    );
    if (explaining) counts.explainedByClock++;
    anomalies.push({
      type: 'early-expiry',
      ops: explaining ? [op.invokeIndex, explaining.index] : [op.invokeIndex],
      description:
        `session on ${op.node ?? '?'} expired after ${out.silentMs} ms of silence, under its ${out.timeoutMs} ms timeout` +
        (explaining
          ? ` — explained: a clock fault moved the monotonic clock of ${explaining.nodes.join(',')} meanwhile`
          : ''),
      ...(explaining ? { documented: true } : {}),
    });
  }
  return { anomalies, counts };
}

export function checkSessions(history: readonly HistoryEvent[]): CheckerResult {
  const creates = new Map<string, Operation>();
  for (const op of pairOperations(history))
    if ((op.f === 'ephemeral' || op.f === 'hold') && op.type !== 'fail')
      creates.set(String((op.input as { name: string }).name), op);
  const reads = finalReads(history);
  const anomalies: Anomaly[] = [];
  for (const read of reads.states) {
    for (const name of read.state as string[]) {
      const op = creates.get(name);
      anomalies.push({
        type: 'surviving-ephemeral',
        ops: op ? [op.invokeIndex, read.index] : [read.index],
        description:
          `${read.node} still holds ephemeral ${name} after its session ended` +
          (op
            ? ` (created ${op.type === 'ok' ? 'and acknowledged' : 'with unknown outcome'}, session ${String((op.output as { end?: string } | undefined)?.end ?? 'ended')})`
            : ''),
      });
    }
  }
  const surviving = anomalies.length;
  const expiries = checkExpiries(history);
  anomalies.push(...expiries.anomalies);
  return {
    valid: recoveryVerdict(anomalies, reads),
    counts: {
      ephemerals: creates.size,
      acknowledged: [...creates.values()].filter((o) => o.type === 'ok').length,
      surviving,
      unreadableNodes: reads.unreadable,
      ...expiries.counts,
    },
    anomalies,
  };
}

export const sessionChecker: Checker = { check: async (history) => checkSessions(history) };

// Mutual exclusion through a coordination recipe (Curator's InterProcessMutex, LeaderLatch): holds (lock holds,
// leadership terms) must not overlap in real time, and the protected log's writes must land in holder order.
// A hold runs from its acquire's ok (or the leadership event it reports) to its release's invoke, or to the moment
// the holder learned it lost (a leadership-lost event, a refused write) or stopped (an op with unknown outcome
// retires the process; when the run ends, the worker closes its client right after its last op). A lock service
// cannot stop a holder that lost its session without noticing in time, so an overlap whose earlier holder had lost
// its connection or session is documented; an overlap between holders that both stayed connected is a bug. Fenced
// writes (a multi that checks the holder's own znode) must stay in order whatever happens: the fence is what makes
// a lost hold harmless.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { finalReads } from '../final-state.js';
import { readRoleChanges, ROLES_FILE, type RoleChange } from '../role-changes.js';
import { join } from 'node:path';

/** Op names of a recipe: how a hold starts and ends. */
export interface RecipeOps {
  kind: 'lock' | 'election';
  start: string;
  end: string;
  write: string;
}

export const LOCK_OPS: RecipeOps = { kind: 'lock', start: 'acquire', end: 'release', write: 'write' };
export const ELECTION_OPS: RecipeOps = { kind: 'election', start: 'campaign', end: 'resign', write: 'write' };

/** What each recipe op records: the token names the hold, the events came with the driver's answer. */
export interface RecipeValue {
  token: string;
  /** The holder's znode (lock node, latch node) on acquire/campaign ok; the log entry on write ok. */
  node?: string;
  path?: string;
  events?: { event: string; state: string; agoNs: number }[];
}

/** A lock hold or a leadership term. Times in ns on the history's clock. */
export interface Hold {
  token: string;
  process: number;
  node?: string;
  start: number;
  end: number;
  /** How it ended: released, lost (the holder learned it), retired (unknown outcome), run-end. */
  endedBy: 'released' | 'lost' | 'retired' | 'run-end';
  /** Invoke index of the op that began it. */
  index: number;
  /** The first sign that the holder's connection or session was in trouble during the hold. */
  trouble?: { time: number; index: number; why: string };
}

const TROUBLE_STATES = new Set(['SUSPENDED', 'LOST']);

function valueOf(op: Operation): RecipeValue | undefined {
  const v = (op.output ?? op.input) as RecipeValue | null | undefined;
  return v && typeof v === 'object' ? v : undefined;
}

/** The holds of a history, ordered by start. */
export function holdsOf(history: readonly HistoryEvent[], ops: RecipeOps): Hold[] {
  const byProcess = new Map<number, Operation[]>();
  let runEnd = 0;
  for (const e of history) if (typeof e.process === 'number' && e.time > runEnd) runEnd = e.time;
  for (const op of pairOperations(history)) {
    const list = byProcess.get(op.process) ?? [];
    list.push(op);
    byProcess.set(op.process, list);
  }
  const holds: Hold[] = [];
  for (const [process, list] of byProcess) {
    let open: Hold | undefined;
    // A leadership gained after a campaign gave up waiting shows in that answer; the next campaign then returns at once.
    let gainedAt: number | undefined;
    const close = (end: number, endedBy: Hold['endedBy']): void => {
      if (!open) return;
      open.end = Math.max(open.start, Math.min(open.end, end));
      open.endedBy = open.end === end ? endedBy : open.endedBy;
      holds.push(open);
      open = undefined;
    };
    const troubled = (time: number, index: number, why: string): void => {
      if (open && !open.trouble) open.trouble = { time, index, why };
    };
    for (const op of list) {
      const value = valueOf(op);
      const completed = Number.isFinite(op.completeTime) ? op.completeTime : runEnd;
      if (!open)
        for (const e of value?.events ?? []) {
          if (e.event !== 'leader') continue;
          gainedAt = e.state === 'gained' ? completed - e.agoNs : undefined;
        }
      if (op.f === ops.start) {
        if (op.type !== 'ok') continue;
        const start = gainedAt !== undefined ? Math.min(gainedAt, completed) : completed;
        gainedAt = undefined;
        open = {
          token: String((op.input as RecipeValue).token),
          process,
          ...(value?.node ? { node: value.node } : {}),
          start,
          end: Infinity,
          endedBy: 'run-end',
          index: op.invokeIndex,
        };
        // Events older than the start belong to before the hold.
        for (const e of value?.events ?? [])
          if (e.event === 'connection' && TROUBLE_STATES.has(e.state) && completed - e.agoNs >= start)
            troubled(completed - e.agoNs, op.invokeIndex, `Curator reported ${e.state}`);
        continue;
      }
      if (!open) continue;
      if (op.f === ops.end) {
        close(op.invokeTime, 'released');
        continue;
      }
      for (const e of value?.events ?? []) {
        const at = completed - e.agoNs;
        if (e.event === 'connection' && TROUBLE_STATES.has(e.state))
          troubled(at, op.invokeIndex, `Curator reported ${e.state}`);
        if (e.event === 'leader' && e.state === 'lost') {
          troubled(at, op.invokeIndex, 'LeaderLatch reported leadership lost');
          open.end = Math.min(open.end, Math.max(open.start, at));
          open.endedBy = 'lost';
        }
      }
      if (op.type === 'info') {
        troubled(op.invokeTime, op.invokeIndex, `${op.f} had an unknown outcome (${op.error ?? 'no answer'})`);
        close(completed, 'retired');
      } else if (op.type === 'fail' && op.f === ops.write) {
        // Refused: not leader (LeaderLatch said so) or fenced (the holder's znode is gone). The holder knows now.
        troubled(op.invokeTime, op.invokeIndex, `its ${op.f} was refused (${op.error ?? 'fail'})`);
        close(completed, 'lost');
      }
    }
    // The run ended with the hold on: the worker closed its client (ending the session) right after its last op.
    const last = list[list.length - 1]!;
    close(Number.isFinite(last.completeTime) ? last.completeTime : runEnd, 'run-end');
  }
  return holds.sort((a, b) => a.start - b.start || a.process - b.process);
}

/** The protected log as a node read it after recovery: tokens in the order their writes landed. */
export interface LogEntry {
  token: string;
  seq: number;
  name: string;
}

/** Log children are w-<token>-<10-digit sequence>. */
export function parseLogEntry(name: string): LogEntry | undefined {
  const m = /^w-(.+)-(\d{10})$/.exec(name);
  return m ? { token: m[1]!, seq: Number(m[2]), name } : undefined;
}

export interface HoldsCheckerOptions {
  ops: RecipeOps;
  fenced: boolean;
  /** Election only: the session timeout the liveness bound derives from. */
  livenessSessionTimeoutMs?: number;
}

const DOC =
  'Curator documents that a holder must treat SUSPENDED as possibly lost and LOST as lost (InterProcessMutex and ' +
  'LeaderLatch error handling); a lock service cannot stop a holder that lost its session before it noticed, which ' +
  'is why protected writes need a fence (ZooKeeper recipes; Kleppmann, "How to do distributed locking").';

/** Slack on the liveness bound: a new leader is noticed through watches, a reconnect and an op's answer. */
const LIVENESS_SLACK_MS = 3000;

export async function checkHolds(
  history: readonly HistoryEvent[],
  options: HoldsCheckerOptions,
  roles: readonly RoleChange[] = [],
): Promise<CheckerResult> {
  const { ops, fenced } = options;
  const name = ops.kind === 'lock' ? 'hold' : 'term';
  const holds = holdsOf(history, ops);
  const anomalies: Anomaly[] = [];

  // Real-time overlaps: each hold against the ones that started while it was still on.
  let overlaps = 0;
  let documentedOverlaps = 0;
  const overlapping = new Set<Hold>();
  for (let i = 0; i < holds.length; i++) {
    const a = holds[i]!;
    for (let j = i + 1; j < holds.length && holds[j]!.start < a.end; j++) {
      const b = holds[j]!;
      if (b.process === a.process) continue;
      overlaps++;
      overlapping.add(a);
      const documented = a.trouble !== undefined;
      if (documented) documentedOverlaps++;
      const ms = ((Math.min(a.end, b.end) - b.start) / 1e6).toFixed(0);
      anomalies.push({
        type: `${name}-overlap`,
        ops: [a.index, b.index],
        description:
          `${name} ${a.token} (process ${a.process}) was still on when ${name} ${b.token} (process ${b.process}) began: ` +
          `both held for ${ms} ms` +
          (documented
            ? `; the first holder's connection was in trouble (${a.trouble!.why}). ${DOC}`
            : '; the first holder stayed connected, so ZooKeeper or Curator let two clients hold at once'),
        ...(documented ? { documented: true } : {}),
      });
    }
  }

  // Write order: the log after recovery, as the first node read it that could.
  const order = new Map(holds.map((h, i) => [h.token, i]));
  const writes = pairOperations(history).filter((op) => op.f === ops.write);
  const writeByPath = new Map<string, Operation>();
  for (const w of writes) {
    const path = valueOf(w)?.path;
    if (w.type === 'ok' && path) writeByPath.set(path.split('/').pop()!, w);
  }
  const reads = finalReads(history);
  const read = reads.states.find((s) => Array.isArray((s.state as { log?: unknown } | null)?.log));
  let staleWrites = 0;
  let lostWrites = 0;
  let logLength = 0;
  if (read) {
    const log = ((read.state as { log: string[] }).log.map(parseLogEntry).filter(Boolean) as LogEntry[]).sort(
      (x, y) => x.seq - y.seq,
    );
    logLength = log.length;
    const landed = new Set(log.map((e) => e.name));
    let latest: { entry: LogEntry; order: number } | undefined;
    for (const entry of log) {
      const at = order.get(entry.token);
      const write = writeByPath.get(entry.name);
      if (at === undefined) {
        anomalies.push({
          type: 'write-outside-hold',
          ops: [...(write ? [write.invokeIndex] : []), read.index],
          description: `log entry ${entry.name} was written by ${entry.token}, which never held`,
        });
        continue;
      }
      if (latest && at < latest.order) {
        staleWrites++;
        const stale = holds[at]!;
        const documented = !fenced && stale.trouble !== undefined;
        const newer = holds[latest.order]!;
        anomalies.push({
          type: 'stale-holder-write',
          ops: [...(write ? [write.invokeIndex] : [stale.index]), newer.index, read.index],
          description:
            `${entry.name} of ${name} ${stale.token} landed after ${latest.entry.name} of the later ${name} ${newer.token}` +
            (fenced
              ? ': a fenced write got past its fence'
              : documented
                ? `; its holder had lost its connection (${stale.trouble!.why}) and its write was not fenced. ${DOC}`
                : '; its holder stayed connected'),
          ...(documented ? { documented: true } : {}),
        });
      } else latest = { entry, order: at };
    }
    for (const [entryName, w] of writeByPath) {
      if (landed.has(entryName)) continue;
      lostWrites++;
      anomalies.push({
        type: 'lost-write',
        ops: [w.invokeIndex, read.index],
        description: `acknowledged write ${entryName} of ${String((w.input as RecipeValue).token)} is missing from ${read.node}'s log`,
      });
    }
  }

  // Liveness (election): after a term ends, a new one within the bound, unless the ensemble itself had no leader.
  let maxGapMs = 0;
  let boundMs: number | undefined;
  if (options.livenessSessionTimeoutMs !== undefined && holds.length > 0) {
    const t = options.livenessSessionTimeoutMs;
    boundMs = 2 * t + LIVENESS_SLACK_MS;
    let runEnd = 0;
    for (const e of history) if (typeof e.process === 'number' && e.time > runEnd) runEnd = e.time;
    let coveredUntil = holds[0]!.end;
    let last = holds[0]!;
    const gaps: { from: number; to: number; after: Hold; next?: Hold }[] = [];
    for (const h of holds.slice(1)) {
      if (h.start > coveredUntil) gaps.push({ from: coveredUntil, to: h.start, after: last, next: h });
      if (h.end >= coveredUntil) {
        coveredUntil = h.end;
        last = h;
      }
    }
    if (coveredUntil < runEnd) gaps.push({ from: coveredUntil, to: runEnd, after: last });
    for (const gap of gaps) {
      const gapMs = (gap.to - gap.from) / 1e6;
      if (gap.next) maxGapMs = Math.max(maxGapMs, gapMs - leaderlessMs(roles, gap.from, gap.to));
      // A new ZooKeeper leader gives every session a fresh timeout (SessionTrackerImpl tracks each anew from now), so
      // a gone holder's session can expire only a timeout after the last leader change: the bound counts from there.
      const from = lastLeaderStart(roles, gap.from, gap.to) ?? gap.from;
      const leaderless = leaderlessMs(roles, from, gap.to);
      const allowed = (from - gap.from) / 1e6 + boundMs + leaderless;
      if (gapMs <= allowed) continue;
      const restarted =
        from > gap.from
          ? `, counted from ZooKeeper's last new leader ${((from - gap.from) / 1e9).toFixed(1)} s in`
          : '';
      anomalies.push({
        type: 'no-leader',
        ops: [gap.after.index, ...(gap.next ? [gap.next.index] : [])],
        description:
          `no leader for ${(gapMs / 1000).toFixed(1)} s after term ${gap.after.token} ended (${gap.after.endedBy})` +
          `${gap.next ? `, until ${gap.next.token}` : ', until the run ended'}: over the bound of ` +
          `${(allowed / 1000).toFixed(1)} s (2 × session timeout ${t} ms for the old session to expire and a ` +
          `candidate to reconnect, ${LIVENESS_SLACK_MS} ms slack, ${(leaderless / 1000).toFixed(1)} s with no ` +
          `ZooKeeper leader${restarted})`,
      });
    }
  }

  const undocumented = anomalies.filter((a) => !a.documented);
  const reason =
    holds.length === 0
      ? `no ${name} was ever held: nothing to check`
      : !read && writes.length > 0
        ? 'no node could be read after recovery: write order unchecked'
        : undefined;
  return {
    valid: undocumented.length > 0 ? false : reason ? 'unknown' : true,
    ...(reason ? { reason } : {}),
    counts: {
      [`${name}s`]: holds.length,
      overlaps,
      documentedOverlaps,
      holdsOverlapped: overlapping.size,
      troubledHolds: holds.filter((h) => h.trouble).length,
      writes: writes.length,
      acknowledgedWrites: writes.filter((w) => w.type === 'ok').length,
      refusedWrites: writes.filter((w) => w.type === 'fail').length,
      logEntries: logLength,
      staleWrites,
      lostWrites,
      ...(boundMs !== undefined ? { livenessBoundMs: boundMs, maxLeaderGapMs: Math.round(maxGapMs) } : {}),
    },
    /** Overlapping holds per hold: the measured rate of the documented unfenced hazard. */
    overlapRate: holds.length ? overlapping.size / holds.length : 0,
    fenced,
    anomalies,
  };
}

/** Milliseconds within [from, to] in which no node reported leading (roles.jsonl). */
export function leaderlessMs(roles: readonly RoleChange[], from: number, to: number): number {
  if (roles.length === 0) return 0;
  const leading = new Set<string>();
  const apply = (c: RoleChange): void => {
    if (c.role === 'leader') leading.add(c.node);
    else leading.delete(c.node);
  };
  let cursor = from;
  let without = 0;
  for (const c of roles) {
    if (c.time <= from) {
      apply(c);
      continue;
    }
    if (c.time > to) break;
    if (leading.size === 0) without += c.time - cursor;
    apply(c);
    cursor = c.time;
  }
  if (leading.size === 0) without += to - cursor;
  return without / 1e6;
}

/** When a node last began to report leading within (from, to] (roles.jsonl), if one did. */
export function lastLeaderStart(roles: readonly RoleChange[], from: number, to: number): number | undefined {
  const leading = new Set<string>();
  let last: number | undefined;
  for (const c of roles) {
    if (c.time > to) break;
    if (c.role === 'leader' && !leading.has(c.node) && c.time > from) last = c.time;
    if (c.role === 'leader') leading.add(c.node);
    else leading.delete(c.node);
  }
  return last;
}

export function holdsChecker(options: HoldsCheckerOptions): Checker {
  return {
    check: async (history, context) =>
      checkHolds(
        history,
        options,
        options.livenessSessionTimeoutMs !== undefined && context.runDir
          ? await readRoleChanges(join(context.runDir, ROLES_FILE))
          : [],
      ),
  };
}

// Disaster recovery, the check (pure: reads the history only). Each restore must be a consistent cut of the
// history holding every add acknowledged before its backup started; what it lacks is the recovery point.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { mergeValidity, type Validity } from '../errors.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';

/** The restored nodes' reads: 'final' events keyed by the restore's name. */
export const RESTORE_READ = 'restore-read';
/** Missing adds named in one anomaly, at most. */
const MAX_CITED = 20;

/** Pairs of DR info events in a history: the invocation's time and the completion's value. */
interface DrEvent {
  name: string;
  startNs: number;
  endNs: number;
  value: Record<string, unknown>;
  error?: string;
  index: number;
}

function drEvents(history: readonly HistoryEvent[], f: string): DrEvent[] {
  const out: DrEvent[] = [];
  const pending = new Map<string, number>();
  for (const e of history) {
    if (e.process !== 'nemesis' || e.f !== f) continue;
    if (typeof e.value === 'string') pending.set(e.value, e.time);
    else {
      const value = (e.value ?? {}) as Record<string, unknown>;
      const name = String(value.fault);
      out.push({
        name,
        startNs: pending.get(name) ?? e.time,
        endNs: e.time,
        value,
        index: e.index,
        ...(e.error ? { error: e.error } : {}),
      });
    }
  }
  return out;
}

export type RestoreStatus = 'complete' | 'data-loss' | 'inconsistent' | 'failed-to-start' | 'unread';

export interface RestoreResult {
  status: RestoreStatus;
  backup: string;
  damage: string;
  mode: string;
  message?: string;
  lastZxid?: unknown;
  /** Acknowledged adds from before the backup started that are missing (per the worst node). */
  lostBeforeBackup: number;
  /** Acknowledged adds after the backup started that are missing: the recovery point, in ops. */
  missingAfterBackupStart: number;
  /** From the restored cut (the last acknowledged add before which nothing is missing) to the last acknowledged add. */
  recoveryPointS: number | null;
  /** From the restore's start to every node read. */
  recoveryTimeS: number | null;
  converged: boolean;
  /** The backup's last zxid was below the leader's when it started: the copied replica lagged. */
  laggingReplica: boolean;
}

function laggingBackup(backup: Record<string, unknown> | undefined): boolean {
  const last = backup?.lastZxid;
  const committed = backup?.committedAtStart;
  if (typeof last !== 'string' || typeof committed !== 'string') return false;
  return BigInt(`0x${last}`) < BigInt(`0x${committed}`);
}

/**
 * The DR check. Each restore's nodes must agree, hold nothing never attempted, and form a consistent cut: no
 * acknowledged add is missing whose acknowledgement came before another present add was invoked. An intact
 * backup must hold every add acknowledged before it started; a damaged one may lose them (reported, expected),
 * or fail to start with the server's message. An inconsistent restore is always invalid.
 */
export function checkRestores(history: readonly HistoryEvent[]): CheckerResult {
  const ops = pairOperations(history).filter((op) => op.f === 'add');
  const acked = ops.filter((op) => op.type === 'ok').sort((a, b) => a.completeTime - b.completeTime);
  const attempted = new Map<number, Operation>();
  for (const op of ops) if (op.type !== 'fail') attempted.set(op.input as number, op);
  const backups = new Map(
    drEvents(history, 'backup').map((b) => [b.value.backup === undefined ? b.name : String(b.value.backup), b]),
  );
  const anomalies: Anomaly[] = [];
  const restores: Record<string, RestoreResult> = {};
  const verdicts: Validity[] = [];
  const lastAckNs = acked.at(-1)?.completeTime ?? 0;

  for (const restore of drEvents(history, 'restore')) {
    const v = restore.value;
    const damaged = v.damage !== undefined && v.damage !== 'none';
    const backup = backups.get(String(v.backup));
    const reads = history.filter(
      (e) => e.process === 'final' && e.f === RESTORE_READ && e.key === restore.name && e.type !== 'invoke',
    );
    const result: RestoreResult = {
      status: 'complete',
      backup: v.backup === undefined ? '?' : String(v.backup),
      damage: v.damage === undefined ? 'none' : String(v.damage),
      mode: v.mode === undefined ? '?' : String(v.mode),
      lastZxid: v.lastZxid,
      lostBeforeBackup: 0,
      missingAfterBackupStart: 0,
      recoveryPointS: null,
      recoveryTimeS: typeof v.recoveryMs === 'number' ? v.recoveryMs / 1000 : null,
      converged: true,
      laggingReplica: false,
    };
    restores[restore.name] = result;
    if (restore.error) {
      result.status = 'failed-to-start';
      result.message = restore.error;
      // A damaged backup may be refused; an intact one must restore.
      if (!damaged)
        anomalies.push({
          type: 'restore-failed',
          ops: [restore.index],
          description: `${restore.name}: ${restore.error}`,
        });
      verdicts.push(damaged ? true : false);
      continue;
    }
    const unread = reads.length === 0 || reads.some((r) => r.type !== 'ok');
    const backupStart = backup?.startNs ?? Infinity;
    const lagged = laggingBackup(backup?.value);
    result.laggingReplica = lagged;
    // Loss the harness caused (damage) or the copied replica's lag explains: reported, documented, not a failure.
    const expectedLoss = damaged || lagged;
    let inconsistent = false;
    let dataLoss = false;
    const okReads = reads.filter((r) => r.type === 'ok');
    const first = JSON.stringify([...((okReads[0]?.value ?? []) as number[])].sort((a, b) => a - b));
    for (const read of okReads) {
      const present = new Set(read.value as number[]);
      const where = `${restore.name} ${read.node}`;
      if (JSON.stringify([...present].sort((a, b) => a - b)) !== first) result.converged = false;
      let latestInvoke = -Infinity;
      for (const element of present) {
        const op = attempted.get(element);
        if (!op) {
          inconsistent = true;
          anomalies.push({
            type: 'unexpected-element',
            ops: [read.index],
            description: `${where}: ${element} is present but was never added`,
          });
        } else latestInvoke = Math.max(latestInvoke, op.invokeTime);
      }
      const holes: Operation[] = [];
      const lostOps: Operation[] = [];
      let missingAfter = 0;
      // The cut: the last acknowledgement up to which every acknowledged add is present.
      let cutNs = 0;
      let whole = true;
      for (const op of acked) {
        if (present.has(op.input as number)) {
          if (whole) cutNs = op.completeTime;
          continue;
        }
        whole = false;
        if (op.completeTime < latestInvoke) holes.push(op);
        else if (op.completeTime < backupStart) lostOps.push(op);
        else missingAfter++;
      }
      // One anomaly per node and kind, naming the adds (the first few) and pointing at their invocations.
      const cite = (missing: Operation[]): { ops: number[]; list: string } => ({
        ops: [...missing.slice(0, MAX_CITED).map((op) => op.invokeIndex), read.index],
        list:
          missing
            .slice(0, MAX_CITED)
            .map((op) => String(op.input))
            .join(', ') + (missing.length > MAX_CITED ? ', ...' : ''),
      });
      if (holes.length) {
        inconsistent = true;
        const { ops, list } = cite(holes);
        anomalies.push({
          type: 'cut-violation',
          ops,
          description: `${where}: ${holes.length} acknowledged adds missing though later ones are present (${list})`,
        });
      }
      if (lostOps.length) {
        dataLoss = true;
        const { ops, list } = cite(lostOps);
        const type = damaged ? 'backup-data-loss' : lagged ? 'lagging-backup' : 'lost-write';
        anomalies.push({
          type,
          ops,
          description: `${where}: ${lostOps.length} adds acknowledged before the backup started are missing (${list})`,
          ...(expectedLoss ? { documented: true } : {}),
        });
      }
      const lost = lostOps.length;
      result.lostBeforeBackup = Math.max(result.lostBeforeBackup, lost);
      result.missingAfterBackupStart = Math.max(result.missingAfterBackupStart, missingAfter);
      const pointS = whole ? 0 : (lastAckNs - cutNs) / 1e9;
      result.recoveryPointS = Math.max(result.recoveryPointS ?? 0, Math.round(pointS * 1000) / 1000);
    }
    if (!result.converged) {
      inconsistent = true;
      anomalies.push({
        type: 'divergence',
        ops: okReads.map((r) => r.index),
        description: `${restore.name}: the restored nodes hold different sets`,
      });
    }
    // What the nodes read show decides; nodes left unread make an otherwise clean restore unknown.
    result.status = inconsistent ? 'inconsistent' : dataLoss ? 'data-loss' : unread ? 'unread' : 'complete';
    verdicts.push(inconsistent || (dataLoss && !expectedLoss) ? false : unread ? 'unknown' : true);
  }
  const summary = Object.values(restores);
  // One line per run for the terminal: each restore's outcome, recovery point and recovery time.
  const reason = Object.entries(restores)
    .map(
      ([name, r]) =>
        `${name}: ${r.status}` +
        (r.recoveryTimeS !== null
          ? `, RPO ${r.missingAfterBackupStart + r.lostBeforeBackup} ops / ${r.recoveryPointS ?? 0} s, RTO ${r.recoveryTimeS} s`
          : ''),
    )
    .join('; ');
  return {
    valid: summary.length === 0 ? 'unknown' : mergeValidity(verdicts),
    ...(reason ? { reason } : {}),
    counts: {
      backups: backups.size,
      restores: summary.length,
      complete: summary.filter((r) => r.status === 'complete').length,
      dataLoss: summary.filter((r) => r.status === 'data-loss').length,
      inconsistent: summary.filter((r) => r.status === 'inconsistent').length,
      failedToStart: summary.filter((r) => r.status === 'failed-to-start').length,
    },
    backups: Object.fromEntries(
      [...backups].map(([k, b]) => [
        k,
        {
          node: b.value.node,
          startS: b.startNs / 1e9,
          endS: b.endNs / 1e9,
          snapshotZxid: b.value.snapshotZxid,
          lastZxid: b.value.lastZxid,
          committedAtStart: b.value.committedAtStart,
          laggingReplica: laggingBackup(b.value),
          ...(b.error ? { error: b.error } : {}),
        },
      ]),
    ),
    restores,
    anomalies,
  };
}

export const restoreChecker: Checker = { check: async (history) => checkRestores(history) };

// What ZooKeeper promises a register, checked through the zxids its replies carry: writes are totally ordered
// by zxid in real-time order (linearizable); each session sees that order without going back (monotonic reads,
// read-your-writes); a read returns the value of the write whose zxid it reports. A stale read (one that misses a
// write completed before it began) is no violation of that per-session order: documented for plain reads, and
// known for sync+read too (sync is not a quorum op: ZOOKEEPER-1675). It is named, so the linearizability
// check's failure can be read as documented behaviour rather than a new bug.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { groupBy, pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { checkLinearizable, type LinearizableModelName } from './linearizable.js';
import { convertZxidHistory, decideZxidHistory, NotZxidHistory } from './zxid-history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';

export type RegisterReadMode = 'sync' | 'plain' | 'none';

const zx = (hex: string): bigint => BigInt(`0x${hex}`);
const keyString = (key: string | number | undefined): string => (key === undefined ? '' : String(key));

/** A write (ok, or cas ok) that ZooKeeper acknowledged with its zxid. */
interface AckedWrite {
  op: Operation;
  zxid: bigint;
  value: unknown;
}

function writtenValue(op: Operation): unknown {
  return op.f === 'cas' ? (op.input as [unknown, unknown])[1] : op.input;
}

function isWrite(op: Operation): boolean {
  return op.f === 'write' || op.f === 'cas';
}

/** An op that observed the register at a zxid without changing it: an ok read, or a cas that found another value. */
function isObservation(op: Operation): boolean {
  return (
    (op.f === 'read' && op.type === 'ok') || (op.f === 'cas' && op.type === 'fail' && op.error === 'value-mismatch')
  );
}

export interface OrderAnalysis {
  anomalies: Anomaly[];
  counts: { reads: number; writes: number; staleReads: number; keys: number };
}

/** Analyses a register history (events with zxid), key by key. */
export function analyzeRegisterOrder(history: readonly HistoryEvent[], readMode: RegisterReadMode): OrderAnalysis {
  const ops = pairOperations(history).filter((op) => op.f === 'read' || op.f === 'write' || op.f === 'cas');
  const byKey = groupBy(ops, (op) => keyString(op.key));
  const anomalies: Anomaly[] = [];
  const counts = { reads: 0, writes: 0, staleReads: 0, keys: byKey.size };
  for (const keyOps of byKey.values()) {
    const acked = new Map<bigint, AckedWrite>();
    const attemptedValues = new Set<string>(['null']);
    for (const op of keyOps) {
      if (!isWrite(op)) continue;
      if (op.type !== 'fail') attemptedValues.add(JSON.stringify(writtenValue(op)));
      if (op.type === 'ok' && op.zxid !== undefined)
        acked.set(zx(op.zxid), { op, zxid: zx(op.zxid), value: writtenValue(op) });
    }
    counts.writes += acked.size;

    // Reads return what the write with their zxid wrote.
    for (const op of keyOps) {
      if (!(op.f === 'read' && op.type === 'ok' && op.zxid !== undefined)) continue;
      counts.reads++;
      const source = acked.get(zx(op.zxid));
      if (source && JSON.stringify(source.value) !== JSON.stringify(op.output)) {
        anomalies.push({
          type: 'corrupt-read',
          ops: [op.invokeIndex, source.op.invokeIndex],
          description: `read ${JSON.stringify(op.output)} at zxid ${op.zxid}, but that write wrote ${JSON.stringify(source.value)}`,
        });
      } else if (!source && !attemptedValues.has(JSON.stringify(op.output))) {
        anomalies.push({
          type: 'phantom-read',
          ops: [op.invokeIndex],
          description: `read ${JSON.stringify(op.output)}, a value never written`,
        });
      }
    }

    // Per session (process): never back in time, and always after its own writes.
    for (const sessionOps of groupBy(keyOps, (op) => op.process).values()) {
      let seen: { zxid: bigint; op: Operation } | undefined;
      for (const op of sessionOps) {
        if (op.zxid === undefined || !(isObservation(op) || (isWrite(op) && op.type === 'ok'))) continue;
        const z = zx(op.zxid);
        if (seen && z < seen.zxid && isObservation(op)) {
          const own = isWrite(seen.op);
          anomalies.push({
            type: own ? 'read-your-writes-violation' : 'non-monotonic-read',
            ops: [seen.op.invokeIndex, op.invokeIndex],
            description: own
              ? `process ${op.process} read zxid ${op.zxid} after its own write at zxid ${seen.op.zxid}`
              : `process ${op.process} read zxid ${op.zxid} after having seen zxid ${seen.op.zxid}`,
          });
        }
        if (!seen || z > seen.zxid) seen = { zxid: z, op };
      }
    }

    // Real time: a write or read that begins after a write completed comes after it in zxid order.
    const timeline = keyOps
      .flatMap((op) => [
        { t: op.invokeTime, i: op.invokeIndex, op, end: false },
        { t: op.completeTime, i: op.completeIndex, op, end: true },
      ])
      .filter((e) => Number.isFinite(e.t))
      .sort((a, b) => a.i - b.i);
    let latest: AckedWrite | undefined;
    const floorAtInvoke = new Map<Operation, AckedWrite | undefined>();
    for (const e of timeline) {
      if (!e.end) {
        floorAtInvoke.set(e.op, latest);
        continue;
      }
      const floor = floorAtInvoke.get(e.op);
      if (e.op.zxid !== undefined && floor && zx(e.op.zxid) < floor.zxid) {
        if (isWrite(e.op) && e.op.type === 'ok') {
          anomalies.push({
            type: 'write-order-inversion',
            ops: [floor.op.invokeIndex, e.op.invokeIndex],
            description: `write at zxid ${e.op.zxid} began after the write at zxid ${floor.op.zxid} completed`,
          });
        } else if (isObservation(e.op)) {
          counts.staleReads++;
          anomalies.push({
            type: 'stale-read',
            ops: [floor.op.invokeIndex, e.op.invokeIndex],
            documented: true,
            description:
              `read zxid ${e.op.zxid} (${JSON.stringify(e.op.output)}) although the write of ${JSON.stringify(floor.value)} at zxid ${floor.op.zxid} completed before the read began` +
              (readMode === 'sync'
                ? ' (after sync: known, ZOOKEEPER-1675)'
                : ' (plain reads may be stale: documented)'),
          });
        }
      }
      if (isWrite(e.op) && e.op.type === 'ok' && e.op.zxid !== undefined) {
        const w = acked.get(zx(e.op.zxid));
        if (w && (!latest || w.zxid > latest.zxid)) latest = w;
      }
    }
  }
  return { anomalies, counts };
}

function verdict(anomalies: readonly Anomaly[]): boolean {
  return anomalies.every((a) => a.documented === true);
}

/** ZooKeeper's own promise for the mode: total write order, per-session order, read-your-writes. */
export function sequentialChecker(readMode: RegisterReadMode): Checker {
  return {
    async check(history): Promise<CheckerResult> {
      const { anomalies, counts } = analyzeRegisterOrder(history, readMode);
      return { valid: verdict(anomalies), counts, anomalies };
    },
  };
}

/**
 * Linearizability of the register workload: decided from the zxids by the zxid checker (zxid-register.ts, no
 * search, whatever the number of unknown outcomes), or, for a history that lacks the zxids it needs (recorded by
 * an older Faultline), by Porcupine's search on the values (`model`). A failure is named from the zxid analysis
 * when it finds a named anomaly (a stale read...). With plain reads ZooKeeper does not promise linearizability,
 * so the result is advisory there.
 */
export function linearizableRegisterChecker(model: LinearizableModelName, readMode: RegisterReadMode): Checker {
  return {
    async check(history, context): Promise<CheckerResult> {
      const zxids = convertZxidHistory(history);
      const result =
        zxids instanceof NotZxidHistory
          ? {
              ...(await checkLinearizable(history, { model, timeoutMs: context.timeoutMs })),
              zxidChecker: `not used: ${zxids.reason}`,
            }
          : decideZxidHistory(zxids);
      const out: CheckerResult = { ...result, counts: { ops: result.ops, keys: result.partitions } };
      if (readMode === 'plain') out.advisory = true;
      if (result.valid !== false) return out;
      const stale = analyzeRegisterOrder(history, readMode).anomalies;
      out.anomalies =
        stale.length > 0
          ? stale
          : (result.failures ?? []).map((f) => ({
              type: 'not-linearizable',
              ops: f.unplaced.map((u) => u.index),
              description:
                f.reason !== undefined
                  ? `key ${String(f.key)}: ${f.reason}`
                  : `key ${String(f.key)}: no linearization places ${f.unplaced.map((u) => u.description).join(', ')} after state ${f.stateBefore}`,
            }));
      return out;
    },
  };
}

/** Final state of a register key as the recovery reads record it. */
export interface RegisterFinal {
  value: unknown;
  zxid: string;
}

/**
 * Durability: on every node, each key's final zxid is at least that of the last acknowledged write, and the
 * final value is the one written at that zxid.
 */
export function registerDurabilityChecker(): Checker {
  return {
    async check(history): Promise<CheckerResult> {
      const ops = pairOperations(history).filter((op) => isWrite(op) && op.type === 'ok' && op.zxid !== undefined);
      const lastByKey = new Map<string, Operation>();
      const byZxid = new Map<string, Operation>();
      for (const op of ops) {
        const k = keyString(op.key);
        byZxid.set(`${k}/${op.zxid!}`, op);
        const prev = lastByKey.get(k);
        if (!prev || zx(op.zxid!) > zx(prev.zxid!)) lastByKey.set(k, op);
      }
      const reads = finalReads(history);
      const anomalies: Anomaly[] = [];
      for (const { node, ...read } of reads.states) {
        const state = read.state as Record<string, RegisterFinal>;
        for (const [k, last] of lastByKey) {
          const final = state[k];
          if (!final || zx(final.zxid) < zx(last.zxid!)) {
            anomalies.push({
              type: 'lost-write',
              ops: [last.invokeIndex, read.index],
              description: `${node}: key ${k} ends at zxid ${final?.zxid ?? 'none'}, before the acknowledged write of ${JSON.stringify(writtenValue(last))} at zxid ${last.zxid!}`,
            });
            continue;
          }
          const source = byZxid.get(`${k}/${final.zxid}`);
          if (source && JSON.stringify(writtenValue(source)) !== JSON.stringify(final.value)) {
            anomalies.push({
              type: 'corrupt-read',
              ops: [source.invokeIndex, read.index],
              description: `${node}: key ${k} holds ${JSON.stringify(final.value)} at zxid ${final.zxid}, written as ${JSON.stringify(writtenValue(source))}`,
            });
          }
        }
      }
      return {
        valid: recoveryVerdict(anomalies, reads),
        counts: {
          acknowledgedWrites: ops.length,
          keys: lastByKey.size,
          nodes: reads.states.length,
          unreadableNodes: reads.unreadable,
          lost: anomalies.filter((a) => a.type === 'lost-write').length,
        },
        anomalies,
      };
    },
  };
}

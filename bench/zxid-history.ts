// Large ZooKeeper register histories for the zxid checker's bench, made straight into columns (ten million ops as
// event objects would not fit in 2 GB; the checker's core takes columns). Each op runs in an interval of whole
// time units and takes effect at an instant strictly inside it, in that order, against a znode made at zxid 1
// holding null: reads see (value, mzxid), writes and successful cases get the next zxid, a cas that finds
// another value fails and records what it found; a share of writes and cases end with an unknown outcome and
// took effect or not, at random (a cas records the zxid it read). So the history is linearizable; `phantom`
// then turns one late read into a read of a value nobody wrote, at a zxid nobody made.
import type { HistoryEvent } from '../src/history.js';
import { ZxidKind, type ZxidOps } from '../src/checkers/zxid-register.js';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** Value ids: 0 is null (the initial value), 1..values the integers written. */
export function zookeeperRegisterColumns(
  count: number,
  options: { concurrency: number; unknown: number; values?: number; seed?: number; phantom?: boolean },
): ZxidOps {
  const random = rng(options.seed ?? 1);
  const values = options.values ?? 5;
  const ops: ZxidOps = {
    count,
    kind: new Uint8Array(count),
    call: new Float64Array(count),
    ret: new Float64Array(count),
    zxid: new Float64Array(count),
    value: new Int32Array(count),
    from: new Int32Array(count),
  };
  const unknown = new Uint8Array(count);
  // Ops start one time unit apart on average and last up to 2 x concurrency units: about `concurrency` at once.
  // Calls at 4t, returns at 4t + 2: a call and a return never tie. The effect instant (whole units, strictly
  // inside) and the op's index make one sortable key.
  const keys = new Float64Array(count);
  let start = 0;
  for (let i = 0; i < count; i++) {
    start += random() < 0.5 ? 1 : 0;
    const length = 2 + Math.floor(random() * 2 * options.concurrency);
    ops.call[i] = start * 4;
    ops.ret[i] = (start + length) * 4 + 2;
    const at = start + 1 + Math.floor(random() * (length - 1));
    keys[i] = at * 2 ** 24 + i;
    const r = random();
    ops.kind[i] = r < 0.4 ? ZxidKind.read : r < 0.7 ? ZxidKind.write : ZxidKind.cas;
    ops.value[i] = 1 + Math.floor(random() * values);
    ops.from[i] = Math.floor(random() * (values + 1));
    if (ops.kind[i] !== ZxidKind.read && random() < options.unknown) unknown[i] = 1;
  }
  if (count >= 2 ** 24) throw new Error('too many ops for the sort key');
  keys.sort();
  let value = 0;
  let zxid = 1;
  for (let k = 0; k < count; k++) {
    const i = (keys[k] as number) % 2 ** 24;
    const kind = ops.kind[i] as number;
    if (kind === ZxidKind.read) {
      ops.value[i] = value;
      ops.zxid[i] = zxid;
    } else if (kind === ZxidKind.write) {
      if (unknown[i]) {
        ops.kind[i] = ZxidKind.unknownWrite;
        ops.ret[i] = Infinity;
        if (random() < 0.5) continue;
      }
      value = ops.value[i] as number;
      zxid += 1 + (random() < 0.2 ? 1 : 0);
      if (!unknown[i]) ops.zxid[i] = zxid;
    } else if (ops.from[i] !== value) {
      ops.kind[i] = ZxidKind.observe;
      ops.value[i] = value;
      ops.zxid[i] = zxid;
    } else {
      if (unknown[i]) {
        ops.kind[i] = ZxidKind.unknownCas;
        ops.zxid[i] = zxid; // the data it read
        if (random() < 0.5) continue;
      } else {
        zxid += 1 + (random() < 0.2 ? 1 : 0);
        ops.zxid[i] = zxid;
        value = ops.value[i] as number;
        continue;
      }
      value = ops.value[i] as number;
      zxid += 1 + (random() < 0.2 ? 1 : 0);
    }
  }
  if (options.phantom) {
    for (let i = count - 1; i >= 0; i--)
      if (ops.kind[i] === ZxidKind.read) {
        ops.value[i] = values + 1;
        ops.zxid[i] = zxid + 1;
        break;
      }
  }
  return ops;
}

/** The same history as events (one process per op, as if every op ran in its own session): for the full path. */
export function columnsToEvents(ops: ZxidOps): HistoryEvent[] {
  const shown = (id: number): number | null => (id === 0 ? null : id);
  const ends: { t: number; i: number; end: boolean }[] = [];
  for (let i = 0; i < ops.count; i++) {
    ends.push({ t: ops.call[i] as number, i, end: false });
    // An op of unknown outcome still has its completion (info), as the runner records it.
    const ret = ops.ret[i] as number;
    ends.push({ t: Number.isFinite(ret) ? ret : (ops.call[i] as number) + 3, i, end: true });
  }
  ends.sort((a, b) => a.t - b.t);
  return ends.map(({ i, end }, index): HistoryEvent => {
    const kind = ops.kind[i] as number;
    const f =
      kind === ZxidKind.read ? 'read' : kind === ZxidKind.write || kind === ZxidKind.unknownWrite ? 'write' : 'cas';
    const input =
      f === 'read'
        ? null
        : f === 'write'
          ? shown(ops.value[i] as number)
          : [shown(ops.from[i] as number), shown(ops.value[i] as number)];
    const event: HistoryEvent = { index, time: index, process: i, type: 'invoke', f, value: input };
    if (!end) return event;
    const zxid = (ops.zxid[i] as number).toString(16);
    switch (kind) {
      case ZxidKind.read:
        return { ...event, type: 'ok', value: shown(ops.value[i] as number), zxid };
      case ZxidKind.observe:
        return { ...event, type: 'fail', value: shown(ops.value[i] as number), error: 'value-mismatch', zxid };
      case ZxidKind.unknownWrite:
        return { ...event, type: 'info', error: 'timeout' };
      case ZxidKind.unknownCas:
        return { ...event, type: 'info', error: 'timeout', zxid };
      default:
        return { ...event, type: 'ok', zxid };
    }
  });
}

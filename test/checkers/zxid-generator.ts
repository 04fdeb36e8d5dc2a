// ZooKeeper-style register histories with zxids, for the zxid checker's property tests and its bench: clients
// read, write and compare-and-set one znode; ZooKeeper applies each op at an instant of its interval, giving
// writes increasing zxids (with gaps, as other znodes' writes take some); some ops end with an unknown outcome
// (they may or may not have taken effect) or fail. Then, two times in three, one record is corrupted (a value or
// zxid changed, two zxids swapped, ...) so that many histories are not linearizable.
import type { HistoryEvent } from '../../src/history.js';

export interface GeneratedHistory {
  events: HistoryEvent[];
  /** What was corrupted, if anything (for messages). */
  corruption: string;
}

/** xorshift32: a seed gives one history. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

interface Op {
  process: number;
  f: 'read' | 'write' | 'cas';
  input: unknown;
  call: number;
  ret: number;
  at: number;
  outcome: 'ok' | 'info' | 'fail';
  output: unknown;
  error?: string;
  zxid?: number;
}

export function zookeeperHistory(seed: number, maxOps = 8, values = 3): GeneratedHistory {
  const random = rng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const count = Math.min(maxOps, 2 + int(maxOps));
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const f = r < 0.4 ? 'read' : r < 0.7 ? 'write' : 'cas';
    const call = random() * 20;
    const ret = call + random() * 8;
    const roll = random();
    const outcome = roll < 0.15 ? 'info' : roll < 0.22 ? 'fail' : 'ok';
    ops.push({
      process: i,
      f,
      input: f === 'read' ? null : f === 'write' ? int(values) : [random() < 0.2 ? null : int(values), int(values)],
      call,
      ret,
      at: call + random() * (ret - call),
      outcome,
      output: null,
    });
  }
  // ZooKeeper: the znode made at zxid 1 holding null; every write a larger zxid.
  let value: unknown = null;
  let zxid = 1;
  const nextZxid = (): number => (zxid += 1 + (random() < 0.3 ? int(3) : 0));
  for (const op of [...ops].sort((a, b) => a.at - b.at)) {
    const applied = op.outcome === 'ok' || (op.outcome === 'info' && random() < 0.5);
    if (op.f === 'read') {
      if (op.outcome === 'ok') {
        op.output = value;
        op.zxid = zxid;
      } else op.outcome = op.outcome === 'info' ? 'info' : 'fail';
    } else if (op.f === 'write') {
      op.output = op.input;
      if (applied) {
        value = op.input;
        op.zxid = nextZxid();
      }
      if (op.outcome !== 'ok') delete op.zxid;
    } else {
      const [old, next] = op.input as [unknown, unknown];
      op.output = op.input;
      if (op.outcome === 'fail') {
        op.error = random() < 0.5 ? 'bad-version' : 'connectionloss';
      } else if (value !== old) {
        // It read another value: a definite failure that says what it saw.
        op.outcome = 'fail';
        op.error = 'value-mismatch';
        op.output = value;
        op.zxid = zxid;
      } else if (op.outcome === 'info') {
        op.zxid = zxid; // the data it read; its setData may or may not have followed
        if (applied) {
          value = next;
          nextZxid();
        }
      } else {
        value = next;
        op.zxid = nextZxid();
      }
    }
  }
  const corruption = corrupt(ops, random, values);
  // Events in time order; an info op still has its completion (as the runner records it).
  const raw = ops.flatMap((op, i) => [
    { t: op.call, i, end: false },
    { t: op.ret, i, end: true },
  ]);
  raw.sort((a, b) => a.t - b.t || Number(a.end) - Number(b.end));
  const events: HistoryEvent[] = raw.map(({ i, end }, index) => {
    const op = ops[i] as Op;
    const event: HistoryEvent = {
      index,
      time: index,
      process: op.process,
      type: end ? op.outcome : 'invoke',
      f: op.f,
      value: end ? op.output : op.input,
    };
    if (end && op.error) event.error = op.error;
    if (end && op.zxid !== undefined) event.zxid = op.zxid.toString(16);
    return event;
  });
  return { events, corruption };
}

function corrupt(ops: Op[], random: () => number, values: number): string {
  if (random() < 0.35) return 'none';
  for (let attempt = 0; attempt < 6; attempt++) {
    const done = corruptOnce(ops, random, values);
    if (done !== 'none') return done;
  }
  return 'none';
}

function corruptOnce(ops: Op[], random: () => number, values: number): string {
  const int = (n: number): number => Math.floor(random() * n);
  const pick = (test: (op: Op) => boolean): Op | undefined => {
    const found = ops.filter(test);
    return found[int(found.length)];
  };
  const zxids = ops.flatMap((op) => (op.zxid !== undefined ? [op.zxid] : []));
  const someZxid = (): number =>
    zxids.length > 0 && random() < 0.7 ? (zxids[int(zxids.length)] as number) : 1 + int(12);
  switch (int(6)) {
    case 0: {
      const op = pick((o) => o.f === 'read' && o.outcome === 'ok');
      if (!op) return 'none';
      op.output = random() < 0.2 ? null : int(values);
      return 'read value';
    }
    case 1: {
      const op = pick((o) => o.outcome === 'ok' && o.zxid !== undefined);
      if (!op) return 'none';
      op.zxid = someZxid();
      return 'zxid';
    }
    case 2: {
      const a = pick((o) => o.zxid !== undefined);
      const b = pick((o) => o.zxid !== undefined && o !== a);
      if (!a || !b) return 'none';
      [a.zxid, b.zxid] = [b.zxid, a.zxid];
      return 'swapped zxids';
    }
    case 3: {
      const op = pick((o) => o.error === 'value-mismatch');
      if (!op) return 'none';
      op.output = random() < 0.3 ? null : int(values);
      if (op.output === (op.input as unknown[])[0]) op.output = ((op.output as number) ?? 0) + 1;
      return 'mismatch value';
    }
    case 4: {
      const op = pick((o) => o.f === 'cas' && o.outcome === 'info');
      if (!op) return 'none';
      op.zxid = someZxid();
      return 'unknown cas read';
    }
    default: {
      // Time: an op's interval moved, as a clock off by a little would.
      const op = pick(() => true);
      if (!op) return 'none';
      const shift = (random() - 0.5) * 10;
      op.call = Math.max(0, op.call + shift);
      op.ret = Math.max(op.call, op.ret + shift);
      return 'moved interval';
    }
  }
}

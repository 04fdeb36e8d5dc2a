// Linearizability of a ZooKeeper register (one znode: read, write, compare-and-set by value) decided without
// search, in O(n log n), from the zxids ZooKeeper reports. The same semantics as the search with
// src/porcupine/models/zxid-register.ts, which is its oracle in the tests.
//
// What the history says (workloads/register.ts records it):
//  - an ok write or cas carries the zxid of its write (Stat.mzxid); an ok read the mzxid of the data it read;
//  - a cas that found another value (fail, value-mismatch) carries the value and the mzxid it found;
//  - a cas of unknown outcome carries the mzxid of the data it read before its setData: if that setData took
//    effect, it was conditioned on that data's version, so it came right after it;
//  - a cas that failed before sending its setData, or with BADVERSION, did not write; a write of unknown
//    outcome carries nothing (it may have happened, at any time after its call, or never).
//
// The specification. The register's states are (value, zxid); ZooKeeper applies writes in zxid order, so a
// linearization is a sequence of states in increasing zxid order, each made by one write, together with a point
// in time for every op inside its interval (call, return) such that: every completed write (ok) makes the state of
// its zxid; every observation (read, value-mismatch, the read of a cas of unknown outcome) falls while the state
// of its zxid holds and sees that state's value; a cas makes its state from one that holds `old`; an op of
// unknown outcome makes at most one state, at a zxid nobody recorded, or none. Zxids are taken as dense: an
// unobserved write may sit between any two (zxid counters are shared by all znodes, so gaps say nothing).
// The initial state holds the initial value at the znode's creation zxid: given, or taken to be the smallest
// observed zxid that no completed write made, when that is below every completed write's and its value is the
// initial one.
//
// Why it is decidable without search. The observed zxids and the completed writes' zxids, sorted, are the chain
// of states that must appear (every one is seen or was written); anything else is a write of unknown outcome that
// nobody observed. Such a write is never needed, except right before a cas whose predecessor in the chain holds
// another value than its `old` (the cas read the unobserved state). A state nobody wrote but somebody observed (an
// "orphan" zxid) needs a write of unknown outcome of its value, or a cas of unknown outcome that read the state
// just before it. So the chain is fixed, and only those slots (orphans, and gaps before a cas) need an op of
// unknown outcome assigned, each at most once.
// Time: with the chain fixed, the states' points t_1 < t_2 < ... must satisfy, for the state at position j,
//   L_j < t_j < U_j,  L_j = max(calls of the makers of positions <= j, calls of the observers of positions < j),
//                     U_j = min(returns of the makers and observers of positions >= j),
// and nothing else (observers of position j then fit between t_j and t_{j+1}); taking each t_j just above L_j
// shows that these are also sufficient. An op of unknown outcome assigned to the slot at j only adds its call to
// L_j (and so to every later L), so it fits exactly when its call is below U_j, which does not depend on the
// assignment. A cas of unknown outcome can serve only the slot right after the state it read, so it is used there
// if it fits; writes of unknown outcome serve any slot wanting their value: per value, slots by deadline against
// ops by call, the k-th slot needing the k-th earliest call below its deadline (Hall's condition for nested sets).
// Sorting dominates: O(n log n).
//
// Contradictions are reported as such (not linearizable, with the reason): two writes at one zxid, a read of a
// zxid whose write wrote another value, a read of a zxid nobody could have written, a zxid order that real time
// forbids.

export const ZxidKind = {
  /** An ok read: saw `value` at `zxid`. */
  read: 0,
  /** An ok write: wrote `value` at `zxid`. */
  write: 1,
  /** An ok cas: wrote `value` at `zxid` over a state holding `from`. */
  cas: 2,
  /** A cas that failed on a value mismatch: saw `value` (not `from`) at `zxid`. */
  observe: 3,
  /** A write of unknown outcome of `value`; `zxid` unused. */
  unknownWrite: 4,
  /** A cas of unknown outcome: read `from` at `zxid` (within call..ret), and may have written `value` right after. */
  unknownCas: 5,
} as const;

/** One key's ops, column by column (so ten million fit in a few hundred MB). Values are small integer ids. */
export interface ZxidOps {
  count: number;
  kind: Uint8Array;
  /** Event positions (the real-time order); ret is Infinity for a write of unknown outcome. */
  call: Float64Array;
  ret: Float64Array;
  zxid: Float64Array;
  value: Int32Array;
  /** cas and unknownCas: the expected value; else unused. */
  from: Int32Array;
}

export interface ZxidViolation {
  type: 'duplicate-zxid' | 'corrupt-read' | 'inconsistent-reads' | 'phantom-zxid' | 'cas-precondition' | 'real-time';
  /** Indexes into the ops. */
  ops: number[];
  description: string;
}

export interface ZxidDecision {
  valid: boolean;
  violation?: ZxidViolation;
  /** States in the chain (observed or written zxids) and slots that needed an op of unknown outcome. */
  states: number;
  slots: number;
}

export interface ZxidDecideOptions {
  initialValue: number;
  /** The znode's creation zxid, when known; else inferred (see above). */
  initialZxid?: number;
  /** Describes a value id and an op for messages. */
  showValue?: (id: number) => string;
  showOp?: (op: number) => string;
}

const K = ZxidKind;

function lowerBound(sorted: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const hasZxid = (kind: number): boolean => kind !== K.unknownWrite;
const isMaker = (kind: number): boolean => kind === K.write || kind === K.cas;
const isObservation = (kind: number): boolean => kind === K.read || kind === K.observe || kind === K.unknownCas;

/** Decides one key's history. */
export function decideZxidRegister(ops: ZxidOps, options: ZxidDecideOptions): ZxidDecision {
  const { count, kind, call, ret, zxid, value, from } = ops;
  const show = options.showValue ?? ((id: number) => String(id));
  const showOp = options.showOp ?? ((op: number) => `op ${op}`);
  const hex = (z: number): string => z.toString(16);

  // 1. The chain: every zxid that was written or observed, sorted.
  let refs = 0;
  for (let i = 0; i < count; i++) if (hasZxid(kind[i] as number)) refs++;
  const sorted = new Float64Array(refs + (options.initialZxid !== undefined ? 1 : 0));
  for (let i = 0, k = 0; i < count; i++) if (hasZxid(kind[i] as number)) sorted[k++] = zxid[i] as number;
  if (options.initialZxid !== undefined) sorted[refs] = options.initialZxid;
  sorted.sort();
  let m = 0;
  for (let k = 0; k < sorted.length; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[m++] = sorted[k] as number;
  const nodes = sorted; // nodes[0..m)
  const nodeOf = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) if (hasZxid(kind[i] as number)) nodeOf[i] = lowerBound(nodes, m, zxid[i] as number);

  const fail = (violation: ZxidViolation): ZxidDecision => ({ valid: false, violation, states: m, slots: 0 });

  // 2. Each state's maker, value, and the earliest return and latest call of its observers.
  const maker = new Int32Array(m).fill(-1);
  const nodeValue = new Int32Array(m).fill(-1);
  const valueFrom = new Int32Array(m).fill(-1);
  const obsMaxCall = new Float64Array(m).fill(-Infinity);
  const obsMaxCallOp = new Int32Array(m).fill(-1);
  const obsMinRet = new Float64Array(m).fill(Infinity);
  const obsMinRetOp = new Int32Array(m).fill(-1);
  for (let i = 0; i < count; i++) {
    if (!isMaker(kind[i] as number)) continue;
    const n = nodeOf[i] as number;
    const other = maker[n] as number;
    if (other >= 0)
      return fail({
        type: 'duplicate-zxid',
        ops: [other, i],
        description: `two writes at zxid ${hex(nodes[n] as number)}: ${showOp(other)} and ${showOp(i)}`,
      });
    maker[n] = i;
    nodeValue[n] = value[i] as number;
    valueFrom[n] = i;
  }
  for (let i = 0; i < count; i++) {
    const k = kind[i] as number;
    if (!isObservation(k)) continue;
    const n = nodeOf[i] as number;
    // A value-mismatch saw `value`; the read of a cas of unknown outcome saw `from` (else it had failed).
    const seen = k === K.unknownCas ? (from[i] as number) : (value[i] as number);
    if (k === K.observe && seen === from[i])
      return fail({
        type: 'corrupt-read',
        ops: [i],
        description: `${showOp(i)} failed on a value mismatch, yet recorded the value it expected`,
      });
    const known = nodeValue[n] as number;
    if (known < 0) {
      nodeValue[n] = seen;
      valueFrom[n] = i;
    } else if (known !== seen) {
      const source = valueFrom[n] as number;
      return fail(
        maker[n] === source
          ? {
              type: 'corrupt-read',
              ops: [i, source],
              description: `${showOp(i)} saw ${show(seen)} at zxid ${hex(nodes[n] as number)}, but ${showOp(source)} wrote ${show(known)} there`,
            }
          : {
              type: 'inconsistent-reads',
              ops: [source, i],
              description: `${showOp(source)} and ${showOp(i)} saw different values (${show(known)}, ${show(seen)}) at zxid ${hex(nodes[n] as number)}`,
            },
      );
    }
    if ((call[i] as number) > (obsMaxCall[n] as number)) {
      obsMaxCall[n] = call[i] as number;
      obsMaxCallOp[n] = i;
    }
    if ((ret[i] as number) < (obsMinRet[n] as number)) {
      obsMinRet[n] = ret[i] as number;
      obsMinRetOp[n] = i;
    }
  }

  // 3. The initial state: given, or the first state if nobody wrote it, it precedes every write and holds the
  // initial value. Otherwise it was never observed and sits before the chain.
  let base = -1;
  if (options.initialZxid !== undefined) {
    base = lowerBound(nodes, m, options.initialZxid);
    if (base > 0) {
      const i = (maker[0] as number) >= 0 ? (maker[0] as number) : (valueFrom[0] as number);
      return fail({
        type: 'phantom-zxid',
        ops: [i],
        description: `${showOp(i)} is at zxid ${hex(nodes[0] as number)}, before the znode was created (zxid ${hex(options.initialZxid)})`,
      });
    }
    if ((maker[0] as number) >= 0)
      return fail({
        type: 'duplicate-zxid',
        ops: [maker[0] as number],
        description: `${showOp(maker[0] as number)} wrote at zxid ${hex(options.initialZxid)}, the znode's creation`,
      });
    if ((nodeValue[0] as number) >= 0 && nodeValue[0] !== options.initialValue) {
      const i = valueFrom[0] as number;
      return fail({
        type: 'corrupt-read',
        ops: [i],
        description: `${showOp(i)} saw ${show(nodeValue[0] as number)} at the creation zxid ${hex(options.initialZxid)}, whose value is ${show(options.initialValue)}`,
      });
    }
    nodeValue[0] = options.initialValue;
  } else if (m > 0 && (maker[0] as number) < 0 && nodeValue[0] === options.initialValue) {
    base = 0;
  }

  // 4. Time bounds. L: prefix max over positions; U: suffix min.
  const lower = new Float64Array(m);
  const lowerOp = new Int32Array(m);
  let bestCall = -Infinity;
  let bestCallOp = -1;
  for (let j = 0; j < m; j++) {
    if (j > 0 && (obsMaxCall[j - 1] as number) > bestCall) {
      bestCall = obsMaxCall[j - 1] as number;
      bestCallOp = obsMaxCallOp[j - 1] as number;
    }
    const mk = maker[j] as number;
    if (mk >= 0 && (call[mk] as number) > bestCall) {
      bestCall = call[mk] as number;
      bestCallOp = mk;
    }
    lower[j] = bestCall;
    lowerOp[j] = bestCallOp;
  }
  const upper = new Float64Array(m);
  const upperOp = new Int32Array(m);
  let bestRet = Infinity;
  let bestRetOp = -1;
  for (let j = m - 1; j >= 0; j--) {
    if ((obsMinRet[j] as number) < bestRet) {
      bestRet = obsMinRet[j] as number;
      bestRetOp = obsMinRetOp[j] as number;
    }
    const mk = maker[j] as number;
    if (mk >= 0 && (ret[mk] as number) < bestRet) {
      bestRet = ret[mk] as number;
      bestRetOp = mk;
    }
    upper[j] = bestRet;
    upperOp[j] = bestRetOp;
  }
  for (let j = base + 1; j < m; j++) {
    if ((lower[j] as number) < (upper[j] as number)) continue;
    const a = lowerOp[j] as number;
    const b = upperOp[j] as number;
    return fail({
      type: 'real-time',
      ops: [b, a],
      description: `${showOp(b)} (zxid ${hex(zxid[b] as number)}) returned before ${showOp(a)} (zxid ${hex(zxid[a] as number)}) was invoked, yet ZooKeeper's zxid order puts ${showOp(a)} first`,
    });
  }

  // 5. Slots: orphan states, and gaps before a cas whose predecessor holds another value than its `old`.
  const slotNode: number[] = [];
  const slotWant: number[] = [];
  let prevValue = base >= 0 ? (nodeValue[base] as number) : options.initialValue;
  for (let j = base + 1; j < m; j++) {
    const mk = maker[j] as number;
    if (mk < 0) {
      slotNode.push(j);
      slotWant.push(nodeValue[j] as number);
    } else if (kind[mk] === K.cas && from[mk] !== prevValue) {
      slotNode.push(j);
      slotWant.push(from[mk] as number);
    }
    prevValue = nodeValue[j] as number;
  }
  if (slotNode.length === 0) return { valid: true, states: m, slots: 0 };

  // Casses of unknown outcome, by the state they read; writes of unknown outcome, by value.
  const casAfter = new Map<number, number[]>();
  const writesOf = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const k = kind[i] as number;
    if (k === K.unknownCas) {
      const list = casAfter.get(nodeOf[i] as number);
      if (list) list.push(i);
      else casAfter.set(nodeOf[i] as number, [i]);
    } else if (k === K.unknownWrite) {
      const list = writesOf.get(value[i] as number);
      if (list) list.push(i);
      else writesOf.set(value[i] as number, [i]);
    }
  }
  const needs = new Map<number, number[]>(); // value -> slot ids wanting a write of it
  for (let s = 0; s < slotNode.length; s++) {
    const j = slotNode[s] as number;
    const want = slotWant[s] as number;
    const deadline = upper[j] as number;
    const candidates = j > 0 ? casAfter.get(j - 1) : undefined;
    let served = false;
    if (candidates)
      for (const c of candidates)
        if (value[c] === want && (call[c] as number) < deadline) {
          served = true;
          break;
        }
    if (served) continue;
    const list = needs.get(want);
    if (list) list.push(s);
    else needs.set(want, [s]);
  }
  for (const [want, slots] of needs) {
    slots.sort((a, b) => (upper[slotNode[a] as number] as number) - (upper[slotNode[b] as number] as number));
    const writers = (writesOf.get(want) ?? []).sort((a, b) => (call[a] as number) - (call[b] as number));
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k] as number;
      const j = slotNode[s] as number;
      const w = writers[k];
      if (w !== undefined && (call[w] as number) < (upper[j] as number)) continue;
      const mk = maker[j] as number;
      const witness = mk >= 0 ? mk : (valueFrom[j] as number);
      const late = w === undefined ? '' : ` (${writers.length} of unknown outcome, not enough invoked in time)`;
      return fail(
        mk >= 0
          ? {
              type: 'cas-precondition',
              ops: [mk],
              description: `${showOp(mk)} (zxid ${hex(nodes[j] as number)}) needs the register to hold ${show(want)} just before it, but the state before it ${j > 0 ? `(zxid ${hex(nodes[j - 1] as number)}) holds ${show(nodeValue[j - 1] as number)}` : `is the initial ${show(options.initialValue)}`}, and no write of ${show(want)} of unknown outcome could come between${late}`,
            }
          : {
              type: 'phantom-zxid',
              ops: [witness],
              description: `${showOp(witness)} saw ${show(want)} at zxid ${hex(nodes[j] as number)}, which no recorded write made, and no write of ${show(want)} of unknown outcome could have${late}`,
            },
      );
    }
  }
  return { valid: true, states: m, slots: slotNode.length };
}

/**
 * The initial state's zxid and the orphan zxids (observed, written by no completed write) under the rules above:
 * what the search needs to be given to decide the same question (src/porcupine/models/zxid-register.ts).
 */
export function zxidFacts(ops: ZxidOps, options: ZxidDecideOptions): { initialZxid?: number; orphans: number[] } {
  const made = new Set<number>();
  const seen = new Map<number, number>(); // zxid -> value first observed there
  for (let i = 0; i < ops.count; i++) {
    const k = ops.kind[i] as number;
    if (isMaker(k)) made.add(ops.zxid[i] as number);
  }
  for (let i = 0; i < ops.count; i++) {
    const k = ops.kind[i] as number;
    if (!isObservation(k)) continue;
    const z = ops.zxid[i] as number;
    if (!seen.has(z)) seen.set(z, k === K.unknownCas ? (ops.from[i] as number) : (ops.value[i] as number));
  }
  let initialZxid = options.initialZxid;
  if (initialZxid === undefined) {
    let smallest: number | undefined;
    for (const z of [...made, ...seen.keys()]) if (smallest === undefined || z < smallest) smallest = z;
    if (smallest !== undefined && !made.has(smallest) && seen.get(smallest) === options.initialValue)
      initialZxid = smallest;
  }
  const orphans = [...seen.keys()].filter((z) => !made.has(z) && z !== initialZxid).sort((a, b) => a - b);
  return { ...(initialZxid !== undefined ? { initialZxid } : {}), orphans };
}

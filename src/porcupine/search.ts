// The search for one partition: Wing & Gong's linearization search, made just-in-time and memoized as in
// Lowe's "Testing for linearizability" (the algorithm of Porcupine), tuned for V8:
//  - calls and returns sit in a doubly linked list (typed arrays); linearizing an op lifts its entries out,
//    backtracking puts them back (dancing links), so candidates are always the calls before the first return;
//  - the set of linearized ops is a bitset with an incremental Zobrist hash, and the memo table stores it
//    compactly: every op that completed before the lowest unlinearized one is necessarily linearized, so an
//    entry keeps only the window of words after that point plus the words of ops with unknown outcome, which
//    get ids after all completed ops;
//  - states are interned to small integers, so the memo compares integers, never states;
//  - the memo is an open-addressing hash table over one growable Int32Array arena: no allocation per step.
// Ops of unknown outcome have no return entry: they need never be linearized, and the search succeeds as soon as
// every completed op is.
import { ILLEGAL, type CheckVerdict, type Model } from './model.js';

export interface PartitionInput<I, O> {
  inputs: readonly I[];
  outputs: readonly O[];
  calls: readonly number[];
  /** Infinity for ops of unknown outcome. */
  returns: readonly number[];
}

export interface SearchLimits {
  /** Absolute Date.now() after which the search gives up. */
  deadline: number;
  maxMemoryBytes: number;
  details: boolean;
}

export interface SearchResult {
  result: CheckVerdict;
  explored: number;
  /** Indexes into the partition's ops. */
  longestPrefix?: number[];
  unplaced?: number[];
  stateBefore?: string;
  reason?: string;
}

const DEADLINE_CHECK_MASK = (1 << 12) - 1;
const MEMORY_CHECK_MASK = (1 << 14) - 1;
/** How far down the entry list the look-ahead searches for a read-only op's return. */
const LOOKAHEAD_ENTRIES = 256;
/** How many read-only returns the look-ahead tests. */
const LOOKAHEAD_READS = 4;

/** Deterministic 32-bit values for the Zobrist hash (xorshift, fixed seed: runs are reproducible). */
function zobristKeys(count: number): Int32Array {
  const keys = new Int32Array(count);
  let x = 0x2545f491;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[i] = x;
  }
  return keys;
}

/** Maps states to dense integer ids. */
class StateTable<S> {
  readonly states: S[] = [];
  private readonly byValue = new Map<S, number>();
  private readonly byHash = new Map<number, number | number[]>();

  constructor(private readonly hash?: (s: S) => number, private readonly equal?: (a: S, b: S) => boolean) {}

  intern(state: S): number {
    if (!this.hash) {
      let id = this.byValue.get(state);
      if (id === undefined) {
        id = this.states.length;
        this.states.push(state);
        this.byValue.set(state, id);
      }
      return id;
    }
    const equal = this.equal ?? Object.is;
    const h = this.hash(state) | 0;
    const found = this.byHash.get(h);
    if (found === undefined) {
      const id = this.states.length;
      this.states.push(state);
      this.byHash.set(h, id);
      return id;
    }
    if (typeof found === 'number') {
      if (equal(this.states[found] as S, state)) return found;
      const id = this.states.length;
      this.states.push(state);
      this.byHash.set(h, [found, id]);
      return id;
    }
    for (const candidate of found) if (equal(this.states[candidate] as S, state)) return candidate;
    const id = this.states.length;
    this.states.push(state);
    found.push(id);
    return id;
  }
}

/** A search that can run in slices (so several partitions can take turns in one thread). */
export interface PartitionSearch {
  /** Runs up to `budget` more iterations; undefined if still undecided. */
  run(budget: number): SearchResult | undefined;
}

export function createSearch<S, I, O>(model: Model<S, I, O>, ops: PartitionInput<I, O>, limits: SearchLimits): PartitionSearch {
  const count = ops.inputs.length;
  if (count === 0) return { run: () => ({ result: 'ok', explored: 0 }) };

  // Ids: completed ops 0..completed-1 in call order, then ops of unknown outcome from infoBase on.
  const byCall = Array.from({ length: count }, (_, i) => i).sort((a, b) => (ops.calls[a] as number) - (ops.calls[b] as number) || a - b);
  const completedOrder = byCall.filter((i) => (ops.returns[i] as number) !== Infinity);
  const openOrder = byCall.filter((i) => (ops.returns[i] as number) === Infinity);
  const completed = completedOrder.length;
  // Only ops of unknown outcome: leaving them all out is a linearization.
  if (completed === 0) return { run: () => ({ result: 'ok', explored: 0 }) };
  const infoBase = (completed + 31) & ~31;
  const bitCount = infoBase + openOrder.length;
  const wordCount = (bitCount + 31) >>> 5;
  const infoWord = infoBase >>> 5;
  const infoWords = wordCount - infoWord;
  const original = new Int32Array(bitCount).fill(-1); // id -> index into ops
  const inputs: I[] = new Array<I>(bitCount);
  const outputs: O[] = new Array<O>(bitCount);
  completedOrder.forEach((op, id) => { original[id] = op; });
  openOrder.forEach((op, k) => { original[infoBase + k] = op; });
  for (let id = 0; id < bitCount; id++) {
    const op = original[id] as number;
    if (op >= 0) {
      inputs[id] = ops.inputs[op] as I;
      outputs[id] = ops.outputs[op] as O;
    }
  }

  // The entry list. Entry id for the call of op `id` is `id`; its return is `bitCount + id`; HEAD is the sentinel.
  const HEAD = 2 * bitCount;
  const next = new Int32Array(HEAD + 1);
  const prev = new Int32Array(HEAD + 1);
  {
    const entries: number[] = [];
    const times: number[] = [];
    for (let id = 0; id < bitCount; id++) {
      const op = original[id] as number;
      if (op < 0) continue;
      entries.push(id);
      times.push(ops.calls[op] as number);
      if (id < completed) {
        entries.push(bitCount + id);
        times.push(ops.returns[op] as number);
      }
    }
    const order = Array.from({ length: entries.length }, (_, k) => k);
    // By time; at equal times calls before returns, so touching intervals count as concurrent.
    order.sort((a, b) => (times[a] as number) - (times[b] as number) || Number((entries[a] as number) >= bitCount) - Number((entries[b] as number) >= bitCount) || a - b);
    // Between two returns the order of calls is free (they become candidates together): put the ones that
    // must be linearized soonest (earliest return) first, so the search tries the likelier orders first.
    const returnTime = (e: number): number => ops.returns[original[e] as number] as number;
    for (let k = 0; k < order.length; ) {
      let end = k;
      while (end < order.length && (entries[order[end] as number] as number) < bitCount) end++;
      if (end - k > 1) {
        const run = order.slice(k, end).sort((a, b) => returnTime(entries[a] as number) - returnTime(entries[b] as number) || a - b);
        for (let j = 0; j < run.length; j++) order[k + j] = run[j] as number;
      }
      k = end + 1;
    }
    let last = HEAD;
    for (const k of order) {
      const e = entries[k] as number;
      next[last] = e;
      prev[e] = last;
      last = e;
    }
    next[last] = -1;
    prev[HEAD] = -1;
  }

  const step = model.step.bind(model);
  const stateTable = new StateTable<S>(model.hash?.bind(model), model.equal?.bind(model));
  const states = stateTable.states;
  const zobrist = zobristKeys(bitCount);
  const bits = new Int32Array(wordCount);

  // Memo table: open addressing over `slots` (entry offset + 1, 0 = empty) with the hash alongside.
  // Small partitions are common (one per key): start small, grow by doubling.
  const initialBits = Math.min(16, Math.max(8, 32 - Math.clz32(bitCount * 4)));
  let slotMask = (1 << initialBits) - 1;
  let slots = new Int32Array(slotMask + 1);
  let slotHashes = new Int32Array(slotMask + 1);
  let arena = new Int32Array((slotMask + 1) * (4 + infoWords));
  let arenaUsed = 0;
  let explored = 0;

  // The memory bound is on the process's resident set (states live on the JS heap, the memo in typed arrays):
  // checked before each growth of a table, with the growth counted, and every few thousand steps.
  const wouldExceed = (extraWords: number): boolean => process.memoryUsage.rss() + extraWords * 4 > limits.maxMemoryBytes;
  let outOfMemory = false;

  const growSlots = (): void => {
    const newMask = (slotMask << 1) | 1;
    const newSlots = new Int32Array(newMask + 1);
    const newHashes = new Int32Array(newMask + 1);
    for (let s = 0; s <= slotMask; s++) {
      const entry = slots[s] as number;
      if (entry === 0) continue;
      const h = slotHashes[s] as number;
      let t = h & newMask;
      while (newSlots[t] !== 0) t = (t + 1) & newMask;
      newSlots[t] = entry;
      newHashes[t] = h;
    }
    slots = newSlots;
    slotHashes = newHashes;
    slotMask = newMask;
  };

  // Transition cache (open addressing; state -1 marks an empty slot). Capped: past the cap, new transitions
  // are simply not cached.
  const MAX_TRANSITION_MASK = (1 << 22) - 1;
  let transitionMask = slotMask;
  let transitionState = new Int32Array(transitionMask + 1).fill(-1);
  let transitionOp = new Int32Array(transitionMask + 1);
  let transitionNext = new Int32Array(transitionMask + 1);
  let transitionCount = 0;
  const growTransitions = (): void => {
    const oldState = transitionState;
    const oldOp = transitionOp;
    const oldNext = transitionNext;
    transitionMask = (transitionMask << 1) | 1;
    transitionState = new Int32Array(transitionMask + 1).fill(-1);
    transitionOp = new Int32Array(transitionMask + 1);
    transitionNext = new Int32Array(transitionMask + 1);
    for (let k = 0; k < oldState.length; k++) {
      const st = oldState[k] as number;
      if (st === -1) continue;
      let t = (Math.imul(st, 0x9e3779b1) ^ Math.imul((oldOp[k] as number) + 1, 0x85ebca6b)) & transitionMask;
      while (transitionState[t] !== -1) t = (t + 1) & transitionMask;
      transitionState[t] = st;
      transitionOp[t] = oldOp[k] as number;
      transitionNext[t] = oldNext[k] as number;
    }
  };

  // Search state.
  let stateId = stateTable.intern(model.init());
  let hash = 0;
  let lo = 0; // lowest completed id not linearized
  let remaining = completed; // completed ops not yet linearized
  const stackOp = new Int32Array(bitCount);
  const stackState = new Int32Array(bitCount);
  const stackHi = new Int32Array(bitCount + 1); // stackHi[d]: highest completed id linearized in the first d
  stackHi[0] = -1;
  let depth = 0;

  // Best (longest) prefix seen, kept incrementally: only the part of the stack changed since the last copy.
  const best = limits.details ? new Int32Array(bitCount) : new Int32Array(0);
  let bestDepth = -1;
  let bestBlocking = -1;
  let bestState = 0;
  let poppedTo = 0;

  /** Inserts the configuration (bits with `id` set, newState) unless present; returns whether it was new. */
  const memoize = (newState: number, newHash: number, newLo: number, newHi: number): boolean => {
    const loWord = newLo >>> 5;
    let windowLen = 0;
    if (newLo < completed) {
      const hiWord = newHi >= 0 ? newHi >>> 5 : 0;
      windowLen = hiWord >= loWord ? hiWord - loWord + 1 : 1;
    }
    const h = (newHash ^ Math.imul(newState + 1, 0x9e3779b1) ^ Math.imul(loWord + 7, 0x85ebca6b)) | 0;
    let s = h & slotMask;
    for (;;) {
      const entry = slots[s] as number;
      if (entry === 0) break;
      if (slotHashes[s] === h) {
        let off = entry - 1;
        if (arena[off] === newState && arena[off + 1] === loWord && arena[off + 2] === windowLen) {
          off += 3;
          let same = true;
          for (let w = 0; w < windowLen; w++) if (arena[off + w] !== bits[loWord + w]) { same = false; break; }
          if (same) {
            off += windowLen;
            for (let w = 0; w < infoWords; w++) if (arena[off + w] !== bits[infoWord + w]) { same = false; break; }
          }
          if (same) return false;
        }
      }
      s = (s + 1) & slotMask;
    }
    const size = 3 + windowLen + infoWords;
    if (arenaUsed + size > arena.length) {
      const wanted = Math.max(arena.length * 2, arenaUsed + size);
      if (wouldExceed(wanted)) {
        outOfMemory = true;
        return false;
      }
      const grown = new Int32Array(wanted);
      grown.set(arena.subarray(0, arenaUsed));
      arena = grown;
    }
    const off = arenaUsed;
    arena[off] = newState;
    arena[off + 1] = loWord;
    arena[off + 2] = windowLen;
    for (let w = 0; w < windowLen; w++) arena[off + 3 + w] = bits[loWord + w] as number;
    for (let w = 0; w < infoWords; w++) arena[off + 3 + windowLen + w] = bits[infoWord + w] as number;
    arenaUsed += size;
    slots[s] = off + 1;
    slotHashes[s] = h;
    explored++;
    if (explored * 2 > slotMask) {
      if (wouldExceed(4 * (slotMask + 1))) {
        outOfMemory = true;
        return false;
      }
      growSlots();
    }
    return true;
  };

  const recordBest = (blockingReturn: number): void => {
    for (let d = poppedTo; d < depth; d++) best[d] = stackOp[d] as number;
    poppedTo = depth;
    bestDepth = depth;
    bestBlocking = blockingReturn - bitCount;
    bestState = stateId;
  };

  // Read-only ops (reads, failed compares) are tried first, and taken greedily: if one is legal now, taking it
  // now loses nothing (it cannot change the state, and every op that must precede it already has), so when
  // the configuration after it fails, the configuration before it fails too and we backtrack past it.
  const readOnly = new Uint8Array(bitCount);
  if (model.readOnly) {
    for (let id = 0; id < bitCount; id++) if ((original[id] as number) >= 0 && model.readOnly(inputs[id] as I, outputs[id] as O)) readOnly[id] = 1;
  }
  const forced = new Uint8Array(bitCount); // forced[d]: the op at depth d was a greedy read-only step
  // Candidates are tried in three phases: read-only ops (greedy), then other completed ops, then ops of
  // unknown outcome, which never need to be linearized and so are the least likely to be needed now.
  const opPhase = new Uint8Array(bitCount);
  const hasPhase = [false, false, false, false];
  for (let id = 0; id < bitCount; id++) {
    if ((original[id] as number) < 0) continue;
    const phase = readOnly[id] === 1 ? 0 : id < completed ? 1 : 2;
    opPhase[id] = phase;
    hasPhase[phase] = true;
  }
  hasPhase[3] = true;
  const phaseAfter = (phase: number): number => {
    let p = phase + 1;
    while (!hasPhase[p]) p++;
    return p;
  };
  const firstPhase = phaseAfter(-1);
  let phase = firstPhase;

  // Look-ahead (models with canReach): a completed read-only op R not yet linearized must be linearized before
  // its return, so only ops called before that return can be linearized before it. If no sequence of those
  // can make R legal, the configuration is dead. We test the first LOOKAHEAD_READS read-only ops to return,
  // looking at most LOOKAHEAD_ENTRIES entries down the list.
  const canReach = model.canReach?.bind(model);
  const candidateInputs: I[] = [];
  let blockingReturn = -1;
  const blockingReachable = (): boolean => {
    candidateInputs.length = 0;
    const state = states[stateId] as S;
    let e = next[HEAD] as number;
    for (let seen = 0, checked = 0; e >= 0 && seen < LOOKAHEAD_ENTRIES && checked < LOOKAHEAD_READS; seen++) {
      if (e < bitCount) {
        candidateInputs.push(inputs[e] as I);
      } else if (readOnly[e - bitCount] === 1) {
        const reader = e - bitCount;
        checked++;
        if (!(canReach as NonNullable<typeof canReach>)(state, inputs[reader] as I, outputs[reader] as O, candidateInputs)) {
          blockingReturn = e;
          return false;
        }
      }
      e = next[e] as number;
    }
    return true;
  };

  let iterations = 0;
  let entry = next[HEAD] as number;
  let verdict: CheckVerdict | undefined;
  let reason: string | undefined;

  /** Runs at most `budget` iterations; returns undefined when the budget ran out first. */
  const run = (budget: number): CheckVerdict | undefined => {
    const stopAt = iterations + budget;
    for (;;) {
      if ((++iterations & DEADLINE_CHECK_MASK) === 0) {
        if (Date.now() > limits.deadline) {
          reason = 'time budget exhausted';
          return 'unknown';
        }
        if ((iterations & MEMORY_CHECK_MASK) === 0 && wouldExceed(0)) outOfMemory = true;
        if (outOfMemory) {
          reason = `memory bound of ${Math.round(limits.maxMemoryBytes / 2 ** 20)} MiB reached`;
          return 'unknown';
        }
      }
      if (iterations > stopAt) return undefined;
      let backtrack = false;
      if (entry < bitCount) {
        const id = entry;
        entry = next[id] as number;
        if (opPhase[id] !== phase) continue;
        // Transition cache: (state, op) -> next state id, or -1 for illegal. The search tries the same op in
        // the same state from many configurations; this skips the model's step and the state's hashing.
        let t = (Math.imul(stateId, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b)) & transitionMask;
        let newState = -2;
        for (;;) {
          const ts = transitionState[t] as number;
          if (ts === -1) break;
          if (ts === stateId && transitionOp[t] === id) {
            newState = transitionNext[t] as number;
            break;
          }
          t = (t + 1) & transitionMask;
        }
        if (newState === -2) {
          const stepped = step(states[stateId] as S, inputs[id] as I, outputs[id] as O);
          newState = stepped === ILLEGAL ? -1 : stateTable.intern(stepped);
          if (transitionCount * 2 < transitionMask) {
            transitionState[t] = stateId;
            transitionOp[t] = id;
            transitionNext[t] = newState;
            transitionCount++;
          } else if (transitionMask < MAX_TRANSITION_MASK) {
            growTransitions();
          }
        }
        if (newState < 0) continue;
        const word = id >>> 5;
        const mask = 1 << (id & 31);
        bits[word] = (bits[word] as number) | mask;
        const newHash = hash ^ (zobrist[id] as number);
        let newLo = lo;
        if (id === lo) {
          newLo++;
          while (newLo < completed && ((bits[newLo >>> 5] as number) & (1 << (newLo & 31))) !== 0) newLo++;
        }
        const oldHi = stackHi[depth] as number;
        const newHi = id < completed && id > oldHi ? id : oldHi;
        if (memoize(newState, newHash, newLo, newHi)) {
          stackOp[depth] = id;
          stackState[depth] = stateId;
          forced[depth] = phase === 0 ? 1 : 0;
          depth++;
          stackHi[depth] = newHi;
          stateId = newState;
          hash = newHash;
          lo = newLo;
          // Lift the call and its return out of the list.
          const p = prev[id] as number;
          next[p] = entry;
          if (entry >= 0) prev[entry] = p;
          if (id < completed) {
            const r = bitCount + id;
            const rp = prev[r] as number;
            const rn = next[r] as number;
            next[rp] = rn;
            if (rn >= 0) prev[rn] = rp;
            if (--remaining === 0) return 'ok';
          }
          phase = firstPhase;
          entry = next[HEAD] as number;
          if (canReach === undefined || blockingReachable()) continue;
          // The op that must be linearized next can no longer become legal: this configuration fails.
          if (limits.details && depth > bestDepth) recordBest(blockingReturn);
          backtrack = true;
        }
        if (!backtrack) {
          bits[word] = (bits[word] as number) & ~mask;
          if (outOfMemory) {
            reason = `memory bound of ${Math.round(limits.maxMemoryBytes / 2 ** 20)} MiB reached`;
            return 'unknown';
          }
          // A legal read-only op whose successor configuration already failed: this one fails too.
          if (phase !== 0) continue;
          backtrack = true;
        }
      } else if (phaseAfter(phase) < 3) {
        // Nothing more in this phase: the next phase scans the candidates again.
        phase = phaseAfter(phase);
        entry = next[HEAD] as number;
        continue;
      } else {
        // A return of an op not yet linearized: nothing in this configuration works.
        if (limits.details && depth > bestDepth) recordBest(entry);
        backtrack = true;
      }
      if (!backtrack) continue;
      for (;;) {
        if (depth === 0) return 'illegal';
        depth--;
        const id = stackOp[depth] as number;
        stateId = stackState[depth] as number;
        if (depth < poppedTo) poppedTo = depth;
        bits[id >>> 5] = (bits[id >>> 5] as number) & ~(1 << (id & 31));
        hash ^= zobrist[id] as number;
        if (id < completed) {
          if (id < lo) lo = id;
          remaining++;
          // Unlift: the return first (lifted last), then the call.
          const r = bitCount + id;
          next[prev[r] as number] = r;
          const rn = next[r] as number;
          if (rn >= 0) prev[rn] = r;
        }
        next[prev[id] as number] = id;
        const n = next[id] as number;
        if (n >= 0) prev[n] = id;
        if (forced[depth] === 1) continue; // its configuration fails, so does its parent's
        phase = opPhase[id] as number;
        entry = n;
        break;
      }
    }
  };

  return {
    run(budget: number): SearchResult | undefined {
      if (verdict === undefined) {
        verdict = run(budget);
        if (verdict === undefined) return undefined;
      }
      return finish(verdict);
    },
  };

  function finish(verdict: CheckVerdict): SearchResult {
  const result: SearchResult = { result: verdict, explored };
  if (reason) result.reason = reason;
  if (verdict === 'illegal' && limits.details && bestDepth >= 0) {
    result.longestPrefix = Array.from(best.subarray(0, bestDepth), (id) => original[id] as number);
    // The ops pending at that point: rebuild the configuration's list order by replaying nothing — every call
    // whose op is not in the prefix and whose call precedes the blocking return was a candidate.
    const inPrefix = new Uint8Array(bitCount);
    for (let d = 0; d < bestDepth; d++) inPrefix[best[d] as number] = 1;
    const blockingOp = original[bestBlocking] as number;
    const blockingReturn = ops.returns[blockingOp] as number;
    const unplaced = [blockingOp];
    for (let id = 0; id < bitCount; id++) {
      const op = original[id] as number;
      if (op < 0 || inPrefix[id] || id === bestBlocking) continue;
      if ((ops.calls[op] as number) <= blockingReturn) unplaced.push(op);
    }
    result.unplaced = unplaced;
    const state = states[bestState] as S;
    result.stateBefore = model.describeState ? model.describeState(state) : safeDescribe(state);
  }
  return result;
  }
}

/** Checks one partition to the end (or until the deadline or the memory bound). */
export function searchPartition<S, I, O>(model: Model<S, I, O>, ops: PartitionInput<I, O>, limits: SearchLimits): SearchResult {
  return createSearch(model, ops, limits).run(Infinity) as SearchResult;
}

function safeDescribe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

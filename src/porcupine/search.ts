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
import { ILLEGAL, showJson, type CheckVerdict, type Model } from './model.js';

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

/** Shared by all searches (a longer table starts with the same keys), so a small partition does not regenerate it. */
let zobristTable = zobristKeys(1024);
function zobristFor(count: number): Int32Array {
  if (zobristTable.length < count) zobristTable = zobristKeys(Math.max(count, zobristTable.length * 2));
  return zobristTable;
}

/**
 * Tuning knobs, exported for the tests (the property tests force the look-ahead on from the first step, so
 * brute force checks it on small histories too).
 */
export const searchTuning = {
  /**
   * The look-ahead (model.canReach) starts once the search has backtracked lookaheadAfterFailures times plus
   * lookaheadAfterFailuresPerOp per completed op, the latter at most lookaheadAfterFailuresPerOpMax. Most
   * partitions of real histories are searched almost without backtracking, and there the look-ahead (several
   * canReach calls per step) was most of the cost; where the search does branch, it starts after a bounded
   * number of extra steps (the cap keeps that small next to what a big partition explores). It only prunes,
   * so verdicts do not depend on when it starts. 0 and 0: from the first step.
   */
  lookaheadAfterFailures: 32,
  /**
   * The first search of a partition tries ops of unknown outcome last; the second (joining after
   * secondOrderAfter iterations) in call order. The tests swap them, so brute force checks both orders.
   */
  firstUnknownLast: true,
  secondOrderAfter: 1 << 16,
  lookaheadAfterFailuresPerOp: 1,
  lookaheadAfterFailuresPerOpMax: 1024,
};

/** A search that can run in slices (so several partitions can take turns in one thread). */
export interface PartitionSearch {
  /** Runs up to `budget` more iterations; undefined if still undecided. */
  run(budget: number): SearchResult | undefined;
}

/**
 * Sorts ids[from..to) by (times[original[id]], id) in place by insertion, which is linear for the nearly sorted
 * lists we have. Gives up (returns false, leaving a permutation) after `maxShifts` moves, so a badly ordered
 * list costs no more than that before the caller sorts it properly. (Times are passed, not a key function: a
 * closure made per partition would lose its optimized code at every full GC.)
 */
function insertionSort(
  ids: Int32Array,
  from: number,
  to: number,
  original: Int32Array,
  times: readonly number[],
  maxShifts: number,
): boolean {
  let shifts = 0;
  for (let i = from + 1; i < to; i++) {
    const id = ids[i] as number;
    const k = times[original[id] as number] as number;
    let j = i - 1;
    for (; j >= from; j--) {
      const other = ids[j] as number;
      const ko = times[original[other] as number] as number;
      if (ko < k || (ko === k && other < id)) break;
      ids[j + 1] = other;
      if (++shifts > maxShifts) {
        ids[j] = id;
        return false;
      }
    }
    ids[j + 1] = id;
  }
  return true;
}

/** TypedArray.prototype.fill is a call into the runtime: for the short ranges of small partitions a loop is cheaper. */
function fillRange(a: Int32Array, value: number, from: number, to: number): void {
  if (to - from > 256) {
    a.fill(value, from, to);
    return;
  }
  for (let i = from; i < to; i++) a[i] = value;
}

/** Arrays longer than this (elements) are not kept for the next search: a huge partition should not pin its memory. */
const KEEP_ELEMENTS = 1 << 16;
/** Caps the look-ahead countdown: fields stay small integers (a double field would give the class a second shape). */
const COUNTDOWN_CAP = 0x3fffffff;
const MAX_TRANSITION_MASK = (1 << 22) - 1;
const emptyInts = new Int32Array(0);

function int32(a: Int32Array, n: number): Int32Array {
  return a.length >= n ? a : new Int32Array(Math.max(n, Math.min(a.length * 2, KEEP_ELEMENTS)));
}
function uint8(a: Uint8Array, n: number): Uint8Array {
  return a.length >= n ? a : new Uint8Array(Math.max(n, Math.min(a.length * 2, KEEP_ELEMENTS)));
}
/** A kept array, or a small one instead of an oversized one. */
function shrink<T extends Int32Array | Uint8Array>(a: T): T {
  return a.length <= KEEP_ELEMENTS ? a : new (a.constructor as new (n: number) => T)(256);
}

type AnyModel = Model<unknown, unknown, unknown>;

/**
 * One partition's search. Its state lives in fields and its steps are methods, not closures made per search:
 * V8 holds a closure's optimized code only weakly once the closure dies, so with a closure per partition a
 * full GC between checks threw the optimized search away and the next check ran unoptimized (a small check
 * ran several times slower after a GC). Searches are pooled and reused, which also keeps their typed arrays
 * (allocating some twenty per partition, each with an off-heap store, cost more than searching a small one)
 * and keeps the class's shape alive across GCs.
 */
/** Where a state's hash starts probing the state table: mixed, as models' hashes may be sequential or weak in the low bits. */
function stateProbeStart(h: number, mask: number): number {
  return (Math.imul(h, 0x9e3779b1) ^ (h >>> 15)) & mask;
}

/** Where a configuration's hash starts probing the memo table (already mixed). */
function slotProbeStart(h: number, mask: number): number {
  return h & mask;
}

/** An open-addressing table (0 = empty slot) of twice the size, every entry moved to its new probe position. */
function rehash(
  slots: Int32Array,
  hashes: Int32Array,
  oldMask: number,
  probeStart: (h: number, mask: number) => number,
): { slots: Int32Array; hashes: Int32Array; mask: number } {
  const mask = (oldMask << 1) | 1;
  const newSlots = new Int32Array(mask + 1);
  const newHashes = new Int32Array(mask + 1);
  for (let k = 0; k <= oldMask; k++) {
    const slot = slots[k] as number;
    if (slot === 0) continue;
    const h = hashes[k] as number;
    let s = probeStart(h, mask);
    while (newSlots[s] !== 0) s = (s + 1) & mask;
    newSlots[s] = slot;
    newHashes[s] = h;
  }
  return { slots: newSlots, hashes: newHashes, mask };
}

class Search {
  // The partition.
  model: AnyModel = undefined as unknown as AnyModel;
  limits: SearchLimits = undefined as unknown as SearchLimits;
  opCalls: readonly number[] = [];
  opReturns: readonly number[] = [];
  inputs: unknown[] = [];
  outputs: unknown[] = [];
  completed = 0;
  bitCount = 0;
  infoWord = 0;
  infoWords = 0;
  head = 0;
  /** id -> index into the partition's ops (-1: no op). */
  original: Int32Array = new Int32Array(64);
  next: Int32Array = new Int32Array(129);
  prev: Int32Array = new Int32Array(129);
  order: Int32Array = new Int32Array(128);
  zobrist: Int32Array = emptyInts;
  readOnly: Uint8Array = new Uint8Array(64);
  /** forced[d]: the op at depth d was a greedy read-only step. */
  forced: Uint8Array = new Uint8Array(64);
  opPhase: Uint8Array = new Uint8Array(64);
  /** Bit p set: some op is tried in phase p (bit 3, the end, always). */
  phases = 0;
  firstPhase = 0;
  // States, interned to dense ids: primitives in a Map; states with a hash in an open-addressing table of
  // (id + 1, 0 = empty) with the hashes alongside, which spares a Map's allocation and hashing.
  states: unknown[] = [];
  stateCount = 0;
  byValue: Map<unknown, number> | undefined = undefined;
  stateMask = 0;
  stateSlots: Int32Array = new Int32Array(256);
  stateHashes: Int32Array = new Int32Array(256);
  // The memo table and the transition cache.
  bits: Int32Array = new Int32Array(8);
  slotMask = 0;
  slots: Int32Array = new Int32Array(256);
  slotHashes: Int32Array = new Int32Array(256);
  arena: Int32Array = new Int32Array(1024);
  arenaUsed = 0;
  explored = 0;
  outOfMemory = false;
  transitionMask = 0;
  transitionState: Int32Array = new Int32Array(256);
  transitionOp: Int32Array = new Int32Array(256);
  transitionNext: Int32Array = new Int32Array(256);
  transitionCount = 0;
  // Where the search is.
  stateId = 0;
  hash = 0;
  /** Lowest completed id not linearized. */
  lo = 0;
  /** Completed ops not yet linearized. */
  remaining = 0;
  depth = 0;
  stackOp: Int32Array = new Int32Array(64);
  stackState: Int32Array = new Int32Array(64);
  /** stackHi[d]: highest completed id linearized in the first d. */
  stackHi: Int32Array = new Int32Array(65);
  iterations = 0;
  entry = 0;
  phase = 0;
  // Best (longest) prefix seen, kept incrementally: only the part of the stack changed since the last copy.
  best: Int32Array = new Int32Array(64);
  bestDepth = -1;
  bestBlocking = -1;
  bestState = 0;
  poppedTo = 0;
  // Look-ahead.
  lookahead = false;
  /** Backtracks left before the look-ahead starts; -1: it has started, or the model has none. */
  failuresBeforeLookahead = -1;
  candidateInputs: unknown[] = [];
  blockingReturn = -1;
  reason = '';

  /** Sets up the search of a partition with at least one completed op. */
  reset(
    model: AnyModel,
    ops: PartitionInput<unknown, unknown>,
    limits: SearchLimits,
    completed: number,
    sortedByCall: boolean,
    unknownLast: boolean,
  ): void {
    const count = ops.inputs.length;
    const opCalls = ops.calls;
    const opReturns = ops.returns;
    this.model = model;
    this.limits = limits;
    this.opCalls = opCalls;
    this.opReturns = opReturns;
    // Ids: completed ops 0..completed-1 in call order, then ops of unknown outcome from infoBase on.
    const infoBase = (completed + 31) & ~31;
    const bitCount = infoBase + (count - completed);
    const wordCount = (bitCount + 31) >>> 5;
    const head = 2 * bitCount;
    this.completed = completed;
    this.bitCount = bitCount;
    this.infoWord = infoBase >>> 5;
    this.infoWords = wordCount - (infoBase >>> 5);
    this.head = head;

    const original = (this.original = int32(this.original, bitCount));
    fillRange(original, -1, 0, bitCount);
    {
      // Histories usually come in call order: sort only when they do not.
      const byCall = sortedByCall
        ? undefined
        : Array.from({ length: count }, (_, i) => i).sort(
            (a, b) => (opCalls[a] as number) - (opCalls[b] as number) || a - b,
          );
      let nextCompleted = 0;
      let nextOpen = infoBase;
      for (let k = 0; k < count; k++) {
        const op = byCall ? (byCall[k] as number) : k;
        original[(opReturns[op] as number) !== Infinity ? nextCompleted++ : nextOpen++] = op;
      }
    }
    // Kept from search to search, like the typed arrays (release empties them).
    const inputs = this.inputs;
    const outputs = this.outputs;
    while (inputs.length < bitCount) {
      inputs.push(undefined);
      outputs.push(undefined);
    }
    for (let id = 0; id < bitCount; id++) {
      const op = original[id] as number;
      if (op >= 0) {
        inputs[id] = ops.inputs[op];
        outputs[id] = ops.outputs[op];
      }
    }

    // The entry list. Entry id for the call of op `id` is `id`; its return is `bitCount + id`; head is the
    // sentinel. Entries by time; at equal times calls before returns, so touching intervals count as
    // concurrent. Between two returns the order of calls is free (they become candidates together): put the
    // ones that must be linearized soonest (earliest return; unknown outcome last) first, so the search tries
    // the likelier orders first.
    const next = (this.next = int32(this.next, head + 1));
    const prev = (this.prev = int32(this.prev, head + 1));
    {
      const order = (this.order = int32(this.order, count + completed));
      // Returns, by (return time, id): insertion sort for the usual few inversions, a full sort beyond that.
      // order[0..count): calls; order[count..count + completed): returns.
      const returns = count;
      for (let id = 0; id < completed; id++) order[returns + id] = id;
      if (!insertionSort(order, returns, returns + completed, original, opReturns, completed * 8)) {
        const time = (id: number): number => opReturns[original[id] as number] as number;
        order.set(
          Array.from(order.subarray(returns, returns + completed)).sort((a, b) => time(a) - time(b) || a - b),
          returns,
        );
      }
      // Calls, by (call time, id): a merge of the completed ids and the unknown-outcome ids, each in call order.
      for (let k = 0, c = 0, u = infoBase; k < count; k++) {
        order[k] =
          c < completed &&
          (u >= bitCount || (opCalls[original[c] as number] as number) <= (opCalls[original[u] as number] as number))
            ? c++
            : u++;
      }
      let last = head;
      let r = 0;
      for (let k = 0; k < count || r < completed;) {
        // The run of calls up to the next return, by (return time, id); then that return.
        const until =
          r < completed ? (opReturns[original[order[returns + r] as number] as number] as number) : Infinity;
        let end = k;
        while (end < count && (opCalls[original[order[end] as number] as number] as number) <= until) end++;
        if (end - k > 1 && unknownLast) insertionSort(order, k, end, original, opReturns, Infinity);
        for (; k < end; k++) {
          const e = order[k] as number;
          next[last] = e;
          prev[e] = last;
          last = e;
        }
        if (r < completed) {
          const e = bitCount + (order[returns + r++] as number);
          next[last] = e;
          prev[e] = last;
          last = e;
        }
      }
      next[last] = -1;
      prev[head] = -1;
    }

    // Read-only ops (reads, failed compares) are tried first, and taken greedily: if one is legal now, taking it
    // now loses nothing (it cannot change the state, and every op that must precede it already has), so when
    // the configuration after it fails, the configuration before it fails too and we backtrack past it.
    const readOnly = (this.readOnly = uint8(this.readOnly, bitCount));
    for (let id = 0; id < bitCount; id++) readOnly[id] = 0;
    if (model.readOnly) {
      for (let id = 0; id < bitCount; id++)
        if ((original[id] as number) >= 0 && model.readOnly(inputs[id], outputs[id])) readOnly[id] = 1;
    }
    this.forced = uint8(this.forced, bitCount);
    // Candidates are tried in three phases: read-only ops (greedy), then other completed ops, then ops of
    // unknown outcome, which never need to be linearized and so are the least likely to be needed now. With
    // unknownLast false (the second search of a hard partition, see createSearch), ops of unknown outcome are
    // tried with the others, in call order, as Porcupine does.
    const opPhase = (this.opPhase = uint8(this.opPhase, bitCount));
    let phases = 1 << 3;
    for (let id = 0; id < bitCount; id++) {
      if ((original[id] as number) < 0) continue;
      const phase = readOnly[id] === 1 ? 0 : id < completed || !unknownLast ? 1 : 2;
      opPhase[id] = phase;
      phases |= 1 << phase;
    }
    this.phases = phases;
    this.firstPhase = this.phaseAfter(-1);
    this.phase = this.firstPhase;

    this.stateCount = 0;
    this.byValue = model.hash ? undefined : new Map();
    this.zobrist = zobristFor(bitCount);
    this.bits = int32(this.bits, wordCount);
    fillRange(this.bits, 0, 0, wordCount);

    // Memo table: open addressing over `slots` (entry offset + 1, 0 = empty) with the hash alongside.
    // Small partitions are common (one per key): start small, grow by doubling. (Not smaller than this: a
    // doubling allocates, which costs more than clearing a few hundred slots.)
    const initialBits = Math.min(16, Math.max(8, 32 - Math.clz32(bitCount * 4)));
    this.slotMask = (1 << initialBits) - 1;
    this.slots = int32(this.slots, this.slotMask + 1);
    fillRange(this.slots, 0, 0, this.slotMask + 1);
    this.slotHashes = int32(this.slotHashes, this.slotMask + 1);
    this.arena = int32(this.arena, (this.slotMask + 1) * (4 + this.infoWords));
    this.arenaUsed = 0;
    this.explored = 0;
    this.outOfMemory = false;
    // Transition cache (open addressing; state -1 marks an empty slot).
    this.transitionMask = this.slotMask;
    this.transitionState = int32(this.transitionState, this.transitionMask + 1);
    fillRange(this.transitionState, -1, 0, this.transitionMask + 1);
    this.transitionOp = int32(this.transitionOp, this.transitionMask + 1);
    this.transitionNext = int32(this.transitionNext, this.transitionMask + 1);
    this.transitionCount = 0;
    if (model.hash) {
      this.stateMask = this.slotMask;
      this.stateSlots = int32(this.stateSlots, this.stateMask + 1);
      this.stateHashes = int32(this.stateHashes, this.stateMask + 1);
      fillRange(this.stateSlots, 0, 0, this.stateMask + 1);
    }

    this.stateId = this.intern(model.init());
    this.hash = 0;
    this.lo = 0;
    this.remaining = completed;
    this.depth = 0;
    this.stackOp = int32(this.stackOp, bitCount);
    this.stackState = int32(this.stackState, bitCount);
    this.stackHi = int32(this.stackHi, bitCount + 1);
    this.stackHi[0] = -1;
    this.iterations = 0;
    this.entry = next[head] as number;
    this.best = int32(this.best, bitCount);
    this.bestDepth = -1;
    this.bestBlocking = -1;
    this.bestState = 0;
    this.poppedTo = 0;
    // See searchTuning.lookaheadAfterFailures.
    const after =
      searchTuning.lookaheadAfterFailures +
      Math.min(completed * searchTuning.lookaheadAfterFailuresPerOp, searchTuning.lookaheadAfterFailuresPerOpMax);
    this.lookahead = model.canReach !== undefined && after <= 0;
    this.failuresBeforeLookahead =
      model.canReach === undefined || after <= 0 ? -1 : Math.min(COUNTDOWN_CAP, Math.ceil(after));
    this.candidateInputs = [];
    this.blockingReturn = -1;
    this.reason = '';
  }

  /** Drops the references to the partition (so a pooled search does not keep it alive) and oversized arrays. */
  release(): void {
    this.model = undefined as unknown as AnyModel;
    this.limits = undefined as unknown as SearchLimits;
    this.opCalls = [];
    this.opReturns = [];
    // Emptied, not dropped: kept arrays spare the next search their growth.
    const inputs = this.inputs;
    const outputs = this.outputs;
    for (let id = 0; id < this.bitCount; id++) {
      inputs[id] = undefined;
      outputs[id] = undefined;
    }
    const states = this.states;
    for (let id = 0; id < this.stateCount; id++) states[id] = undefined;
    if (inputs.length > KEEP_ELEMENTS) {
      this.inputs = [];
      this.outputs = [];
    }
    if (states.length > KEEP_ELEMENTS) this.states = [];
    this.byValue = undefined;
    this.stateSlots = shrink(this.stateSlots);
    this.stateHashes = shrink(this.stateHashes);
    this.candidateInputs = [];
    this.original = shrink(this.original);
    this.next = shrink(this.next);
    this.prev = shrink(this.prev);
    this.order = shrink(this.order);
    this.readOnly = shrink(this.readOnly);
    this.forced = shrink(this.forced);
    this.opPhase = shrink(this.opPhase);
    this.bits = shrink(this.bits);
    this.slots = shrink(this.slots);
    this.slotHashes = shrink(this.slotHashes);
    this.arena = shrink(this.arena);
    this.transitionState = shrink(this.transitionState);
    this.transitionOp = shrink(this.transitionOp);
    this.transitionNext = shrink(this.transitionNext);
    this.stackOp = shrink(this.stackOp);
    this.stackState = shrink(this.stackState);
    this.stackHi = shrink(this.stackHi);
    this.best = shrink(this.best);
  }

  phaseAfter(phase: number): number {
    let p = phase + 1;
    while (((this.phases >>> p) & 1) === 0) p++;
    return p;
  }

  intern(state: unknown): number {
    const states = this.states;
    const byValue = this.byValue;
    if (byValue !== undefined) {
      let id = byValue.get(state);
      if (id === undefined) {
        id = this.addState(state);
        byValue.set(state, id);
      }
      return id;
    }
    const model = this.model;
    const h = (model.hash as (s: unknown) => number).call(model, state) | 0;
    const slots = this.stateSlots;
    const hashes = this.stateHashes;
    const mask = this.stateMask;
    let s = stateProbeStart(h, mask);
    for (;;) {
      const slot = slots[s] as number;
      if (slot === 0) break;
      if (hashes[s] === h && this.sameState(states[slot - 1], state)) return slot - 1;
      s = (s + 1) & mask;
    }
    const id = this.addState(state);
    slots[s] = id + 1;
    hashes[s] = h;
    if (id * 2 > mask) this.growStates();
    return id;
  }

  addState(state: unknown): number {
    const id = this.stateCount++;
    if (id < this.states.length) this.states[id] = state;
    else this.states.push(state);
    return id;
  }

  growStates(): void {
    const grown = rehash(this.stateSlots, this.stateHashes, this.stateMask, stateProbeStart);
    this.stateMask = grown.mask;
    this.stateSlots = grown.slots;
    this.stateHashes = grown.hashes;
  }

  sameState(a: unknown, b: unknown): boolean {
    const model = this.model;
    return model.equal ? model.equal(a, b) : Object.is(a, b);
  }

  /** The memory bound is on the process's resident set (states live on the JS heap, the memo in typed arrays). */
  wouldExceed(extraWords: number): boolean {
    return process.memoryUsage.rss() + extraWords * 4 > this.limits.maxMemoryBytes;
  }

  growSlots(): void {
    const grown = rehash(this.slots, this.slotHashes, this.slotMask, slotProbeStart);
    this.slots = grown.slots;
    this.slotHashes = grown.hashes;
    this.slotMask = grown.mask;
  }

  growTransitions(): void {
    const oldState = this.transitionState;
    const oldOp = this.transitionOp;
    const oldNext = this.transitionNext;
    const oldMask = this.transitionMask;
    const mask = (oldMask << 1) | 1;
    const transitionState = new Int32Array(mask + 1).fill(-1);
    const transitionOp = new Int32Array(mask + 1);
    const transitionNext = new Int32Array(mask + 1);
    for (let k = 0; k <= oldMask; k++) {
      const st = oldState[k] as number;
      if (st === -1) continue;
      let t = (Math.imul(st, 0x9e3779b1) ^ Math.imul((oldOp[k] as number) + 1, 0x85ebca6b)) & mask;
      while (transitionState[t] !== -1) t = (t + 1) & mask;
      transitionState[t] = st;
      transitionOp[t] = oldOp[k] as number;
      transitionNext[t] = oldNext[k] as number;
    }
    this.transitionMask = mask;
    this.transitionState = transitionState;
    this.transitionOp = transitionOp;
    this.transitionNext = transitionNext;
  }

  /** Inserts the configuration (the current bits, newState) unless present; returns whether it was new. */
  memoize(newState: number, newHash: number, newLo: number, newHi: number): boolean {
    const bits = this.bits;
    const infoWord = this.infoWord;
    const infoWords = this.infoWords;
    const loWord = newLo >>> 5;
    let windowLen = 0;
    if (newLo < this.completed) {
      const hiWord = newHi >= 0 ? newHi >>> 5 : 0;
      windowLen = hiWord >= loWord ? hiWord - loWord + 1 : 1;
    }
    const h = (newHash ^ Math.imul(newState + 1, 0x9e3779b1) ^ Math.imul(loWord + 7, 0x85ebca6b)) | 0;
    const slots = this.slots;
    const slotHashes = this.slotHashes;
    const slotMask = this.slotMask;
    let arena = this.arena;
    let s = h & slotMask;
    for (;;) {
      const entry = slots[s] as number;
      if (entry === 0) break;
      if (slotHashes[s] === h) {
        let off = entry - 1;
        if (arena[off] === newState && arena[off + 1] === loWord && arena[off + 2] === windowLen) {
          off += 3;
          let same = true;
          for (let w = 0; w < windowLen; w++)
            if (arena[off + w] !== bits[loWord + w]) {
              same = false;
              break;
            }
          if (same) {
            off += windowLen;
            for (let w = 0; w < infoWords; w++)
              if (arena[off + w] !== bits[infoWord + w]) {
                same = false;
                break;
              }
          }
          if (same) return false;
        }
      }
      s = (s + 1) & slotMask;
    }
    const size = 3 + windowLen + infoWords;
    const arenaUsed = this.arenaUsed;
    if (arenaUsed + size > arena.length) {
      const wanted = Math.max(arena.length * 2, arenaUsed + size);
      if (this.wouldExceed(wanted)) {
        this.outOfMemory = true;
        return false;
      }
      const grown = new Int32Array(wanted);
      grown.set(arena.subarray(0, arenaUsed));
      this.arena = arena = grown;
    }
    const off = arenaUsed;
    arena[off] = newState;
    arena[off + 1] = loWord;
    arena[off + 2] = windowLen;
    for (let w = 0; w < windowLen; w++) arena[off + 3 + w] = bits[loWord + w] as number;
    for (let w = 0; w < infoWords; w++) arena[off + 3 + windowLen + w] = bits[infoWord + w] as number;
    this.arenaUsed = arenaUsed + size;
    slots[s] = off + 1;
    slotHashes[s] = h;
    const explored = ++this.explored;
    if (explored * 2 > slotMask) {
      if (this.wouldExceed(4 * (slotMask + 1))) {
        this.outOfMemory = true;
        return false;
      }
      this.growSlots();
    }
    return true;
  }

  recordBest(blockingReturn: number): void {
    const depth = this.depth;
    for (let d = this.poppedTo; d < depth; d++) this.best[d] = this.stackOp[d] as number;
    this.poppedTo = depth;
    this.bestDepth = depth;
    this.bestBlocking = blockingReturn - this.bitCount;
    this.bestState = this.stateId;
  }

  /**
   * Look-ahead (models with canReach): a completed read-only op R not yet linearized must be linearized before
   * its return, so only ops called before that return can be linearized before it. If no sequence of those
   * can make R legal, the configuration is dead. We test the first LOOKAHEAD_READS read-only ops to return,
   * looking at most LOOKAHEAD_ENTRIES entries down the list.
   */
  blockingReachable(): boolean {
    const model = this.model;
    // A model is a plain record of functions that never use `this`; a local keeps the hot loop monomorphic.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const canReach = model.canReach as NonNullable<AnyModel['canReach']>;
    const next = this.next;
    const bitCount = this.bitCount;
    const inputs = this.inputs;
    const candidateInputs = this.candidateInputs;
    candidateInputs.length = 0;
    const state = this.states[this.stateId];
    let e = next[this.head] as number;
    for (let seen = 0, checked = 0; e >= 0 && seen < LOOKAHEAD_ENTRIES && checked < LOOKAHEAD_READS; seen++) {
      if (e < bitCount) {
        candidateInputs.push(inputs[e]);
      } else if (this.readOnly[e - bitCount] === 1) {
        const reader = e - bitCount;
        checked++;
        if (!canReach.call(model, state, inputs[reader], this.outputs[reader], candidateInputs)) {
          this.blockingReturn = e;
          return false;
        }
      }
      e = next[e] as number;
    }
    return true;
  }

  /**
   * Runs at most `budget` iterations; returns undefined when the budget ran out first. The hot fields live in
   * locals while it runs, and are stored back before any method that reads them and on the way out.
   */
  run(budget: number): CheckVerdict | undefined {
    const model = this.model;
    const limits = this.limits;
    const next = this.next;
    const prev = this.prev;
    const bits = this.bits;
    const zobrist = this.zobrist;
    const opPhase = this.opPhase;
    const forced = this.forced;
    const stackOp = this.stackOp;
    const stackState = this.stackState;
    const stackHi = this.stackHi;
    const states = this.states;
    const inputs = this.inputs;
    const outputs = this.outputs;
    const bitCount = this.bitCount;
    const completed = this.completed;
    const head = this.head;
    const firstPhase = this.firstPhase;
    const details = limits.details;
    let iterations = this.iterations;
    let entry = this.entry;
    let phase = this.phase;
    let depth = this.depth;
    let stateId = this.stateId;
    let hash = this.hash;
    let lo = this.lo;
    let transitionMask = this.transitionMask;
    let transitionState = this.transitionState;
    let transitionOp = this.transitionOp;
    let transitionNext = this.transitionNext;
    const stopAt = iterations + budget;
    let verdict: CheckVerdict | undefined;
    for (;;) {
      if ((++iterations & DEADLINE_CHECK_MASK) === 0) {
        if (Date.now() > limits.deadline) {
          this.reason = 'time budget exhausted';
          verdict = 'unknown';
          break;
        }
        if ((iterations & MEMORY_CHECK_MASK) === 0 && this.wouldExceed(0)) this.outOfMemory = true;
        if (this.outOfMemory) {
          this.reason = `memory bound of ${Math.round(limits.maxMemoryBytes / 2 ** 20)} MiB reached`;
          verdict = 'unknown';
          break;
        }
      }
      if (iterations > stopAt) break;
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
          const current = states[stateId];
          const stepped = model.step(current, inputs[id], outputs[id]);
          // An unchanged state (a read) needs no interning.
          newState = stepped === ILLEGAL ? -1 : stepped === current ? stateId : this.intern(stepped);
          if (this.transitionCount * 2 < transitionMask) {
            transitionState[t] = stateId;
            transitionOp[t] = id;
            transitionNext[t] = newState;
            this.transitionCount++;
          } else if (transitionMask < MAX_TRANSITION_MASK) {
            // Past the cap, new transitions are simply not cached.
            this.growTransitions();
            transitionMask = this.transitionMask;
            transitionState = this.transitionState;
            transitionOp = this.transitionOp;
            transitionNext = this.transitionNext;
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
        if (this.memoize(newState, newHash, newLo, newHi)) {
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
            if (--this.remaining === 0) {
              verdict = 'ok';
              break;
            }
          }
          phase = firstPhase;
          entry = next[head] as number;
          if (!this.lookahead) continue;
          this.stateId = stateId;
          if (this.blockingReachable()) continue;
          // The op that must be linearized next can no longer become legal: this configuration fails.
          if (details && depth > this.bestDepth) {
            this.depth = depth;
            this.recordBest(this.blockingReturn);
          }
          backtrack = true;
        }
        if (!backtrack) {
          bits[word] = bits[word] & ~mask;
          if (this.outOfMemory) {
            this.reason = `memory bound of ${Math.round(limits.maxMemoryBytes / 2 ** 20)} MiB reached`;
            verdict = 'unknown';
            break;
          }
          // A legal read-only op whose successor configuration already failed: this one fails too.
          if (phase !== 0) continue;
          backtrack = true;
        }
      } else if (this.phaseAfter(phase) < 3) {
        // Nothing more in this phase: the next phase scans the candidates again.
        phase = this.phaseAfter(phase);
        entry = next[head] as number;
        continue;
      } else {
        // A return of an op not yet linearized: nothing in this configuration works.
        if (details && depth > this.bestDepth) {
          this.depth = depth;
          this.stateId = stateId;
          this.recordBest(entry);
        }
        backtrack = true;
      }
      if (!backtrack) continue;
      if (this.failuresBeforeLookahead > 0 && --this.failuresBeforeLookahead === 0) {
        this.lookahead = true;
        this.failuresBeforeLookahead = -1;
      }
      let exhausted = false;
      for (;;) {
        if (depth === 0) {
          exhausted = true;
          break;
        }
        depth--;
        const id = stackOp[depth] as number;
        stateId = stackState[depth] as number;
        if (depth < this.poppedTo) this.poppedTo = depth;
        bits[id >>> 5] = (bits[id >>> 5] as number) & ~(1 << (id & 31));
        hash ^= zobrist[id] as number;
        if (id < completed) {
          if (id < lo) lo = id;
          this.remaining++;
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
      if (exhausted) {
        verdict = 'illegal';
        break;
      }
    }
    this.iterations = iterations;
    this.entry = entry;
    this.phase = phase;
    this.depth = depth;
    this.stateId = stateId;
    this.hash = hash;
    this.lo = lo;
    return verdict;
  }

  finish(verdict: CheckVerdict, ops: PartitionInput<unknown, unknown>): SearchResult {
    const result: SearchResult = { result: verdict, explored: this.explored };
    if (this.reason) result.reason = this.reason;
    const bestDepth = this.bestDepth;
    if (verdict === 'illegal' && this.limits.details && bestDepth >= 0) {
      const original = this.original;
      const best = this.best;
      const bitCount = this.bitCount;
      result.longestPrefix = Array.from(best.subarray(0, bestDepth), (id) => original[id] as number);
      // The ops pending at that point: rebuild the configuration's list order by replaying nothing — every call
      // whose op is not in the prefix and whose call precedes the blocking return was a candidate.
      const inPrefix = new Uint8Array(bitCount);
      for (let d = 0; d < bestDepth; d++) inPrefix[best[d] as number] = 1;
      const blockingOp = original[this.bestBlocking] as number;
      const blockingReturn = ops.returns[blockingOp] as number;
      const unplaced = [blockingOp];
      for (let id = 0; id < bitCount; id++) {
        const op = original[id] as number;
        if (op < 0 || inPrefix[id] || id === this.bestBlocking) continue;
        if ((ops.calls[op] as number) <= blockingReturn) unplaced.push(op);
      }
      result.unplaced = unplaced;
      const state = this.states[this.bestState];
      const model = this.model;
      result.stateBefore = model.describeState ? model.describeState(state) : safeDescribe(state);
    }
    return result;
  }
}

/** Finished searches, for reuse (a few: several are alive at once only when partitions take turns). */
const searchPool: Search[] = [];

/** For a partition with nothing to search: no op, or only ops of unknown outcome. */
const nothingToSearch: PartitionSearch = { run: () => ({ result: 'ok', explored: 0 }) };

/**
 * A search that can run in slices (so several partitions can take turns in one thread). The search goes back
 * to the pool once it has a verdict.
 */
export function createSearch<S, I, O>(
  model: Model<S, I, O>,
  ops: PartitionInput<I, O>,
  limits: SearchLimits,
): PartitionSearch {
  const count = ops.inputs.length;
  let completed = 0;
  let sortedByCall = true;
  for (let i = 0; i < count; i++) {
    if ((ops.returns[i] as number) !== Infinity) completed++;
    if (i > 0 && (ops.calls[i] as number) < (ops.calls[i - 1] as number)) sortedByCall = false;
  }
  // No op, or only ops of unknown outcome: leaving them all out is a linearization.
  if (completed === 0) return nothingToSearch;
  const input = ops as PartitionInput<unknown, unknown>;
  const impossible = model.values ? impossibleOp(model, input) : undefined;
  if (impossible) return { run: () => impossible };
  let hasUnknown = false;
  for (let i = 0; i < count && !hasUnknown; i++) hasUnknown = (ops.returns[i] as number) === Infinity;
  // Two orders, taking turns on a hard partition: ours tries ops of unknown outcome last (they need never be
  // linearized), Porcupine's tries them in call order with the rest. Each wins on some histories; the second
  // search starts only once the first has used its first slice, so easy partitions pay nothing.
  const unknownLast = searchTuning.firstUnknownLast;
  const after = searchTuning.secondOrderAfter;
  const first = startSearch(model, input, limits, completed, sortedByCall, unknownLast);
  let second: ((budget: number) => SearchResult | undefined) | undefined;
  let spent = 0;
  return {
    run(budget: number): SearchResult | undefined {
      if (!second) {
        const done = first(budget);
        spent += budget;
        if (done || !hasUnknown || spent < after) return done;
        second = startSearch(model, input, limits, completed, sortedByCall, !unknownLast);
        return undefined;
      }
      const half = budget === Infinity ? Infinity : Math.max(1, Math.floor(budget / 2));
      return first(half) ?? second(half);
    },
  };
}

/** One pooled search; the handle repeats its result once it has one. */
function startSearch(
  model: AnyModel,
  input: PartitionInput<unknown, unknown>,
  limits: SearchLimits,
  completed: number,
  sortedByCall: boolean,
  unknownLast: boolean,
): (budget: number) => SearchResult | undefined {
  const search = searchPool.pop() ?? new Search();
  search.reset(model, input, limits, completed, sortedByCall, unknownLast);
  // The handle is a closure, but a small one, run a few times per partition: after a full GC it runs
  // unoptimized, which costs little. (A class instead would die with its check, and with no live instance of
  // its shape left, a full GC collects the shape and deoptimizes createSearch, which allocates it.)
  let finished: SearchResult | undefined;
  return (budget: number): SearchResult | undefined => {
    if (finished) return finished;
    const verdict = search.run(budget);
    if (verdict === undefined) return undefined;
    finished = search.finish(verdict, input);
    // Back to the pool only now: nothing reads the search after this, and the handle only repeats the result.
    search.release();
    if (searchPool.length < 2) searchPool.push(search);
    return finished;
  };
}

/**
 * The linear pre-pass (Model.values): the completed op that returned first among those needing a value that is
 * not the initial one and that no other op invoked before their return could have written, as an illegal result.
 */
function impossibleOp(model: AnyModel, ops: PartitionInput<unknown, unknown>): SearchResult | undefined {
  const values = model.values as NonNullable<AnyModel['values']>;
  const count = ops.inputs.length;
  // The two earliest-called writers of each value (the earliest may be the op needing it).
  const first = new Map<unknown, number>();
  const second = new Map<unknown, number>();
  for (let i = 0; i < count; i++) {
    const v = values.written(ops.inputs[i]);
    if (v === undefined) continue;
    const a = first.get(v);
    if (a === undefined || (ops.calls[i] as number) < (ops.calls[a] as number)) {
      if (a !== undefined) second.set(v, a);
      first.set(v, i);
    } else {
      const b = second.get(v);
      if (b === undefined || (ops.calls[i] as number) < (ops.calls[b] as number)) second.set(v, i);
    }
  }
  let worst = -1;
  let needed: unknown;
  for (let i = 0; i < count; i++) {
    const ret = ops.returns[i] as number;
    if (ret === Infinity) continue;
    const v = values.required(ops.inputs[i], ops.outputs[i]);
    if (v === undefined || v === values.initial) continue;
    const a = first.get(v);
    const writer = a === i ? second.get(v) : a;
    // At equal times calls come before returns (touching intervals overlap), so a writer called at `ret` counts.
    if (writer !== undefined && (ops.calls[writer] as number) <= ret) continue;
    if (worst < 0 || ret < (ops.returns[worst] as number)) {
      worst = i;
      needed = v;
    }
  }
  if (worst < 0) return undefined;
  const shown = model.describeOperation ? model.describeOperation(ops.inputs[worst], ops.outputs[worst]) : 'an op';
  return {
    result: 'illegal',
    explored: 0,
    longestPrefix: [],
    unplaced: [worst],
    stateBefore: model.describeState ? model.describeState(model.init()) : safeDescribe(model.init()),
    reason: `${shown} needs ${showJson(needed)}, which no op invoked before it returned could have written`,
  };
}

/** Checks one partition to the end (or until the deadline or the memory bound), in growing slices. */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: PartitionInput<I, O>,
  limits: SearchLimits,
): SearchResult {
  const search = createSearch(model, ops, limits);
  for (let slice = 1 << 16; ; slice = Math.min(slice * 2, 1 << 30)) {
    const done = search.run(slice);
    if (done) return done;
  }
}

function safeDescribe(value: unknown): string {
  try {
    return showJson(value);
  } catch {
    return String(value);
  }
}

// The key-value store of Porcupine's kv corpus: get returns the whole string, put replaces it, append
// concatenates. Every key starts as the empty string.
import { ILLEGAL, type Illegal, type Model } from '../model.js';

export interface KvInput {
  f: 'get' | 'put' | 'append';
  key: string;
  /** For put and append. */
  value?: string;
}

/** The string a get returned; undefined when the outcome is unknown (and for put/append, whose output says nothing). */
export type KvOutput = string | undefined;

function describeKvOp(input: KvInput, output: KvOutput): string {
  if (input.f === 'get')
    return `get(${JSON.stringify(input.key)}) -> ${output === undefined ? '?' : JSON.stringify(output)}`;
  return `${input.f}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value ?? '')})`;
}

/**
 * The state of one key: a node in a trie of the values appended since the empty string (a put of v is the
 * append of v to the empty string). Nodes are created once per (node, value), so a step costs O(1) and states
 * compare by identity, without hashing long strings. Two paths spelling the same text (e.g. "ab"+"c" and
 * "a"+"bc") give distinct nodes: the memo merges less, the verdict is unchanged.
 */
export interface KvState {
  readonly parent: KvState | undefined;
  readonly root: KvState;
  /** Unique within the trie (the root is 0): the state's hash, so the checker interns it without a Map. */
  readonly id: number;
  /** In the root: how many nodes the trie has. */
  size: number;
  /** The text appended to the parent's. */
  readonly value: string;
  readonly length: number;
  /** Materialised lazily. */
  text: string | undefined;
  /** Children as a linked list: most nodes have one or two, and a Map each would dominate memory. */
  firstChild: KvState | undefined;
  nextSibling: KvState | undefined;
  /** The last string tested with isPrefixOf, and the answer (the search asks about the same gets repeatedly). */
  testedAgainst: string | undefined;
  testedResult: boolean;
}

/**
 * Every node, the root too, comes from this one literal: one shape, so the code that reads nodes stays
 * monomorphic. (The root used to get its `root` field added afterwards, a second shape that only per-check
 * objects had: a full GC between checks collected it, and V8 threw away the optimized code that tested for it.)
 */
function kvNode(
  parent: KvState | undefined,
  root: KvState | undefined,
  id: number,
  value: string,
  length: number,
  text: string | undefined,
  nextSibling: KvState | undefined,
): KvState {
  return {
    parent,
    root,
    id,
    size: 1,
    value,
    length,
    text,
    firstChild: undefined,
    nextSibling,
    testedAgainst: undefined,
    testedResult: false,
  } as unknown as KvState;
}

function kvRoot(): KvState {
  const root = kvNode(undefined, undefined, 0, '', 0, '', undefined);
  (root as { root: KvState }).root = root;
  return root;
}

function kvAppend(state: KvState, value: string): KvState {
  if (value === '') return state;
  for (let child = state.firstChild; child; child = child.nextSibling) if (child.value === value) return child;
  const root = state.root;
  const child = kvNode(state, root, root.size++, value, state.length + value.length, undefined, state.firstChild);
  state.firstChild = child;
  return child;
}

/** The string a key holds in this state. */
export function kvText(state: KvState): string {
  if (state.text !== undefined) return state.text;
  const chain: KvState[] = [];
  let node: KvState | undefined = state;
  while (node && node.text === undefined) {
    chain.push(node);
    node = node.parent;
  }
  let text = node?.text ?? '';
  for (let i = chain.length - 1; i >= 0; i--) {
    const n = chain[i] as KvState;
    text += n.value;
    n.text = text;
  }
  return text;
}

/** Is the state's text a prefix of `text`? Incremental along the trie: O(|value|) when the parent was asked last. */
function isPrefixOf(state: KvState, text: string): boolean {
  if (state.length > text.length) return false;
  const parent = state.parent;
  if (!parent) return true;
  if (state.testedAgainst === text) return state.testedResult;
  const result = isPrefixOf(parent, text) && text.startsWith(state.value, parent.length);
  state.testedAgainst = text;
  state.testedResult = result;
  return result;
}

/**
 * Appends only extend the string and a put restarts it from its value, so what a get returns must be the
 * current string (or a candidate put's value) followed by values of candidate appends.
 */
function kvCanReach(state: KvState, _input: KvInput, output: KvOutput, candidates: readonly KvInput[]): boolean {
  if (output === undefined) return true;
  if (isPrefixOf(state, output) && tileable(output, state.length, candidates)) return true;
  for (const c of candidates)
    if (c.f === 'put' && output.startsWith(c.value ?? '') && tileable(output, (c.value ?? '').length, candidates))
      return true;
  return false;
}

/** Can text[from..] be written as a concatenation of candidate append values (each any number of times: a relaxation)? */
let reachedBuffer = new Uint8Array(256);
const tileStack: number[] = [];

function tileable(text: string, from: number, candidates: readonly KvInput[]): boolean {
  if (from === text.length) return true;
  const size = text.length - from + 1;
  if (reachedBuffer.length < size) reachedBuffer = new Uint8Array(size * 2);
  const reached = reachedBuffer;
  reached.fill(0, 0, size);
  const stack = tileStack;
  stack.length = 0;
  stack.push(from);
  reached[0] = 1;
  while (stack.length > 0) {
    const at = stack.pop() as number;
    for (const c of candidates) {
      const v = c.value;
      if (c.f !== 'append' || !v) continue;
      const end = at + v.length;
      if (end > text.length || reached[end - from] === 1 || !text.startsWith(v, at)) continue;
      if (end === text.length) return true;
      reached[end - from] = 1;
      stack.push(end);
    }
  }
  return false;
}

/** One partition per key; the state is that key's string (as a trie node, see KvState). */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: 'kv',
  init: kvRoot,
  step(state, input, output) {
    if (input.f === 'get')
      return output === undefined || (output.length === state.length && output === kvText(state)) ? state : ILLEGAL;
    return kvAppend(input.f === 'put' ? state.root : state, input.value ?? '');
  },
  // Nodes are unique per text path, so identity is equality; the id spares the checker a Map keyed by objects.
  hash: (state) => state.id,
  equal: (a, b) => a === b,
  partition: (input) => input.key,
  readOnly: (input) => input.f === 'get',
  canReach: kvCanReach,
  describeOperation: describeKvOp,
  describeState: (state) => JSON.stringify(kvText(state)),
  workerModule: { url: import.meta.url, exportName: 'kvModel' },
};

/**
 * All keys in one partition (to measure the search without P-compositionality). The state is an array of
 * string ids, one per key slot; strings and keys are interned by the model so hashing and equality are on
 * small integers.
 */
export function kvSinglePartitionModel(): Model<readonly number[], KvInput, KvOutput> {
  const slots = new Map<string, number>();
  const stringIds = new Map<string, number>([['', 0]]);
  const strings: string[] = [''];
  const slotOf = (key: string): number => {
    let slot = slots.get(key);
    if (slot === undefined) slots.set(key, (slot = slots.size));
    return slot;
  };
  const idOf = (text: string): number => {
    let id = stringIds.get(text);
    if (id === undefined) {
      id = strings.length;
      strings.push(text);
      stringIds.set(text, id);
    }
    return id;
  };
  return {
    name: 'kv (one partition)',
    init: () => [],
    step(state, input, output): readonly number[] | Illegal {
      const slot = slotOf(input.key);
      const current = state[slot] ?? 0;
      if (input.f === 'get') return output === undefined || output === strings[current] ? state : ILLEGAL;
      const value = input.value ?? '';
      const updated = idOf(input.f === 'put' ? value : (strings[current] as string) + value);
      if (updated === current) return state;
      const copy = state.slice();
      for (let s = copy.length; s < slot; s++) copy[s] = 0;
      copy[slot] = updated;
      return copy;
    },
    hash(state) {
      let h = 0x811c9dc5;
      for (let s = 0; s < state.length; s++)
        if (state[s] !== 0) h = Math.imul(h ^ (s * 0x10001 + (state[s] as number)), 0x01000193);
      return h;
    },
    equal(a, b) {
      const n = Math.max(a.length, b.length);
      for (let s = 0; s < n; s++) if ((a[s] ?? 0) !== (b[s] ?? 0)) return false;
      return true;
    },
    readOnly: (input) => input.f === 'get',
    describeOperation: describeKvOp,
    describeState(state) {
      const entries: Record<string, string> = {};
      for (const [key, slot] of slots)
        if ((state[slot] ?? 0) !== 0) entries[key] = strings[state[slot] as number] as string;
      return JSON.stringify(entries);
    },
    workerModule: { url: import.meta.url, exportName: 'kvSinglePartitionModel' },
  };
}

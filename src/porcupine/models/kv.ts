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
  if (input.f === 'get') return `get(${JSON.stringify(input.key)}) -> ${output === undefined ? '?' : JSON.stringify(output)}`;
  return `${input.f}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value ?? '')})`;
}

/** One partition per key; the state is that key's string. */
export const kvModel: Model<string, KvInput, KvOutput> = {
  name: 'kv',
  init: () => '',
  step(state, input, output) {
    if (input.f === 'get') return output === undefined || output === state ? state : ILLEGAL;
    return input.f === 'put' ? (input.value ?? '') : state + (input.value ?? '');
  },
  partition: (input) => input.key,
  readOnly: (input) => input.f === 'get',
  describeOperation: describeKvOp,
  describeState: (state) => JSON.stringify(state),
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
      for (let s = 0; s < state.length; s++) if (state[s] !== 0) h = Math.imul(h ^ (s * 0x10001 + (state[s] as number)), 0x01000193);
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
      for (const [key, slot] of slots) if ((state[slot] ?? 0) !== 0) entries[key] = strings[state[slot] as number] as string;
      return JSON.stringify(entries);
    },
    workerModule: { url: import.meta.url, exportName: 'kvSinglePartitionModel' },
  };
}

// A FIFO queue. enqueue(v); dequeue returns the head, or null when the queue is empty.
import { ILLEGAL, showJson, type Illegal, type Model } from '../model.js';
import type { RegisterValue } from './register.js';
import { hashString } from './zk-register.js';

export type QueueInput =
  { f: 'enqueue'; value: RegisterValue; key?: string | number } | { f: 'dequeue'; key?: string | number };

/** For dequeue: `{ok: true, value}` (null = it saw an empty queue); undefined = outcome unknown. */
export type QueueOutput = { ok: true; value?: RegisterValue } | undefined;

export type QueueState = readonly RegisterValue[];

function stepQueue(state: QueueState, input: QueueInput, output: QueueOutput): QueueState | Illegal {
  if (input.f === 'enqueue') return [...state, input.value];
  if (output === undefined) return state.length === 0 ? state : state.slice(1); // if it happened, it took the head
  const value = output.value ?? null;
  if (state.length === 0) return value === null ? state : ILLEGAL;
  return state[0] === value ? state.slice(1) : ILLEGAL;
}

export const queueModel: Model<QueueState, QueueInput, QueueOutput> = {
  name: 'queue',
  init: () => [],
  step: stepQueue,
  hash(state) {
    let h = state.length;
    for (const v of state) h = Math.imul(h ^ hashString(typeof v + String(v)), 0x01000193);
    return h;
  },
  equal: (a, b) => a.length === b.length && a.every((v, i) => v === b[i]),
  partition: (input) => input.key ?? '',
  // A dequeue that saw an empty queue changes nothing.
  readOnly: (input, output) => input.f === 'dequeue' && output !== undefined && (output.value ?? null) === null,
  // A dequeue that returned v needs an enqueue of v invoked before it returned.
  values: {
    initial: null,
    required: (input, output) => (input.f === 'dequeue' && output !== undefined ? (output.value ?? null) : undefined),
    written: (input) => (input.f === 'enqueue' ? input.value : undefined),
  },
  describeOperation: (input, output) =>
    input.f === 'enqueue'
      ? `enqueue(${showJson(input.value)})`
      : `dequeue -> ${output === undefined ? '?' : showJson(output.value ?? null)}`,
  describeState: (state) => showJson(state),
  workerModule: { url: import.meta.url, exportName: 'queueModel' },
};

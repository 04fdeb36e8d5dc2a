// A history split into partitions (P-compositionality: each key checked on its own), and what a partition's
// search found, in the caller's indexes. Shared by the checks in the calling thread and on workers.
import type { Model, Operation, PartitionInfo } from './model.js';
import type { PartitionInput, SearchResult } from './search.js';

export interface Partition<I, O> extends PartitionInput<I, O> {
  key: string | number | undefined;
  /** Index of each op of the partition in the caller's history. */
  indexes: number[];
}

export function partitionOperations<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
): Partition<I, O>[] {
  const byKey = new Map<string | number | undefined, Partition<I, O>>();
  for (let i = 0; i < history.length; i++) {
    const op = history[i] as Operation<I, O>;
    const key = model.partition ? model.partition(op.input) : undefined;
    let part = byKey.get(key);
    if (!part) byKey.set(key, (part = { key, indexes: [], inputs: [], outputs: [], calls: [], returns: [] }));
    part.indexes.push(i);
    (part.inputs as I[]).push(op.input);
    (part.outputs as O[]).push(op.output);
    (part.calls as number[]).push(op.call);
    (part.returns as number[]).push(op.return);
  }
  return [...byKey.values()];
}

export function toPartitionInfo<I, O>(part: Partition<I, O>, searched: SearchResult): PartitionInfo {
  const info: PartitionInfo = {
    key: part.key,
    result: searched.result,
    operations: part.indexes.length,
    explored: searched.explored,
  };
  if (searched.longestPrefix) info.longestPrefix = searched.longestPrefix.map((i) => part.indexes[i] as number);
  if (searched.unplaced) info.unplaced = searched.unplaced.map((i) => part.indexes[i] as number);
  if (searched.stateBefore !== undefined) info.stateBefore = searched.stateBefore;
  if (searched.reason) info.reason = searched.reason;
  return info;
}

// Entry points: split a history into partitions (P-compositionality), check each with the memoized search,
// and combine the verdicts. `checkOperations`/`checkEvents` run in the calling thread; the `Parallel` variants
// spread partitions over worker threads when the model says where workers can load it from.
import type { CheckOptions, CheckResult, Event, Model, Operation, PartitionInfo } from './model.js';
import { createSearch, searchPartition, type PartitionSearch, type SearchLimits, type SearchResult } from './search.js';
import { runInWorkers } from './parallel.js';
import { partitionOperations, toPartitionInfo, type Partition } from './partition.js';

export { partitionOperations, toPartitionInfo, type Partition } from './partition.js';

/** Resident set size at which a search gives up (just under 2 GB, whole process). */
const DEFAULT_MAX_MEMORY = 1.85e9;

/** Converts events (in real-time order) to operations; a call without a return gets return time Infinity. */
export function eventsToOperations<I, O>(events: readonly Event<I, O>[], unknownOutput?: O): Operation<I, O>[] {
  const ops: Operation<I, O>[] = [];
  const open = new Map<number, Operation<I, O>>();
  events.forEach((event, time) => {
    if (event.kind === 'call') {
      const op: Operation<I, O> = { input: event.value as I, output: unknownOutput as O, call: time, return: Infinity };
      if (event.clientId !== undefined) op.clientId = event.clientId;
      open.set(event.id, op);
      ops.push(op);
    } else {
      const op = open.get(event.id);
      if (!op) throw new Error(`return event for id ${event.id} has no call before it`);
      op.output = event.value as O;
      op.return = time;
      open.delete(event.id);
    }
  });
  return ops;
}

export function limitsFor(options: CheckOptions, start: number): SearchLimits {
  return {
    deadline: options.timeoutMs === undefined ? Infinity : start + options.timeoutMs,
    maxMemoryBytes: options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY,
    details: options.details ?? true,
  };
}

export function combine(partitions: PartitionInfo[]): CheckResult {
  const illegal = partitions.some((p) => p.result === 'illegal');
  const unknown = partitions.find((p) => p.result === 'unknown');
  const result: CheckResult = { result: illegal ? 'illegal' : unknown ? 'unknown' : 'ok', partitions };
  if (!illegal && unknown)
    result.reason = `partition ${JSON.stringify(unknown.key ?? null)}: ${unknown.reason ?? 'undecided'}`;
  return result;
}

/** Checks a history of operations in the calling thread. */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  return combine(
    checkInThread(
      model,
      partitionOperations(model, history),
      limitsFor(options, Date.now()),
      options.stopEarly ?? false,
    ),
  );
}

function checkInThread<S, I, O>(
  model: Model<S, I, O>,
  parts: readonly Partition<I, O>[],
  limits: SearchLimits,
  stopEarly: boolean,
): PartitionInfo[] {
  if (!stopEarly || parts.length < 2) {
    // One partition at a time (so one memo table at a time), each allowed an equal share of the time left,
    // so a hard partition cannot starve the ones after it; smallest first, so time the easy ones leave over
    // goes to the big ones.
    const order = parts
      .map((_, i) => i)
      .sort((a, b) => (parts[a] as Partition<I, O>).indexes.length - (parts[b] as Partition<I, O>).indexes.length);
    const infos = new Array<PartitionInfo>(parts.length);
    // A loop, not a callback: a closure made per check loses its optimized code at every full GC.
    for (let i = 0; i < order.length; i++) {
      const index = order[i] as number;
      const part = parts[index] as Partition<I, O>;
      const share = (limits.deadline - Date.now()) / (parts.length - i);
      const deadline = Number.isFinite(share) ? Math.min(limits.deadline, Date.now() + share) : limits.deadline;
      infos[index] = toPartitionInfo(part, searchPartition(model, part, { ...limits, deadline }));
    }
    return infos;
  }
  // Only the verdict is needed: let the partitions take turns in growing slices, so one hard legal partition
  // does not hide an easy illegal one (as goroutines racing do for Porcupine).
  const searches = parts.map((part) => createSearch(model, part, limits));
  const results = new Array<SearchResult | undefined>(parts.length);
  let pending = parts.length;
  for (let slice = 1 << 14; pending > 0; slice *= 2) {
    for (let i = 0; i < parts.length; i++) {
      if (results[i]) continue;
      const done = (searches[i] as PartitionSearch).run(slice);
      if (!done) continue;
      results[i] = done;
      pending--;
      if (done.result === 'illegal') return [toPartitionInfo(parts[i] as Partition<I, O>, done)];
    }
  }
  return results.map((r, i) => toPartitionInfo(parts[i] as Partition<I, O>, r as SearchResult));
}

/** Checks a history of events (real-time order) in the calling thread. */
export function checkEvents<S, I, O>(
  model: Model<S, I, O>,
  events: readonly Event<I, O>[],
  options: CheckOptions & { unknownOutput?: O } = {},
): CheckResult {
  return checkOperations(model, eventsToOperations(events, options.unknownOutput), options);
}

/**
 * Like checkOperations, but partitions go to worker threads (options.workers, default the number of cores)
 * when the model has a `workerModule` that a worker can import; otherwise, or with one partition, in-thread.
 */
export async function checkOperationsParallel<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): Promise<CheckResult> {
  const start = Date.now();
  const parts = partitionOperations(model, history);
  const limits = limitsFor(options, start);
  const infos = await runInWorkers(model, parts, limits, options);
  return combine(infos ?? checkInThread(model, parts, limits, options.stopEarly ?? false));
}

export async function checkEventsParallel<S, I, O>(
  model: Model<S, I, O>,
  events: readonly Event<I, O>[],
  options: CheckOptions & { unknownOutput?: O } = {},
): Promise<CheckResult> {
  return checkOperationsParallel(model, eventsToOperations(events, options.unknownOutput), options);
}

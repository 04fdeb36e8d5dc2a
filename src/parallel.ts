// Jobs 0..count-1 run `parallel` at a time, started in index order: the one pool behind gate batches and replays.

/**
 * Runs `job(i)` for every i below `count`, at most `parallel` at once. A job that returns true, or `halted()`
 * turning true, starts no further job; those already running finish.
 */
export async function forEachParallel(
  count: number,
  parallel: number,
  job: (index: number) => Promise<boolean | void>,
  halted: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && !halted() && next < count) {
      if ((await job(next++)) === true) stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, count)) }, worker));
}

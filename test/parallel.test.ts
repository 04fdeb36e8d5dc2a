// The shared pool of gate batches and replays: at most `parallel` jobs at once, a job's true stops further starts,
// and halted() does too.
import { describe, expect, it } from 'vitest';
import { forEachParallel } from '../src/parallel.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('forEachParallel', () => {
  it('runs every job, at most `parallel` at once, started in index order', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    await forEachParallel(5, 2, async (i) => {
      started.push(i);
      most = Math.max(most, ++running);
      await tick(5);
      running--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('starts nothing after a job returns true, or once halted', async () => {
    const started: number[] = [];
    await forEachParallel(6, 2, async (i) => {
      started.push(i);
      await tick(i === 0 ? 20 : 2);
      return i === 1;
    });
    expect(started).toEqual([0, 1]);
    const after: number[] = [];
    await forEachParallel(
      6,
      1,
      async (i) => void after.push(i),
      () => after.length >= 3,
    );
    expect(after).toEqual([0, 1, 2]);
  });
});

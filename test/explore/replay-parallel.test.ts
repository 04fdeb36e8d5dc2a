// Replays side by side, against a FAKE executor (no servers): how many run at once, that a decided candidate starts
// no further replay while those running finish and count, and that runs come back in replay order.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src/config.js';
import { replayCandidate, type ReplayOptions } from '../../src/explore/replay.js';
import { MemoryLogger } from '../../src/log.js';
import type { RunOutcome } from '../../src/runner.js';
import type { ShrinkCandidate } from '../../src/explore/shrink.js';

/** A FAKE executor: replay i takes `ms[i]` and is invalid on `set` when `fails[i]`; it records what ran at once. */
function fakeExecutor(fails: boolean[], ms: number[]) {
  let running = 0;
  const seen = { started: [] as number[], most: 0 };
  let n = 0;
  const execute: NonNullable<ReplayOptions['execute']> = async () => {
    const i = n++;
    seen.started.push(i);
    running++;
    seen.most = Math.max(seen.most, running);
    await new Promise((r) => setTimeout(r, ms[i] ?? 5));
    running--;
    const outcome = {
      valid: fails[i] ? false : true,
      checkers: { set: { valid: fails[i] ? false : true, anomalies: [] } },
    } as unknown as RunOutcome;
    return { outcome, runDir: `replay-${i}` };
  };
  return { execute, seen };
}

const candidate = (): ShrinkCandidate => ({
  nodes: 3,
  steps: [{ waitS: 1, action: { kind: 'fault', fault: 'kill-one', target: 'n1' } }],
});

function options(extra: Partial<ReplayOptions>): ReplayOptions {
  return {
    times: 3,
    dir: mkdtempSync(join(tmpdir(), 'faultline-replay-')),
    log: new MemoryLogger(),
    abort: new AbortController().signal,
    checkers: ['set'],
    ...extra,
  };
}

describe('replays side by side', () => {
  it('runs up to `parallel` at once and returns the runs in replay order', async () => {
    const { execute, seen } = fakeExecutor([true, true, true, true], [30, 5, 5, 5]);
    const { runs } = await replayCandidate(
      resolveRunConfig({}),
      candidate(),
      options({ times: 4, parallel: 2, execute }),
    );
    expect(seen.most).toBe(2);
    expect(runs.map((r) => r.runDir)).toEqual(['replay-0', 'replay-1', 'replay-2', 'replay-3']);
    expect(runs.every((r) => r.failed)).toBe(true);
  });

  it('starts no replay after one passes (stopAtPass), while the one running beside it finishes and counts', async () => {
    // Replay 1 passes quickly while replay 0 is still running: replay 2 never starts, replay 0 is kept.
    const { execute, seen } = fakeExecutor([true, false, true], [40, 5, 5]);
    const { runs } = await replayCandidate(
      resolveRunConfig({}),
      candidate(),
      options({ parallel: 2, stopAtPass: true, execute }),
    );
    expect(seen.started).toEqual([0, 1]);
    expect(runs.map((r) => [r.runDir, r.failed])).toEqual([
      ['replay-0', true],
      ['replay-1', false],
    ]);
  });

  it('runs one at a time by default, stopping at the first failure when asked (stopAtFail)', async () => {
    const { execute, seen } = fakeExecutor([false, true, true], [5, 5, 5]);
    const { runs } = await replayCandidate(resolveRunConfig({}), candidate(), options({ stopAtFail: true, execute }));
    expect(seen.most).toBe(1);
    expect(runs.map((r) => r.failed)).toEqual([false, true]);
  });
});

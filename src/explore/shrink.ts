// Shrinking a failing schedule: delta debugging (Zeller's ddmin) over its steps, then shorter waits and holds, then
// fewer nodes, keeping a candidate only when the oracle says it still fails. Pure over an abstract oracle
// (`fails(candidate)`), so the algorithm is tested in milliseconds against fake oracles with known answers; the
// real oracle replays the candidate k times against servers (src/explore/replay.ts).
import type { TimedStep } from './scenario.js';
import { nodesNamed } from './scenario.js';

export interface ShrinkCandidate {
  nodes: number;
  steps: TimedStep[];
  /** The main phase's length, s, when shorter than the recorded run's. */
  timeLimitS?: number;
}

export type FailsOracle<T> = (candidate: T) => Promise<boolean>;

export interface DdminOptions {
  /** Stop testing after this many oracle calls (the best subset found so far is kept). */
  maxTests?: number;
  /** Told of every oracle answer, for progress lines. */
  onTest?: (size: number, failed: boolean) => void;
}

function split<T>(items: readonly T[], n: number): T[][] {
  const chunks: T[][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor((items.length - at) / (n - i));
    chunks.push(items.slice(at, at + size));
    at += size;
  }
  return chunks.filter((c) => c.length > 0);
}

/**
 * ddmin: a subset of `items` on which `fails` still holds and from which no single item can be dropped (1-minimal),
 * given that it holds on `items` itself. Subsets keep the items' order. The oracle is asked once per distinct subset.
 */
export async function ddmin<T>(
  items: readonly T[],
  fails: (subset: T[]) => Promise<boolean>,
  options: DdminOptions = {},
): Promise<{ result: T[]; tests: number }> {
  const maxTests = options.maxTests ?? Infinity;
  const index = new Map(items.map((item, i) => [item, i]));
  const seen = new Map<string, boolean>();
  let tests = 0;
  const test = async (subset: T[]): Promise<boolean> => {
    const key = subset.map((x) => index.get(x)).join(',');
    const known = seen.get(key);
    if (known !== undefined) return known;
    if (tests >= maxTests) return false;
    tests++;
    const failed = await fails(subset);
    options.onTest?.(subset.length, failed);
    seen.set(key, failed);
    return failed;
  };
  let current = [...items];
  if (current.length === 1 && (await test([]))) return { result: [], tests };
  let n = 2;
  while (current.length >= 2 && tests < maxTests) {
    const chunks = split(current, Math.min(n, current.length));
    let reduced = false;
    for (const chunk of chunks) {
      if (await test(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    // With two chunks each complement is the other chunk, already tested.
    if (!reduced && chunks.length > 2) {
      for (const chunk of chunks) {
        const complement = current.filter((x) => !chunk.includes(x));
        if (await test(complement)) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  // One item left: maybe none is needed at all.
  if (current.length === 1 && (await test([]))) current = [];
  return { result: current, tests };
}

/** Steps kept from a list, each dropped step's wait carried to the next kept one, so kept steps keep their times. */
export function keepSteps(steps: readonly TimedStep[], kept: ReadonlySet<number>): TimedStep[] {
  const out: TimedStep[] = [];
  let carried = 0;
  steps.forEach((step, i) => {
    if (kept.has(i)) {
      out.push({ ...step, waitS: Math.round((step.waitS + carried) * 10) / 10 });
      carried = 0;
    } else carried += step.waitS;
  });
  return out;
}

export interface ShrinkOptions {
  /** Oracle calls at most, over all phases. */
  maxTests?: number;
  /** Waits are not shortened below this, seconds. */
  minWaitS?: number;
  /** The recorded main phase's length, s: given, shrink also tries ending the run soon after the last step. */
  timeLimitS?: number;
  /** How long a shorter run goes on after its last step, s (default 5). */
  runMarginS?: number;
  /**
   * Asked about the recorded schedule first; when it says the schedule does not fail, shrinking stops (see
   * ShrinkResult.reproducible). It may be looser than `fails` (one failure in k replays, where candidates need k).
   */
  checkRecorded?: FailsOracle<ShrinkCandidate>;
  /** True once shrinking must stop: no candidate is tried after, and the best so far is the result. */
  outOfTime?: () => boolean;
  onTest?: (phase: string, candidate: ShrinkCandidate, failed: boolean) => void;
}

export interface ShrinkResult {
  candidate: ShrinkCandidate;
  tests: number;
  /** Each phase and what it left: steps, total wait, nodes. */
  phases: { phase: string; steps: number; waitS: number; nodes: number }[];
  /** Stopped by outOfTime before it was done: the candidate is the smallest failing one found by then. */
  cutShort: boolean;
  /**
   * False when the recorded schedule itself did not fail under the oracle (checkRecorded): a failure that does not
   * come back on replay cannot be shrunk, and the candidate is the recorded schedule.
   */
  reproducible: boolean;
}

const totalWait = (steps: readonly TimedStep[]): number => Math.round(steps.reduce((s, x) => s + x.waitS, 0) * 10) / 10;

/**
 * Shrinks a failing candidate: drop steps (ddmin; heals may go too, the run's final heal undoes whatever is left),
 * then end the run soon after its last step, then halve waits and holds (all at once, then one at a time) down to
 * minWaitS (and end the run sooner again), then 3 nodes in place of 5 when no step names n4 or n5. Every kept
 * candidate failed the oracle.
 */
export async function shrinkSchedule(
  original: ShrinkCandidate,
  fails: FailsOracle<ShrinkCandidate>,
  options: ShrinkOptions = {},
): Promise<ShrinkResult> {
  const maxTests = options.maxTests ?? 60;
  const minWaitS = options.minWaitS ?? 1;
  let tests = 0;
  const phases: ShrinkResult['phases'] = [];
  let cutShort = false;
  const ask = async (phase: string, candidate: ShrinkCandidate): Promise<boolean> => {
    if (options.outOfTime?.()) cutShort = true;
    if (tests >= maxTests || cutShort) return false;
    tests++;
    const failed = await fails(candidate);
    options.onTest?.(phase, candidate, failed);
    return failed;
  };
  const note = (phase: string, c: ShrinkCandidate): void => {
    phases.push({ phase, steps: c.steps.length, waitS: totalWait(c.steps), nodes: c.nodes });
  };
  let best: ShrinkCandidate = { nodes: original.nodes, steps: [...original.steps] };
  note('recorded', best);
  // Every candidate below is judged against the oracle; one that the recorded schedule does not pass would spend
  // the whole budget on candidates that pass by chance.
  if (options.checkRecorded) {
    tests++;
    const failed = await options.checkRecorded(best);
    options.onTest?.('recorded', best, failed);
    if (!failed) return { candidate: best, tests, phases, cutShort, reproducible: false };
  }

  // 1. Drop steps.
  const indices = best.steps.map((_, i) => i);
  const base = best;
  const dropped = await ddmin(
    indices,
    (subset) => ask('drop steps', { ...base, steps: keepSteps(base.steps, new Set(subset)) }),
    {
      maxTests: maxTests - tests,
    },
  );
  best = { ...best, steps: keepSteps(base.steps, new Set(dropped.result)) };
  note('drop steps', best);

  // A shorter main phase: the last kept step plus a margin, so every later candidate runs quicker.
  const shorterRun = async (): Promise<void> => {
    if (options.timeLimitS === undefined) return;
    const limit = Math.ceil(totalWait(best.steps) + (options.runMarginS ?? 5));
    if (limit < (best.timeLimitS ?? options.timeLimitS) && (await ask('shorter run', { ...best, timeLimitS: limit })))
      best = { ...best, timeLimitS: limit };
  };
  await shorterRun();

  // 2. Shorter waits and holds: all halved while that fails, then each one halved while that fails.
  const halve = (w: number): number => (w <= minWaitS ? w : Math.max(minWaitS, Math.round((w / 2) * 10) / 10));
  for (;;) {
    const shorter = best.steps.map((s) => ({ ...s, waitS: halve(s.waitS) }));
    if (totalWait(shorter) === totalWait(best.steps) || !(await ask('shorten waits', { ...best, steps: shorter })))
      break;
    best = { ...best, steps: shorter };
  }
  for (let i = 0; i < best.steps.length; i++) {
    for (;;) {
      const w = best.steps[i]!.waitS;
      if (halve(w) === w) break;
      const steps = best.steps.map((s, j) => (j === i ? { ...s, waitS: halve(w) } : s));
      if (!(await ask('shorten waits', { ...best, steps }))) break;
      best = { ...best, steps };
    }
  }
  await shorterRun();
  note('shorten waits', best);

  // 3. Fewer nodes.
  if (best.nodes > 3) {
    const named = nodesNamed(best.steps);
    const fits = [...named].every((n) => Number(n.slice(1)) <= 3);
    if (fits && (await ask('fewer nodes', { ...best, nodes: 3 }))) best = { ...best, nodes: 3 };
    note('fewer nodes', best);
  }
  return { candidate: best, tests: tests, phases, cutShort, reproducible: true };
}

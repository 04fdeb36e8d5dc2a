// The harness's one clock: every wait (pacing, schedules, start-up, recovery, polling) goes through these, so each
// is cancelled by the run's abort signal, and any duration works (Node's timers fire at once past 2^31-1 ms, so
// longer waits are split).

/** Node's largest timer delay; a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** A wait cut short by the run's abort (Ctrl-C, SIGTERM, the end of a phase). */
export class AbortedError extends Error {
  constructor(readonly what: string) {
    super(`${what}: aborted`);
    this.name = 'AbortedError';
  }
}

/** A timer of any length; `clear` stops it. */
function longTimer(ms: number, fire: () => void): { clear(): void } {
  let handle: NodeJS.Timeout | undefined;
  const deadline = Date.now() + Math.max(0, ms);
  const arm = (): void => {
    const left = deadline - Date.now();
    handle = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, Math.max(0, left));
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}

/** Sleeps `ms` (any length); with a signal, resolves false as soon as it fires (true when the time passed). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.clear();
      resolve(false);
    };
    const timer = longTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Rejects with TimeoutError when the promise has not settled within ms, and with AbortedError when the signal
 * fires first. The promise itself runs on.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: { clear(): void } | undefined;
  let onAbort: (() => void) | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = longTimer(ms, () => reject(new TimeoutError(what, ms)));
    if (signal) {
      onAbort = () => reject(new AbortedError(what));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return Promise.race([promise, bound]).finally(() => {
    timer?.clear();
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

/**
 * Polls check() until it returns a value other than undefined; throws TimeoutError after timeoutMs, and
 * AbortedError as soon as the signal fires.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new AbortedError(what);
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new TimeoutError(what, timeoutMs);
    if (!(await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())), signal))) throw new AbortedError(what);
  }
}

// Errors that reach the user as one clear message (what is wrong, then how to fix it), never a bare stack trace.

/** Exit codes: 0 valid, 1 invalid, 2 unknown, 3+ harness or usage errors. */
export const ExitCode = { valid: 0, invalid: 1, unknown: 2, harnessError: 3, usageError: 4, interrupted: 130 } as const;

/** Bad input from the user: flags, config, history files. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The environment or the system under test kept the harness from doing its job (no engine, no quorum, ...). */
export class HarnessError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

/** A fault found nothing to aim at just then (no elected leader, no follower): it is skipped, not failed. */
export class NoTargetError extends HarnessError {
  constructor(message: string) {
    super(message);
    this.name = 'NoTargetError';
  }
}

/** A wait or build stopped by Ctrl-C/SIGTERM (src/time.ts's AbortedError, told by name: no import cycle). */
function isInterrupted(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortedError';
}

/**
 * One or two lines for the terminal. An unexpected error is one line too; its stack trace only with `--debug`
 * (FAULTLINE_DEBUG=1), since users need the message, developers the trace.
 */
export function describeError(err: unknown, debug = process.env.FAULTLINE_DEBUG === '1'): string {
  const trace = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  if (err instanceof UsageError) return `faultline: ${err.message}\n  fix: ${err.fix}${trace}`;
  if (err instanceof HarnessError) return `faultline: ${err.message}${err.fix ? `\n  fix: ${err.fix}` : ''}${trace}`;
  if (isInterrupted(err))
    return `faultline: interrupted (${(err as Error).message}); nothing of a run was left behind${trace}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return `faultline: unexpected error: ${describeFailure(e)}${trace || '\n  (run again with --debug for the stack trace)'}`;
}

export function exitCodeFor(err: unknown): number {
  if (isInterrupted(err)) return ExitCode.interrupted;
  return err instanceof UsageError ? ExitCode.usageError : ExitCode.harnessError;
}

/** The verdict of a checker or a whole run. */
export type Validity = true | false | 'unknown';

export function exitCodeForVerdict(valid: Validity): number {
  return valid === true ? ExitCode.valid : valid === false ? ExitCode.invalid : ExitCode.unknown;
}

/** Combines verdicts: any false wins, then any unknown. */
export function mergeValidity(values: Iterable<Validity>): Validity {
  let result: Validity = true;
  for (const v of values) {
    if (v === false) return false;
    if (v === 'unknown') result = 'unknown';
  }
  return result;
}

const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the filesystem is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'a file or directory is missing',
  EIO: 'an I/O error from the disk',
};

/**
 * A failure of the environment in plain words, for results.json and the terminal: a full disk is named a full
 * disk (with the path), a vanished container or engine as such; anything else by its message.
 */
export function describeFailure(err: unknown): string {
  const e = err instanceof Error ? (err as NodeJS.ErrnoException) : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  if (code && ERRNO_WORDS[code]) {
    const path = (e as NodeJS.ErrnoException).path;
    return `${ERRNO_WORDS[code]} (${code}${path ? ` writing ${path}` : ''})`;
  }
  if (/no such container|is not running|container .* is (paused|restarting)/i.test(e.message))
    return `a node's container stopped or was removed from outside the harness: ${e.message}`;
  if (/connect E(CONNREFUSED|NOENT) .*docker\.sock/i.test(e.message))
    return `the Docker engine stopped answering: ${e.message}`;
  return e.message;
}

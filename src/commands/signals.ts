// Ctrl-C and SIGTERM as the CLI handles them: the first aborts the run (which heals and removes its containers),
// a second exits at once (then `faultline clean` removes what is left).
import type { Logger } from '../log.js';

/**
 * Turns SIGINT/SIGTERM, and an error thrown outside the run's own control flow, into an abort, so the run
 * still heals and removes its containers.
 */
export function abortOnSignals(log: Logger): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      log.warn(`${sig} again: exiting now; run \`faultline clean\` to remove what is left.`);
      process.exit(130);
    }
    log.warn(`${sig}: stopping the run, healing and removing its containers (press Ctrl-C again to exit at once)...`);
    controller.abort(sig);
  };
  const crash = (err: unknown): void => {
    log.warn(
      `harness error: ${err instanceof Error ? (process.env.FAULTLINE_DEBUG === '1' ? (err.stack ?? err.message) : err.message) : String(err)}; stopping the run and cleaning up...`,
    );
    process.exitCode = 3;
    if (!controller.signal.aborted)
      controller.abort(`harness error: ${err instanceof Error ? err.message : String(err)}`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('uncaughtException', crash);
      process.off('unhandledRejection', crash);
    },
  };
}

/** The exit code of a run that stopped early: 130 for a signal, 3 for a harness error. */
export function abortExitCode(reason: string): number {
  return reason.startsWith('SIG') ? 130 : 3;
}

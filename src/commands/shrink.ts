// `faultline shrink RUN_DIR`: delta debugging over a failing run's recorded schedule, to the shortest scenario
// that still fails in every one of k replays; its reproduction rate and its result on another build.
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { shrinkRun } from '../explore/shrink-run.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { resolveParallel } from './gate.js';
import { abortOnSignals } from './signals.js';

const whole = (text: string, flag: string, max: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}, not "${text}"`, `For example ${flag} 3.`);
  return n;
};

export function registerShrinkCommand(program: Command): void {
  program
    .command('shrink')
    .description(
      "cut a failing run's schedule down to a minimal scenario that still fails; writes shrink/shrunk.yaml in the run dir",
    )
    .argument('<run-dir>', 'a failing run directory')
    .option('--replays <k>', 'replays per candidate, all of which must fail', '3')
    .option('--rate-replays <n>', 'replays of the minimal scenario to measure how often it fails', '10')
    .option('--against <build>', 'also replay the minimal scenario on this build (e.g. debian:sid)')
    .option('--max-candidates <n>', 'candidates tried at most', '40')
    .option('--parallel <n>', 'replays at once (default: what the machine holds: one per core, capped by free memory)')
    .action(
      async (
        runDir: string,
        flags: { replays: string; rateReplays: string; against?: string; maxCandidates: string; parallel?: string },
      ) => {
        const log = new ConsoleLogger();
        const abort = abortOnSignals(log);
        const quiet: Logger = {
          info: () => {},
          debug: () => {},
          status: (t) => log.status(t),
          warn: (m) => log.warn(m),
        };
        try {
          const record = await shrinkRun(runDir, {
            replays: whole(flags.replays, '--replays', 20),
            rateReplays: whole(flags.rateReplays, '--rate-replays', 100),
            maxTests: whole(flags.maxCandidates, '--max-candidates', 1000),
            parallel: resolveParallel(flags.parallel, undefined),
            ...(flags.against ? { against: flags.against } : {}),
            log: { ...quiet, info: (m) => log.info(m) },
            abort: abort.signal,
          });
          for (const p of record.phases)
            log.info(`  ${p.phase}: ${p.steps} steps, ${p.waitS} s of waits, ${p.nodes} nodes`);
          const r = record.reproduction;
          if (record.recordedReproduces === false)
            log.warn(
              `The recorded schedule did not fail in each of ${record.replaysPerTest} replays, so it was not shrunk: the failure depends on timing the schedule does not fix. Its reproduction rate follows.`,
            );
          log.info(
            `Minimal scenario: ${record.scenario} (${record.steps} steps on ${record.nodes} nodes, ${record.oracleTests} candidates tried)`,
          );
          if (r) log.info(`Reproduces in ${r.failed} of ${r.of} replays on ${r.server}`);
          if (record.against)
            log.info(`On ${record.against.server}: fails in ${record.against.failed} of ${record.against.of}`);
          process.exitCode = abort.signal.aborted ? 130 : r && r.failed > 0 ? ExitCode.invalid : ExitCode.unknown;
        } finally {
          abort.dispose();
        }
      },
    );
}

// `faultline replay RUN_DIR`: the run's recorded nemesis actions as a scenario, same workload and settings, K
// times; prints how many failed and with which anomalies, and writes the scenario it used.
import { join } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { loadRecordedSchedule, replayCandidate } from '../explore/replay.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { createRunDir } from '../store/index.js';
import { resolveParallel } from './gate.js';
import { abortOnSignals } from './signals.js';

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description("run a recorded run's nemesis actions again as a scenario (same workload and settings), K times")
    .argument('<run-dir>', 'a run directory (results/<name>/<timestamp>)')
    .option('--times <k>', 'replays', '1')
    .option('--server <build>', "replay against another build (default: the run's)")
    .option('--parallel <n>', 'replays at once (default: what the machine holds: one per core, capped by free memory)')
    .action(async (runDir: string, flags: { times: string; server?: string; parallel?: string }) => {
      const times = Number(flags.times);
      if (!Number.isInteger(times) || times < 1 || times > 100)
        throw new UsageError(
          `--times must be a whole number from 1 to 100, not "${flags.times}"`,
          'For example --times 5.',
        );
      const log = new ConsoleLogger();
      const recorded = await loadRecordedSchedule(runDir);
      if (recorded.steps.length === 0)
        log.warn(`${runDir} recorded no nemesis action in its main phase; replaying the workload alone`);
      const dir = createRunDir(join(runDir, 'replays'), 'replay');
      const abort = abortOnSignals(log);
      const quiet: Logger = { info: () => {}, debug: () => {}, status: (t) => log.status(t), warn: (m) => log.warn(m) };
      try {
        const { scenario, runs } = await replayCandidate(
          recorded.config,
          { nodes: recorded.config.nodes, steps: recorded.steps },
          {
            times,
            parallel: resolveParallel(flags.parallel, undefined),
            ...(flags.server ? { server: flags.server } : {}),
            dir,
            log: quiet,
            abort: abort.signal,
            header: [`Replay of ${runDir}: its recorded nemesis actions, node names and timings as recorded.`],
            onRun: (run, i) =>
              log.info(
                `replay ${i + 1}/${times}: ${run.valid === true ? 'valid' : run.valid === false ? 'INVALID' : 'unknown'}, ${run.runDir}${run.anomalies.length ? `\n    ${run.anomalies.slice(0, 5).join('\n    ')}` : ''}`,
              ),
          },
        );
        const failed = runs.filter((r) => r.valid === false).length;
        const kinds = [...new Set(runs.flatMap((r) => r.anomalies.map((a) => a.split(':').slice(0, 2).join(':'))))];
        log.info(
          `${failed} of ${runs.length} replays failed on ${flags.server ?? recorded.config.server}${kinds.length ? `: ${kinds.join(', ')}` : ''}`,
        );
        log.info(`Scenario: ${scenario}`);
        process.exitCode = abort.signal.aborted
          ? 130
          : failed > 0
            ? ExitCode.invalid
            : runs.every((r) => r.valid === true)
              ? ExitCode.valid
              : ExitCode.unknown;
      } finally {
        abort.dispose();
      }
    });
}

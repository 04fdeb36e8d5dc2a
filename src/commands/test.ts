// `faultline test`: one run, end to end, with its verdict as the exit code.
import type { Command } from 'commander';
import { describeCheckerResult } from '../checker.js';
import { resolveRunConfig } from '../config.js';
import { ExitCode, exitCodeForVerdict } from '../errors.js';
import { loadTestFile } from '../gate/spec.js';
import { ConsoleLogger, type Logger } from '../log.js';
import { executeTest, planRun } from '../run/execute.js';
import type { RunOutcome } from '../runner.js';
import { addRunOptions, runLayerFromCommand } from './run-options.js';
import { abortExitCode, abortOnSignals } from './signals.js';

export function printVerdict(log: Logger, outcome: RunOutcome, runDir: string): void {
  const verdict = outcome.valid === true ? 'VALID' : outcome.valid === false ? 'INVALID' : 'UNKNOWN';
  const s = outcome.stats;
  log.info('');
  log.info(
    `ops: ${s.ok} ok, ${s.fail} fail, ${s.info} info; nemesis actions: ${s.nemesis}; leaders: ${outcome.leaders.join(' → ') || 'unknown'}`,
  );
  for (const [name, result] of Object.entries(outcome.checkers)) log.info(`  ${describeCheckerResult(name, result)}`);
  const why = outcome.aborted
    ? ` (aborted: ${outcome.aborted})`
    : outcome.error
      ? ` (the run failed: ${outcome.error})`
      : outcome.incomplete
        ? ` (incomplete: ${outcome.incomplete})`
        : '';
  log.info(`Verdict: ${verdict}${why}`);
  log.info(`Results: ${runDir}`);
}

export function registerTestCommand(program: Command): void {
  const command = program
    .command('test')
    .description('run a ZooKeeper ensemble under faults with a concurrent workload, then check the history');
  addRunOptions(command)
    .option('--file <yaml>', 'a YAML test file (fields as in a suite test); flags given here win over it')
    .option('--dry-run', 'validate everything, print the resolved config as JSON, and start nothing')
    .action(async (opts: { file?: string; dryRun?: boolean }) => {
      // Layers: the defaults, then the test file, then what the command line says.
      const config = resolveRunConfig(opts.file ? loadTestFile(opts.file) : undefined, runLayerFromCommand(command));
      const planned = planRun(config);
      if (opts.dryRun) {
        process.stdout.write(JSON.stringify(planned.config, null, 2) + '\n');
        return;
      }
      const log = new ConsoleLogger();
      const abort = abortOnSignals(log);
      try {
        const { outcome, runDir } = await executeTest(config, log, abort.signal, { command: process.argv.slice(2) });
        printVerdict(log, outcome, runDir);
        // A signal after the verdict (while the report is written or the containers go) still ends in 130, as in
        // every other phase: the user asked to stop, and results.json keeps the verdict.
        const stoppedBy = outcome.aborted ?? (abort.signal.aborted ? String(abort.signal.reason) : undefined);
        process.exitCode = stoppedBy
          ? abortExitCode(stoppedBy)
          : outcome.error
            ? ExitCode.harnessError
            : exitCodeForVerdict(outcome.valid);
      } finally {
        abort.dispose();
      }
    });
}

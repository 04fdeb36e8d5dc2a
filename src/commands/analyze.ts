// `faultline analyze RUN_DIR`: checks a recorded run again, offline, and rewrites its results.json.
import type { Command } from 'commander';
import { describeCheckerResult } from '../checker.js';
import { exitCodeForVerdict, UsageError } from '../errors.js';
import { ConsoleLogger } from '../log.js';
import { analyzeRun } from '../run/analyze.js';

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'check the history of a recorded run again (also one whose harness crashed) and rewrite its results.json',
    )
    .argument('<run-dir>', 'a run directory, e.g. results/latest')
    .option('--timeout <s>', 'time budget of each checker, seconds', '120')
    .action(async (runDir: string, opts: { timeout: string }) => {
      const timeoutS = Number(opts.timeout);
      if (opts.timeout.trim() === '' || !Number.isFinite(timeoutS) || timeoutS <= 0)
        throw new UsageError(
          `--timeout must be a positive number of seconds, not "${opts.timeout}"`,
          'For example --timeout 120.',
        );
      const log = new ConsoleLogger();
      const { results, checkers, events } = await analyzeRun(runDir, { timeoutMs: timeoutS * 1000, log });
      for (const [name, result] of Object.entries(checkers)) log.info(`  ${describeCheckerResult(name, result)}`);
      const valid = results.valid;
      log.info(`Verdict: ${valid === true ? 'VALID' : valid === false ? 'INVALID' : 'UNKNOWN'} (${events} events)`);
      process.exitCode = exitCodeForVerdict(valid);
    });
}

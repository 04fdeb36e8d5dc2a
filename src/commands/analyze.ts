// `faultline analyze RUN_DIR`: checks a recorded run again, offline, from its history and test.json;
// also the way to get a verdict for a run whose harness crashed or was interrupted.
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveWorkload } from '../../workloads/index.js';
import { restoreChecker } from '../dr.js';
import { describeCheckerResult, overallValidity } from '../checker.js';
import { exitCodeForVerdict, UsageError } from '../errors.js';
import { readHistory } from '../history.js';
import { ConsoleLogger } from '../log.js';
import { runCheckers } from '../runner.js';
import { HISTORY_FILE, readJson, RESULTS_FILE, TEST_FILE, writeJson } from '../store.js';
import { testConfigSchema } from './test.js';

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'check the history of a recorded run again (also one whose harness crashed) and rewrite its results.json',
    )
    .argument('<run-dir>', 'a run directory, e.g. results/latest')
    .option('--timeout <s>', 'time budget of each checker, seconds', '120')
    .action(async (runDir: string, opts: { timeout: string }) => {
      const log = new ConsoleLogger();
      const parsed = testConfigSchema.passthrough().safeParse(readJson(join(runDir, TEST_FILE), 'test.json'));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UsageError(
          `${join(runDir, TEST_FILE)} is not a Faultline test config (${issue?.path.join('.')}: ${issue?.message})`,
          'Give a run directory written by `faultline test`; test.json must be as that run wrote it.',
        );
      }
      const config = parsed.data;
      const history = await readHistory(join(runDir, HISTORY_FILE), (msg) => log.warn(msg));
      const workload = resolveWorkload(
        config.workload,
        { readMode: config.readMode, driverConnect: config.driverConnect },
        config.client,
      );
      // A disaster-recovery run (--dr) is checked by the restore checker too.
      const checkers = await runCheckers(
        { ...workload.checkers, ...(config.dr ? { restore: restoreChecker } : {}) },
        history,
        { runDir, timeoutMs: Number(opts.timeout) * 1000 },
      );
      const valid = overallValidity(checkers);
      const previous = (() => {
        try {
          return readJson<Record<string, unknown>>(join(runDir, RESULTS_FILE), 'results.json');
        } catch {
          return {};
        }
      })();
      writeJson(join(runDir, RESULTS_FILE), { ...previous, valid, checkers, analyzedAt: new Date().toISOString() });
      for (const [name, result] of Object.entries(checkers)) {
        log.info(`  ${describeCheckerResult(name, result)}`);
      }
      log.info(
        `Verdict: ${valid === true ? 'VALID' : valid === false ? 'INVALID' : 'UNKNOWN'} (${history.length} events)`,
      );
      process.exitCode = exitCodeForVerdict(valid);
    });
}

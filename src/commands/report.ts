// `faultline report RUN_DIR`: (re)writes the run's self-contained report.html.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { writeReport } from '../report/index.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write report.html (summary, history graph, counterexample, plots, logs) into a run directory')
    .argument('<run-dir>', 'a run directory, e.g. results/latest or results/register/20260101T000000Z')
    .action(async (runDir: string) => {
      const dir = resolve(runDir);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        throw new UsageError(
          `run directory not found: ${runDir}`,
          'Give a directory written by `faultline test`, e.g. results/latest.',
        );
      }
      const path = await writeReport(dir, (msg) => process.stderr.write(`faultline: warning: ${msg}\n`));
      process.stdout.write(`${path}\n`);
    });
}

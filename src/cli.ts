// The `faultline` command line. Each command lives in src/commands/<name>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { describeError, exitCodeFor, ExitCode } from './errors.js';
import { registerCheckCommand } from './commands/check.js';
import { registerImportCommand } from './commands/import.js';
import { registerSetupCommand } from './commands/setup.js';
import { registerTestCommand } from './commands/test.js';
import { registerCleanCommand } from './commands/clean.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerReportCommand } from './commands/report.js';
import { registerServeCommand } from './commands/serve.js';
import { registerGateCommand } from './commands/gate.js';
import { registerNemesisCommand } from './commands/nemesis.js';
import { registerCompareCommand } from './commands/compare.js';
import { registerImageCommand } from './commands/image.js';

const program = new Command()
  .name('faultline')
  .description('Jepsen-style consistency and durability tests for Apache ZooKeeper ensembles')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) })
  .showHelpAfterError('(run `faultline --help` for usage)');

registerTestCommand(program);
registerSetupCommand(program);
registerCleanCommand(program);
registerAnalyzeCommand(program);
registerCheckCommand(program);
registerImportCommand(program);
registerReportCommand(program);
registerServeCommand(program);
registerGateCommand(program);
registerNemesisCommand(program);
registerCompareCommand(program);
registerImageCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : ExitCode.usageError;
  } else {
    process.stderr.write(describeError(err) + '\n');
    process.exitCode = exitCodeFor(err);
  }
}

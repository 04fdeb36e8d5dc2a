// The `faultline` command line. Each command lives in src/commands/<name>.ts and registers itself here.
import { Command, CommanderError } from 'commander';
import { describeError, exitCodeFor, ExitCode } from './errors.js';

const program = new Command()
  .name('faultline')
  .description('Jepsen-style consistency and durability tests for Apache ZooKeeper ensembles')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) })
  .showHelpAfterError('(run `faultline --help` for usage)');

type Register = (program: Command) => void;

// Each command's module is loaded only when that command runs (all of them for help): `faultline check`
// must not pay for dockerode, the report assets and the rest at start-up.
const COMMANDS: Record<string, () => Promise<Register>> = {
  test: async () => (await import('./commands/test.js')).registerTestCommand,
  setup: async () => (await import('./commands/setup.js')).registerSetupCommand,
  clean: async () => (await import('./commands/clean.js')).registerCleanCommand,
  analyze: async () => (await import('./commands/analyze.js')).registerAnalyzeCommand,
  check: async () => (await import('./commands/check.js')).registerCheckCommand,
  import: async () => (await import('./commands/import.js')).registerImportCommand,
  report: async () => (await import('./commands/report.js')).registerReportCommand,
  serve: async () => (await import('./commands/serve.js')).registerServeCommand,
  gate: async () => (await import('./commands/gate.js')).registerGateCommand,
  nemesis: async () => (await import('./commands/nemesis.js')).registerNemesisCommand,
  compare: async () => (await import('./commands/compare.js')).registerCompareCommand,
  image: async () => (await import('./commands/image.js')).registerImageCommand,
};

try {
  const requested = process.argv[2];
  const names = requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((name) => COMMANDS[name]!()))) register(program);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : ExitCode.usageError;
  } else {
    process.stderr.write(describeError(err) + '\n');
    process.exitCode = exitCodeFor(err);
  }
}

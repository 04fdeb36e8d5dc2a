// Runs the `faultline` command line with the given commands (each registered by its module, loaded lazily).
// src/cli.ts runs it with every command; src/cli-check.ts, bundled for a fast start, with check and import only.
import { Command, CommanderError } from 'commander';
import { describeError, exitCodeFor, ExitCode } from './errors.js';

export type Register = (program: Command) => void;

export async function runCli(commands: Record<string, () => Promise<Register>>): Promise<void> {
  const program = new Command()
    .name('faultline')
    .description('Jepsen-style consistency and durability tests for Apache ZooKeeper ensembles')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .showHelpAfterError('(run `faultline --help` for usage)')
    .option('--debug', 'show debug lines on the terminal, and stack traces with errors');
  // Read before parsing, so even an error while parsing or loading a command gets its trace.
  if (process.argv.includes('--debug')) process.env.FAULTLINE_DEBUG = '1';
  try {
    const requested = process.argv[2];
    const names = requested !== undefined && requested in commands ? [requested] : Object.keys(commands);
    for (const register of await Promise.all(names.map((name) => commands[name]!()))) register(program);
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : ExitCode.usageError;
    } else {
      process.stderr.write(describeError(err) + '\n');
      process.exitCode = exitCodeFor(err);
    }
  }
}

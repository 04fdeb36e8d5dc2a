// `faultline import`: converts other tools' histories to Faultline's history.jsonl (readers: src/formats).
import { mkdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Option, type Command } from 'commander';
import { describeError, ExitCode, UsageError } from '../errors.js';
import {
  formatNames,
  readHistoryFile,
  tiesConventions,
  type FormatName,
  type TiesConvention,
} from '../formats/index.js';
import { toJsonl } from '../formats/jsonl.js';

interface ImportFlags {
  output?: string;
  ties?: TiesConvention;
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description("convert other tools' histories to Faultline's history.jsonl")
    .argument('<format>', formatNames.join(' | '))
    .argument('<files...>', 'the histories to convert')
    .option(
      '-o, --output <path>',
      'where to write: a file for one input (default: standard output), a directory for several',
    )
    .addOption(
      new Option('--ties <convention>', 'how equal times order events (default: concurrent)').choices([
        ...tiesConventions,
      ]),
    )
    .addHelpText(
      'after',
      `
Formats:
  edn         Jepsen's history.edn ({:index 0, :time 1234, :type :invoke, :process 0, :f :write, :value 1}, one
              op a line), Knossos's data/ histories (one vector of such maps) and Porcupine's kv logs (with
              :key). Values are kept exactly, integers beyond 2^53 included. ":fail" means the op did not happen.
  jepsen-log  Jepsen's text log of a compare-and-set register (e.g. Porcupine's etcd corpus):
              "INFO  jepsen.util - 3  :invoke  :cas  [1 4]". A ":fail :cas" becomes a fail with error
              "value-mismatch" (the register did not hold old); ":timed-out" completions become info.
  kv-log      Porcupine's kv logs (EDN: the same reader as edn).
  jsonl       Faultline's own format (re-indexed under --ties).
  auto        Detect which one the file is.
Ties: "concurrent" (the default) takes a completion and an invocation with equal times to overlap, Porcupine's
convention and the safe one for another tool's clock; "recorded" keeps the file's order. Faultline's own
histories are checked in recorded order. Files without times are in line order: nothing ties.
A file that holds no client operation is refused (exit 4); with several files, each bad one is reported and
the others are still converted. Check the output with: faultline check --model cas-register OUT`,
    )
    .action(async (format: string, files: string[], flags: ImportFlags) => {
      if (!(formatNames as readonly string[]).includes(format)) {
        throw new UsageError(`unknown import format "${format}"`, `Use one of: ${formatNames.join(', ')}.`);
      }
      const outDir = files.length > 1 ? flags.output : undefined;
      if (files.length > 1) {
        if (!outDir)
          throw new UsageError(
            `${files.length} files to import but no --output directory`,
            'Give -o DIR: each history is written to DIR/<name>.jsonl.',
          );
        mkdirSync(outDir, { recursive: true });
      } else if (flags.output && statSync(flags.output, { throwIfNoEntry: false })?.isDirectory()) {
        throw new UsageError(`${flags.output} is a directory`, 'Give a file name for the one history, or omit -o.');
      }
      let refused = 0;
      for (const file of files) {
        try {
          const { events } = await readHistoryFile(file, {
            format: format as FormatName,
            ...(flags.ties ? { ties: flags.ties } : {}),
            warn: (msg) => process.stderr.write(`faultline: ${msg}\n`),
          });
          const jsonl = toJsonl(events);
          const target = outDir ? join(outDir, `${basename(file).replace(/\.[^.]*$/, '')}.jsonl`) : flags.output;
          if (target) await writeFile(target, jsonl);
          else process.stdout.write(jsonl);
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
          refused++;
          process.stderr.write(describeError(err) + '\n');
        }
      }
      if (refused > 0) process.exitCode = ExitCode.usageError;
    });
}

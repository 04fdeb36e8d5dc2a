// `faultline check`: checks history files for linearizability against a model. Parses flags, reads each file
// through src/formats, checks it with src/checkers/linearizable.ts, prints one result per file.
import { Option, type Command } from 'commander';
import { describeError, ExitCode, exitCodeForVerdict, mergeValidity, UsageError, type Validity } from '../errors.js';
import {
  formatNames,
  readHistoryFile,
  tiesConventions,
  truncateText,
  type FormatName,
  type TiesConvention,
} from '../formats/index.js';
import {
  checkLinearizable,
  linearizableModelNames,
  type LinearizabilityResult,
  type LinearizableModelName,
} from '../checkers/linearizable.js';
import { convertZxidHistory, decideZxidHistory, NotZxidHistory, searchZxidHistory } from '../checkers/zxid-history.js';
import type { HistoryEvent } from '../history.js';

type CheckModel = LinearizableModelName | 'zxid-register';

interface CheckFlags {
  model: CheckModel;
  search?: boolean;
  json?: boolean;
  timeout?: string;
  format: FormatName;
  ties?: TiesConvention;
}

/** Longest value or state shown in the text output (results keep everything). */
const SHOWN = 200;

function parseTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got "${raw}"`, 'For example: --timeout 60.');
  }
  return seconds * 1000;
}

function checkZxid(
  events: readonly HistoryEvent[],
  search: boolean,
  timeoutMs: number | undefined,
): LinearizabilityResult {
  const history = convertZxidHistory(events);
  if (history instanceof NotZxidHistory)
    throw new UsageError(
      `not a history with zxids: ${history.reason}`,
      'Check it by value instead: --model cas-register (histories recorded before zxids were complete lack some).',
    );
  return search ? searchZxidHistory(history, timeoutMs) : decideZxidHistory(history);
}

/** The error with the file named first (readers name it already; checkers name only the event). */
function namedAfter(file: string, err: UsageError): UsageError {
  return err.message.startsWith(file) ? err : new UsageError(`${file}: ${err.message}`, err.fix);
}

function verdictWord(valid: Validity): string {
  return valid === true ? 'linearizable' : valid === false ? 'NOT linearizable' : 'unknown';
}

function summaryLine(file: string, r: LinearizabilityResult): string {
  const head = `${file}: ${verdictWord(r.valid)} (${r.model}, ${r.ops} ops, ${r.partitions} key${r.partitions === 1 ? '' : 's'}, ${r.ms.toFixed(1)} ms)`;
  const lines = [head];
  for (const failure of r.failures ?? []) {
    const key = failure.key === null ? '' : ` key ${JSON.stringify(failure.key)}:`;
    lines.push(
      failure.reason
        ? `  ${key} ${truncateText(failure.reason, SHOWN)}:`
        : `  ${key} longest linearizable prefix ${failure.prefixLength} ops, then state ${truncateText(failure.stateBefore, SHOWN)}; could not place:`,
    );
    for (const op of failure.unplaced.slice(0, 10))
      lines.push(`    #${op.index} process ${op.process} ${truncateText(op.description, SHOWN)}`);
    if (failure.unplaced.length > 10) lines.push(`    ... ${failure.unplaced.length - 10} more`);
  }
  if (r.valid === 'unknown' && r.reason) lines.push(`  ${truncateText(r.reason, SHOWN)}`);
  return lines.join('\n');
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check history files for linearizability')
    .addOption(
      new Option('--model <model>', 'the data type the history exercises')
        .choices([...linearizableModelNames, 'zxid-register'])
        .makeOptionMandatory(),
    )
    .option('--search', 'zxid-register: decide with the search (the oracle) instead of from the zxids')
    .option('--json', 'one JSON object per file: {"file","valid","model","ops","ms"} (or {"file","error"})')
    .option('--timeout <seconds>', 'give up on a file (verdict unknown) after this long')
    .addOption(
      new Option('--format <format>', "the files' format (see `faultline import --help`)")
        .choices([...formatNames])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--ties <convention>',
        'how equal times order events (default: recorded for jsonl, else concurrent)',
      ).choices([...tiesConventions]),
    )
    .argument(
      '<files...>',
      "history files: Faultline's history.jsonl, Jepsen's history.edn or text log, Knossos or Porcupine EDN",
    )
    .addHelpText(
      'after',
      `
Exit status: 0 all linearizable, 1 any not linearizable, 2 undecided (none invalid), 4 bad input (a file that is
not a history is reported and the next file is still checked).
Models: register (read/write), cas-register (read/write/cas [old,new]), zk-register (value + version),
kv (get/put/append per key), queue (enqueue/dequeue), zxid-register (Faultline's register workload: read/write/cas
with the zxid of every op, decided without search). Operations with a "key" are checked key by key.`,
    )
    .action(async (files: string[], flags: CheckFlags) => {
      const timeoutMs = parseTimeout(flags.timeout);
      const verdicts: Validity[] = [];
      let refused = 0;
      for (const file of files) {
        let result: LinearizabilityResult;
        try {
          const { events } = await readHistoryFile(file, {
            format: flags.format,
            ...(flags.ties ? { ties: flags.ties } : {}),
            warn: (msg) => process.stderr.write(`faultline: ${msg}\n`),
          });
          result =
            flags.model === 'zxid-register'
              ? checkZxid(events, flags.search === true, timeoutMs)
              : await checkLinearizable(events, {
                  model: flags.model,
                  ...(timeoutMs !== undefined ? { timeoutMs } : {}),
                  stopEarly: flags.json === true /* JSON lines carry only the verdict */,
                });
        } catch (err) {
          // A file that is not a history (or not one of this model): say so, and go on with the next file.
          if (!(err instanceof UsageError)) throw err;
          refused++;
          process.stderr.write(describeError(namedAfter(file, err)) + '\n');
          if (flags.json) process.stdout.write(JSON.stringify({ file, error: err.message }) + '\n');
          continue;
        }
        verdicts.push(result.valid);
        process.stdout.write(
          (flags.json
            ? JSON.stringify({
                file,
                valid: result.valid,
                model: result.model,
                ops: result.ops,
                ms: result.ms,
                ...(result.reason ? { reason: result.reason } : {}),
              })
            : summaryLine(file, result)) + '\n',
        );
      }
      process.exitCode = refused > 0 ? ExitCode.usageError : exitCodeForVerdict(mergeValidity(verdicts));
    });
}

// `faultline check`: checks recorded histories (history.jsonl) for linearizability against a model.
import { Option, type Command } from 'commander';
import { exitCodeForVerdict, mergeValidity, UsageError, type Validity } from '../errors.js';
import { readHistory } from '../history.js';
import {
  checkLinearizable,
  linearizableModelNames,
  type LinearizabilityResult,
  type LinearizableModelName,
} from '../checkers/linearizable.js';

interface CheckFlags {
  model: LinearizableModelName;
  json?: boolean;
  timeout?: string;
}

function parseTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got "${raw}"`, 'For example: --timeout 60.');
  }
  return seconds * 1000;
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
      `  ${key} longest linearizable prefix ${failure.prefixLength} ops, then state ${failure.stateBefore}; could not place:`,
    );
    for (const op of failure.unplaced.slice(0, 10))
      lines.push(`    #${op.index} process ${op.process} ${op.description}`);
    if (failure.unplaced.length > 10) lines.push(`    ... ${failure.unplaced.length - 10} more`);
  }
  if (r.valid === 'unknown' && r.reason) lines.push(`  ${r.reason}`);
  return lines.join('\n');
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check history files for linearizability')
    .addOption(
      new Option('--model <model>', 'the data type the history exercises')
        .choices([...linearizableModelNames])
        .makeOptionMandatory(),
    )
    .option('--json', 'one JSON object per file: {"file","valid","model","ops","ms"}')
    .option('--timeout <seconds>', 'give up on a file (verdict unknown) after this long')
    .argument('<files...>', 'history.jsonl files (convert other formats with `faultline import`)')
    .addHelpText(
      'after',
      `
Exit status: 0 all linearizable, 1 any not linearizable, 2 undecided (none invalid), 4 bad input.
Models: register (read/write), cas-register (read/write/cas [old,new]), zk-register (value + version),
kv (get/put/append per key), queue (enqueue/dequeue). Operations with a "key" are checked key by key.`,
    )
    .action(async (files: string[], flags: CheckFlags) => {
      const timeoutMs = parseTimeout(flags.timeout);
      const verdicts: Validity[] = [];
      for (const file of files) {
        const events = await readHistory(file, (msg) => process.stderr.write(`faultline: ${msg}\n`));
        const result = await checkLinearizable(events, {
          model: flags.model,
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          stopEarly: flags.json === true /* JSON lines carry only the verdict */,
        });
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
      process.exitCode = exitCodeForVerdict(mergeValidity(verdicts));
    });
}

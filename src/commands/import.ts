// `faultline import`: converts other tools' history logs to Faultline's history.jsonl format.
//  - jepsen-log: Jepsen's text log of a compare-and-set register (the etcd histories of Porcupine's corpus),
//    lines like `INFO  jepsen.util - 3	:invoke	:cas	[1 4]`; other lines are ignored.
//  - kv-log: Porcupine's kv corpus, EDN maps like `{:process 0, :type :invoke, :f :append, :key "4", :value "x"}`.
//  - auto: picks one of the two by looking at the file.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { EventType, HistoryEvent } from '../history.js';

export type ImportFormat = 'jepsen-log' | 'kv-log';
const formats = ['jepsen-log', 'kv-log', 'auto'] as const;

const jepsenLine = /jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:([\w-]+)\s*(.*?)\s*$/;

function parseJepsenValue(text: string, where: string): unknown {
  if (text === 'nil' || text === '') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  const pair = /^\[\s*(-?\d+|nil)\s+(-?\d+|nil)\s*\]$/.exec(text);
  if (pair) return [parseJepsenValue(pair[1] as string, where), parseJepsenValue(pair[2] as string, where)];
  throw new UsageError(
    `${where}: cannot read the value "${text}"`,
    'Jepsen register logs carry nil, integers or [old new] pairs.',
  );
}

/**
 * Jepsen's register log. Times are the line order. `:fail :cas` becomes a fail with error "value-mismatch"
 * (etcd compares values, so the register did not hold old); `:timed-out` completions become info (unknown
 * outcome), as does a `:fail :read :timed-out`.
 */
export function parseJepsenLog(text: string, source = 'jepsen log'): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const m = jepsenLine.exec(lines[n] as string);
    if (!m) continue;
    const [, proc, rawType, f, rawValue] = m as unknown as [string, string, EventType, string, string];
    const timedOut = rawValue === ':timed-out';
    let type: EventType = rawType;
    const event: HistoryEvent = {
      index: events.length,
      time: events.length,
      process: Number(proc),
      type,
      f,
      value: null,
    };
    if (timedOut) {
      type = rawType === 'invoke' ? 'invoke' : 'info';
      event.type = type;
      event.error = 'timed-out';
    } else {
      event.value = parseJepsenValue(rawValue, `${source}:${n + 1}`);
      if (type === 'fail' && f === 'cas') event.error = 'value-mismatch';
    }
    events.push(event);
  }
  return events;
}

const ednString = '"((?:[^"\\\\]|\\\\.)*)"';
const ednField = (name: string, value: string): RegExp => new RegExp(`:${name}\\s+${value}`);
const kvFields = {
  process: ednField('process', '(\\d+)'),
  type: ednField('type', ':(invoke|ok|fail|info)'),
  f: ednField('f', ':([\\w-]+)'),
  key: ednField('key', ednString),
  value: ednField('value', `(nil|${ednString})`),
};

/** Porcupine's kv log (EDN, one map a line). Times are the line order; a get's ok carries the string read. */
export function parseKvLog(text: string, source = 'kv log'): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '') continue;
    const proc = kvFields.process.exec(line);
    const type = kvFields.type.exec(line);
    const f = kvFields.f.exec(line);
    if (!proc || !type || !f) {
      throw new UsageError(
        `${source}:${n + 1}: not a kv log entry`,
        'Each line must be an EDN map with :process, :type and :f.',
      );
    }
    const key = kvFields.key.exec(line);
    const value = kvFields.value.exec(line);
    const event: HistoryEvent = {
      index: events.length,
      time: events.length,
      process: Number(proc[1]),
      type: type[1] as EventType,
      f: f[1] as string,
      value: value && value[1] !== 'nil' ? (JSON.parse(`"${value[2] as string}"`) as string) : null,
    };
    if (key) event.key = JSON.parse(`"${key[1] as string}"`) as string;
    events.push(event);
  }
  return events;
}

export function detectFormat(text: string): ImportFormat | undefined {
  if (jepsenLine.test(text.slice(0, 20_000))) return 'jepsen-log';
  if (/^\s*\{\s*:process/m.test(text.slice(0, 20_000))) return 'kv-log';
  return undefined;
}

export function parseLog(format: ImportFormat, text: string, source: string): HistoryEvent[] {
  return format === 'jepsen-log' ? parseJepsenLog(text, source) : parseKvLog(text, source);
}

export function toJsonl(events: readonly HistoryEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + (events.length > 0 ? '\n' : '');
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description("convert another tool's history log to Faultline's history.jsonl")
    .argument('<format>', `${formats.join(' | ')}`)
    .argument('<file>', 'the log to convert')
    .option('-o, --output <out>', 'write the JSONL here instead of standard output')
    .addHelpText(
      'after',
      `
Formats:
  jepsen-log  Jepsen's text log of a compare-and-set register (e.g. Porcupine's etcd corpus):
              "INFO  jepsen.util - 3  :invoke  :cas  [1 4]". A ":fail :cas" becomes a fail with
              error "value-mismatch"; ":timed-out" completions become info (unknown outcome).
              Check the result with: faultline check --model cas-register OUT
  kv-log      Porcupine's kv log, EDN maps: {:process 0, :type :invoke, :f :append, :key "4", :value "x"}.
              Check the result with: faultline check --model kv OUT
  auto        Detect which of the two the file is.
Times in the output are the line order of the log.`,
    )
    .action(async (format: string, file: string, opts: { output?: string }) => {
      if (!(formats as readonly string[]).includes(format)) {
        throw new UsageError(`unknown import format "${format}"`, `Use one of: ${formats.join(', ')}.`);
      }
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(
          `cannot read ${file}: ${(err as Error).message}`,
          'Give the path of an existing log file.',
        );
      }
      const chosen = format === 'auto' ? detectFormat(text) : (format as ImportFormat);
      if (!chosen)
        throw new UsageError(
          `${file}: neither a Jepsen register log nor a Porcupine kv log`,
          'Name the format explicitly: jepsen-log or kv-log.',
        );
      const jsonl = toJsonl(parseLog(chosen, text, file));
      if (opts.output) await writeFile(opts.output, jsonl);
      else process.stdout.write(jsonl);
    });
}

// History files in every format Faultline reads, one reader per format (this folder), behind one entry point:
//  - jsonl: Faultline's own history.jsonl (src/history.ts reads it);
//  - edn: Jepsen's history.edn, Knossos's data/ histories and Porcupine's kv logs (edn.ts);
//  - jepsen-log: Jepsen's text log of a register, as in Porcupine's etcd corpus (jepsen-log.ts).
// Whatever the format, a file that yields no client operation is refused: a check of nothing is no verdict.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { readHistory, type HistoryEvent } from '../history.js';
import { parseEdnHistory } from './edn.js';
import { hasJepsenLine, parseJepsenLog } from './jepsen-log.js';
import { applyTies, type TiesConvention } from './ties.js';

export { parseEdnHistory, readEdnValues } from './edn.js';
export { parseJepsenLog } from './jepsen-log.js';
export { applyTies, tiesConventions, type TiesConvention } from './ties.js';
export { exactJson, showValue, truncateText } from './show.js';

export type HistoryFormat = 'jsonl' | 'edn' | 'jepsen-log';
/** `kv-log` is the name `faultline import` always had for Porcupine's kv logs, which are EDN. */
export const formatNames = ['auto', 'jsonl', 'edn', 'jepsen-log', 'kv-log'] as const;
export type FormatName = (typeof formatNames)[number];

const SNIFF = 64 * 1024;

/** The format of a history text, from its first lines; undefined when it is none of them. */
export function detectFormat(text: string): HistoryFormat | undefined {
  const head = text.slice(0, SNIFF);
  // The first character that is not blank and not in an EDN comment line.
  const first = /^(?:\s|;[^\n]*\n)*(\S)/.exec(head)?.[1];
  if (first === undefined) return undefined;
  if (hasJepsenLine.test(head)) return 'jepsen-log';
  if (first === '{') {
    const rest = head.slice(head.indexOf('{') + 1).trimStart();
    if (rest.startsWith('"')) return 'jsonl';
    if (rest.startsWith(':')) return 'edn';
    return undefined;
  }
  if (first === '[' || first === '(' || (first === '#' && /#jepsen\.history\.Op\{/.test(head))) return 'edn';
  return undefined;
}

export interface ReadOptions {
  format?: FormatName;
  /** How equal times order events (see ties.ts). Default: recorded for jsonl, concurrent for the others. */
  ties?: TiesConvention;
  warn?: (message: string) => void;
}

export interface ReadResult {
  format: HistoryFormat;
  ties: TiesConvention;
  events: HistoryEvent[];
}

function resolveFormat(name: FormatName, text: string, file: string): HistoryFormat {
  if (name === 'kv-log') return 'edn';
  if (name !== 'auto') return name;
  if (text.trim() === '')
    throw new UsageError(`${file}: not a history: the file is empty`, 'Give a history file that records operations.');
  const detected = detectFormat(text);
  if (detected) return detected;
  throw new UsageError(
    `${file}: not a history: neither Faultline's JSON Lines, Jepsen's EDN nor a Jepsen text log`,
    'Give a history.jsonl, a Jepsen history.edn (or Knossos/Porcupine EDN), or a Jepsen log; or name the format with --format.',
  );
}

/** Parses a history text in the given format (no client-operation check: see requireHistory). */
export function parseHistoryText(format: HistoryFormat, text: string, source: string): HistoryEvent[] {
  switch (format) {
    case 'edn':
      return parseEdnHistory(text, source);
    case 'jepsen-log': {
      const events = parseJepsenLog(text, source);
      if (events.length === 0 && text.trim() !== '')
        throw new UsageError(
          `${source}: no Jepsen log line in it (lines like "INFO  jepsen.util - 3	:invoke	:cas	[1 4]")`,
          detectFormat(text) === 'edn'
            ? 'This file is EDN: read it as edn (or auto).'
            : 'Give a Jepsen text log, or name the right format.',
        );
      return events;
    }
    case 'jsonl':
      throw new Error('JSON Lines histories are read from files (readHistory)');
  }
}

/** Refuses a history with no client operation, naming the file. */
export function requireHistory(events: readonly HistoryEvent[], file: string): void {
  if (events.some((e) => typeof e.process === 'number')) return;
  throw new UsageError(
    events.length === 0
      ? `${file}: not a history: it holds no events`
      : `${file}: not a history to check: ${events.length} events, none of them a client operation`,
    'Give a history that records client operations (invoke and completion events).',
  );
}

/** Reads a history file of any supported format; refuses one that holds no client operation. */
export async function readHistoryFile(file: string, options: ReadOptions = {}): Promise<ReadResult> {
  const name = options.format ?? 'auto';
  let format: HistoryFormat;
  let events: HistoryEvent[];
  if (name === 'jsonl') {
    format = 'jsonl';
    events = await readHistory(file, options.warn);
  } else {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        code === 'EISDIR'
          ? `${file} is a directory, not a history file`
          : `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
        'Give the path of a history file.',
      );
    }
    format = resolveFormat(name, text, file);
    events = format === 'jsonl' ? await readHistory(file, options.warn) : parseHistoryText(format, text, file);
  }
  requireHistory(events, file);
  const ties = options.ties ?? (format === 'jsonl' ? 'recorded' : 'concurrent');
  return { format, ties, events: applyTies(events, ties) };
}

// Jepsen's EDN histories, read with edn-data (see docs/decisions.md):
//  - Jepsen's `history.edn`: one op map a line, `{:index 0, :time 1234, :type :invoke, :process 0, :f :read,
//    :value nil}` (Jepsen 0.3 may print them as `#jepsen.history.Op{...}` records);
//  - Knossos's `data/` layout: one vector of op maps, `[{:process 0, :type :invoke, :f :cas, :value [1 2]} ...]`;
//  - Porcupine's kv logs: op maps a line with a `:key` (`{:process 0, :type :invoke, :f :append, :key "4", ...}`).
// Values are kept exactly: integers beyond 2^53 become bigints, keywords and symbols their names, vectors, lists
// and sets arrays, maps objects. `:fail` means what Jepsen says it means: the op did not happen.
// The streaming parser class is not re-exported by the package's index (it is public in its dist/parse.d.ts).
import { EDNListParser } from 'edn-data/dist/parse.js';
import { UsageError } from '../errors.js';
import type { EventType, HistoryEvent, ProcessId } from '../history.js';
import { showValue } from './show.js';

/** edn-data reads integers with parseInt; this keeps the token of an integer beyond 2^53 as a bigint. */
class ExactEdnParser extends EDNListParser {
  override match(): void {
    const token = this.state;
    if (/^[-+]?(0|[1-9][0-9]*)$/.test(token) && !Number.isSafeInteger(Number(token))) {
      this.result = BigInt(token);
      this.state = '';
      return;
    }
    super.match();
  }
}

const parseOptions = {
  mapAs: 'object',
  setAs: 'array',
  listAs: 'array',
  keywordAs: 'string',
  symbolAs: 'string',
  charAs: 'string',
  // Jepsen 0.3 prints ops as records; a record is its map.
  tagHandlers: { 'jepsen.history.Op': (value: unknown) => value },
} as const;

/** A parsed EDN value as plain data: records and tagged values unwrapped, dates as ISO text. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // An unknown tag: edn-data gives {tag, val}; a record (a dotted tag) is its map, anything else keeps its value.
  if (keys.length === 2 && typeof record.tag === 'string' && 'val' in record) return plain(record.val);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = plain(record[k]);
  return out;
}

/** The top-level EDN values of a text, each with the line it ends on. */
export function readEdnValues(text: string, source: string): { value: unknown; line: number }[] {
  const parser = new ExactEdnParser(parseOptions);
  const values: { value: unknown; line: number }[] = [];
  let line = 0;
  const feed = (chunk: string): void => {
    let got: unknown[];
    try {
      got = parser.next(chunk);
    } catch (err) {
      throw new UsageError(
        `${source}:${Math.max(line, 1)}: not valid EDN (${(err as Error).message})`,
        'Give a Jepsen history.edn, a Knossos history ([{:process 0, :type :invoke, ...} ...]) or a JSON Lines history.',
      );
    }
    for (const value of got) values.push({ value, line: Math.max(line, 1) });
    // edn-data hands over a value finished at the end of a chunk only with the next chunk: take it now.
    if (!parser.isDone() && parser.stack.length === 0 && parser.result !== undefined) {
      values.push({ value: parser.result, line: Math.max(line, 1) });
      parser.result = undefined;
    }
  };
  feed('(');
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const stop = end < 0 ? text.length : end + 1;
    line++;
    feed(text.slice(start, stop));
    if (end < 0) break;
    start = stop;
  }
  // edn-data's modes (not exported): 0 between tokens, 1 in a string; 4 in a comment is fine at the end.
  const mode = parser.mode as number;
  if (parser.stack.length > 0 || (mode !== 0 && mode !== 4)) {
    throw new UsageError(
      `${source}: the EDN ends inside an unclosed ${mode === 1 ? 'string' : 'vector, list, map or set'}`,
      'The file is probably truncated: check that it was copied whole.',
    );
  }
  feed(')');
  return values;
}

const TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

function describeEdn(value: unknown): string {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return 'a vector';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}

function opError(source: string, line: number, problem: string): UsageError {
  return new UsageError(
    `${source}:${line}: ${problem}`,
    'Each operation is a map like {:process 0, :type :invoke, :f :read, :value nil} (Jepsen history.edn).',
  );
}

/**
 * Reads an EDN history. Index and time come from `:index` and `:time` when every op has them, else from the
 * position of the op in the file.
 */
export function parseEdnHistory(text: string, source = 'EDN history'): HistoryEvent[] {
  const ops: { op: Record<string, unknown>; line: number }[] = [];
  for (const { value, line } of readEdnValues(text, source)) {
    // Knossos's layout: the whole history is one vector (or list) of maps.
    const items = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const item of items) {
      const op = plain(item);
      if (op === null || typeof op !== 'object' || Array.isArray(op))
        throw opError(source, line, `not an operation: ${describeEdn(op)}`);
      ops.push({ op: op as Record<string, unknown>, line });
    }
  }
  const withTime = ops.length > 0 && ops.every(({ op }) => typeof op.time === 'number');
  const withIndex = ops.length > 0 && ops.every(({ op }) => typeof op.index === 'number');
  return ops.map(({ op, line }, position): HistoryEvent => {
    const type = op.type;
    if (typeof type !== 'string' || !TYPES.has(type))
      throw opError(source, line, `:type must be :invoke, :ok, :fail or :info, got ${describeEdn(type)}`);
    if (typeof op.f !== 'string' && typeof op.f !== 'number')
      throw opError(source, line, `:f must be a keyword, got ${describeEdn(op.f)}`);
    const process = op.process;
    let processId: ProcessId;
    if (typeof process === 'number' && Number.isInteger(process)) processId = process;
    else if (typeof process === 'string')
      processId = 'nemesis'; // :nemesis: not a client
    else throw opError(source, line, `:process must be an integer or :nemesis, got ${describeEdn(process)}`);
    const event: HistoryEvent = {
      index: withIndex ? (op.index as number) : position,
      time: withTime ? (op.time as number) : position,
      process: processId,
      type: type as EventType,
      f: String(op.f),
      value: op.value === undefined ? null : op.value,
    };
    if (typeof op.key === 'string' || typeof op.key === 'number') event.key = op.key;
    if (op.error !== undefined && op.error !== null)
      event.error = typeof op.error === 'string' ? op.error : showValue(op.error);
    return event;
  });
}

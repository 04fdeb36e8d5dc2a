// The recorded history: one JSON object a line, streamed to disk while the run goes,
// so a crashed harness still leaves a history that `faultline analyze` can check.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isInteger, parse as parseLossless } from 'lossless-json';
// zod's mini build (the same library, functional checks): `faultline check` loads this module, and the full
// build alone took longer to load than the whole check of a small file (docs/decisions.md, start-up).
import * as z from 'zod/mini';
import { UsageError } from './errors.js';

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
/** A client process, the nemesis, or the recovery phase's reads ('final', one per node, after the final heal). */
export type ProcessId = number | 'nemesis' | 'final';

/** One line of history.jsonl. */
export interface HistoryEvent {
  index: number;
  /** Nanoseconds since the start of the run. */
  time: number;
  process: ProcessId;
  type: EventType;
  f: string;
  value: unknown;
  key?: string | number;
  node?: string;
  error?: string;
  /** Hex zxid of the write an op made or of the data it read (Stat.mzxid), where the op learned it. */
  zxid?: string;
}

const eventSchema = z.object({
  index: z.int().check(z.nonnegative()),
  time: z.number().check(z.nonnegative()),
  process: z.union([z.int(), z.literal('nemesis'), z.literal('final')]),
  type: z.enum(['invoke', 'ok', 'fail', 'info']),
  f: z.string(),
  value: z.unknown(),
  key: z.optional(z.union([z.string(), z.number()])),
  node: z.optional(z.string()),
  error: z.optional(z.string()),
  zxid: z.optional(z.string()),
});

/**
 * Appends events to history.jsonl as they happen; each line is written before the next op starts. A write that
 * fails (a full disk, a read-only one) does not crash the run: the first failure is kept (`failure`) and writing
 * stops, the events stay in memory, and the run ends with a verdict that names the cause.
 */
export class HistoryWriter {
  private readonly out: WriteStream;
  private nextIndex = 0;
  private readonly startNs: bigint;
  readonly events: HistoryEvent[] = [];
  /** The first error writing the file, if any. */
  failure: NodeJS.ErrnoException | undefined;
  private closed: Promise<void> | undefined;

  constructor(
    readonly path: string,
    startNs: bigint = process.hrtime.bigint(),
  ) {
    this.startNs = startNs;
    this.out = createWriteStream(path, { flags: 'a' });
    this.out.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= err;
    });
  }

  /** Nanoseconds since the run started. */
  now(): number {
    return Number(process.hrtime.bigint() - this.startNs);
  }

  append(event: Omit<HistoryEvent, 'index' | 'time'> & { time?: number }): HistoryEvent {
    const full: HistoryEvent = { index: this.nextIndex++, time: event.time ?? this.now(), ...event };
    // Key order is fixed so files diff cleanly.
    const ordered: HistoryEvent = {
      index: full.index,
      time: full.time,
      process: full.process,
      type: full.type,
      f: full.f,
      value: full.value ?? null,
      ...(full.key !== undefined ? { key: full.key } : {}),
      ...(full.node !== undefined ? { node: full.node } : {}),
      ...(full.error !== undefined ? { error: full.error } : {}),
      ...(full.zxid !== undefined ? { zxid: full.zxid } : {}),
    };
    this.events.push(ordered);
    if (!this.failure && !this.closed && !this.out.destroyed) this.out.write(JSON.stringify(ordered) + '\n');
    return ordered;
  }

  /** Flushes and closes the file; resolves also after a write failure (see `failure`). */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      if (this.out.destroyed) return resolve();
      this.out.end(() => resolve());
      this.out.once('error', () => resolve());
    });
    return this.closed;
  }
}

/**
 * One JSON line. Integers beyond 2^53 (which JSON.parse would round) are read as bigints; only lines with a run of
 * 16 digits take that slower path.
 */
function parseJsonLine(line: string): unknown {
  return /\d{16}/.test(line) ? parseLossless(line, undefined, exactNumber) : JSON.parse(line);
}

function exactNumber(text: string): number | bigint {
  if (!isInteger(text)) return parseFloat(text);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * Reads a history file. A truncated last line (the harness died mid-write) is dropped with a warning;
 * any other malformed line is a UsageError naming the file and line, and so are indexes that do not increase
 * (events are written in index order).
 */
export async function readHistory(path: string, warn: (msg: string) => void = () => {}): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNo = 0;
  let pendingError: string | undefined;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      if (pendingError)
        throw new UsageError(
          pendingError,
          'Fix or remove that line; histories are JSON Lines as written by `faultline test`.',
        );
      let parsed: unknown;
      try {
        parsed = parseJsonLine(line);
      } catch {
        // Only acceptable as the very last line: the harness crashed while writing it.
        pendingError = `${path}:${lineNo}: not valid JSON`;
        continue;
      }
      const result = eventSchema.safeParse(parsed);
      if (!result.success) {
        const issue = result.error.issues[0];
        throw new UsageError(
          `${path}:${lineNo}: not a history event (${issue ? `${issue.path.join('.') || 'line'}: ${issue.message}` : 'invalid'})`,
          'Each line must look like {"index":0,"time":0,"process":0,"type":"invoke","f":"read","value":null}.',
        );
      }
      const last = events[events.length - 1];
      if (last && result.data.index <= last.index)
        throw new UsageError(
          `${path}:${lineNo}: index ${result.data.index} after index ${last.index}: events must be in increasing index order`,
          'Keep the lines in the order the events happened, each with a larger index than the line before.',
        );
      events.push(result.data);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(
        `history file not found: ${path}`,
        'Give the path of a history.jsonl written by `faultline test`.',
      );
    }
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new UsageError(`${path} is a directory, not a history file`, 'Give the history.jsonl inside it.');
    }
    throw err;
  }
  if (pendingError && events.length === 0)
    throw new UsageError(pendingError, 'Give a history: JSON Lines as written by `faultline test`.');
  if (pendingError) warn(`${pendingError} (the last line is incomplete, ignored: the run was probably interrupted)`);
  return events;
}

/** A client operation: an invocation paired with its completion (absent if the run ended first). */
export interface Operation {
  process: number;
  f: string;
  key?: string | number;
  node?: string;
  /** The invocation's value. */
  input: unknown;
  /** The completion's value; undefined when there is no completion. */
  output: unknown;
  /** 'info' also stands for "never completed". */
  type: 'ok' | 'fail' | 'info';
  error?: string;
  /** The completion's zxid, when it carried one. */
  zxid?: string;
  invokeTime: number;
  /** Completion time; Infinity when it never completed. A checker treats info ops as open-ended either way. */
  completeTime: number;
  invokeIndex: number;
  completeIndex: number;
}

/** Items grouped by a key, each group in the items' order (linear: histories have millions of ops). */
export function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** Pairs each client invocation with the next completion of the same process. Nemesis events are skipped. */
export function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<number, HistoryEvent>();
  const ops: Operation[] = [];
  const openOps = new Map<number, Operation>();
  for (const e of events) {
    if (typeof e.process !== 'number') continue; // nemesis and recovery-phase events are not client ops
    if (e.type === 'invoke') {
      if (open.has(e.process)) {
        throw new UsageError(
          `history event ${e.index}: process ${e.process} invokes again before its previous operation completed`,
          'A process runs one operation at a time; a process whose operation timed out must continue under a new id.',
        );
      }
      const op: Operation = {
        process: e.process,
        f: e.f,
        input: e.value,
        output: undefined,
        type: 'info',
        invokeTime: e.time,
        completeTime: Infinity,
        invokeIndex: e.index,
        completeIndex: Infinity,
        ...(e.key !== undefined ? { key: e.key } : {}),
        ...(e.node !== undefined ? { node: e.node } : {}),
      };
      open.set(e.process, e);
      openOps.set(e.process, op);
      ops.push(op);
    } else {
      const op = openOps.get(e.process);
      if (!op) {
        throw new UsageError(
          `history event ${e.index}: process ${e.process} completes an operation it never invoked`,
          'Every ok/fail/info of a client process must follow its invoke.',
        );
      }
      op.type = e.type;
      op.output = e.value;
      op.completeTime = e.time;
      op.completeIndex = e.index;
      if (e.error !== undefined) op.error = e.error;
      if (e.zxid !== undefined) op.zxid = e.zxid;
      open.delete(e.process);
      openOps.delete(e.process);
    }
  }
  return ops;
}

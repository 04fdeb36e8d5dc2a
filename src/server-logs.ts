// The log oracle's reading: what each server wrote in its log (nodes/<n>/logs/zookeeper.log) that says something went
// wrong. Patterns are ZooKeeper's own messages, taken from its source, chosen by what they mean for the run: a
// database that will not load, a server that exits, a critical thread that died, a digest mismatch, a protocol
// step that "should be impossible". Routine noise of a faulty run (a follower losing its leader, a learner handler
// whose socket closed, a failed connect) is not in the list: ZooKeeper logs it at ERROR too, and it means nothing.
// Scanning is pure (text in, entries out); the run store keeps the result in server-logs.json (src/store/).

/**
 * What a match means. `invalid`: the run is invalid unless a fault that explains it came first (`documentedAfter`).
 * `advisory`: reported, never deciding (ZooKeeper copes, but it is worth a look).
 */
export type LogSeverity = 'invalid' | 'advisory';

export interface LogPattern {
  name: string;
  /** Matched against an entry's first line (the message, after timestamp, thread, level and logger). */
  regex: RegExp;
  severity: LogSeverity;
  /**
   * Fault names (from the history's nemesis events) after which a match is expected, as a regular expression: a
   * CRC error after a bit flip, a database that will not load after a snapshot was deleted. A match after such a
   * fault started is documented.
   */
  documentedAfter?: RegExp;
  description: string;
}

/** Faults that damage a node's files on purpose (the disk family). */
const DAMAGE = /^disk-/;
/**
 * Faults that cut a node's connections or stop it: a critical thread may die of a broken socket. The stopped-copy
 * backup stops a follower and starts it again; while it resyncs, 3.8.0 can hit ZOOKEEPER-4394 and ZOOKEEPER-4409.
 */
const CONNECTION_LOSS =
  /^(partition|kill|crash|power-loss|pause|restart|packet|disk|clock|membership|join|leave|backup-stopped)/;
/** Faults that stop a server mid-write: the log's last record may be torn (ZooKeeper then truncates it). */
const TORN_WRITE = /^(kill|crash|power-loss|restart|disk)/;

/** ZooKeeper's signs of trouble (read from its source: QuorumPeer, ZooKeeperServer, FileTxnLog, DataTree...). */
export const DEFAULT_LOG_PATTERNS: readonly LogPattern[] = [
  {
    name: 'database-not-loaded',
    regex: /Unable to load database on disk/,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'the server could not load its snapshot and log at start (QuorumPeer.loadDataBase)',
  },
  {
    name: 'server-exited',
    regex:
      /exiting abnormally|Exiting JVM with code [1-9]|Fatal error, JVM should exit|Fatal error starting quorum peer/,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'the server process exited on an error',
  },
  {
    name: 'snapshot-failed',
    regex: /Severe unrecoverable error, exiting/,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'taking a snapshot failed, and the server exits (ZooKeeperServer.takeSnapshot)',
  },
  {
    name: 'critical-thread-died',
    regex: /Severe unrecoverable error, from thread/,
    severity: 'invalid',
    documentedAfter: CONNECTION_LOSS,
    description:
      'an uncaught exception in a critical server thread (request processors, sync thread); after a fault that broke its connections this is how a follower restarts',
  },
  {
    name: 'uncaught-exception',
    regex: /Thread .* died|Exception in thread "|Uncaught exception/,
    severity: 'invalid',
    description: 'an uncaught exception in a server thread',
  },
  {
    name: 'out-of-memory',
    regex: /OutOfMemoryError/,
    severity: 'invalid',
    description: 'the JVM ran out of memory',
  },
  {
    name: 'digest-mismatch',
    regex: /digest mismatch/i,
    severity: 'invalid',
    description: "a replica's tree digest differs from the one in the transaction (DataTree.compareDigest)",
  },
  {
    name: 'crc-error',
    regex: /CRC check failed|CRC corruption|CRC doesn't match/,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'a log record or snapshot failed its checksum',
  },
  {
    name: 'invalid-snapshot',
    regex: /invalid snapshot|problem reading snap file/i,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'a snapshot could not be read (ZooKeeper falls back to an older one)',
  },
  {
    name: 'partial-transaction',
    regex: /Last transaction was partial/,
    severity: 'invalid',
    documentedAfter: TORN_WRITE,
    description: "the log's last record is torn (expected after a server stopped mid-write)",
  },
  {
    name: 'truncate-failed',
    regex: /Unable to truncate Txn log|Not able to truncate the log/,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'a follower could not truncate its log to the leader (TRUNC)',
  },
  {
    name: 'processor-stopped',
    regex: /Exception thrown by downstream processor, unable to continue/,
    severity: 'invalid',
    description: "the commit processor's downstream failed and it stopped",
  },
  {
    name: 'impossible-state',
    regex:
      /This really should be impossible|\(highestZxid\) > .*\(next log\)|Received an UPTODATE message after (Follower|Observer) started|First packet should have been NEWLEADER|Got unexpected packet from leader/,
    severity: 'invalid',
    documentedAfter: DAMAGE,
    description: 'a state of the quorum protocol that ZooKeeper says cannot happen',
  },
  {
    name: 'txnlog-unreadable',
    regex: /Unable to read txnlog from disk/,
    severity: 'advisory',
    description: 'the leader could not read its log to sync a learner (it falls back to a snapshot)',
  },
  {
    name: 'epoch-disagreement',
    regex: /is from a different epoch|Proposed leader epoch .* is less than/,
    severity: 'advisory',
    description: 'a learner answered NEWLEADER from another epoch',
  },
];

/** One log entry that matched a pattern. */
export interface LogFinding {
  pattern: string;
  /** Line number (1-based) of the entry's first line in zookeeper.log. */
  line: number;
  /** The entry's time on the history's clock (ns), when its timestamp could be read. */
  time: number | null;
  level: string;
  /** The entry's first line, at most 400 characters. */
  text: string;
  /** The first lines after it (an exception and the top of its stack), at most 3. */
  detail: string[];
}

/** What one node's log said. */
export interface NodeLog {
  /** Lines in the file (0: no log). */
  lines: number;
  /** Matches per pattern (every one, also those not kept in `findings`). */
  counts: Record<string, number>;
  /** Matches, in log order, at most FINDINGS_KEPT per pattern. */
  findings: LogFinding[];
  /** The last WARN and ERROR entries of the log (its last words: why a node did not come back). */
  tail: LogFinding[];
}

export interface ServerLogs {
  /** Wall clock (ms since the epoch) of the history's time 0: how log timestamps map onto the history. */
  historyStartMs: number;
  /** Names of the patterns the logs were scanned with. */
  patterns: string[];
  nodes: Record<string, NodeLog>;
}

export const FINDINGS_KEPT = 20;
export const TAIL_KEPT = 12;
const TEXT_CHARS = 400;

// slf4j-simple as the harness configures it: `2026-11-22T04:30:00.123 [thread] LEVEL logger - message`; a tarball
// build's log4j/logback: `2026-11-22 04:30:00,123 [myid:1] - LEVEL [thread:Class@123] - message`.
const ENTRY = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)[.,](\d{3})\b.*?\b(ERROR|WARN|INFO|DEBUG|TRACE|FATAL)\b/;

/** A log line's timestamp (ms since the epoch; the log is in UTC) and level, or null for a continuation line. */
export function logEntry(line: string): { wallMs: number; level: string } | null {
  const entry = ENTRY.exec(line);
  return entry ? { wallMs: Date.parse(`${entry[1]}T${entry[2]}.${entry[3]}Z`), level: entry[4]! } : null;
}

/** Scans one log's text with the patterns; times mapped onto the history by `historyStartMs` (the log is in UTC). */
export function scanServerLog(text: string, patterns: readonly LogPattern[], historyStartMs: number): NodeLog {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const counts: Record<string, number> = {};
  const findings: LogFinding[] = [];
  const tail: LogFinding[] = [];
  let current: LogFinding | undefined;
  // An entry's continuation lines (stack traces) follow it until the next timestamped line.
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const entry = logEntry(raw);
    if (!entry) {
      if (current && current.detail.length < 3 && raw.trim()) current.detail.push(raw.trim().slice(0, TEXT_CHARS));
      continue;
    }
    current = undefined;
    const { level, wallMs: wall } = entry;
    const found = (pattern: string): LogFinding => ({
      pattern,
      line: i + 1,
      time: Number.isNaN(wall) ? null : (wall - historyStartMs) * 1e6,
      level,
      text: raw.slice(0, TEXT_CHARS),
      detail: [],
    });
    for (const pattern of patterns) {
      if (!pattern.regex.test(raw)) continue;
      counts[pattern.name] = (counts[pattern.name] ?? 0) + 1;
      if (findings.filter((f) => f.pattern === pattern.name).length < FINDINGS_KEPT) {
        current = found(pattern.name);
        findings.push(current);
      }
      break;
    }
    if (level === 'ERROR' || level === 'WARN' || level === 'FATAL') {
      const last = current ?? found('');
      if (!current) current = last;
      tail.push(last);
      if (tail.length > TAIL_KEPT) tail.shift();
    }
  }
  return { lines: lines.length, counts, findings, tail };
}

/** Patterns from a test's config: `name=regex` (invalid) or `name~regex` (advisory). */
export function parseLogPattern(spec: string): LogPattern | string {
  const m = /^([a-z][a-z0-9-]*)([=~])(.+)$/.exec(spec);
  if (!m) return `"${spec}" is not name=regex or name~regex`;
  try {
    return {
      name: m[1]!,
      regex: new RegExp(m[3]!),
      severity: m[2] === '=' ? 'invalid' : 'advisory',
      description: `the test's pattern /${m[3]}/`,
    };
  } catch (err) {
    return `"${spec}": ${(err as Error).message}`;
  }
}

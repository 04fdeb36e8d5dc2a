// The log and restart oracles on inputs whose verdict is known: log text written by hand in the servers' format
// (lines as ZooKeeper 3.8/3.9 print them through slf4j-simple), and histories with and without an unrecovered node.
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/history.js';
import { judgeRecovery } from '../../src/checkers/recovery.js';
import { judgeServerLogs } from '../../src/checkers/server-log.js';
import { FINAL_RECOVERY } from '../../src/final-state.js';
import { DEFAULT_LOG_PATTERNS, parseLogPattern, scanServerLog, type ServerLogs } from '../../src/server-logs.js';

const START = Date.parse('2026-12-02T07:00:00.000Z');
const at = (s: number): string => new Date(START + s * 1000).toISOString().replace('Z', '');
const line = (s: number, thread: string, level: string, logger: string, msg: string): string =>
  `${at(s)} [${thread}] ${level} org.apache.zookeeper.server.${logger} - ${msg}`;

/** A healthy server's start and a follower losing its leader: routine, at WARN and ERROR. */
const ROUTINE = [
  line(1, 'main', 'INFO', 'quorum.QuorumPeerConfig', 'Reading configuration from: /faultline/conf/zoo.cfg'),
  line(2, 'QuorumPeer[myid=2]', 'WARN', 'quorum.Follower', 'Exception when following the leader'),
  'java.io.EOFException',
  '\tat java.base/java.io.DataInputStream.readInt(DataInputStream.java:386)',
  line(
    3,
    'LearnerHandler-/172.29.0.13:40000',
    'ERROR',
    'quorum.LearnerHandler',
    'Unexpected exception in LearnerHandler: ',
  ),
  'java.net.SocketException: Connection reset',
  line(
    4,
    'QuorumPeer[myid=2]',
    'ERROR',
    'quorum.LearnerHandler',
    'Unhandled scenario for peer sid: 3 fall back to use snapshot',
  ),
  line(5, 'QuorumConnectionThread', 'WARN', 'quorum.QuorumCnxManager', 'Cannot open channel to 3 at election address'),
].join('\n');

/** A server that cannot load its data: the start of the log ZooKeeper writes then (3.9). */
const BROKEN = [
  line(10, 'main', 'INFO', 'persistence.FileTxnSnapLog', 'Snapshotting: 0x0 to /faultline/data/version-2/snapshot.0'),
  line(20, 'main', 'ERROR', 'quorum.QuorumPeer', 'Unable to load database on disk'),
  'java.io.IOException: No snapshot found, but there are log entries. Something is broken!',
  '\tat org.apache.zookeeper.server.persistence.FileTxnSnapLog.restore(FileTxnSnapLog.java:290)',
  '\tat org.apache.zookeeper.server.ZKDatabase.loadDataBase(ZKDatabase.java:290)',
  '\tat org.apache.zookeeper.server.quorum.QuorumPeer.loadDataBase(QuorumPeer.java:1149)',
  line(20.1, 'main', 'ERROR', 'quorum.QuorumPeerMain', 'Unexpected exception, exiting abnormally'),
  'java.lang.RuntimeException: Unable to run quorum server ',
  line(20.2, 'main', 'ERROR', 'util.ServiceUtils', 'Exiting JVM with code 1'),
].join('\n');

/** A follower's sync thread dying as it resyncs after a restart (3.8.0, ZOOKEEPER-4394 then ZOOKEEPER-4409). */
const SYNC_THREAD_DIED = [
  line(16, 'QuorumPeer[myid=2]', 'WARN', 'quorum.Learner', 'Exception when following the leader'),
  'java.lang.NullPointerException: Cannot read field "hdr" because "pif" is null',
  line(
    16,
    'SyncThread:2',
    'ERROR',
    'ZooKeeperCriticalThread',
    'Severe unrecoverable error, from thread : SyncThread:2',
  ),
  'java.lang.NullPointerException: Cannot invoke "java.net.Socket.isClosed()" because "this.learner.sock" is null',
].join('\n');

const logsOf = (texts: Record<string, string>): ServerLogs => ({
  historyStartMs: START,
  patterns: DEFAULT_LOG_PATTERNS.map((p) => p.name),
  nodes: Object.fromEntries(Object.entries(texts).map(([n, t]) => [n, scanServerLog(t, DEFAULT_LOG_PATTERNS, START)])),
});

let index = 0;
const ev = (e: Omit<HistoryEvent, 'index'>): HistoryEvent => ({ index: index++, ...e });
const fault = (name: string, s: number, value: Record<string, unknown> = {}): HistoryEvent[] => [
  ev({ process: 'nemesis', type: 'info', f: 'start', value: name, time: s * 1e9 }),
  ev({ process: 'nemesis', type: 'info', f: 'start', value: { fault: name, ...value }, time: s * 1e9 + 1e6 }),
];

describe('scanning a server log', () => {
  it('finds nothing in routine noise, and keeps its last warnings and errors as the tail', () => {
    const log = scanServerLog(ROUTINE, DEFAULT_LOG_PATTERNS, START);
    expect(log.findings).toEqual([]);
    expect(log.counts).toEqual({});
    expect(log.lines).toBe(8);
    expect(log.tail.map((t) => t.level)).toEqual(['WARN', 'ERROR', 'ERROR', 'WARN']);
    expect(log.tail[1]!.detail).toEqual(['java.net.SocketException: Connection reset']);
  });

  it('finds a database that will not load and the exit, with the exception, line and history time', () => {
    const log = scanServerLog(BROKEN, DEFAULT_LOG_PATTERNS, START);
    expect(log.counts).toEqual({ 'database-not-loaded': 1, 'server-exited': 2 });
    const first = log.findings[0]!;
    expect(first).toMatchObject({ pattern: 'database-not-loaded', line: 2, level: 'ERROR', time: 20e9 });
    expect(first.detail[0]).toMatch(/No snapshot found, but there are log entries/);
    expect(first.detail).toHaveLength(3);
  });

  it("reads a tarball build's log4j lines too", () => {
    const text =
      '2026-12-02 07:00:30,500 [myid:1] - ERROR [main:o.a.z.s.q.QuorumPeer@1262] - Unable to load database on disk';
    expect(scanServerLog(text, DEFAULT_LOG_PATTERNS, START).findings[0]).toMatchObject({ time: 30.5e9 });
  });

  it("takes a test's own patterns and refuses malformed ones", () => {
    const own = parseLogPattern('follower-lost~Exception when following the leader');
    expect(typeof own).toBe('object');
    if (typeof own === 'string') return;
    expect(own.severity).toBe('advisory');
    expect(scanServerLog(ROUTINE, [own], START).counts).toEqual({ 'follower-lost': 1 });
    expect(parseLogPattern('no pattern here')).toMatch(/not name=regex/);
    expect(parseLogPattern('bad=(')).toMatch(/Invalid regular expression/);
  });
});

describe('the log oracle', () => {
  it('is valid on routine noise', () => {
    const result = judgeServerLogs(logsOf({ n1: ROUTINE, n2: ROUTINE }), fault('kill-leader', 1));
    expect(result.valid).toBe(true);
    expect(result.anomalies).toEqual([]);
  });

  it('is invalid when a server will not load its database and no fault damaged it', () => {
    const result = judgeServerLogs(logsOf({ n1: ROUTINE, n2: BROKEN }), fault('kill-follower', 5));
    expect(result.valid).toBe(false);
    expect(result.anomalies!.map((a) => a.type)).toEqual(['log-database-not-loaded', 'log-server-exited']);
    expect(result.anomalies![0]!.description).toMatch(/^n2: .*No snapshot found/);
    expect(result.counts).toEqual({ 'database-not-loaded': 1, 'server-exited': 2 });
  });

  it('documents it after a disk fault that came first, not after one that came later', () => {
    const before = judgeServerLogs(logsOf({ n2: BROKEN }), fault('disk-delete-snapshot', 15));
    expect(before.valid).toBe(true);
    expect(before.anomalies!.every((a) => a.documented)).toBe(true);
    const later = judgeServerLogs(logsOf({ n2: BROKEN }), fault('disk-delete-snapshot', 25));
    expect(later.valid).toBe(false);
  });

  it('documents a critical thread that died after the stopped-copy backup restarted its node, not without it', () => {
    const backup = (f: string, s: number): HistoryEvent[] => [
      ev({ process: 'nemesis', type: 'info', f, value: 'backup-stopped', time: s * 1e9 }),
    ];
    const restarted = judgeServerLogs(logsOf({ n2: SYNC_THREAD_DIED }), backup('backup', 14));
    expect(restarted.valid).toBe(true);
    expect(restarted.anomalies!.map((a) => [a.type, a.documented])).toEqual([['log-critical-thread-died', true]]);
    // Not explained by a restore event of that name, by nothing, or by a backup that came after the line.
    expect(judgeServerLogs(logsOf({ n2: SYNC_THREAD_DIED }), backup('restore', 14)).valid).toBe(false);
    expect(judgeServerLogs(logsOf({ n2: SYNC_THREAD_DIED }), []).valid).toBe(false);
    expect(judgeServerLogs(logsOf({ n2: SYNC_THREAD_DIED }), backup('backup', 20)).valid).toBe(false);
  });

  it('is unknown when no log was read', () => {
    expect(judgeServerLogs({ historyStartMs: START, patterns: [], nodes: {} }, []).valid).toBe('unknown');
  });
});

describe('the restart oracle', () => {
  const unrecovered = (nodes: Record<string, boolean>): HistoryEvent[] => [
    ev({ process: 'final', type: 'invoke', f: FINAL_RECOVERY, value: null, time: 40e9 }),
    ev({
      process: 'final',
      type: 'fail',
      f: FINAL_RECOVERY,
      time: 40e9,
      value: {
        timeoutS: 30,
        reason: 'no serving quorum',
        nodes: Object.fromEntries(
          Object.entries(nodes).map(([n, s]) => [n, { serving: s, mode: s ? 'follower' : null, running: false }]),
        ),
      },
    }),
  ];

  it('is valid when every node came back', () => {
    expect(judgeRecovery([...fault('kill-follower', 5)], logsOf({ n2: BROKEN })).valid).toBe(true);
  });

  it('names the node that did not come back, with its last errors: invalid', () => {
    const result = judgeRecovery(
      [...fault('kill-follower', 5), ...unrecovered({ n1: true, n2: false, n3: true })],
      logsOf({ n2: BROKEN }),
    );
    expect(result.valid).toBe(false);
    expect(result.anomalies).toHaveLength(1);
    const anomaly = result.anomalies![0]!;
    expect(anomaly.type).toBe('node-did-not-recover');
    expect(anomaly.description).toMatch(/^n2 did not serve within 30 s/);
    expect(anomaly.description).toMatch(/Unable to load database on disk — java.io.IOException: No snapshot found/);
    expect(anomaly.description).toMatch(/Exiting JVM with code 1/);
  });

  it('documents it when a disk fault damaged that node, and only that node', () => {
    const history = [
      ...fault('disk-delete-snapshot', 5, { damaged: { n2: { deleted: 'snapshot.0' } } }),
      ...unrecovered({ n1: true, n2: false, n3: true }),
    ];
    expect(judgeRecovery(history, logsOf({ n2: BROKEN }))).toMatchObject({ valid: true });
    const other = [
      ...fault('disk-delete-snapshot', 5, { damaged: { n3: {} } }),
      ...unrecovered({ n1: true, n2: false, n3: true }),
    ];
    expect(judgeRecovery(other, logsOf({ n2: BROKEN })).valid).toBe(false);
  });
});

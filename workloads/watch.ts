// The watch workload (our own client): sessions watch WATCH_PATH's znodes while every session also changes them.
// Role by process: 0 one-time watches (getData, exists, getChildren with watch=true, re-armed once fired),
// 1 persistent watches (addWatch on d0 and e0), 2 a persistent-recursive watch on WATCH_PATH. Writes: setData
// on d0/d1, create and delete of e0/e1. A session resumes on another server when its connection drops, re-arming
// its watches (SetWatches). Every op's completion records its reply's place in the session's frames (connection,
// arrival, zxid), the notifications that came before it, and the connections opened meanwhile: the watch checker
// (src/checkers/watch.ts) replays that order against every acknowledged change.
import type { ClientOptions } from '../src/client.js';
import { completionForError } from '../src/client.js';
import type { ClusterNode } from '../src/cluster.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { watchChecker, type RecordedConnection, type RecordedEvent, type WatchOpValue } from '../src/checkers/watch.js';
import { ZkError, ZkErrorCode } from '../src/zk/client.js';
import { ZkSession, type ReplyPosition, type SessionEvent } from '../src/zk/session.js';
import type { Completion, Invocation, Workload, WorkloadClient } from '../src/workload.js';
import { CLIENT_PORT } from '../src/zookeeper.js';
import { ensureZnode, hexZxid, withSession } from './common.js';

export const WATCH_PATH = '/faultline-watch';
const DATA = [`${WATCH_PATH}/d0`, `${WATCH_PATH}/d1`];
const EPHEMERAL = [`${WATCH_PATH}/e0`, `${WATCH_PATH}/e1`];
/** How long a session's end listens for notifications after the server confirmed the close. */
const END_DRAIN_MS = 300;

export type WatchRole = 'standard' | 'persistent' | 'recursive';
export const roleOf = (process: number): WatchRole => (['standard', 'persistent', 'recursive'] as const)[process % 3]!;

const hexAt = (at: ReplyPosition): WatchOpValue['at'] => ({
  conn: at.conn,
  arrival: at.arrival,
  zxid: hexZxid(at.zxid),
});

/** One session's client: ops, and the notifications and connections to record with each completion. */
async function watchClient(
  node: ClusterNode,
  nodes: readonly ClusterNode[],
  options: ClientOptions,
): Promise<WorkloadClient> {
  const events: RecordedEvent[] = [];
  const session = await ZkSession.open({
    servers: [node, ...nodes.filter((n) => n !== node)].map((n) => ({ host: n.ip, port: CLIENT_PORT, name: n.name })),
    sessionTimeoutMs: options.sessionTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    opTimeoutMs: options.opTimeoutMs,
    onEvent: (e: SessionEvent) =>
      events.push({
        type: e.type,
        path: e.path,
        zxid: e.zxid >= 0n ? hexZxid(e.zxid) : null,
        conn: e.conn,
        arrival: e.arrival,
      }),
  });
  let connectionsSeen = 1;

  /** The events before `at` (all when there was no reply) and the connections opened since the last op. */
  const drain = (at: ReplyPosition | undefined): Pick<WatchOpValue, 'events' | 'connections'> => {
    const before = (e: RecordedEvent): boolean =>
      at === undefined || e.conn < at.conn || (e.conn === at.conn && e.arrival < at.arrival);
    const taken = events.filter(before);
    events.splice(0, events.length, ...events.filter((e) => !before(e)));
    const opened: RecordedConnection[] = session.connections.slice(connectionsSeen).map((c) => ({
      conn: c.conn,
      server: c.server,
      ...(c.relativeZxid !== undefined ? { relativeZxid: hexZxid(c.relativeZxid) } : {}),
      ...(c.resumedAtZxid !== undefined ? { resumedAtZxid: hexZxid(c.resumedAtZxid) } : {}),
      ...(c.resumedAtArrival !== undefined ? { resumedAtArrival: c.resumedAtArrival } : {}),
    }));
    connectionsSeen = session.connections.length;
    return { ...(taken.length ? { events: taken } : {}), ...(opened.length ? { connections: opened } : {}) };
  };

  /** Reads lose nothing by being retried: once after a dropped connection, on the resumed one. */
  const read = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof ZkError && err.code === ZkErrorCode.CONNECTIONLOSS && !err.unsent)) throw err;
      return op();
    }
  };

  const run = async (op: Invocation): Promise<Completion> => {
    const input = op.value as { path: string; kind?: string; mode?: string; value?: number };
    const path = input.path;
    switch (op.f) {
      case 'read': {
        if (input.kind === 'children') {
          const watch = !session.watches.child.has(path);
          const r = await read(() => session.getChildren2(path, { watch }));
          return ok(op, { armed: watch, children: r.children, pzxid: hexZxid(r.stat.pzxid) }, r.at);
        }
        if (input.kind === 'exists') {
          const watch = !session.watches.data.has(path) && !session.watches.exist.has(path);
          const r = await read(() => session.exists(path, { watch }));
          return ok(
            op,
            { armed: watch, exists: r.stat !== null, ...(r.stat ? { mzxid: hexZxid(r.stat.mzxid) } : {}) },
            r.at,
          );
        }
        // kind data arms a watch (standard sessions); plain reads just read.
        const watch = input.kind === 'data' && !session.watches.data.has(path);
        const r = await read(() => session.getData(path, { watch }));
        return ok(
          op,
          { armed: watch, exists: true, mzxid: hexZxid(r.stat.mzxid), value: r.data.toString('utf8') },
          r.at,
        );
      }
      case 'add-watch': {
        const r = await read(() => session.addWatch(path, input.mode as 'persistent' | 'persistent-recursive'));
        return ok(op, {}, r.at);
      }
      case 'write': {
        const r = await session.run((c) => c.setData(path, Buffer.from(String(input.value)), -1));
        return ok(op, {}, r.at, hexZxid(r.zxid));
      }
      case 'create': {
        const r = await session.run((c) => c.create(path, Buffer.alloc(0), 'persistent'));
        return ok(op, {}, r.at, hexZxid(r.zxid));
      }
      case 'delete': {
        const r = await session.run((c) => c.delete(path, -1));
        return ok(op, {}, r.at, hexZxid(r.zxid));
      }
      case 'end': {
        const late = await session.close(END_DRAIN_MS);
        return { type: 'ok', value: { ...input, eventsAfterClose: late, ...drain(undefined) } };
      }
      default:
        throw new Error(`watch: unknown op ${op.f}`);
    }
  };

  const ok = (op: Invocation, result: Partial<WatchOpValue>, at: ReplyPosition, zxid?: string): Completion => ({
    type: 'ok',
    value: { ...(op.value as object), ...result, at: hexAt(at), ...drain(at) },
    ...(zxid ? { zxid } : {}),
  });

  return {
    async invoke(op) {
      try {
        return await run(op);
      } catch (err) {
        // A refusal still has a reply, whose place in the frames counts; the rest of the recording is the same.
        const at =
          err instanceof ZkError && err.zxid !== undefined && err.arrival !== undefined
            ? { conn: session.conn, arrival: err.arrival, zxid: err.zxid }
            : undefined;
        const completion = completionForError(err, op.value);
        return {
          ...completion,
          value: { ...(op.value as object), ...(at ? { at: hexAt(at) } : {}), ...drain(at) },
        };
      }
    },
    close: () => session.close().then(() => undefined),
    isOpen: () => session.state === 'connected' || session.state === 'reconnecting',
  };
}

export function watchWorkload(options: ClientOptions): Workload {
  let nodes: readonly ClusterNode[] = [];
  const opsByProcess = new Map<number, number>();
  return {
    name: 'watch',
    setup: (node) =>
      withSession(node, options, async (zk) => {
        await ensureZnode(zk, WATCH_PATH);
        for (const path of DATA) await ensureZnode(zk, path, Buffer.from('0'));
      }),
    start: (run) => {
      nodes = run.cluster.nodes;
      return Promise.resolve();
    },
    openClient: (node) => watchClient(node, nodes.length ? nodes : [node], options),

    generator({ process, random }) {
      const n = opsByProcess.get(process) ?? 0;
      opsByProcess.set(process, n + 1);
      const role = roleOf(process);
      if (role === 'persistent' && n < 2)
        return { f: 'add-watch', value: { path: n === 0 ? DATA[0]! : EPHEMERAL[0]!, mode: 'persistent' } };
      if (role === 'recursive' && n === 0)
        return { f: 'add-watch', value: { path: WATCH_PATH, mode: 'persistent-recursive' } };
      const roll = random.int(0, 99);
      if (roll < 2) return { f: 'end', value: { path: WATCH_PATH } };
      if (roll < 40) {
        const which = random.int(0, 3);
        if (which < 2) return { f: 'write', value: { path: DATA[which]!, value: random.int(0, 999) } };
        return { f: random.int(0, 1) === 0 ? 'create' : 'delete', value: { path: EPHEMERAL[which - 2]! } };
      }
      // Reads: standard sessions arm watches with them; the others read plainly (every read is recorded).
      const kind = random.int(0, 4);
      if (role !== 'standard') return { f: 'read', value: { path: DATA[kind % 2]!, kind: 'plain' } };
      if (kind < 2) return { f: 'read', value: { path: DATA[kind]!, kind: 'data' } };
      if (kind < 4) return { f: 'read', value: { path: EPHEMERAL[kind - 2]!, kind: 'exists' } };
      return { f: 'read', value: { path: WATCH_PATH, kind: 'children' } };
    },

    finalRead: (node) =>
      withSession(node, options, async (zk) => {
        await zk.sync(WATCH_PATH);
        const state: Record<string, string | null> = {};
        for (const path of [...DATA, ...EPHEMERAL]) {
          const { stat } = await zk.exists(path);
          state[path] = stat ? hexZxid(stat.mzxid) : null;
        }
        return state;
      }),

    checkers: { watch: watchChecker, ...RECOVERY_CHECKERS },
  };
}

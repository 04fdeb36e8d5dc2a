// The watch checker: what ZooKeeper's Programmer's Guide ("ZooKeeper Watches") promises a session, replayed from
// each session's frames in the order they arrived (replies, notifications, resumed connections) against every
// acknowledged change in the history:
// - a watched change is seen as an event before any reply at or after its zxid ("a client will see a watch event
//   for a znode it is watching before seeing the new data"; everything a session sees comes in zxid order);
// - a one-time watch fires once, for the first change after it was set; a persistent watch fires for every change
//   of its znode(s), exactly once, in order; no event comes for what is not watched, nor after the session ended.
// Documented exceptions, reported as such: an exist watch misses a create-then-delete that happened while the
// session was disconnected; persistent watches are re-added on a new connection without replaying what changed
// while disconnected (DataTree.setWatches; "Watches will not be received while disconnected from a server").
// Servers before 3.9 put -1 in a notification's zxid (ZOOKEEPER-4655 added the change's zxid), so there events are
// matched to changes by order and type instead of by zxid.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { groupBy, pairOperations, type HistoryEvent, type Operation } from '../history.js';

export interface RecordedEvent {
  type: string;
  path: string;
  /** Hex; null when the server sent -1 (before 3.9, or fired while re-registering watches). */
  zxid: string | null;
  conn: number;
  arrival: number;
}

export interface RecordedConnection {
  conn: number;
  server: string;
  relativeZxid?: string;
  resumedAtZxid?: string;
  resumedAtArrival?: number;
}

/** What a watch-workload op records (its input fields, plus these). */
export interface WatchOpValue {
  path: string;
  kind?: 'data' | 'exists' | 'children' | 'plain';
  mode?: 'persistent' | 'persistent-recursive';
  armed?: boolean;
  exists?: boolean;
  mzxid?: string;
  pzxid?: string;
  children?: string[];
  value?: string | number;
  at?: { conn: number; arrival: number; zxid: string };
  events?: RecordedEvent[];
  connections?: RecordedConnection[];
  eventsAfterClose?: number;
}

const GUIDE = 'ZooKeeper Programmer\'s Guide, "ZooKeeper Watches"';

type ChangeKind = 'data' | 'create' | 'delete' | 'child';
const EVENT_OF: Record<ChangeKind, string> = {
  data: 'NodeDataChanged',
  create: 'NodeCreated',
  delete: 'NodeDeleted',
  child: 'NodeChildrenChanged',
};

interface Change {
  path: string;
  zxid: bigint;
  kind: ChangeKind;
  /** Invoke index of the write. */
  index: number;
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';
const under = (path: string, root: string): boolean =>
  path === root || path.startsWith(root === '/' ? '/' : `${root}/`);

/** Every acknowledged change, and the paths with writes of unknown outcome (they may explain an extra event). */
function changesOf(ops: readonly Operation[]): { changes: Change[]; uncertain: Set<string> } {
  const changes: Change[] = [];
  const uncertain = new Set<string>();
  for (const op of ops) {
    if (op.f !== 'write' && op.f !== 'create' && op.f !== 'delete') continue;
    const path = (op.input as { path: string }).path;
    if (op.type === 'info') {
      uncertain.add(path);
      if (op.f !== 'write') uncertain.add(parentOf(path));
      continue;
    }
    if (op.type !== 'ok' || op.zxid === undefined) continue;
    const zxid = BigInt(`0x${op.zxid}`);
    changes.push({ path, zxid, kind: op.f === 'write' ? 'data' : op.f, index: op.invokeIndex });
    if (op.f !== 'write') changes.push({ path: parentOf(path), zxid, kind: 'child', index: op.invokeIndex });
  }
  return { changes: changes.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0)), uncertain };
}

/** A one-time watch: data (getData; exists on a present znode), exist (exists on a missing one) or child. */
interface Standard {
  group: 'data' | 'child';
  path: string;
  absent: boolean;
  anchor: bigint;
  index: number;
}

interface Persistent {
  path: string;
  recursive: boolean;
  anchor: bigint;
  index: number;
  /** Changes this watch has been matched to (zxid as a string), or excused. */
  done: Set<string>;
}

const firesStandard = (w: Standard, c: Change): boolean =>
  w.group === 'data'
    ? c.path === w.path && c.kind !== 'child'
    : c.path === w.path && (c.kind === 'child' || c.kind === 'delete');

const firesPersistent = (w: Persistent, c: Change): boolean =>
  w.recursive ? c.kind !== 'child' && under(c.path, w.path) : c.path === w.path;

function eventMatchesStandard(w: Standard, e: RecordedEvent): boolean {
  if (e.path !== w.path) return false;
  if (w.group === 'data') return e.type === 'NodeDataChanged' || e.type === 'NodeCreated' || e.type === 'NodeDeleted';
  return e.type === 'NodeChildrenChanged' || e.type === 'NodeDeleted';
}

function eventMatchesPersistent(w: Persistent, e: RecordedEvent): boolean {
  if (w.recursive) return under(e.path, w.path) && e.type !== 'NodeChildrenChanged';
  return e.path === w.path;
}

type Frame =
  | { kind: 'event'; conn: number; arrival: number; event: RecordedEvent; op: Operation }
  | { kind: 'reply'; conn: number; arrival: number; zxid: bigint; op: Operation; value: WatchOpValue }
  | { kind: 'resume'; conn: number; arrival: number; from: bigint; at: bigint; op: Operation; server: string };

function framesOf(ops: readonly Operation[]): Frame[] {
  const frames: Frame[] = [];
  for (const op of ops) {
    const value = op.output as WatchOpValue | undefined;
    if (!value || typeof value !== 'object') continue;
    for (const c of value.connections ?? [])
      if (c.relativeZxid !== undefined && c.resumedAtZxid !== undefined)
        frames.push({
          kind: 'resume',
          conn: c.conn,
          arrival: c.resumedAtArrival ?? 0,
          from: BigInt(`0x${c.relativeZxid}`),
          at: BigInt(`0x${c.resumedAtZxid}`),
          op,
          server: c.server,
        });
    for (const e of value.events ?? []) frames.push({ kind: 'event', conn: e.conn, arrival: e.arrival, event: e, op });
    if (value.at)
      frames.push({
        kind: 'reply',
        conn: value.at.conn,
        arrival: value.at.arrival,
        zxid: BigInt(`0x${value.at.zxid}`),
        op,
        value,
      });
  }
  return frames.sort((a, b) => a.conn - b.conn || a.arrival - b.arrival);
}

export function checkWatches(history: readonly HistoryEvent[]): CheckerResult {
  const ops = pairOperations(history);
  const { changes, uncertain } = changesOf(ops);
  const anomalies: Anomaly[] = [];
  const counts = {
    sessions: 0,
    events: 0,
    eventsWithZxid: 0,
    oneTimeWatches: 0,
    persistentWatches: 0,
    reconnects: 0,
    missedDocumented: 0,
    eventsAfterClose: 0,
  };
  const byProcess = groupBy(ops, (op) => op.process);

  for (const [process, list] of byProcess) {
    counts.sessions++;
    const standard = new Map<string, Standard>();
    const persistent: Persistent[] = [];
    /** (from, at]: zxids that changed while this session was between connections. */
    const away: { from: bigint; at: bigint }[] = [];
    let maxZxid = -1n;
    let maxIndex = -1;
    const isAway = (z: bigint): boolean => away.some((w) => z > w.from && z <= w.at);
    const firstAfter = (w: Standard): Change | undefined =>
      changes.find((c) => c.zxid > w.anchor && firesStandard(w, c));
    const add = (a: Anomaly): void => void anomalies.push(a);

    const orderCheck = (zxid: bigint, frame: Frame, what: string): void => {
      if (zxid < maxZxid)
        add({
          type: 'out-of-order',
          ops: [frame.op.invokeIndex, maxIndex],
          description: `process ${process}: ${what} with zxid 0x${zxid.toString(16)} came after a frame with 0x${maxZxid.toString(16)}: a session sees everything in zxid order (${GUIDE})`,
        });
      if (zxid >= maxZxid) {
        maxZxid = zxid;
        maxIndex = frame.op.invokeIndex;
      }
    };

    /** Before a frame at `zxid`: every watched change at or below it must have been seen. */
    const dueBy = (zxid: bigint, frame: Frame): void => {
      for (const [key, w] of standard) {
        const t = firstAfter(w);
        if (!t || t.zxid > zxid) continue;
        const lastOfPath = [...changes]
          .reverse()
          .find((c) => c.path === w.path && c.kind !== 'child' && c.zxid <= zxid);
        if (w.absent && isAway(t.zxid) && lastOfPath?.kind === 'delete') {
          // The server re-armed the exist watch (the znode is missing again); it fires on the next create.
          counts.missedDocumented++;
          add({
            type: 'missed-create-delete',
            ops: [w.index, t.index, frame.op.invokeIndex],
            documented: true,
            description: `process ${process}: its exist watch on ${w.path} missed a create and delete while it was disconnected (${GUIDE}: "a watch for the existence of a znode not yet created will be missed if the znode is created and deleted while disconnected")`,
          });
          w.anchor = lastOfPath.zxid;
          continue;
        }
        standard.delete(key);
        add({
          type: 'missed-event',
          ops: [w.index, t.index, frame.op.invokeIndex],
          description: `process ${process}: its ${w.absent ? 'exist' : w.group} watch on ${w.path} (set at op ${w.index}) did not fire for change 0x${t.zxid.toString(16)} (${t.kind}) before a frame at 0x${zxid.toString(16)}: a client sees the watch event before the new data (${GUIDE})`,
        });
      }
      for (const w of persistent) {
        for (const c of changes) {
          if (c.zxid > zxid) break;
          if (c.zxid <= w.anchor || !firesPersistent(w, c) || w.done.has(`${c.zxid}:${c.kind}:${c.path}`)) continue;
          w.done.add(`${c.zxid}:${c.kind}:${c.path}`);
          if (isAway(c.zxid)) {
            counts.missedDocumented++;
            add({
              type: 'persistent-missed-while-away',
              ops: [w.index, c.index, frame.op.invokeIndex],
              documented: true,
              description: `process ${process}: its ${w.recursive ? 'recursive ' : ''}persistent watch on ${w.path} got no event for ${c.kind} of ${c.path} (0x${c.zxid.toString(16)}), made while it was disconnected: a resumed connection re-adds persistent watches without replay (DataTree.setWatches; ${GUIDE}: "Watches will not be received while disconnected from a server")`,
            });
            continue;
          }
          add({
            type: 'missed-event',
            ops: [w.index, c.index, frame.op.invokeIndex],
            description: `process ${process}: its ${w.recursive ? 'recursive ' : ''}persistent watch on ${w.path} got no event for ${c.kind} of ${c.path} (0x${c.zxid.toString(16)}) before a frame at 0x${zxid.toString(16)}: a persistent watch sees every change, in order (${GUIDE})`,
          });
        }
      }
    };

    for (const frame of framesOf(list)) {
      if (frame.kind === 'resume') {
        counts.reconnects++;
        away.push({ from: frame.from, at: frame.at });
        orderCheck(frame.at, frame, `the resumed connection on ${frame.server}`);
        dueBy(frame.at, frame);
        continue;
      }
      if (frame.kind === 'event') {
        const e = frame.event;
        counts.events++;
        const zxid = e.zxid === null ? undefined : BigInt(`0x${e.zxid}`);
        if (zxid !== undefined) {
          counts.eventsWithZxid++;
          orderCheck(zxid, frame, `a ${e.type} event for ${e.path}`);
        }
        const fired = [...standard.entries()].filter(([, w]) => eventMatchesStandard(w, e));
        const covering = persistent.filter((w) => eventMatchesPersistent(w, e));
        if (fired.length === 0 && covering.length === 0) {
          add({
            type: 'unwatched-event',
            ops: [frame.op.invokeIndex],
            description: `process ${process}: ${e.type} for ${e.path} came with no watch armed for it (a one-time watch fires once; ${GUIDE})`,
          });
          continue;
        }
        for (const [key, w] of fired) {
          standard.delete(key);
          const t = firstAfter(w);
          if (zxid === undefined || !t || zxid === t.zxid) continue;
          if (zxid < t.zxid && uncertain.has(w.group === 'child' ? w.path : e.path)) continue;
          if (zxid > t.zxid && isAway(t.zxid)) continue;
          add({
            type: zxid > t.zxid ? 'missed-event' : 'phantom-event',
            ops: [w.index, t.index, frame.op.invokeIndex],
            description: `process ${process}: its watch on ${w.path} fired with zxid 0x${zxid.toString(16)}, not for the first change after it was set (0x${t.zxid.toString(16)}, ${t.kind})`,
          });
        }
        for (const w of covering) {
          const candidates = changes.filter(
            (c) => c.zxid > w.anchor && firesPersistent(w, c) && c.path === e.path && EVENT_OF[c.kind] === e.type,
          );
          const match =
            zxid !== undefined
              ? candidates.find((c) => c.zxid === zxid)
              : candidates.find((c) => !w.done.has(`${c.zxid}:${c.kind}:${c.path}`));
          if (!match) {
            if (uncertain.has(e.path) || (e.type === 'NodeChildrenChanged' && uncertain.has(e.path))) continue;
            add({
              type: zxid !== undefined ? 'phantom-event' : 'duplicate-event',
              ops: [w.index, frame.op.invokeIndex],
              description: `process ${process}: its persistent watch on ${w.path} got ${e.type} for ${e.path}${zxid !== undefined ? ` at 0x${zxid.toString(16)}` : ''}, which matches no acknowledged change it has not seen yet`,
            });
            continue;
          }
          const key = `${match.zxid}:${match.kind}:${match.path}`;
          if (w.done.has(key)) {
            add({
              type: 'duplicate-event',
              ops: [w.index, match.index, frame.op.invokeIndex],
              description: `process ${process}: its persistent watch on ${w.path} got ${e.type} for ${e.path} (0x${match.zxid.toString(16)}) twice`,
            });
          }
          w.done.add(key);
        }
        continue;
      }
      // A reply: first what it says about watches due, then the watch it set.
      orderCheck(frame.zxid, frame, `the reply to ${frame.op.f} ${frame.value.path}`);
      dueBy(frame.zxid, frame);
      const v = frame.value;
      if (frame.op.type !== 'ok') continue;
      if (frame.op.f === 'read' && v.armed) {
        counts.oneTimeWatches++;
        const group = v.kind === 'children' ? 'child' : 'data';
        const absent = v.kind === 'exists' && v.exists === false;
        // A missing znode's exist watch: the next create after the reply's zxid, the state the read saw (the
        // CommitProcessor runs no read beside a write). Not the last known delete: that may be a delete of unknown
        // outcome, whose zxid the history does not have.
        const anchor = absent
          ? frame.zxid
          : BigInt(`0x${(group === 'child' ? v.pzxid : v.mzxid) ?? frame.zxid.toString(16)}`);
        standard.set(`${group}:${v.path}`, { group, path: v.path, absent, anchor, index: frame.op.invokeIndex });
      }
      if (frame.op.f === 'add-watch') {
        counts.persistentWatches++;
        persistent.push({
          path: v.path,
          recursive: v.mode === 'persistent-recursive',
          anchor: frame.zxid,
          index: frame.op.invokeIndex,
          done: new Set(),
        });
      }
    }
    for (const op of list) {
      const late = (op.output as WatchOpValue | undefined)?.eventsAfterClose ?? 0;
      counts.eventsAfterClose += late;
      if (late > 0)
        add({
          type: 'event-after-session-end',
          ops: [op.invokeIndex],
          description: `process ${process}: ${late} notification(s) arrived after the server confirmed its closeSession`,
        });
    }
  }

  const undocumented = anomalies.filter((a) => !a.documented);
  const reason =
    counts.oneTimeWatches + counts.persistentWatches === 0 ? 'no watch was ever set: nothing to check' : undefined;
  return {
    valid: undocumented.length > 0 ? false : reason ? 'unknown' : true,
    ...(reason ? { reason } : {}),
    counts: { ...counts, changes: changes.length },
    anomalies,
  };
}

export const watchChecker: Checker = { check: async (history) => checkWatches(history) };

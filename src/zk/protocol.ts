// ZooKeeper's client protocol records (zookeeper.jute, module org.apache.zookeeper.proto), encoded and
// decoded as pure functions so they can be unit-tested without a server.

import { createHash } from 'node:crypto';
import { JuteError, JuteReader, JuteWriter, type Stat } from './jute.js';

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  reconfig: 16,
  auth: 100,
  setWatches: 101,
  setWatches2: 105,
  addWatch: 106,
  closeSession: -11,
  error: -1,
} as const;

/** Reserved xids: the server uses them for replies that answer no numbered request. */
export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const;

/** Watcher.Event.EventType as the server numbers it. */
export const EventType = {
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved',
  6: 'ChildWatchRemoved',
  7: 'PersistentWatchRemoved',
} as const satisfies Record<number, string>;
export type WatchEventType = (typeof EventType)[keyof typeof EventType] | 'None';

/** A notification: WatcherEvent {type, state, path} after a reply header with xid -1. */
export interface WatcherEvent {
  type: WatchEventType;
  /** Watcher.Event.KeeperState: 3 SyncConnected, 0 Disconnected, -112 Expired, ... */
  state: number;
  path: string;
}

export function readWatcherEvent(reader: JuteReader): WatcherEvent {
  const type = reader.readInt();
  const state = reader.readInt();
  const path = reader.readUstring() ?? '';
  return { type: EventType[type as keyof typeof EventType] ?? 'None', state, path };
}

/** AddWatchMode: a persistent watch on one znode, or on it and every znode below it. */
export type AddWatchMode = 'persistent' | 'persistent-recursive';
const addWatchModes: Readonly<Record<AddWatchMode, number>> = { persistent: 0, 'persistent-recursive': 1 };

/** The watches a client re-registers when it resumes its session on a new connection (SetWatches / SetWatches2). */
export interface WatchSet {
  relativeZxid: bigint;
  data: readonly string[];
  exist: readonly string[];
  child: readonly string[];
  persistent: readonly string[];
  persistentRecursive: readonly string[];
}

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent-sequential' | 'ephemeral-sequential';

/** CreateRequest.flags (CreateMode.toFlag in the Java client). */
export const createModeFlags: Readonly<Record<CreateMode, number>> = {
  persistent: 0,
  ephemeral: 1,
  'persistent-sequential': 2,
  'ephemeral-sequential': 3,
};

export type MultiOp =
  | { type: 'create'; path: string; data: Uint8Array; mode: CreateMode; acl?: readonly Acl[] }
  | { type: 'setData'; path: string; data: Uint8Array; version: number }
  | { type: 'delete'; path: string; version: number }
  | { type: 'check'; path: string; version: number };

export type MultiOpResult =
  { type: 'create'; path: string } | { type: 'setData'; stat: Stat } | { type: 'delete' } | { type: 'check' };

/** One decoded entry of a MultiResponse: a result, or the error code the server gave that op. */
export type MultiReplyEntry = MultiOpResult | { type: 'error'; code: number };

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOutMs: number;
  sessionId: bigint;
  passwd: Uint8Array;
  readOnly: boolean;
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOutMs: number;
  sessionId: bigint;
  passwd: Buffer;
  /** Absent from servers older than 3.4; false then. */
  readOnly: boolean;
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}

/** ZooDefs.Perms: what an ACL entry lets its id do, as bits. */
export const Perms = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;

/** One ACL entry (org.apache.zookeeper.data.ACL {int perms; Id {ustring scheme; ustring id}}). */
export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

/** world:anyone with all permissions (ZooDefs.Ids.OPEN_ACL_UNSAFE): what create uses when given no ACL. */
export const OPEN_ACL_UNSAFE: readonly Acl[] = [{ perms: Perms.all, scheme: 'world', id: 'anyone' }];

/**
 * The id a digest ACL entry names for `user` with `password`: `user:base64(sha1("user:password"))`, as
 * DigestAuthenticationProvider.generateDigest computes it; addAuth('digest', "user:password") authenticates as it.
 */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64')}`;
}

export function writeAcl(writer: JuteWriter, acl: Acl): void {
  writer.writeInt(acl.perms).writeUstring(acl.scheme).writeUstring(acl.id);
}

export function readAcl(reader: JuteReader): Acl {
  const perms = reader.readInt();
  return { perms, scheme: requireUstring(reader, 'ACL scheme'), id: requireUstring(reader, 'ACL id') };
}

/** GetACLResponse {vector<ACL> acl; Stat stat}. */
export function readGetAclResponse(reader: JuteReader): { acl: Acl[]; stat: Stat } {
  return { acl: reader.readVector(readAcl) ?? [], stat: reader.readStat() };
}

export function encodeConnectRequest(req: ConnectRequest): Buffer {
  return new JuteWriter(64)
    .writeInt(req.protocolVersion)
    .writeLong(req.lastZxidSeen)
    .writeInt(req.timeOutMs)
    .writeLong(req.sessionId)
    .writeBuffer(req.passwd)
    .writeBoolean(req.readOnly)
    .toFrame();
}

export function decodeConnectResponse(payload: Buffer): ConnectResponse {
  const reader = new JuteReader(payload);
  const protocolVersion = reader.readInt();
  const timeOutMs = reader.readInt();
  const sessionId = reader.readLong();
  const passwd = reader.readBuffer() ?? Buffer.alloc(0);
  const readOnly = reader.remaining >= 1 ? reader.readBoolean() : false;
  return { protocolVersion, timeOutMs, sessionId, passwd, readOnly };
}

function writeCreateBody(
  writer: JuteWriter,
  path: string,
  data: Uint8Array,
  mode: CreateMode,
  acl: readonly Acl[] | undefined,
): void {
  writer
    .writeUstring(path)
    .writeBuffer(data)
    .writeVector(acl ?? OPEN_ACL_UNSAFE, writeAcl)
    .writeInt(createModeFlags[mode]);
}

/** The request body of each op, after the RequestHeader. */
export type RequestBody =
  | { op: 'create'; path: string; data: Uint8Array; mode: CreateMode; acl?: readonly Acl[] }
  | { op: 'delete'; path: string; version: number }
  | { op: 'getACL'; path: string }
  | { op: 'setACL'; path: string; acl: readonly Acl[]; version: number }
  | { op: 'exists'; path: string; watch?: boolean }
  | { op: 'getData'; path: string; watch?: boolean }
  | { op: 'setData'; path: string; data: Uint8Array; version: number }
  | { op: 'getChildren'; path: string; watch?: boolean }
  | { op: 'getChildren2'; path: string; watch?: boolean }
  | { op: 'addWatch'; path: string; mode: AddWatchMode }
  | { op: 'setWatches'; watches: WatchSet }
  | { op: 'sync'; path: string }
  | { op: 'multi'; ops: readonly MultiOp[] }
  | { op: 'reconfig'; joining: string | null; leaving: string | null; newMembers: string | null; fromConfig: bigint }
  | { op: 'auth'; scheme: string; auth: Uint8Array }
  | { op: 'ping' }
  | { op: 'closeSession' };

const multiOpCodes: Readonly<Record<MultiOp['type'], number>> = {
  create: OpCode.create,
  setData: OpCode.setData,
  delete: OpCode.delete,
  check: OpCode.check,
};

function writeMultiOp(writer: JuteWriter, op: MultiOp): void {
  writer.writeInt(multiOpCodes[op.type]).writeBoolean(false).writeInt(-1);
  switch (op.type) {
    case 'create':
      writeCreateBody(writer, op.path, op.data, op.mode, op.acl);
      break;
    case 'setData':
      writer.writeUstring(op.path).writeBuffer(op.data).writeInt(op.version);
      break;
    case 'delete':
    case 'check':
      writer.writeUstring(op.path).writeInt(op.version);
      break;
  }
}

/** A whole request frame: length, RequestHeader {xid, type}, body. Throws JuteError on unencodable input. */
export function encodeRequest(xid: number, body: RequestBody): Buffer {
  const writer = new JuteWriter();
  switch (body.op) {
    case 'create':
      writer.writeInt(xid).writeInt(OpCode.create);
      writeCreateBody(writer, body.path, body.data, body.mode, body.acl);
      break;
    case 'getACL':
      // GetACLRequest {path}
      writer.writeInt(xid).writeInt(OpCode.getACL).writeUstring(body.path);
      break;
    case 'setACL':
      // SetACLRequest {path, acl, version}: version is the ACL's (Stat.aversion), -1 for any.
      writer
        .writeInt(xid)
        .writeInt(OpCode.setACL)
        .writeUstring(body.path)
        .writeVector(body.acl, writeAcl)
        .writeInt(body.version);
      break;
    case 'delete':
      writer.writeInt(xid).writeInt(OpCode.delete).writeUstring(body.path).writeInt(body.version);
      break;
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      writer
        .writeInt(xid)
        .writeInt(OpCode[body.op])
        .writeUstring(body.path)
        .writeBoolean(body.watch ?? false);
      break;
    case 'addWatch':
      writer.writeInt(xid).writeInt(OpCode.addWatch).writeUstring(body.path).writeInt(addWatchModes[body.mode]);
      break;
    case 'setWatches': {
      // SetWatches2 only when there are persistent watches: servers before 3.6 know SetWatches alone.
      const w = body.watches;
      const two = w.persistent.length + w.persistentRecursive.length > 0;
      const paths = (list: readonly string[]): void => void writer.writeVector(list, (wr, p) => wr.writeUstring(p));
      writer
        .writeInt(Xid.setWatches)
        .writeInt(two ? OpCode.setWatches2 : OpCode.setWatches)
        .writeLong(w.relativeZxid);
      paths(w.data);
      paths(w.exist);
      paths(w.child);
      if (two) {
        paths(w.persistent);
        paths(w.persistentRecursive);
      }
      break;
    }
    case 'setData':
      writer
        .writeInt(xid)
        .writeInt(OpCode.setData)
        .writeUstring(body.path)
        .writeBuffer(body.data)
        .writeInt(body.version);
      break;
    case 'sync':
      writer.writeInt(xid).writeInt(OpCode.sync).writeUstring(body.path);
      break;
    case 'multi':
      writer.writeInt(xid).writeInt(OpCode.multi);
      for (const op of body.ops) writeMultiOp(writer, op);
      writer.writeInt(-1).writeBoolean(true).writeInt(-1);
      break;
    case 'reconfig':
      // ReconfigRequest: incremental (joining/leaving) or a whole new member list; curConfigId -1 takes any version.
      writer
        .writeInt(xid)
        .writeInt(OpCode.reconfig)
        .writeUstring(body.joining)
        .writeUstring(body.leaving)
        .writeUstring(body.newMembers)
        .writeLong(body.fromConfig);
      break;
    case 'auth':
      // AuthPacket {type 0, scheme, auth}, always under the reserved xid.
      writer.writeInt(Xid.auth).writeInt(OpCode.auth).writeInt(0).writeUstring(body.scheme).writeBuffer(body.auth);
      break;
    case 'ping':
      writer.writeInt(Xid.ping).writeInt(OpCode.ping);
      break;
    case 'closeSession':
      writer.writeInt(xid).writeInt(OpCode.closeSession);
      break;
  }
  return writer.toFrame();
}

export function readReplyHeader(reader: JuteReader): ReplyHeader {
  return { xid: reader.readInt(), zxid: reader.readLong(), err: reader.readInt() };
}

function requireUstring(reader: JuteReader, what: string): string {
  const value = reader.readUstring();
  if (value === null) throw new JuteError(`null ${what} in reply`);
  return value;
}

export function readPath(reader: JuteReader): string {
  return requireUstring(reader, 'path');
}

export function readChildren(reader: JuteReader): string[] {
  return (reader.readVector((r) => requireUstring(r, 'child name')) ?? []).sort();
}

/** MultiResponse: {MultiHeader, body} per op, until a header with done=true. */
export function readMultiResponse(reader: JuteReader): MultiReplyEntry[] {
  const entries: MultiReplyEntry[] = [];
  for (;;) {
    const type = reader.readInt();
    const done = reader.readBoolean();
    reader.readInt(); // MultiHeader.err: the per-op error is in the ErrorResponse body instead
    if (done) return entries;
    switch (type) {
      case OpCode.create:
        entries.push({ type: 'create', path: readPath(reader) });
        break;
      case OpCode.setData:
        entries.push({ type: 'setData', stat: reader.readStat() });
        break;
      case OpCode.delete:
        entries.push({ type: 'delete' });
        break;
      case OpCode.check:
        entries.push({ type: 'check' });
        break;
      case OpCode.error:
        entries.push({ type: 'error', code: reader.readInt() });
        break;
      default:
        throw new JuteError(`unexpected op type ${type} in multi reply`);
    }
  }
}

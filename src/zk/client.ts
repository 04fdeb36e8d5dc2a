// A ZooKeeper client for Jepsen-style tests: bound to exactly one server, no reconnects, no retries,
// explicit timeouts, and the zxid of every reply. When the connection drops, every in-flight op rejects
// with an indeterminate error and the client is closed for good; the caller opens a new client.

import net from 'node:net';
import { JuteError, JuteReader, type Stat } from './jute.js';
import { ZkError, ZkErrorCode, ZkMultiError, zkErrorName } from './errors.js';
import {
  decodeConnectResponse,
  encodeConnectRequest,
  encodeRequest,
  readChildren,
  readMultiResponse,
  readGetAclResponse,
  readPath,
  readReplyHeader,
  readWatcherEvent,
  Xid,
  type Acl,
  type AddWatchMode,
  type ConnectResponse,
  type WatcherEvent,
  type WatchSet,
  type CreateMode,
  type MultiOp,
  type MultiOpResult,
  type RequestBody,
} from './protocol.js';

export type { Stat } from './jute.js';
export type { Acl, AddWatchMode, CreateMode, MultiOp, MultiOpResult, WatchEventType, WatchSet } from './protocol.js';
export { digestId, OPEN_ACL_UNSAFE, Perms } from './protocol.js';
export { ZkError, ZkMultiError, ZkErrorCode, zkErrorName, isDefiniteFailure, isIndeterminate } from './errors.js';

export interface ZkConnectOptions {
  host: string;
  port: number;
  /** Requested session timeout; the server clamps it to [2, 20] x tickTime by default. */
  sessionTimeoutMs: number;
  /** Bound on TCP connect plus the ConnectRequest/ConnectResponse handshake. */
  connectTimeoutMs: number;
  /** Timeout of ops called without their own timeoutMs. Defaults to the negotiated session timeout. */
  defaultOpTimeoutMs?: number;
  /** How long close() waits for the server to confirm CloseSession. Defaults to min(connectTimeoutMs, 2000). */
  closeTimeoutMs?: number;
  /** A server that has seen less than this refuses the session (so a client never goes back in time). Default 0. */
  lastZxidSeen?: bigint;
  /** Resume this session (from an earlier connection) instead of creating one. */
  session?: { id: bigint; passwd: Buffer };
  /**
   * Identities to add right after the handshake, in order, before the watches are re-registered (as the Java
   * client's primeConnection re-sends its auth info): connect resolves once the server has accepted them all.
   */
  auth?: readonly AuthInfo[];
  /** Watches to re-register right after the handshake (SetWatches); connect resolves once the server has them. */
  watches?: WatchSet;
  /** Called for every notification, in the order frames arrive. */
  onEvent?: (event: ZkWatchEvent) => void;
}

export interface OpOptions {
  timeoutMs?: number;
  /** exists, getData, getChildren, getChildren2: leave a one-time watch on the znode. */
  watch?: boolean;
  /**
   * Called with the decoded result as the reply frame is processed, before any later frame (a notification in
   * the same TCP chunk included): where a client registers the watch it set, as the Java client's SendThread does.
   */
  onReply?: (result: unknown) => void;
}

/** An identity a session holds: addAuth's scheme and auth bytes (digest: `user:password`). */
export interface AuthInfo {
  scheme: string;
  auth: Uint8Array;
}

export interface CreateOptions extends OpOptions {
  /** The new znode's ACL; world:anyone with every permission when absent. */
  acl?: readonly Acl[];
}

/** Every op result carries the zxid of its reply header (the server's last zxid when it replied). */
export interface Zxid {
  zxid: bigint;
  /** Position of the reply among the frames received on this connection (1 = the first after the handshake). */
  arrival: number;
}

/**
 * A watch notification. zxid is the reply header's: the zxid of the change that fired it on 3.9+
 * (ZOOKEEPER-4655); -1 before 3.9, and for events the server fires while re-registering watches (SetWatches).
 */
export interface ZkWatchEvent extends WatcherEvent {
  zxid: bigint;
  arrival: number;
}

export type ZkClientState = 'connected' | 'closing' | 'closed';

/** Frames larger than this are a corrupt stream (ZooKeeper's own jute.maxbuffer default is 1 MiB). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const MAX_XID = 0x7fff_ffff;

interface PendingOp {
  description: string;
  path: string | undefined;
  /** Decodes the reply body; called only when the reply header says OK (or for ops that handle errors). */
  onReply: (header: { zxid: bigint; err: number; arrival: number }, body: JuteReader) => void;
  reject: (err: ZkError) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Splits a TCP byte stream into length-prefixed frames. */
class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pending.length < 4) break;
      const length = this.pending.readInt32BE(0);
      if (length < 0 || length > MAX_FRAME_BYTES) throw new JuteError(`invalid frame length ${length}`);
      if (this.pending.length < 4 + length) break;
      frames.push(this.pending.subarray(4, 4 + length));
      this.pending = this.pending.subarray(4 + length);
    }
    return frames;
  }
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

export class ZkClient {
  private lastZxidValue: bigint;
  private stateValue: ZkClientState = 'connected';
  private nextXid = 1;
  private readonly pending = new Map<number, PendingOp>();
  private lastReceivedAt = Date.now();
  private pingTimer: NodeJS.Timeout | undefined;
  private closePromise: Promise<void> | undefined;
  private closedError: ZkError | undefined;
  private resolveClosed!: (err: ZkError | undefined) => void;
  private frames = 0;
  private closeReplyArrival: number | undefined;
  private eventsAfterCloseValue = 0;
  /** Resolves once the client is closed: with the error that closed it, or undefined after close(). */
  readonly closed: Promise<ZkError | undefined>;
  /** The SetWatches reply (zxid and arrival) when this connection resumed a session with watches. */
  resumedAt: { zxid: bigint; arrival: number } | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly decoder: FrameDecoder,
    private readonly address: string,
    readonly sessionId: bigint,
    /** The session's password: with sessionId, what re-attaching to the session takes (ZkConnectOptions.resume). */
    readonly sessionPassword: Buffer,
    /** Session timeout granted by the server. */
    readonly sessionTimeoutMs: number,
    private readonly defaultOpTimeoutMs: number,
    private readonly closeTimeoutMs: number,
    initialZxid: bigint,
    /** The session's password: with sessionId, what another connection needs to resume the session. */
    readonly sessionPasswd: Buffer,
    private readonly onEvent: ((event: ZkWatchEvent) => void) | undefined,
  ) {
    this.lastZxidValue = initialZxid;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      this.fail(ZkErrorCode.CONNECTIONLOSS, `connection to ${address} failed: ${err.message}`, err),
    );
    socket.on('close', () => this.fail(ZkErrorCode.CONNECTIONLOSS, `connection to ${address} closed`));
    // Ping at a third of the session timeout; declare the connection lost after two thirds without any
    // bytes from the server (as the Java client does), well before the server would expire the session.
    const pingEveryMs = Math.max(1, Math.floor(sessionTimeoutMs / 3));
    const readTimeoutMs = Math.max(1, Math.floor((sessionTimeoutMs * 2) / 3));
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastReceivedAt > readTimeoutMs) {
        this.fail(ZkErrorCode.CONNECTIONLOSS, `no reply from ${address} for over ${readTimeoutMs} ms`);
        return;
      }
      this.socket.write(encodeRequest(Xid.ping, { op: 'ping' }));
    }, pingEveryMs);
    this.pingTimer.unref();
  }

  /** Opens a TCP connection to one server and establishes a new session on it. */
  static async connect(opts: ZkConnectOptions): Promise<ZkClient> {
    checkPositiveInt('sessionTimeoutMs', opts.sessionTimeoutMs);
    checkPositiveInt('connectTimeoutMs', opts.connectTimeoutMs);
    if (opts.defaultOpTimeoutMs !== undefined) checkPositiveInt('defaultOpTimeoutMs', opts.defaultOpTimeoutMs);
    if (opts.closeTimeoutMs !== undefined) checkPositiveInt('closeTimeoutMs', opts.closeTimeoutMs);
    const address = `${opts.host}:${opts.port}`;
    const lastZxidSeen = opts.lastZxidSeen ?? 0n;

    return new Promise<ZkClient>((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port });
      socket.setNoDelay(true);
      const decoder = new FrameDecoder();
      let tcpConnected = false;
      let settled = false;

      const giveUp = (message: string, cause?: unknown, code: number = ZkErrorCode.CONNECTIONLOSS): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => {}); // late errors from the destroyed socket must not crash the process
        socket.destroy();
        reject(new ZkError(code, `could not connect to ZooKeeper at ${address}: ${message}`, { cause }));
      };

      const timer = setTimeout(
        () =>
          giveUp(
            tcpConnected
              ? `no ConnectResponse within ${opts.connectTimeoutMs} ms (server up but not serving?)`
              : `TCP connect did not complete within ${opts.connectTimeoutMs} ms (host unreachable?)`,
          ),
        opts.connectTimeoutMs,
      );

      socket.once('connect', () => {
        tcpConnected = true;
        socket.write(
          encodeConnectRequest({
            protocolVersion: 0,
            lastZxidSeen,
            timeOutMs: opts.sessionTimeoutMs,
            sessionId: opts.session?.id ?? 0n,
            passwd: opts.session?.passwd ?? Buffer.alloc(16),
            readOnly: false,
          }),
        );
      });
      socket.on('error', (err: NodeJS.ErrnoException) =>
        giveUp(
          err.code === 'ECONNREFUSED' ? 'connection refused (is ZooKeeper running and listening there?)' : err.message,
          err,
        ),
      );
      socket.on('close', () =>
        giveUp(
          tcpConnected
            ? 'the server closed the connection during the handshake: it is not serving (a ZooKeeper server ' +
                'outside a quorum drops new clients)' +
                (lastZxidSeen > 0n ? `, or it has not yet seen lastZxidSeen 0x${lastZxidSeen.toString(16)}` : '')
            : 'the connection closed before it was established',
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        if (settled) return;
        let frames: Buffer[];
        let response: ConnectResponse;
        try {
          frames = decoder.push(chunk);
          const first = frames[0];
          if (first === undefined) return; // the ConnectResponse has not fully arrived yet
          response = decodeConnectResponse(first);
        } catch (err) {
          giveUp(`malformed ConnectResponse: ${(err as Error).message}`, err);
          return;
        }
        if (response.timeOutMs <= 0) {
          // The server answers a session it will not grant with timeout 0, then closes.
          giveUp(
            `the server refused the session (negotiated timeout ${response.timeOutMs})`,
            undefined,
            ZkErrorCode.SESSIONEXPIRED,
          );
          return;
        }
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners();
        const client = new ZkClient(
          socket,
          decoder, // may hold the start of a frame that followed the ConnectResponse
          address,
          response.sessionId,
          response.passwd,
          response.timeOutMs,
          opts.defaultOpTimeoutMs ?? response.timeOutMs,
          opts.closeTimeoutMs ?? Math.min(opts.connectTimeoutMs, 2000),
          lastZxidSeen,
          response.passwd,
          opts.onEvent,
        );
        // Bytes after the ConnectResponse in the same chunk belong to the session.
        for (const frame of frames.slice(1)) client.onFrame(frame);
        // Re-send the identities, then re-register the watches, before anything else is sent (as the Java client's
        // primeConnection): a watch on a znode only these identities may read needs them first.
        const prime = async (): Promise<void> => {
          for (const { scheme, auth } of opts.auth ?? [])
            await client.addAuth(scheme, auth, { timeoutMs: opts.connectTimeoutMs });
          if (opts.watches) client.resumedAt = await client.setWatches(opts.watches, opts.connectTimeoutMs);
        };
        prime().then(
          () => resolve(client),
          (err: unknown) => {
            client.destroy();
            reject(err instanceof ZkError ? err : new ZkError(ZkErrorCode.CONNECTIONLOSS, String(err)));
          },
        );
      });
    });
  }

  get state(): ZkClientState {
    return this.stateValue;
  }

  /** When (Date.now()) the last bytes from the server arrived: the server heard this client no later than that. */
  get lastReceived(): number {
    return this.lastReceivedAt;
  }

  /** The highest zxid seen in any reply on this connection (lastZxidSeen until the first reply). */
  get lastZxid(): bigint {
    return this.lastZxidValue;
  }

  getData(path: string, options?: OpOptions): Promise<{ data: Buffer; stat: Stat } & Zxid> {
    return this.request({ op: 'getData', path, watch: options?.watch ?? false }, path, options, (reader) => {
      const data = reader.readBuffer() ?? Buffer.alloc(0);
      return { data, stat: reader.readStat() };
    });
  }

  /** version -1 matches any version. */
  setData(path: string, data: Uint8Array, version: number, options?: OpOptions): Promise<{ stat: Stat } & Zxid> {
    return this.request({ op: 'setData', path, data, version }, path, options, (reader) => ({
      stat: reader.readStat(),
    }));
  }

  /**
   * Resolves with the created path, which for sequential modes has the server's 10-digit suffix. The znode gets
   * `options.acl`, or world:anyone with every permission.
   */
  create(path: string, data: Uint8Array, mode: CreateMode, options?: CreateOptions): Promise<{ path: string } & Zxid> {
    const acl = options?.acl;
    return this.request({ op: 'create', path, data, mode, ...(acl ? { acl } : {}) }, path, options, (reader) => ({
      path: readPath(reader),
    }));
  }

  /** The znode's ACL and Stat (aversion: the ACL's version). Needs READ or ADMIN on it: NOAUTH otherwise. */
  getACL(path: string, options?: OpOptions): Promise<{ acl: Acl[]; stat: Stat } & Zxid> {
    return this.request({ op: 'getACL', path }, path, options, (reader) => readGetAclResponse(reader));
  }

  /** Replaces the znode's ACL if its ACL version is `version` (-1: any). Needs ADMIN on it: NOAUTH otherwise. */
  setACL(path: string, acl: readonly Acl[], version: number, options?: OpOptions): Promise<{ stat: Stat } & Zxid> {
    return this.request({ op: 'setACL', path, acl, version }, path, options, (reader) => ({ stat: reader.readStat() }));
  }

  /** version -1 matches any version. */
  delete(path: string, version: number, options?: OpOptions): Promise<Zxid> {
    return this.request({ op: 'delete', path, version }, path, options, () => ({}));
  }

  /** stat is null when the node does not exist (NONODE is not an error here). */
  exists(path: string, options?: OpOptions): Promise<{ stat: Stat | null } & Zxid> {
    return this.request(
      { op: 'exists', path, watch: options?.watch ?? false },
      path,
      options,
      (reader): { stat: Stat | null } => ({ stat: reader.readStat() }),
      (err) => (err === ZkErrorCode.NONODE ? { stat: null } : undefined),
    );
  }

  /** Child names (not full paths), sorted. */
  getChildren(path: string, options?: OpOptions): Promise<{ children: string[] } & Zxid> {
    return this.request({ op: 'getChildren', path, watch: options?.watch ?? false }, path, options, (reader) => ({
      children: readChildren(reader),
    }));
  }

  /** Child names (sorted) and the parent's Stat (its pzxid: the zxid of the last change of its children). */
  getChildren2(path: string, options?: OpOptions): Promise<{ children: string[]; stat: Stat } & Zxid> {
    return this.request({ op: 'getChildren2', path, watch: options?.watch ?? false }, path, options, (reader) => ({
      children: readChildren(reader),
      stat: reader.readStat(),
    }));
  }

  /** A persistent (3.6+) watch on `path`, or on it and every znode below it; it stays until the session ends. */
  addWatch(path: string, mode: AddWatchMode, options?: OpOptions): Promise<Zxid> {
    return this.request({ op: 'addWatch', path, mode }, path, options, () => ({}));
  }

  /** SetWatches(2) under its reserved xid; resolves with the reply's zxid (the server's state when it re-armed them). */
  private setWatches(watches: WatchSet, timeoutMs: number): Promise<{ zxid: bigint; arrival: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(Xid.setWatches);
        reject(new ZkError(ZkErrorCode.OPERATIONTIMEOUT, `setWatches got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(Xid.setWatches, {
        description: 'setWatches',
        path: undefined,
        timer,
        reject,
        onReply: ({ zxid, err, arrival }) =>
          err === ZkErrorCode.OK
            ? resolve({ zxid, arrival })
            : reject(new ZkError(err, `setWatches: ${zkErrorName(err)}`, { zxid })),
      });
      this.socket.write(encodeRequest(Xid.setWatches, { op: 'setWatches', watches }));
    });
  }

  /** Notifications that arrived after the closeSession reply (close with drainMs > 0 listens for them). */
  get eventsAfterClose(): number {
    return this.eventsAfterCloseValue;
  }

  /** Makes the connected server catch up with the leader before later reads on this client. */
  sync(path: string, options?: OpOptions): Promise<{ path: string } & Zxid> {
    return this.request({ op: 'sync', path }, path, options, (reader) => ({ path: readPath(reader) }));
  }

  /**
   * Adds an identity to the session (e.g. digest `user:password`). The server closes the connection when it
   * refuses (AUTHFAILED); only one addAuth may be in flight at a time.
   */
  addAuth(scheme: string, auth: Uint8Array, options?: OpOptions): Promise<Zxid> {
    return this.request({ op: 'auth', scheme, auth }, undefined, options, () => ({}), undefined, undefined, Xid.auth);
  }

  /**
   * Changes the ensemble's membership (ZooKeeper 3.5+, reconfigEnabled): incremental with `joining` (server lines,
   * comma-separated) and `leaving` (server ids), or a whole `newMembers` list. `fromConfig` (-1: any) makes it
   * conditional on the current config version. Resolves with the new config as /zookeeper/config then holds it.
   */
  reconfig(
    change: { joining?: string; leaving?: string; newMembers?: string; fromConfig?: bigint },
    options?: OpOptions,
  ): Promise<{ data: Buffer; stat: Stat } & Zxid> {
    return this.request(
      {
        op: 'reconfig',
        joining: change.joining ?? null,
        leaving: change.leaving ?? null,
        newMembers: change.newMembers ?? null,
        fromConfig: change.fromConfig ?? -1n,
      },
      '/zookeeper/config',
      options,
      (reader) => ({ data: reader.readBuffer() ?? Buffer.alloc(0), stat: reader.readStat() }),
    );
  }

  /**
   * All ops or none. On failure rejects with ZkMultiError: code and failedOpIndex of the op that failed,
   * opCodes per op (0 for ops that would have succeeded, RUNTIMEINCONSISTENCY for ops never tried).
   */
  multi(ops: readonly MultiOp[], options?: OpOptions): Promise<{ results: MultiOpResult[] } & Zxid> {
    return this.request(
      { op: 'multi', ops },
      undefined,
      options,
      (reader, zxid) => {
        const entries = readMultiResponse(reader);
        const failedOpIndex = entries.findIndex((e) => e.type === 'error' && e.code !== ZkErrorCode.OK);
        const failed = entries[failedOpIndex];
        if (failed !== undefined && failed.type === 'error') {
          const opCodes = entries.map((e) => (e.type === 'error' ? e.code : ZkErrorCode.OK));
          const op = ops[failedOpIndex];
          throw new ZkMultiError(
            failed.code,
            `multi failed: op ${failedOpIndex} (${op?.type ?? '?'} ${op?.path ?? '?'}) got ${zkErrorName(failed.code)}; nothing was applied`,
            failedOpIndex,
            opCodes,
            { path: op?.path, zxid },
          );
        }
        return { results: entries as MultiOpResult[] };
      },
      undefined,
      (err, zxid) =>
        // A failed multi normally replies OK with per-op errors; a header error (e.g. SESSIONMOVED) has no per-op detail.
        new ZkMultiError(err, `multi: ${zkErrorName(err)}`, -1, [], { zxid }),
    );
  }

  /**
   * Ends the session (the server deletes its ephemerals) with a bounded wait for the server's
   * confirmation, then closes the socket. In-flight ops still unanswered then reject with CONNECTIONLOSS. Idempotent.
   */
  close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.closePromise) return this.closePromise;
    if (this.stateValue === 'closed') return (this.closePromise = Promise.resolve());
    this.stateValue = 'closing';
    this.closePromise = new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.fail(ZkErrorCode.CONNECTIONLOSS, 'client closed', undefined, true);
        resolve();
      };
      const timer = setTimeout(finish, this.closeTimeoutMs);
      const xid = this.allocateXid();
      this.pending.set(xid, {
        description: 'closeSession',
        path: undefined,
        // drainMs: keep reading until the server closes the socket (or drainMs), counting late notifications.
        onReply: () => {
          this.closeReplyArrival = this.frames;
          if (!options.drainMs) return finish();
          clearTimeout(timer);
          setTimeout(finish, options.drainMs);
        },
        reject: finish,
        timer: undefined,
      });
      this.socket.write(encodeRequest(xid, { op: 'closeSession' }));
      void this.closed.then(finish);
    });
    return this.closePromise;
  }

  /**
   * Drops the TCP connection without ending the session, like a crashed client process: the server
   * keeps the session (and its ephemerals) until the session timeout expires it.
   */
  destroy(): void {
    this.fail(ZkErrorCode.CONNECTIONLOSS, 'client destroyed', undefined, true);
  }

  /** Drops the TCP connection as a network failure would: `closed` resolves with CONNECTIONLOSS. */
  disconnect(reason = 'connection dropped'): void {
    this.fail(ZkErrorCode.CONNECTIONLOSS, reason);
  }

  private allocateXid(): number {
    const xid = this.nextXid;
    this.nextXid = xid >= MAX_XID ? 1 : xid + 1;
    return xid;
  }

  private request<T extends object>(
    body: RequestBody,
    path: string | undefined,
    options: OpOptions | undefined,
    decode: (reader: JuteReader, zxid: bigint) => T,
    resultForError?: (err: number) => T | undefined,
    errorFor?: (err: number, zxid: bigint) => ZkError,
    fixedXid?: number,
  ): Promise<T & Zxid> {
    const description = `${body.op}${path === undefined ? '' : ` ${path}`}`;
    if (this.stateValue !== 'connected') {
      const reason = this.closedError ? `: ${this.closedError.message}` : '';
      return Promise.reject(
        new ZkError(ZkErrorCode.CONNECTIONLOSS, `${description} not sent: client is ${this.stateValue}${reason}`, {
          path,
          unsent: true,
        }),
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.defaultOpTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    // Auth packets go under a reserved xid and are answered under it.
    const xid = fixedXid ?? this.allocateXid();
    let frame: Buffer;
    try {
      frame = encodeRequest(xid, body);
    } catch (err) {
      return Promise.reject(
        new ZkError(
          ZkErrorCode.MARSHALLINGERROR,
          `${description} not sent: cannot encode it: ${(err as Error).message}`,
          {
            path,
            unsent: true,
            cause: err,
          },
        ),
      );
    }
    return new Promise<T & Zxid>((resolve, reject) => {
      const op: PendingOp = {
        description,
        path,
        reject,
        timer: setTimeout(() => {
          // The server may still apply the request; its late reply finds no pending xid and is dropped.
          this.pending.delete(xid);
          reject(
            new ZkError(
              ZkErrorCode.OPERATIONTIMEOUT,
              `${description} got no reply within ${timeoutMs} ms (it may still take effect)`,
              {
                path,
              },
            ),
          );
        }, timeoutMs),
        onReply: ({ zxid, err, arrival }, reader) => {
          if (err !== ZkErrorCode.OK) {
            const result = resultForError?.(err);
            if (result !== undefined) {
              options?.onReply?.(result);
              return resolve({ ...result, zxid, arrival });
            }
            return reject(
              errorFor?.(err, zxid) ?? new ZkError(err, `${description}: ${zkErrorName(err)}`, { path, zxid, arrival }),
            );
          }
          try {
            const decoded = { ...decode(reader, zxid), zxid, arrival };
            options?.onReply?.(decoded);
            resolve(decoded);
          } catch (decodeErr) {
            if (decodeErr instanceof ZkError) return reject(decodeErr);
            // The server answered, so the op may well have taken effect: MARSHALLINGERROR is indeterminate.
            reject(
              new ZkError(
                ZkErrorCode.MARSHALLINGERROR,
                `${description}: cannot decode the reply: ${(decodeErr as Error).message}`,
                {
                  path,
                  zxid,
                  cause: decodeErr,
                },
              ),
            );
          }
        },
      };
      this.pending.set(xid, op);
      this.socket.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    this.lastReceivedAt = Date.now();
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(ZkErrorCode.MARSHALLINGERROR, `corrupt stream from ${this.address}: ${(err as Error).message}`, err);
      return;
    }
    for (const frame of frames) {
      if (this.stateValue === 'closed') return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    const reader = new JuteReader(frame);
    let header;
    try {
      header = readReplyHeader(reader);
    } catch (err) {
      this.fail(
        ZkErrorCode.MARSHALLINGERROR,
        `corrupt reply header from ${this.address}: ${(err as Error).message}`,
        err,
      );
      return;
    }
    const arrival = ++this.frames;
    if (header.zxid > this.lastZxidValue) this.lastZxidValue = header.zxid;
    if (header.xid === Xid.ping) return; // pings need no answer
    if (header.xid === Xid.notification) {
      let event: WatcherEvent;
      try {
        event = readWatcherEvent(reader);
      } catch (err) {
        this.fail(ZkErrorCode.MARSHALLINGERROR, `corrupt notification from ${this.address}: ${(err as Error).message}`);
        return;
      }
      if (this.closeReplyArrival !== undefined) this.eventsAfterCloseValue++;
      this.onEvent?.({ ...event, zxid: header.zxid, arrival });
      return;
    }
    const op = this.pending.get(header.xid);
    if (op === undefined) return; // reply to an op that already timed out
    this.pending.delete(header.xid);
    clearTimeout(op.timer);
    op.onReply({ ...header, arrival }, reader);
    if (header.err === ZkErrorCode.SESSIONEXPIRED) {
      this.fail(ZkErrorCode.SESSIONEXPIRED, `session 0x${this.sessionId.toString(16)} expired`);
    }
  }

  /** Closes the client for good; every op still pending rejects with `code` (indeterminate: it was sent). */
  private fail(code: number, message: string, cause?: unknown, requestedByCaller = false): void {
    if (this.stateValue === 'closed') return;
    const closeWasRequested = requestedByCaller || this.stateValue === 'closing';
    this.stateValue = 'closed';
    clearInterval(this.pingTimer);
    this.socket.removeAllListeners('data');
    this.socket.on('error', () => {});
    this.socket.destroy();
    const error = new ZkError(code, message, { cause });
    this.closedError = error;
    const ops = [...this.pending.values()];
    this.pending.clear();
    for (const op of ops) {
      clearTimeout(op.timer);
      op.reject(
        new ZkError(code, `${op.description}: ${message} before the reply (it may have taken effect)`, {
          path: op.path,
          cause,
        }),
      );
    }
    this.resolveClosed(closeWasRequested ? undefined : error);
  }
}

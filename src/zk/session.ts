// A ZooKeeper session that outlives its connections, as the official clients keep one: when a connection drops
// (not the session), it resumes the session on a server of its list (the first one first) with the session id,
// password and the last zxid it saw, and re-registers its watches there (SetWatches / SetWatches2), so the server
// fires what changed meanwhile. ZkClient stays the one-connection client underneath: every connection is visible
// (its index, server, the zxid it resumed from and at), which is what a watch checker needs.
import {
  ZkClient,
  ZkError,
  ZkErrorCode,
  type AddWatchMode,
  type AuthInfo,
  type OpOptions,
  type ZkWatchEvent,
} from './client.js';
import type { Stat } from './jute.js';

export interface ZkServer {
  host: string;
  port: number;
  /** How logs and histories name it (n1, ...). */
  name: string;
}

export interface SessionOptions {
  /** Tried in order when (re)connecting; the first is the session's home server. */
  servers: readonly ZkServer[];
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
  opTimeoutMs: number;
  /** Every notification, with the index of the connection it came on. */
  onEvent?: (event: SessionEvent) => void;
}

export interface SessionEvent extends ZkWatchEvent {
  conn: number;
}

/** One connection of the session. conn 0 created it; later ones resumed it. */
export interface SessionConnection {
  conn: number;
  server: string;
  /** Resumed connections: the last zxid the client had seen (SetWatches' relativeZxid) and the SetWatches reply's. */
  relativeZxid?: bigint;
  resumedAtZxid?: bigint;
  /** The SetWatches reply's arrival: the events it fired for what changed meanwhile arrived before it. */
  resumedAtArrival?: number;
}

/** Where a reply came in the session's frames: connection, then arrival on it. */
export interface ReplyPosition {
  conn: number;
  arrival: number;
  zxid: bigint;
}

export type SessionState = 'connected' | 'reconnecting' | 'closed' | 'expired';

/** Client-side watch registry: what the session asked the server to watch, as the Java client's ZKWatchManager. */
export class Watches {
  readonly data = new Set<string>();
  readonly exist = new Set<string>();
  readonly child = new Set<string>();
  readonly persistent = new Set<string>();
  readonly persistentRecursive = new Set<string>();

  /** A standard watch is one-time: the event that fires it removes it (NodeDeleted fires data and child watches). */
  fired(event: ZkWatchEvent): void {
    switch (event.type) {
      case 'NodeCreated':
      case 'NodeDataChanged':
        this.data.delete(event.path);
        this.exist.delete(event.path);
        break;
      case 'NodeDeleted':
        this.data.delete(event.path);
        this.exist.delete(event.path);
        this.child.delete(event.path);
        break;
      case 'NodeChildrenChanged':
        this.child.delete(event.path);
        break;
      default:
        break;
    }
  }

  any(): boolean {
    return (
      this.data.size + this.exist.size + this.child.size + this.persistent.size + this.persistentRecursive.size > 0
    );
  }
}

export class ZkSession {
  private client: ZkClient;
  private stateValue: SessionState = 'connected';
  private reconnecting: Promise<void> | undefined;
  private closing = false;
  private resumeGate: Promise<void> | undefined;
  readonly connections: SessionConnection[] = [];
  readonly watches = new Watches();
  /** The identities the server accepted (addAuth): re-sent first on every resumed connection. */
  private readonly authInfo: AuthInfo[] = [];

  private constructor(
    first: ZkClient,
    private readonly options: SessionOptions,
  ) {
    this.client = first;
    this.connections.push({ conn: 0, server: options.servers[0]!.name });
    this.watchConnection(first);
  }

  static async open(options: SessionOptions): Promise<ZkSession> {
    if (options.servers.length === 0) throw new RangeError('a session needs at least one server');
    // Events that arrive before the constructor has run go to the session once it exists (none can: no watch yet).
    const ref: { session?: ZkSession } = {};
    const first = await ZkClient.connect({
      ...address(options.servers[0]!),
      sessionTimeoutMs: options.sessionTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      defaultOpTimeoutMs: options.opTimeoutMs,
      onEvent: (event) => ref.session?.onEvent(event, 0),
    });
    ref.session = new ZkSession(first, options);
    return ref.session;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get sessionId(): bigint {
    return this.client.sessionId;
  }

  /** The index of the connection ops go to now. */
  get conn(): number {
    return this.connections.length - 1;
  }

  get lastZxid(): bigint {
    return this.client.lastZxid;
  }

  private onEvent(event: ZkWatchEvent, conn: number): void {
    this.watches.fired(event);
    this.options.onEvent?.({ ...event, conn });
  }

  private watchConnection(client: ZkClient): void {
    void client.closed.then((err) => {
      if (this.closing || client !== this.client) return;
      if (err?.code === ZkErrorCode.SESSIONEXPIRED) this.stateValue = 'expired';
      else if (err) void this.reconnect();
      else this.stateValue = 'closed';
    });
  }

  /**
   * Resumes on the servers in turn until one takes the session, the server says it expired, or a session timeout
   * has passed since the connection dropped (by then the ensemble has expired it).
   */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      this.stateValue = 'reconnecting';
      const lostAt = Date.now();
      await this.resumeGate;
      const previous = this.client;
      for (let attempt = 0; !this.closing; attempt++) {
        if (Date.now() - lostAt > this.options.sessionTimeoutMs + this.options.connectTimeoutMs) break;
        const server = this.options.servers[attempt % this.options.servers.length]!;
        const conn = this.connections.length;
        const relativeZxid = previous.lastZxid;
        try {
          const next = await ZkClient.connect({
            ...address(server),
            sessionTimeoutMs: this.options.sessionTimeoutMs,
            connectTimeoutMs: this.options.connectTimeoutMs,
            defaultOpTimeoutMs: this.options.opTimeoutMs,
            lastZxidSeen: relativeZxid,
            session: { id: previous.sessionId, passwd: previous.sessionPasswd },
            auth: [...this.authInfo],
            watches: {
              relativeZxid,
              data: [...this.watches.data],
              exist: [...this.watches.exist],
              child: [...this.watches.child],
              persistent: [...this.watches.persistent],
              persistentRecursive: [...this.watches.persistentRecursive],
            },
            onEvent: (event) => this.onEvent(event, conn),
          });
          if (this.closing) {
            await next.close();
            return;
          }
          this.connections.push({
            conn,
            server: server.name,
            relativeZxid,
            ...(next.resumedAt ? { resumedAtZxid: next.resumedAt.zxid, resumedAtArrival: next.resumedAt.arrival } : {}),
          });
          this.client = next;
          this.stateValue = 'connected';
          this.watchConnection(next);
          return;
        } catch (err) {
          if (err instanceof ZkError && err.code === ZkErrorCode.SESSIONEXPIRED) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (!this.closing) this.stateValue = 'expired';
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  /** The current connection, waiting for a reconnect in progress; rejects once the session is over. */
  private async current(): Promise<{ client: ZkClient; conn: number }> {
    if (this.stateValue === 'reconnecting') await this.reconnecting;
    if (this.stateValue !== 'connected')
      throw new ZkError(
        this.stateValue === 'expired' ? ZkErrorCode.SESSIONEXPIRED : ZkErrorCode.CONNECTIONLOSS,
        `session 0x${this.client.sessionId.toString(16)} is ${this.stateValue}`,
        { unsent: true },
      );
    return { client: this.client, conn: this.conn };
  }

  /** Runs one op on the current connection; `at` says where its reply came. */
  async run<T extends { zxid: bigint; arrival: number }>(
    op: (client: ZkClient) => Promise<T>,
  ): Promise<T & { at: ReplyPosition }> {
    const { client, conn } = await this.current();
    const result = await op(client);
    return { ...result, at: { conn, arrival: result.arrival, zxid: result.zxid } };
  }

  // Watches are registered as their reply is processed (onReply), before a notification that follows it in the
  // same chunk could fire them: registering after the await would re-add a watch that already fired.

  /** getData, registering a data watch when watch is set and the read succeeds. */
  getData(path: string, options: OpOptions = {}): Promise<{ data: Buffer; stat: Stat; at: ReplyPosition }> {
    const onReply = options.watch ? () => void this.watches.data.add(path) : undefined;
    return this.run((c) => c.getData(path, { ...options, ...(onReply ? { onReply } : {}) }));
  }

  /** exists: a watch on an existing znode is a data watch, on a missing one an exist watch (Java client alike). */
  exists(path: string, options: OpOptions = {}): Promise<{ stat: Stat | null; at: ReplyPosition }> {
    const onReply = options.watch
      ? (r: unknown) => void ((r as { stat: Stat | null }).stat ? this.watches.data : this.watches.exist).add(path)
      : undefined;
    return this.run((c) => c.exists(path, { ...options, ...(onReply ? { onReply } : {}) }));
  }

  getChildren2(path: string, options: OpOptions = {}): Promise<{ children: string[]; stat: Stat; at: ReplyPosition }> {
    const onReply = options.watch ? () => void this.watches.child.add(path) : undefined;
    return this.run((c) => c.getChildren2(path, { ...options, ...(onReply ? { onReply } : {}) }));
  }

  addWatch(path: string, mode: AddWatchMode, options: OpOptions = {}): Promise<{ at: ReplyPosition }> {
    const set = mode === 'persistent' ? this.watches.persistent : this.watches.persistentRecursive;
    return this.run((c) => c.addWatch(path, mode, { ...options, onReply: () => void set.add(path) }));
  }

  /**
   * Adds an identity to the session (digest: `user:password`). Once the server accepted it, every resumed
   * connection sends it again before anything else, as the Java client does: the server keeps identities per
   * connection, not per session.
   */
  async addAuth(scheme: string, auth: Uint8Array, options: OpOptions = {}): Promise<{ at: ReplyPosition }> {
    const result = await this.run((c) => c.addAuth(scheme, auth, options));
    this.authInfo.push({ scheme, auth: Uint8Array.from(auth) });
    return result;
  }

  /** The identities this session holds, in the order they were added. */
  get auth(): readonly AuthInfo[] {
    return this.authInfo;
  }

  /** Ends the session; resolves with the notifications that arrived after the server confirmed the close. */
  async close(drainMs = 0): Promise<number> {
    this.closing = true;
    await this.reconnecting?.catch(() => undefined);
    const client = this.client;
    this.stateValue = 'closed';
    await client.close({ drainMs });
    return client.eventsAfterClose;
  }

  /**
   * Drops the connection without ending the session (a network failure, as the client sees it). Tests pass
   * `resumeAfter` to hold the reconnect back until something has happened meanwhile.
   */
  dropConnection(resumeAfter?: Promise<void>): void {
    this.resumeGate = resumeAfter;
    this.client.disconnect();
  }
}

function address(server: ZkServer): { host: string; port: number } {
  return { host: server.host, port: server.port };
}

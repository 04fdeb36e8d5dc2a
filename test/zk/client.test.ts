import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ZkClient,
  ZkError,
  ZkErrorCode,
  ZkMultiError,
  isDefiniteFailure,
  isIndeterminate,
  type ZkConnectOptions,
} from '../../src/zk/client.js';
import { JuteReader, JuteWriter } from '../../src/zk/jute.js';
import { startZkContainer, type ZkContainer } from './zk-container.js';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function expectZkError(promise: Promise<unknown>, name: string): Promise<ZkError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ZkError);
  expect((err as ZkError).name).toBe(name);
  return err as ZkError;
}

// ---------------------------------------------------------------------------------------------
// Fake servers on loopback: handshake failures and drops that a real server makes hard to time.

interface FakeServer {
  port: number;
  close(): Promise<void>;
}

async function fakeServer(onConnection: (socket: net.Socket) => void): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Calls onFrame with each length-prefixed frame the client sends. */
function onFrames(socket: net.Socket, onFrame: (frame: Buffer, index: number) => void): void {
  let pending = Buffer.alloc(0);
  let index = 0;
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const length = pending.readInt32BE(0);
      onFrame(pending.subarray(4, 4 + length), index++);
      pending = pending.subarray(4 + length);
    }
  });
}

const connectResponseFrame = (timeOutMs: number): Buffer =>
  new JuteWriter()
    .writeInt(0)
    .writeInt(timeOutMs)
    .writeLong(0xabcn)
    .writeBuffer(Buffer.alloc(16))
    .writeBoolean(false)
    .toFrame();

const loopback = (port: number, extra: Partial<ZkConnectOptions> = {}): ZkConnectOptions => ({
  host: '127.0.0.1',
  port,
  sessionTimeoutMs: 4000,
  connectTimeoutMs: 1000,
  ...extra,
});

describe('ZkClient against fake servers (loopback)', () => {
  it('sends a well-formed ConnectRequest and reports a server that drops the handshake as not serving', async () => {
    let request: Buffer | undefined;
    const server = await fakeServer((socket) =>
      onFrames(socket, (frame) => {
        request = frame;
        socket.destroy(); // what a ZooKeeper server outside a quorum does
      }),
    );
    try {
      const err = await expectZkError(
        ZkClient.connect(loopback(server.port, { sessionTimeoutMs: 3000 })),
        'CONNECTIONLOSS',
      );
      expect(err.message).toMatch(/closed the connection during the handshake: it is not serving/);
      const r = new JuteReader(request ?? Buffer.alloc(0));
      expect([r.readInt(), r.readLong(), r.readInt(), r.readLong()]).toEqual([0, 0n, 3000, 0n]);
      expect(r.readBuffer()).toEqual(Buffer.alloc(16));
      expect(r.readBoolean()).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('times out a handshake the server never answers', async () => {
    const server = await fakeServer(() => {});
    try {
      const started = Date.now();
      const err = await expectZkError(
        ZkClient.connect(loopback(server.port, { connectTimeoutMs: 300 })),
        'CONNECTIONLOSS',
      );
      expect(err.message).toMatch(/no ConnectResponse within 300 ms/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  it('rejects an in-flight op with an indeterminate CONNECTIONLOSS when the connection drops, and closes the client', async () => {
    const server = await fakeServer((socket) =>
      onFrames(socket, (_frame, index) => (index === 0 ? socket.write(connectResponseFrame(4000)) : socket.destroy())),
    );
    try {
      const client = await ZkClient.connect(loopback(server.port));
      expect(client.sessionId).toBe(0xabcn);
      const err = await expectZkError(client.create('/x', utf8('v'), 'persistent'), 'CONNECTIONLOSS');
      expect(isIndeterminate(err)).toBe(true);
      expect(client.state).toBe('closed');
      expect((await client.closed)?.name).toBe('CONNECTIONLOSS');
      // Never sent: a definite failure.
      const unsent = await expectZkError(client.getData('/x'), 'CONNECTIONLOSS');
      expect(unsent.unsent).toBe(true);
      expect(isDefiniteFailure(unsent)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('times out an op without closing the client and drops the late reply', async () => {
    const server = await fakeServer((socket) =>
      onFrames(socket, (frame, index) => {
        if (index === 0) return void socket.write(connectResponseFrame(4000));
        const xid = frame.readInt32BE(0);
        if (xid === -2) return; // ping
        // A sync reply {ReplyHeader, path} per request; the first one arrives after the client gave up.
        const reply = new JuteWriter()
          .writeInt(xid)
          .writeLong(BigInt(100 + xid))
          .writeInt(0)
          .writeUstring(`/late-${xid}`)
          .toFrame();
        if (xid === 1) setTimeout(() => socket.write(reply), 300);
        else setTimeout(() => socket.write(reply), 400); // keep replies in order, as ZooKeeper does
      }),
    );
    try {
      const client = await ZkClient.connect(loopback(server.port));
      const err = await expectZkError(client.sync('/a', { timeoutMs: 100 }), 'OPERATIONTIMEOUT');
      expect(err.code).toBe(ZkErrorCode.OPERATIONTIMEOUT);
      expect(isIndeterminate(err)).toBe(true);
      const second = await client.sync('/b', { timeoutMs: 2000 });
      expect(second).toEqual({ path: '/late-2', zxid: 102n, arrival: 2 });
      expect(client.lastZxid).toBe(102n);
      expect(client.state).toBe('connected');
      await client.close();
    } finally {
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A real ZooKeeper 3.8 standalone server in Docker.

describe('ZkClient against ZooKeeper in Docker', () => {
  let zk: ZkContainer | undefined;
  const clients: ZkClient[] = [];

  const server = (): ZkContainer => {
    if (!zk) throw new Error('container not started');
    return zk;
  };

  const connect = async (extra: Partial<ZkConnectOptions> = {}): Promise<ZkClient> => {
    const client = await ZkClient.connect({
      host: server().host,
      port: server().port,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
      ...extra,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    zk = await startZkContainer();
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    if (zk) {
      await zk.docker('unpause', zk.name).catch(() => undefined);
      await zk.remove();
    }
  });

  it('connects and negotiates a session', async () => {
    const client = await connect({ sessionTimeoutMs: 3000 });
    expect(client.state).toBe('connected');
    expect(client.sessionId).not.toBe(0n);
    expect(client.sessionTimeoutMs).toBe(3000);
    await client.close();
    expect(client.state).toBe('closed');
    await client.close(); // idempotent
    expect(await client.closed).toBeUndefined();
  });

  it('creates, reads, writes with versions, lists and deletes nodes, with zxids', async () => {
    const client = await connect();
    const created = await client.create('/basic', utf8('v0'), 'persistent');
    expect(created.path).toBe('/basic');
    expect(created.zxid).toBeGreaterThan(0n);

    const read = await client.getData('/basic');
    expect(read.data.toString()).toBe('v0');
    expect(read.stat.version).toBe(0);
    expect(read.stat.czxid).toBe(created.zxid);
    expect(read.stat.ephemeralOwner).toBe(0n);

    const written = await client.setData('/basic', utf8('v1'), 0);
    expect(written.stat.version).toBe(1);
    expect(written.zxid).toBeGreaterThan(created.zxid);
    expect(written.stat.mzxid).toBe(written.zxid);
    expect(client.lastZxid).toBe(written.zxid);
    expect((await client.setData('/basic', utf8('v2'), -1)).stat.version).toBe(2);

    await client.create('/basic/b', Buffer.alloc(0), 'persistent');
    await client.create('/basic/a', utf8(''), 'persistent');
    expect((await client.getChildren('/basic')).children).toEqual(['a', 'b']);
    expect((await client.exists('/basic'))?.stat?.numChildren).toBe(2);
    expect((await client.getData('/basic/a')).data).toEqual(Buffer.alloc(0));

    await client.delete('/basic/a', 0);
    await client.delete('/basic/b', -1);
    const deleted = await client.delete('/basic', 2);
    expect(deleted.zxid).toBeGreaterThan(written.zxid);
    expect((await client.exists('/basic')).stat).toBeNull();
    await client.close();
  });

  it('creates sequential and ephemeral nodes', async () => {
    const client = await connect();
    await client.create('/seq', utf8(''), 'persistent');
    const first = await client.create('/seq/n-', utf8('a'), 'persistent-sequential');
    const second = await client.create('/seq/n-', utf8('b'), 'ephemeral-sequential');
    const plain = await client.create('/seq/eph', utf8('c'), 'ephemeral');
    expect(first.path).toBe('/seq/n-0000000000');
    expect(second.path).toBe('/seq/n-0000000001');
    expect(plain.path).toBe('/seq/eph');
    expect((await client.getData(second.path)).stat.ephemeralOwner).toBe(client.sessionId);
    expect((await client.getData(first.path)).stat.ephemeralOwner).toBe(0n);
    expect((await client.getChildren('/seq')).children).toEqual(['eph', 'n-0000000000', 'n-0000000001']);
    await client.close();
  });

  it('reports NONODE, NODEEXISTS, BADVERSION and NOTEMPTY as definite failures', async () => {
    const client = await connect();
    await client.create('/errs', utf8('x'), 'persistent');
    await client.create('/errs/child', utf8('x'), 'persistent');

    const noNode = await expectZkError(client.getData('/errs/missing'), 'NONODE');
    expect(noNode.code).toBe(-101);
    expect(noNode.path).toBe('/errs/missing');
    expect(noNode.zxid).toBeGreaterThan(0n);
    await expectZkError(client.setData('/errs/missing', utf8('x'), -1), 'NONODE');
    await expectZkError(client.delete('/errs/missing', -1), 'NONODE');
    await expectZkError(client.getChildren('/errs/missing'), 'NONODE');
    await expectZkError(client.create('/errs/missing/child', utf8('x'), 'persistent'), 'NONODE');
    const exists = await expectZkError(client.create('/errs', utf8('x'), 'persistent'), 'NODEEXISTS');
    expect(exists.code).toBe(-110);
    const badVersion = await expectZkError(client.setData('/errs', utf8('y'), 5), 'BADVERSION');
    expect(badVersion.code).toBe(-103);
    await expectZkError(client.delete('/errs', 0), 'NOTEMPTY');
    for (const err of [noNode, exists, badVersion]) expect(isDefiniteFailure(err)).toBe(true);
    expect((await client.getData('/errs')).data.toString()).toBe('x'); // nothing changed
    expect(client.state).toBe('connected');
    await client.close();
  });

  it('applies a multi atomically and reports each op result', async () => {
    const client = await connect();
    await client.create('/multi', utf8(''), 'persistent');
    await client.create('/multi/old', utf8('o'), 'persistent');
    const { results, zxid } = await client.multi([
      { type: 'create', path: '/multi/s-', data: utf8('1'), mode: 'persistent-sequential' },
      { type: 'check', path: '/multi', version: 0 },
      { type: 'setData', path: '/multi/old', data: utf8('n'), version: 0 },
      { type: 'delete', path: '/multi/old', version: 1 },
    ]);
    expect(results).toHaveLength(4);
    expect(results[0]).toEqual({ type: 'create', path: '/multi/s-0000000001' });
    expect(results[1]).toEqual({ type: 'check' });
    expect(results[2]).toMatchObject({ type: 'setData', stat: { version: 1, mzxid: zxid } });
    expect(results[3]).toEqual({ type: 'delete' });
    expect((await client.getChildren('/multi')).children).toEqual(['s-0000000001']);
    await client.close();
  });

  it('applies nothing of a failed multi and says which op failed', async () => {
    const client = await connect();
    await client.create('/mfail', utf8('v'), 'persistent');
    const before = await client.getData('/mfail');
    const err = await expectZkError(
      client.multi([
        { type: 'create', path: '/mfail/new', data: utf8('x'), mode: 'persistent' },
        { type: 'setData', path: '/mfail', data: utf8('changed'), version: -1 },
        { type: 'check', path: '/mfail', version: 7 },
        { type: 'delete', path: '/mfail/new', version: -1 },
      ]),
      'BADVERSION',
    );
    expect(err).toBeInstanceOf(ZkMultiError);
    const multiErr = err as ZkMultiError;
    expect(multiErr.failedOpIndex).toBe(2);
    expect(multiErr.opCodes).toEqual([0, 0, ZkErrorCode.BADVERSION, ZkErrorCode.RUNTIMEINCONSISTENCY]);
    expect(isDefiniteFailure(err)).toBe(true);
    expect((await client.exists('/mfail/new')).stat).toBeNull();
    const after = await client.getData('/mfail');
    expect(after.data.toString()).toBe('v');
    expect(after.stat.mzxid).toBe(before.stat.mzxid);

    const noNode = await expectZkError(client.multi([{ type: 'delete', path: '/mfail/none', version: -1 }]), 'NONODE');
    expect((noNode as ZkMultiError).failedOpIndex).toBe(0);
    await client.close();
  });

  it('sync then get sees another client\u2019s write', async () => {
    const writer = await connect();
    const reader = await connect();
    const { zxid } = await writer.create('/synced', utf8('fresh'), 'persistent');
    const synced = await reader.sync('/synced');
    expect(synced.path).toBe('/synced');
    expect(synced.zxid).toBeGreaterThanOrEqual(zxid);
    const read = await reader.getData('/synced');
    expect(read.data.toString()).toBe('fresh');
    expect(read.zxid).toBeGreaterThanOrEqual(zxid);
    await writer.close();
    await reader.close();
  });

  it('close() ends the session: another client sees its ephemerals gone at once', async () => {
    const owner = await connect();
    const observer = await connect();
    await owner.create('/eph-close', utf8(''), 'ephemeral');
    expect((await observer.exists('/eph-close')).stat?.ephemeralOwner).toBe(owner.sessionId);
    await owner.close();
    expect((await observer.exists('/eph-close')).stat).toBeNull();
    const afterClose = await expectZkError(owner.exists('/eph-close'), 'CONNECTIONLOSS');
    expect(isDefiniteFailure(afterClose)).toBe(true); // never sent
    await observer.close();
  });

  it('destroy() leaves the session to expire: its ephemerals vanish after the session timeout', async () => {
    const owner = await connect({ sessionTimeoutMs: 2000 });
    const observer = await connect();
    await owner.create('/eph-expire', utf8(''), 'ephemeral');
    const droppedAt = Date.now();
    owner.destroy();
    expect((await observer.exists('/eph-expire')).stat).not.toBeNull();
    let goneAfterMs = -1;
    while (Date.now() - droppedAt < 15_000) {
      if ((await observer.exists('/eph-expire')).stat === null) {
        goneAfterMs = Date.now() - droppedAt;
        break;
      }
      await sleep(100);
    }
    expect(goneAfterMs).toBeGreaterThanOrEqual(1500);
    expect(goneAfterMs).toBeLessThan(6000);
    await observer.close();
  });

  it('keeps an idle session alive with pings', async () => {
    const client = await connect({ sessionTimeoutMs: 1500 });
    await client.create('/idle', utf8(''), 'ephemeral');
    await sleep(4000); // over twice the session timeout with no ops
    expect(client.state).toBe('connected');
    expect((await client.exists('/idle')).stat?.ephemeralOwner).toBe(client.sessionId);
    await client.close();
  });

  it('matches pipelined replies to their requests by xid', async () => {
    const client = await connect();
    await client.create('/pipe', utf8(''), 'persistent');
    const count = 200;
    const created = await Promise.all(
      Array.from({ length: count }, (_, i) => client.create(`/pipe/n${i}`, utf8(`v${i}`), 'persistent')),
    );
    expect(created.map((c) => c.path)).toEqual(Array.from({ length: count }, (_, i) => `/pipe/n${i}`));
    const zxids = created.map((c) => c.zxid);
    expect([...zxids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(zxids); // applied in send order
    const reads = await Promise.all(Array.from({ length: count }, (_, i) => client.getData(`/pipe/n${i}`)));
    expect(reads.map((r) => r.data.toString())).toEqual(Array.from({ length: count }, (_, i) => `v${i}`));
    expect((await client.getChildren('/pipe')).children).toHaveLength(count);
    await client.close();
  });

  it('refuses clearly when nothing listens on the port', async () => {
    const err = await expectZkError(
      ZkClient.connect({ host: server().host, port: 2182, sessionTimeoutMs: 4000, connectTimeoutMs: 3000 }),
      'CONNECTIONLOSS',
    );
    expect(err.message).toMatch(/connection refused/);
  });

  it('is refused by a server that has not seen the client\u2019s lastZxidSeen', async () => {
    const err = await expectZkError(
      ZkClient.connect({
        host: server().host,
        port: server().port,
        sessionTimeoutMs: 4000,
        connectTimeoutMs: 3000,
        lastZxidSeen: 1n << 40n,
      }),
      'CONNECTIONLOSS',
    );
    expect(err.message).toMatch(
      /closed the connection during the handshake.*has not yet seen lastZxidSeen 0x10000000000/,
    );
  });

  it('times out an op on a frozen server; the op may still apply later and the client keeps working', async () => {
    const client = await connect({ sessionTimeoutMs: 8000 });
    await server().docker('pause', server().name);
    let timeoutErr: ZkError;
    try {
      timeoutErr = await expectZkError(
        client.create('/late', utf8('x'), 'persistent', { timeoutMs: 300 }),
        'OPERATIONTIMEOUT',
      );
    } finally {
      await server().docker('unpause', server().name);
    }
    expect(isIndeterminate(timeoutErr)).toBe(true);
    // The server received the create before it froze and applies it after: indeterminate indeed.
    expect((await client.exists('/late')).stat).not.toBeNull();
    expect(client.state).toBe('connected');
    await client.close();
  });

  it('rejects in-flight ops with CONNECTIONLOSS when the server stops answering', async () => {
    const client = await connect({ sessionTimeoutMs: 2000 });
    await client.create('/frozen', utf8('x'), 'persistent');
    await server().docker('pause', server().name);
    try {
      const started = Date.now();
      const err = await expectZkError(client.getData('/frozen', { timeoutMs: 20_000 }), 'CONNECTIONLOSS');
      expect(isIndeterminate(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(4000); // 2/3 of the session timeout, checked every third
      expect(client.state).toBe('closed');
      expect((await client.closed)?.message).toMatch(/no reply from .* for over 1333 ms/);
    } finally {
      await server().docker('unpause', server().name);
    }
  });

  it('rejects in-flight ops at once when the server process dies (last: it stops the container)', async () => {
    const client = await connect({ sessionTimeoutMs: 10_000 });
    await client.create('/dying', utf8('x'), 'persistent');
    // Stop java so the op stays in flight, then kill it: the kernel closes the connection.
    await server().docker('exec', server().name, 'pkill', '-STOP', 'java');
    const inFlight = client.getData('/dying', { timeoutMs: 20_000 });
    await sleep(200);
    const started = Date.now();
    // Handle the rejection before the kill: it can arrive before `docker exec` returns.
    const failure = expectZkError(inFlight, 'CONNECTIONLOSS');
    await server()
      .docker('exec', server().name, 'pkill', '-9', 'java')
      .catch(() => undefined);
    const err = await failure;
    expect(Date.now() - started).toBeLessThan(3000); // well before the 6.7 s read timeout
    expect(isIndeterminate(err)).toBe(true);
    expect(client.state).toBe('closed');
  });
});

describe('ZkClient against a ZooKeeper server outside any quorum (Docker)', () => {
  let zk: ZkContainer | undefined;

  beforeAll(async () => {
    zk = await startZkContainer('outsideQuorum');
  });

  afterAll(async () => {
    await zk?.remove();
  });

  it('fails to connect with a clear not-serving error', async () => {
    if (!zk) throw new Error('container not started');
    const err = await expectZkError(
      ZkClient.connect({ host: zk.host, port: zk.port, sessionTimeoutMs: 4000, connectTimeoutMs: 3000 }),
      'CONNECTIONLOSS',
    );
    expect(err.message).toMatch(/closed the connection during the handshake: it is not serving/);
  });
});

describe('ZkSession watch registry (fake server on loopback)', () => {
  it('registers a watch at its reply, so a notification in the same chunk fires it for good', async () => {
    const { ZkSession } = await import('../../src/zk/session.js');
    const server = await fakeServer((socket) =>
      onFrames(socket, (frame, index) => {
        if (index === 0) return void socket.write(connectResponseFrame(4000));
        const r = new JuteReader(frame);
        const xid = r.readInt();
        if (r.readInt() !== 4) return; // only getData is answered
        const reply = new JuteWriter()
          .writeInt(xid)
          .writeLong(7n)
          .writeInt(0)
          .writeBuffer(Buffer.from('v'))
          .writeStat({
            czxid: 1n,
            mzxid: 7n,
            ctime: 0n,
            mtime: 0n,
            version: 1,
            cversion: 0,
            aversion: 0,
            ephemeralOwner: 0n,
            dataLength: 1,
            numChildren: 0,
            pzxid: 1n,
          })
          .toFrame();
        const event = new JuteWriter()
          .writeInt(-1)
          .writeLong(8n)
          .writeInt(0)
          .writeInt(3)
          .writeInt(3)
          .writeUstring('/a')
          .toFrame();
        socket.write(Buffer.concat([reply, event])); // one chunk: the reply, then the watch it set firing
      }),
    );
    try {
      const events: string[] = [];
      const session = await ZkSession.open({
        servers: [{ host: '127.0.0.1', port: server.port, name: 'fake' }],
        sessionTimeoutMs: 4000,
        connectTimeoutMs: 1000,
        opTimeoutMs: 1000,
        onEvent: (e) => events.push(`${e.type} ${e.path} ${e.zxid}`),
      });
      const read = await session.getData('/a', { watch: true });
      expect(read.at).toMatchObject({ arrival: 1, zxid: 7n });
      expect(events).toEqual(['NodeDataChanged /a 8']);
      expect(session.watches.data.has('/a')).toBe(false);
      session.dropConnection(new Promise(() => undefined));
    } finally {
      await server.close();
    }
  });
});

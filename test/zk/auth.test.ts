// Identities across connections, against a fake server on loopback: a session re-sends the identities it added
// (addAuth) first on every resumed connection, before its other requests, as the Java client does; a refused
// identity (AUTHFAILED) fails the connect.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ZkClient, ZkError } from '../../src/zk/client.js';
import { JuteReader, JuteWriter } from '../../src/zk/jute.js';
import { ZkSession } from '../../src/zk/session.js';

interface Received {
  conn: number;
  xid: number;
  type: number;
  scheme?: string;
  auth?: string;
}

/** A server that grants every session, answers auth packets with `authErr`, SetWatches with OK, the rest with NONODE. */
async function fakeServer(
  authErr = 0,
): Promise<{ port: number; received: Received[]; drop(): void; close(): Promise<void> }> {
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  let conns = 0;
  const server = net.createServer((socket) => {
    const conn = conns++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    let handshaken = false;
    const reply = (xid: number, err: number): void =>
      void socket.write(new JuteWriter().writeInt(xid).writeLong(5n).writeInt(err).toFrame());
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        if (!handshaken) {
          handshaken = true;
          socket.write(
            new JuteWriter().writeInt(0).writeInt(6000).writeLong(0xabcn).writeBuffer(Buffer.alloc(16)).toFrame(),
          );
          continue;
        }
        const r = new JuteReader(Buffer.from(frame));
        const xid = r.readInt();
        const type = r.readInt();
        if (type === 11) continue; // ping
        if (type === 100) {
          r.readInt();
          received.push({ conn, xid, type, scheme: r.readUstring() ?? '', auth: r.readBuffer()?.toString() ?? '' });
          reply(xid, authErr);
          if (authErr !== 0) socket.end();
          continue;
        }
        received.push({ conn, xid, type });
        reply(xid, type === 101 || type === 105 ? 0 : -101); // SetWatches: OK; anything else: NONODE
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    drop: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('identities (addAuth) across connections', () => {
  it('re-sends every identity first on a resumed connection, in the order they were added', async () => {
    const server = await fakeServer();
    close = server.close;
    const session = await ZkSession.open({
      servers: [{ host: '127.0.0.1', port: server.port, name: 'n1' }],
      sessionTimeoutMs: 6000,
      connectTimeoutMs: 2000,
      opTimeoutMs: 2000,
    });
    await session.addAuth('digest', Buffer.from('alice:secret'));
    await session.addAuth('digest', Buffer.from('bob:pw'));
    expect(session.auth.map((a) => Buffer.from(a.auth).toString())).toEqual(['alice:secret', 'bob:pw']);
    session.dropConnection();
    for (let i = 0; i < 100 && session.conn === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await expect(session.run((c) => c.getData('/x'))).rejects.toMatchObject({ name: 'NONODE' });
    expect(session.conn).toBe(1);
    expect(server.received.map(({ conn, xid, type, auth }) => ({ conn, xid, type, auth }))).toEqual([
      { conn: 0, xid: -4, type: 100, auth: 'alice:secret' },
      { conn: 0, xid: -4, type: 100, auth: 'bob:pw' },
      { conn: 1, xid: -4, type: 100, auth: 'alice:secret' },
      { conn: 1, xid: -4, type: 100, auth: 'bob:pw' },
      { conn: 1, xid: -8, type: 101, auth: undefined }, // SetWatches: after the identities
      { conn: 1, xid: 1, type: 4, auth: undefined },
    ]);
    await session.close();
  });

  it('fails the connect when the server refuses an identity (AUTHFAILED)', async () => {
    const server = await fakeServer(-115);
    close = server.close;
    const err = await ZkClient.connect({
      host: '127.0.0.1',
      port: server.port,
      sessionTimeoutMs: 6000,
      connectTimeoutMs: 2000,
      auth: [{ scheme: 'digest', auth: Buffer.from('mallory:x') }],
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ZkError);
    expect((err as ZkError).name).toBe('AUTHFAILED');
    expect(server.received).toEqual([{ conn: 0, xid: -4, type: 100, scheme: 'digest', auth: 'mallory:x' }]);
  });
});

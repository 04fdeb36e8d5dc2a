// Watches on our own client against a real ZooKeeper server: one-time data, exist and child watches, persistent
// and recursive watches (3.6+), the zxid a notification carries (the change's on 3.9+, -1 before: ZOOKEEPER-4655),
// and a session resumed on a new connection re-registering its watches (SetWatches), including the documented miss.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/zk/client.js';
import { ZkSession, type SessionEvent } from '../../src/zk/session.js';
import { startZkContainer, type ZkContainer } from './zk-container.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('watches on a real server', () => {
  let zk: ZkContainer;
  let writer: ZkClient;
  let carriesZxid: boolean;
  let n = 0;

  beforeAll(async () => {
    zk = await startZkContainer();
    writer = await ZkClient.connect({ host: zk.host, port: zk.port, sessionTimeoutMs: 5000, connectTimeoutMs: 5000 });
    const srvr = await new Promise<string>((resolve) => {
      let text = '';
      const socket = net.connect({ host: zk.host, port: zk.port }, () => socket.write('srvr'));
      socket.on('data', (b) => (text += b.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    // 3.9.0 and later put the change's zxid in the notification's reply header.
    const version = /version: (\d+)\.(\d+)/i.exec(srvr);
    carriesZxid = version ? Number(version[1]) > 3 || Number(version[2]) >= 9 : true;
  }, 120_000);

  afterAll(async () => {
    await writer?.close();
    await zk?.remove();
  });

  async function session(): Promise<{ s: ZkSession; events: SessionEvent[] }> {
    const events: SessionEvent[] = [];
    const s = await ZkSession.open({
      servers: [{ host: zk.host, port: zk.port, name: 'zk' }],
      sessionTimeoutMs: 6000,
      connectTimeoutMs: 3000,
      opTimeoutMs: 3000,
      onEvent: (e) => events.push(e),
    });
    return { s, events };
  }

  const fresh = async (): Promise<string> => {
    const path = `/w${n++}`;
    await writer.create(path, Buffer.from('0'), 'persistent');
    return path;
  };

  it('fires a data watch once, before a reply that shows the new data, with the change zxid where the server sends it', async () => {
    const path = await fresh();
    const { s, events } = await session();
    await s.getData(path, { watch: true });
    const first = await writer.setData(path, Buffer.from('1'), -1);
    await writer.setData(path, Buffer.from('2'), -1);
    const read = await s.getData(path);
    expect(read.data.toString()).toBe('2');
    expect(events.map((e) => [e.type, e.path])).toEqual([['NodeDataChanged', path]]);
    expect(events[0]!.arrival).toBeLessThan(read.at.arrival);
    expect(events[0]!.zxid).toBe(carriesZxid ? first.zxid : -1n);
    expect(s.watches.data.has(path)).toBe(false);
    await s.close();
  });

  it('fires an exist watch on create and a child watch on the parent', async () => {
    const parent = await fresh();
    const { s, events } = await session();
    expect((await s.exists(`${parent}/c`, { watch: true })).stat).toBeNull();
    await s.getChildren2(parent, { watch: true });
    const created = await writer.create(`${parent}/c`, Buffer.alloc(0), 'persistent');
    await s.getData(parent);
    expect(events.map((e) => e.type).sort()).toEqual(['NodeChildrenChanged', 'NodeCreated']);
    for (const e of events) expect(e.zxid).toBe(carriesZxid ? created.zxid : -1n);
    await s.close();
  });

  it('delivers every change to persistent and recursive watches, in order', async () => {
    const path = await fresh();
    const { s, events } = await session();
    await s.addWatch(path, 'persistent');
    const zxids = [];
    for (let i = 0; i < 3; i++) zxids.push((await writer.setData(path, Buffer.from(String(i)), -1)).zxid);
    await writer.create(`${path}/kid`, Buffer.alloc(0), 'persistent');
    await s.getData(path);
    expect(events.map((e) => e.type)).toEqual([
      'NodeDataChanged',
      'NodeDataChanged',
      'NodeDataChanged',
      'NodeChildrenChanged',
    ]);
    if (carriesZxid) expect(events.slice(0, 3).map((e) => e.zxid)).toEqual(zxids);
    const { s: r, events: under } = await session();
    await r.addWatch(path, 'persistent-recursive');
    await writer.setData(`${path}/kid`, Buffer.from('x'), -1);
    await writer.delete(`${path}/kid`, -1);
    await r.getData(path);
    // Recursive watches get no child events (they would be redundant).
    expect(under.map((e) => [e.type, e.path])).toEqual([
      ['NodeDataChanged', `${path}/kid`],
      ['NodeDeleted', `${path}/kid`],
    ]);
    await s.close();
    await r.close();
  });

  it('resumes the session on a new connection: what changed meanwhile fires (zxid -1), watches stay armed', async () => {
    const path = await fresh();
    const { s, events } = await session();
    await s.getData(path, { watch: true });
    await s.addWatch(path, 'persistent');
    let resume!: () => void;
    s.dropConnection(new Promise((r) => (resume = r)));
    await writer.setData(path, Buffer.from('while-away'), -1);
    resume();
    const read = await s.getData(path);
    expect(s.connections.map((c) => c.conn)).toEqual([0, 1]);
    expect(s.connections[1]!.resumedAtZxid).toBeGreaterThan(0n);
    // SetWatches fired the one-time watch for the missed change; the persistent watch was re-added without replay.
    expect(events.map((e) => [e.type, e.conn, e.zxid])).toEqual([['NodeDataChanged', 1, -1n]]);
    expect(events[0]!.arrival).toBeLessThan(read.at.arrival);
    await writer.setData(path, Buffer.from('after'), -1);
    await s.getData(path);
    expect(events.map((e) => e.type)).toEqual(['NodeDataChanged', 'NodeDataChanged']);
    await s.close();
  });

  it("misses a create-then-delete of an exist-watched znode while disconnected, as the Programmer's Guide says", async () => {
    const parent = await fresh();
    const { s, events } = await session();
    await s.exists(`${parent}/gone`, { watch: true });
    let resume!: () => void;
    s.dropConnection(new Promise((r) => (resume = r)));
    await writer.create(`${parent}/gone`, Buffer.alloc(0), 'persistent');
    await writer.delete(`${parent}/gone`, -1);
    resume();
    await s.getData(parent);
    await sleep(100);
    expect(events).toEqual([]);
    expect(s.watches.exist.has(`${parent}/gone`)).toBe(true);
    await s.close();
  });
});

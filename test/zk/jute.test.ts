import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JuteError, JuteReader, JuteWriter, type Stat } from '../../src/zk/jute.js';
import {
  decodeConnectResponse,
  digestId,
  encodeConnectRequest,
  encodeRequest,
  OpCode,
  readAcl,
  readGetAclResponse,
  readMultiResponse,
  readReplyHeader,
  writeAcl,
  type Acl,
} from '../../src/zk/protocol.js';
import { ZkError, ZkErrorCode, isDefiniteFailure, isIndeterminate, zkErrorName } from '../../src/zk/errors.js';

const sampleStat: Stat = {
  czxid: 0x100000002n,
  mzxid: -1n,
  ctime: 1_700_000_000_000n,
  mtime: 1_700_000_000_001n,
  version: 3,
  cversion: -1,
  aversion: 0,
  ephemeralOwner: 0x7fff_ffff_ffff_ffffn,
  dataLength: 5,
  numChildren: 0,
  pzxid: 42n,
};

describe('jute writer and reader', () => {
  it('encodes ints and longs big-endian and round-trips every type', () => {
    const w = new JuteWriter(16)
      .writeInt(1)
      .writeLong(-2n)
      .writeBoolean(true)
      .writeBuffer(Buffer.from('ab'))
      .writeBuffer(null)
      .writeUstring('zé')
      .writeUstring(null)
      .writeVector(['x', 'yz'], (wr, s) => wr.writeUstring(s))
      .writeVector(null, () => {})
      .writeStat(sampleStat);
    const bytes = w.toBuffer();
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 1]));
    expect(bytes.subarray(4, 12)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]));
    const r = new JuteReader(bytes);
    expect(r.readInt()).toBe(1);
    expect(r.readLong()).toBe(-2n);
    expect(r.readBoolean()).toBe(true);
    expect(r.readBuffer()).toEqual(Buffer.from('ab'));
    expect(r.readBuffer()).toBeNull();
    expect(r.readUstring()).toBe('zé');
    expect(r.readUstring()).toBeNull();
    expect(r.readVector((rd) => rd.readUstring())).toEqual(['x', 'yz']);
    expect(r.readVector((rd) => rd.readInt())).toBeNull();
    expect(r.readStat()).toEqual(sampleStat);
    expect(r.remaining).toBe(0);
  });

  it('grows past its initial capacity', () => {
    const big = Buffer.alloc(100_000, 7);
    const r = new JuteReader(new JuteWriter(16).writeBuffer(big).writeInt(9).toBuffer());
    expect(r.readBuffer()?.equals(big)).toBe(true); // toEqual on 100 kB is slow
    expect(r.readInt()).toBe(9);
  });

  it('round-trips arbitrary values (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.string(),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.string(), { maxLength: 20 }),
        (i, l, s, b, v) => {
          const bytes = new JuteWriter(8)
            .writeInt(i)
            .writeLong(l)
            .writeUstring(s)
            .writeBuffer(b)
            .writeVector(v, (w, x) => w.writeUstring(x))
            .toBuffer();
          const r = new JuteReader(bytes);
          expect(r.readInt()).toBe(i);
          expect(r.readLong()).toBe(l);
          expect(r.readUstring()).toBe(s);
          expect(new Uint8Array(r.readBuffer() ?? [])).toEqual(b);
          expect(r.readVector((rd) => rd.readUstring())).toEqual(v);
          expect(r.remaining).toBe(0);
        },
      ),
    );
  });

  it('rejects out-of-range ints and longs', () => {
    expect(() => new JuteWriter().writeInt(2 ** 31)).toThrow(JuteError);
    expect(() => new JuteWriter().writeInt(1.5)).toThrow(JuteError);
    expect(() => new JuteWriter().writeLong(2n ** 63n)).toThrow(RangeError);
  });

  it('throws JuteError on truncated or corrupt input instead of reading garbage', () => {
    expect(() => new JuteReader(Buffer.from([0, 0, 1])).readInt()).toThrow(JuteError);
    expect(() => new JuteReader(Buffer.from([0, 0, 0, 5, 1, 2])).readBuffer()).toThrow(/truncated/);
    expect(() => new JuteReader(Buffer.from([0xff, 0xff, 0xff, 0xfe])).readUstring()).toThrow(/negative/);
    expect(() => new JuteReader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).readVector((r) => r.readInt())).toThrow(
      JuteError,
    );
  });

  it('frames a record with its length', () => {
    expect(new JuteWriter().writeInt(7).toFrame()).toEqual(Buffer.from([0, 0, 0, 4, 0, 0, 0, 7]));
  });
});

describe('protocol records', () => {
  it('encodes ConnectRequest as ZooKeeper expects (45-byte payload)', () => {
    const frame = encodeConnectRequest({
      protocolVersion: 0,
      lastZxidSeen: 0x10n,
      timeOutMs: 3000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
      readOnly: false,
    });
    const r = new JuteReader(frame);
    expect(r.readInt()).toBe(45);
    expect(r.readInt()).toBe(0);
    expect(r.readLong()).toBe(0x10n);
    expect(r.readInt()).toBe(3000);
    expect(r.readLong()).toBe(0n);
    expect(r.readBuffer()).toEqual(Buffer.alloc(16));
    expect(r.readBoolean()).toBe(false);
    expect(r.remaining).toBe(0);
  });

  it('decodes ConnectResponse with and without the trailing readOnly flag', () => {
    const base = new JuteWriter().writeInt(0).writeInt(4000).writeLong(0x1234n).writeBuffer(Buffer.alloc(16, 1));
    expect(decodeConnectResponse(base.toBuffer())).toMatchObject({
      timeOutMs: 4000,
      sessionId: 0x1234n,
      readOnly: false,
    });
    expect(decodeConnectResponse(base.writeBoolean(true).toBuffer()).readOnly).toBe(true);
  });

  it('encodes a request header and body', () => {
    const r = new JuteReader(encodeRequest(5, { op: 'setData', path: '/a', data: Buffer.from('v'), version: 2 }));
    expect(r.readInt()).toBe(r.remaining);
    expect([r.readInt(), r.readInt(), r.readUstring(), r.readBuffer()?.toString(), r.readInt()]).toEqual([
      5,
      5,
      '/a',
      'v',
      2,
    ]);
  });

  it('encodes pings with xid -2 and type 11', () => {
    expect(encodeRequest(99, { op: 'ping' })).toEqual(Buffer.from([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]));
  });

  it('encodes multi as headed ops terminated by {-1, true, -1}', () => {
    const r = new JuteReader(
      encodeRequest(3, {
        op: 'multi',
        ops: [
          { type: 'create', path: '/c', data: Buffer.from('d'), mode: 'ephemeral-sequential' },
          { type: 'check', path: '/k', version: 4 },
        ],
      }),
    );
    r.readInt();
    expect([r.readInt(), r.readInt()]).toEqual([3, 14]);
    expect([r.readInt(), r.readBoolean(), r.readInt()]).toEqual([1, false, -1]);
    expect([r.readUstring(), r.readBuffer()?.toString()]).toEqual(['/c', 'd']);
    expect(r.readVector((rd) => [rd.readInt(), rd.readUstring(), rd.readUstring()])).toEqual([[31, 'world', 'anyone']]);
    expect(r.readInt()).toBe(3); // ephemeral + sequential flags
    expect([r.readInt(), r.readBoolean(), r.readInt()]).toEqual([13, false, -1]);
    expect([r.readUstring(), r.readInt()]).toEqual(['/k', 4]);
    expect([r.readInt(), r.readBoolean(), r.readInt()]).toEqual([-1, true, -1]);
    expect(r.remaining).toBe(0);
  });

  it('decodes a multi reply with results and per-op errors', () => {
    const w = new JuteWriter()
      .writeInt(7)
      .writeLong(0x55n)
      .writeInt(0) // ReplyHeader
      .writeInt(1)
      .writeBoolean(false)
      .writeInt(0)
      .writeUstring('/c0000000001')
      .writeInt(5)
      .writeBoolean(false)
      .writeInt(0)
      .writeStat(sampleStat)
      .writeInt(2)
      .writeBoolean(false)
      .writeInt(0)
      .writeInt(-1)
      .writeBoolean(false)
      .writeInt(-103)
      .writeInt(-103)
      .writeInt(-1)
      .writeBoolean(true)
      .writeInt(-1);
    const r = new JuteReader(w.toBuffer());
    expect(readReplyHeader(r)).toEqual({ xid: 7, zxid: 0x55n, err: 0 });
    expect(readMultiResponse(r)).toEqual([
      { type: 'create', path: '/c0000000001' },
      { type: 'setData', stat: sampleStat },
      { type: 'delete' },
      { type: 'error', code: -103 },
    ]);
  });
});

describe('ACL records', () => {
  const acls: Acl[] = [
    { perms: 17, scheme: 'digest', id: digestId('alice', 'secret') },
    { perms: 1, scheme: 'ip', id: '10.0.0.1' },
  ];
  const readAcls = (r: JuteReader): Acl[] | null => r.readVector(readAcl);

  it('encodes one ACL as {int perms; Id {ustring scheme; ustring id}}, byte for byte', () => {
    const w = new JuteWriter();
    writeAcl(w, { perms: 31, scheme: 'world', id: 'anyone' });
    // perms 31; "world" (length 5); "anyone" (length 6)
    expect(w.toBuffer()).toEqual(
      Buffer.from([
        0, 0, 0, 0x1f, 0, 0, 0, 5, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0, 0, 0, 6, 0x61, 0x6e, 0x79, 0x6f, 0x6e, 0x65,
      ]),
    );
    expect(readAcl(new JuteReader(w.toBuffer()))).toEqual({ perms: 31, scheme: 'world', id: 'anyone' });
  });

  it("computes digest ids as ZooKeeper does: user:base64(sha1('user:password'))", () => {
    // echo -n 'alice:secret' | openssl sha1 -binary | base64
    expect(digestId('alice', 'secret')).toBe('alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=');
  });

  it('round-trips a create with its own ACL (world:anyone when none is given)', () => {
    const r = new JuteReader(
      encodeRequest(4, { op: 'create', path: '/p', data: Buffer.from('x'), mode: 'persistent', acl: acls }),
    );
    expect(r.readInt()).toBe(r.remaining);
    expect([r.readInt(), r.readInt(), r.readUstring(), r.readBuffer()?.toString()]).toEqual([4, 1, '/p', 'x']);
    expect(readAcls(r)).toEqual(acls);
    expect([r.readInt(), r.remaining]).toEqual([0, 0]);
    const open = new JuteReader(
      encodeRequest(4, { op: 'create', path: '/p', data: Buffer.alloc(0), mode: 'ephemeral' }),
    );
    open.readInt();
    open.readInt();
    open.readInt();
    open.readUstring();
    open.readBuffer();
    expect(readAcls(open)).toEqual([{ perms: 31, scheme: 'world', id: 'anyone' }]);
  });

  it('round-trips GetACLRequest (opcode 6) and SetACLRequest (opcode 7, with the ACL version)', () => {
    const get = new JuteReader(encodeRequest(9, { op: 'getACL', path: '/p' }));
    expect([get.readInt(), get.readInt(), get.readInt(), get.readUstring(), get.remaining]).toEqual([
      4 + 4 + 4 + 2,
      9,
      OpCode.getACL,
      '/p',
      0,
    ]);
    expect(OpCode.getACL).toBe(6);
    const set = new JuteReader(encodeRequest(10, { op: 'setACL', path: '/p', acl: acls, version: 3 }));
    set.readInt();
    expect([set.readInt(), set.readInt(), set.readUstring()]).toEqual([10, 7, '/p']);
    expect(readAcls(set)).toEqual(acls);
    expect([set.readInt(), set.remaining]).toEqual([3, 0]);
  });

  it('decodes GetACLResponse {vector<ACL>; Stat} as written', () => {
    const w = new JuteWriter().writeVector(acls, writeAcl).writeStat(sampleStat);
    expect(readGetAclResponse(new JuteReader(w.toBuffer()))).toEqual({ acl: acls, stat: sampleStat });
    expect(() => readGetAclResponse(new JuteReader(new JuteWriter().writeInt(1).writeInt(1).toBuffer()))).toThrow(
      JuteError,
    );
  });

  it('encodes addAuth as an AuthPacket under xid -4, opcode 100', () => {
    const r = new JuteReader(encodeRequest(77, { op: 'auth', scheme: 'digest', auth: Buffer.from('alice:secret') }));
    r.readInt();
    expect([r.readInt(), r.readInt(), r.readInt(), r.readUstring(), r.readBuffer()?.toString(), r.remaining]).toEqual([
      -4,
      100,
      0,
      'digest',
      'alice:secret',
      0,
    ]);
  });
});

describe('error classification', () => {
  it('names codes and splits definite from indeterminate failures', () => {
    expect(zkErrorName(-101)).toBe('NONODE');
    expect(zkErrorName(-999)).toBe('UNKNOWN(-999)');
    const noNode = new ZkError(ZkErrorCode.NONODE, 'x');
    expect(noNode.name).toBe('NONODE');
    for (const code of [ZkErrorCode.NONODE, ZkErrorCode.NODEEXISTS, ZkErrorCode.BADVERSION, ZkErrorCode.NOTEMPTY]) {
      expect(isDefiniteFailure(new ZkError(code, 'x'))).toBe(true);
    }
    for (const code of [
      ZkErrorCode.CONNECTIONLOSS,
      ZkErrorCode.OPERATIONTIMEOUT,
      ZkErrorCode.SESSIONEXPIRED,
      ZkErrorCode.SESSIONMOVED,
      -999,
    ]) {
      expect(isDefiniteFailure(new ZkError(code, 'x'))).toBe(false);
      expect(isIndeterminate(new ZkError(code, 'x'))).toBe(true);
    }
    expect(isDefiniteFailure(new ZkError(ZkErrorCode.CONNECTIONLOSS, 'not sent', { unsent: true }))).toBe(true);
    expect(isDefiniteFailure(new Error('other'))).toBe(false);
    expect(isIndeterminate(new Error('other'))).toBe(false);
  });
});

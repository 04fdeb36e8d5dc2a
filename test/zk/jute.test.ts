import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JuteError, JuteReader, JuteWriter, type Stat } from '../../src/zk/jute.js';
import {
  decodeConnectResponse,
  encodeConnectRequest,
  encodeRequest,
  readMultiResponse,
  readReplyHeader,
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

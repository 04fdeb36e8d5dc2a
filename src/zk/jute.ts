// Jute, ZooKeeper's wire encoding: big-endian int (4 bytes), long (8 bytes), boolean (1 byte),
// buffer and ustring as an int length then bytes (-1 meaning null), vector as an int count then items.

/** A reply or frame that does not decode as the jute we expected (truncated, negative length, ...). */
export class JuteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JuteError';
  }
}

/** Metadata of a znode, as the server sends it (org.apache.zookeeper.data.Stat). */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

const INT_MIN = -0x8000_0000;
const INT_MAX = 0x7fff_ffff;

/** Appends jute values to a buffer that grows as needed. */
export class JuteWriter {
  private buf: Buffer;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.alloc(Math.max(16, initialCapacity));
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.alloc(capacity);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  writeInt(value: number): this {
    if (!Number.isInteger(value) || value < INT_MIN || value > INT_MAX) {
      throw new JuteError(`jute int out of range: ${value}`);
    }
    this.reserve(4);
    this.buf.writeInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  writeLong(value: bigint): this {
    this.reserve(8);
    // writeBigInt64BE throws a RangeError for values outside the signed 64-bit range.
    this.buf.writeBigInt64BE(value, this.length);
    this.length += 8;
    return this;
  }

  writeBoolean(value: boolean): this {
    this.reserve(1);
    this.buf.writeUInt8(value ? 1 : 0, this.length);
    this.length += 1;
    return this;
  }

  /** null encodes as length -1, which ZooKeeper treats as "no data". */
  writeBuffer(value: Uint8Array | null): this {
    if (value === null) return this.writeInt(-1);
    this.writeInt(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.length);
    this.length += value.length;
    return this;
  }

  writeUstring(value: string | null): this {
    if (value === null) return this.writeInt(-1);
    return this.writeBuffer(Buffer.from(value, 'utf8'));
  }

  writeVector<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.writeInt(-1);
    this.writeInt(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  writeStat(stat: Stat): this {
    return this.writeLong(stat.czxid)
      .writeLong(stat.mzxid)
      .writeLong(stat.ctime)
      .writeLong(stat.mtime)
      .writeInt(stat.version)
      .writeInt(stat.cversion)
      .writeInt(stat.aversion)
      .writeLong(stat.ephemeralOwner)
      .writeInt(stat.dataLength)
      .writeInt(stat.numChildren)
      .writeLong(stat.pzxid);
  }

  get byteLength(): number {
    return this.length;
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }

  /** The bytes written so far, prefixed by their length as a jute int: one frame on the wire. */
  toFrame(): Buffer {
    const frame = Buffer.alloc(4 + this.length);
    frame.writeInt32BE(this.length, 0);
    this.buf.copy(frame, 4, 0, this.length);
    return frame;
  }
}

/** Reads jute values from a buffer; every read checks bounds and throws JuteError when data runs out. */
export class JuteReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private take(bytes: number, what: string): number {
    if (bytes > this.remaining) {
      throw new JuteError(`truncated jute data: need ${bytes} bytes for ${what}, ${this.remaining} left`);
    }
    const at = this.offset;
    this.offset += bytes;
    return at;
  }

  readInt(): number {
    return this.buf.readInt32BE(this.take(4, 'int'));
  }

  readLong(): bigint {
    return this.buf.readBigInt64BE(this.take(8, 'long'));
  }

  readBoolean(): boolean {
    return this.buf.readUInt8(this.take(1, 'boolean')) !== 0;
  }

  /** Length -1 decodes as null; other negative lengths are corrupt. The result is a copy. */
  readBuffer(): Buffer | null {
    const length = this.readInt();
    if (length === -1) return null;
    if (length < 0) throw new JuteError(`negative jute buffer length: ${length}`);
    const at = this.take(length, 'buffer');
    return Buffer.from(this.buf.subarray(at, at + length));
  }

  readUstring(): string | null {
    const length = this.readInt();
    if (length === -1) return null;
    if (length < 0) throw new JuteError(`negative jute ustring length: ${length}`);
    const at = this.take(length, 'ustring');
    return this.buf.toString('utf8', at, at + length);
  }

  readVector<T>(readItem: (reader: this) => T): T[] | null {
    const count = this.readInt();
    if (count === -1) return null;
    if (count < 0) throw new JuteError(`negative jute vector length: ${count}`);
    // Each item takes at least one byte, so a count beyond the remaining bytes is corrupt (and would loop long).
    if (count > this.remaining)
      throw new JuteError(`jute vector length ${count} exceeds the ${this.remaining} bytes left`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(readItem(this));
    return items;
  }

  readStat(): Stat {
    return {
      czxid: this.readLong(),
      mzxid: this.readLong(),
      ctime: this.readLong(),
      mtime: this.readLong(),
      version: this.readInt(),
      cversion: this.readInt(),
      aversion: this.readInt(),
      ephemeralOwner: this.readLong(),
      dataLength: this.readInt(),
      numChildren: this.readInt(),
      pzxid: this.readLong(),
    };
  }
}

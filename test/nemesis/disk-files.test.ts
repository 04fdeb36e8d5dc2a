// Disk fault file logic on synthetic ZooKeeper files: txn log parsing, truncation, bit flips, epochs, wipes.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { filesByZxid, flipBits, parseTxnLog, rollBackEpochs, truncateTxnLog, wipeDataDir } from '../../nemesis/disk.js';

/** A txn log as ZooKeeper writes it: header, records (crc, length, txn, 'B'), then preallocated zeros. */
function syntheticLog(txnLengths: number[], padding = 1024): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x5a4b4c47, 0);
  header.writeInt32BE(2, 4);
  const records = txnLengths.map((length, i) => {
    const record = Buffer.alloc(8 + 4 + length + 1, i + 1);
    record.writeInt32BE(length, 8);
    record[12 + length] = 0x42;
    return record;
  });
  return Buffer.concat([header, ...records, Buffer.alloc(padding)]);
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'faultline-disk-'));

describe('txn log parsing', () => {
  it('finds each record and where the data ends before the preallocated zeros', () => {
    const layout = parseTxnLog(syntheticLog([20, 5, 40]));
    expect(layout.records).toEqual([
      { offset: 16, bytes: 33 },
      { offset: 49, bytes: 18 },
      { offset: 67, bytes: 53 },
    ]);
    expect(layout.dataEnd).toBe(120);
    expect(layout.tornTail).toBe(false);
  });

  it('stops at a torn record and says so', () => {
    const log = syntheticLog([20, 5]);
    log[16 + 33 + 12 + 5] = 0; // the second record loses its end marker
    const layout = parseTxnLog(log);
    expect(layout.records).toHaveLength(1);
    expect(layout.dataEnd).toBe(49);
    expect(layout.tornTail).toBe(true);
  });

  it('rejects a file that is not a txn log', () => {
    expect(() => parseTxnLog(Buffer.alloc(64))).toThrow(/not a ZooKeeper transaction log/);
  });
});

describe('truncation', () => {
  it('by bytes cuts from the data end, and records how much', () => {
    const path = join(tempDir(), 'log.1');
    writeFileSync(path, syntheticLog([20, 5, 40]));
    const done = truncateTxnLog(path, { bytes: 10 });
    expect(done).toMatchObject({
      originalSize: 1144,
      dataEnd: 120,
      newSize: 110,
      dataBytesRemoved: 10,
      fileBytesRemoved: 1034,
      recordsDamaged: 1,
    });
    expect(statSync(path).size).toBe(110);
  });

  it('by records cuts whole records and leaves a parseable log', () => {
    const path = join(tempDir(), 'log.1');
    writeFileSync(path, syntheticLog([20, 5, 40]));
    const done = truncateTxnLog(path, { records: 2 });
    expect(done).toMatchObject({ newSize: 49, dataBytesRemoved: 71, recordsDamaged: 2 });
    expect(parseTxnLog(readFileSync(path)).records).toHaveLength(1);
  });
});

describe('other damage', () => {
  it('flips exactly the recorded bits', () => {
    const path = join(tempDir(), 'snapshot.5');
    const original = Buffer.alloc(100, 0xaa);
    writeFileSync(path, original);
    const done = flipBits(path, 3, 10, 20, new Random(4)) as {
      flips: { offset: number; bit: number; after: number }[];
    };
    const after = readFileSync(path);
    for (const flip of done.flips) {
      expect(flip.offset).toBeGreaterThanOrEqual(10);
      expect(flip.offset).toBeLessThan(20);
      expect(after[flip.offset]).toBe(flip.after);
    }
    const differing = [...after].filter((b, i) => b !== original[i]).length;
    expect(differing).toBeGreaterThan(0);
    expect(differing).toBeLessThanOrEqual(3);
  });

  it('orders files by zxid, rolls epochs back, wipes with or without myid', () => {
    const data = tempDir();
    const version2 = join(data, 'version-2');
    mkdirSync(version2);
    for (const name of ['log.100', 'log.ff', 'snapshot.0', 'log.1000000000', 'acceptedEpoch'])
      writeFileSync(join(version2, name), '3');
    writeFileSync(join(version2, 'currentEpoch'), '3');
    writeFileSync(join(data, 'myid'), '2\n');
    expect(filesByZxid(version2, 'log')).toEqual(['log.1000000000', 'log.100', 'log.ff']);
    expect(rollBackEpochs(data, 1)).toEqual({
      epochs: { acceptedEpoch: { before: 3, after: 2 }, currentEpoch: { before: 3, after: 2 } },
    });
    const kept = wipeDataDir(data, true) as { removed: string[] };
    expect(kept.removed).toContain('version-2/log.ff');
    expect(readdirSync(data)).toEqual(['myid']);
    wipeDataDir(data, false);
    expect(existsSync(join(data, 'myid'))).toBe(false);
  });
});

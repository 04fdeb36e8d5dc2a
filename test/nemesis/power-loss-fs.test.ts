// The power-loss filesystem on its own, without ZooKeeper: real FUSE mounts in a temp dir on this machine, cut after
// each kind of operation, read back through the mount; and random operation sequences against a fake that states
// the same rules as a shadow copy (power-loss-model.ts).
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_FILE,
  ensurePowerLossPackages,
  mountPowerLoss,
  powerLossMounts,
  readPowerLossStats,
  removeLeftoverMount,
  revertDataDir,
  stashDirOf,
  syncDataDir,
  type PowerLossMount,
} from '../../nemesis/power-loss/fs.js';
import { MemoryLogger } from '../../src/log.js';
import type { PowerLossEntryModel } from '../../src/config.js';
import { PowerLossFsModel, type TreeListing } from './power-loss-model.js';

const mounted: PowerLossMount[] = [];

// A clean machine may lack libfuse3: as root on Debian it is installed here, as `faultline setup` would.
beforeAll(() => ensurePowerLossPackages(new MemoryLogger()), 300_000);

/** A fresh directory holding `files` (path → text; a trailing / makes a directory), with the filesystem over it. */
async function mountFresh(files: Record<string, string> = {}, model: PowerLossEntryModel = 'dir-fsync') {
  const base = mkdtempSync(join(tmpdir(), 'faultline-plfs-'));
  const dir = join(base, 'data');
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    if (path.endsWith('/')) mkdirSync(join(dir, path), { recursive: true });
    else writeFileSync(join(dir, path), text);
  }
  const mount = await mountPowerLoss(dir, { fsname: `faultline:${process.pid}:plfs-test:${mounted.length}`, model });
  mounted.push(mount);
  return { dir, base, mount, at: (p: string) => join(dir, p) };
}

afterEach(async () => {
  for (const m of mounted.splice(0)) {
    await m.stop();
    rmSync(join(m.dir, '..'), { recursive: true, force: true });
  }
});

function fsyncPath(path: string, data = false): void {
  const fd = openSync(path, statSync(path).isDirectory() ? 'r' : 'r+');
  try {
    if (data) fdatasyncSync(fd);
    else fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAt(
  path: string,
  offset: number,
  data: Buffer | string,
  sync: 'none' | 'fsync' | 'fdatasync' = 'none',
): void {
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data, 0, undefined, offset);
    if (sync === 'fsync') fsyncSync(fd);
    if (sync === 'fdatasync') fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const read = (path: string): string => readFileSync(path, 'utf8');

describe('the power-loss filesystem (real FUSE mounts, no ZooKeeper)', () => {
  it('passes everything through, shows in /proc/mounts by its type, and leaves the files in place when unmounted', async () => {
    const { dir, mount, at } = await mountFresh({ myid: '1\n' });
    expect(read(at('myid'))).toBe('1\n');
    writeFileSync(at('new'), 'hello');
    mkdirSync(at('version-2'));
    renameSync(at('new'), at('version-2/moved'));
    expect(readdirSync(dir).sort()).toEqual(['myid', 'version-2']); // the control file is not listed
    expect(existsSync(at(CONTROL_FILE))).toBe(true);
    expect(powerLossMounts().find((m) => m.target === dir)).toMatchObject({ runId: 'plfs-test' });
    expect(existsSync(stashDirOf(dir))).toBe(true);
    await mount.stop();
    expect(powerLossMounts().some((m) => m.target === dir)).toBe(false);
    expect(existsSync(at(CONTROL_FILE))).toBe(false);
    expect(read(at('version-2/moved'))).toBe('hello');
    expect(existsSync(stashDirOf(dir))).toBe(false);
  });

  it('write, fsync, write, cut: only the first write survives', async () => {
    const { dir, at } = await mountFresh({ log: '' });
    writeAt(at('log'), 0, 'first', 'fsync');
    writeAt(at('log'), 5, ' second');
    writeAt(at('log'), 0, 'FIRST');
    expect(read(at('log'))).toBe('FIRST second');
    const record = await revertDataDir(dir);
    expect(read(at('log'))).toBe('first');
    expect(record).toMatchObject({ ok: true, model: 'dir-fsync', bytesCut: 7, bytesRestored: 5 });
    expect(record.changed).toEqual([{ path: 'log', size: 12, syncedSize: 5, bytesRestored: 5 }]);
  });

  it('fdatasync makes bytes and size durable as fsync does', async () => {
    const { dir, at } = await mountFresh({ log: 'x' });
    writeAt(at('log'), 1, 'yz', 'fdatasync');
    writeAt(at('log'), 3, 'lost');
    await revertDataDir(dir);
    expect(read(at('log'))).toBe('xyz');
    expect((await readPowerLossStats(dir)).fdatasyncs).toBe(1);
  });

  it('a rename is undone unless its directory was fsynced', async () => {
    const { dir, at } = await mountFresh({ a: 'A' });
    renameSync(at('a'), at('b'));
    let record = await revertDataDir(dir);
    expect(readdirSync(dir)).toEqual(['a']);
    expect(record).toMatchObject({ removed: ['b'], restored: ['a'] });
    renameSync(at('a'), at('b'));
    fsyncPath(dir);
    record = await revertDataDir(dir);
    expect(readdirSync(dir)).toEqual(['b']);
    expect(read(at('b'))).toBe('A');
    expect(record.removedCount + record.restoredCount).toBe(0);
  });

  it('creates and unlinks are undone unless the directory was fsynced; a file fsynced in a new directory goes with it', async () => {
    const { dir, at } = await mountFresh({ old: 'O', keep: 'K' });
    writeAt(at('new'), 0, 'N', 'fsync'); // its bytes are durable, its name is not
    unlinkSync(at('old'));
    mkdirSync(at('sub'));
    writeAt(at('sub/f'), 0, 'F', 'fsync');
    fsyncPath(at('sub')); // sub's own entry in the root is still not durable
    await revertDataDir(dir);
    expect(readdirSync(dir).sort()).toEqual(['keep', 'old']);
    expect(read(at('old'))).toBe('O');

    writeAt(at('new'), 0, 'N', 'fsync');
    unlinkSync(at('old'));
    fsyncPath(dir);
    writeAt(at('unsynced'), 0, 'U'); // created after the directory's fsync
    await revertDataDir(dir);
    expect(readdirSync(dir).sort()).toEqual(['keep', 'new']);
    expect(read(at('new'))).toBe('N');
  });

  it('a file created and listed by a directory fsync but never fsynced comes back empty', async () => {
    const { dir, at } = await mountFresh();
    writeAt(at('f'), 0, 'bytes never synced');
    fsyncPath(dir);
    await revertDataDir(dir);
    expect(read(at('f'))).toBe('');
  });

  it('truncate and ftruncate: a shrink is undone with its bytes, a growth is cut back', async () => {
    const { dir, at } = await mountFresh({ shrink: '0123456789', grow: 'abc' });
    truncateSync(at('shrink'), 3);
    writeAt(at('shrink'), 5, 'ZZ'); // after the shrink: the gap is zeros, then new bytes
    const fd = openSync(at('grow'), 'r+');
    ftruncateSync(fd, 100);
    closeSync(fd);
    expect(statSync(at('grow')).size).toBe(100);
    const record = await revertDataDir(dir);
    expect(read(at('shrink'))).toBe('0123456789');
    expect(read(at('grow'))).toBe('abc');
    expect(record).toMatchObject({ bytesCut: 97 });
  });

  it('open with O_TRUNC keeps the durable bytes for the revert', async () => {
    const { dir, at } = await mountFresh({ f: 'durable' });
    writeFileSync(at('f'), 'replaced');
    await revertDataDir(dir);
    expect(read(at('f'))).toBe('durable');
  });

  it("preallocation by writing past the end, as ZooKeeper's txn log: appends into the zeros are undone, the file stays sparse", async () => {
    const size = 64 * 1024 * 1024;
    const { dir, at } = await mountFresh();
    // FileTxnLog: header, one byte at the end of the preallocated size, records, fdatasync (commit).
    writeAt(at('log.1'), 0, 'ZKLG-header.....');
    writeAt(at('log.1'), size - 1, Buffer.from([0]));
    writeAt(at('log.1'), 16, 'record-1;', 'fdatasync');
    fsyncPath(dir);
    writeAt(at('log.1'), 25, 'record-2;');
    writeAt(at('log.1'), 34, 'record-3;');
    const stats = await readPowerLossStats(dir);
    expect(stats.undoZeroBytes).toBe(18); // the zeros under the two appends: noted, not copied
    expect(stats.undoBytes).toBe(0);
    await revertDataDir(dir);
    const st = statSync(at('log.1'));
    expect(st.size).toBe(size);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);
    const fd = openSync(at('log.1'), 'r');
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    closeSync(fd);
    expect(head.subarray(0, 25).toString()).toBe('ZKLG-header.....record-1;');
    expect(head.subarray(25).every((b) => b === 0)).toBe(true);
  });

  it('a file fsynced, then renamed over another, then cut (AtomicFileOutputStream): which names survive depends on the model', async () => {
    const scenario = async (model: PowerLossEntryModel) => {
      const { dir, at } = await mountFresh({ currentEpoch: '1' }, model);
      writeAt(at('currentEpoch.tmp'), 0, '2', 'fsync');
      renameSync(at('currentEpoch.tmp'), at('currentEpoch'));
      expect(read(at('currentEpoch'))).toBe('2');
      await revertDataDir(dir);
      return Object.fromEntries(readdirSync(dir).map((f) => [f, read(at(f))]));
    };
    // POSIX: nothing fsynced the directory, so neither the tmp file nor the rename is durable.
    expect(await scenario('dir-fsync')).toEqual({ currentEpoch: '1' });
    // A journal commits the tmp file's entry with its fsync; the rename came after the last fsync.
    expect(await scenario('any-fsync')).toEqual({ currentEpoch: '1', 'currentEpoch.tmp': '2' });
  });

  it('any-fsync: one fsync makes every namespace change so far durable, but no other file its bytes', async () => {
    const { dir, at } = await mountFresh({}, 'any-fsync');
    mkdirSync(at('version-2'));
    writeAt(at('other'), 0, 'never synced');
    writeAt(at('version-2/log.1'), 0, 'records', 'fdatasync');
    writeAt(at('version-2/log.1'), 7, ' lost');
    writeAt(at('later'), 0, 'created after the last fsync');
    expect((await revertDataDir(dir)).model).toBe('any-fsync');
    expect(read(at('version-2/log.1'))).toBe('records');
    expect(read(at('other'))).toBe('');
    expect(existsSync(at('later'))).toBe(false);
    // The same mount answers for either model at the revert.
    mkdirSync(at('gone'));
    writeAt(at('gone/f'), 0, 'x', 'fsync');
    await revertDataDir(dir, 'dir-fsync');
    expect(existsSync(at('gone'))).toBe(false);
  });

  it('directories: rmdir and rename of directories are undone, and their durable contents come back', async () => {
    const { dir, at } = await mountFresh({ 'd/': '', 'd/f': 'F', 'e/': '' });
    unlinkSync(at('d/f'));
    rmdirSync(at('d'));
    renameSync(at('e'), at('e2'));
    mkdirSync(at('d')); // a new directory under the old name
    await revertDataDir(dir);
    expect(readdirSync(dir).sort()).toEqual(['d', 'e']);
    expect(read(at('d/f'))).toBe('F');
  });

  it('the kernel serves no stale pages, attributes or entries after a revert', async () => {
    const { dir, at } = await mountFresh({ f: 'old' });
    writeAt(at('f'), 0, 'new and longer');
    writeFileSync(at('g'), 'g');
    // Read everything first so the kernel has had every chance to cache it.
    expect(read(at('f'))).toBe('new and longer');
    expect(statSync(at('f')).size).toBe(14);
    expect(existsSync(at('g'))).toBe(true);
    expect(existsSync(at('h'))).toBe(false);
    await revertDataDir(dir);
    expect(statSync(at('f')).size).toBe(3);
    expect(read(at('f'))).toBe('old');
    expect(existsSync(at('g'))).toBe(false);
    expect(() => readFileSync(at('g'))).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('refuses to revert while a file is open, and says why', async () => {
    const { dir, at } = await mountFresh({ f: 'x' });
    const fd = openSync(at('f'), 'r');
    await expect(revertDataDir(dir, undefined, 300)).rejects.toThrow(/1 file\(s\) are open/);
    closeSync(fd);
    await expect(revertDataDir(dir)).resolves.toMatchObject({ ok: true });
    await expect(import('node:fs/promises').then((f) => f.writeFile(at(CONTROL_FILE), 'explode\n'))).rejects.toThrow(
      /EINVAL/,
    );
    expect((await readPowerLossStats(dir)).lastError).toMatch(/unknown command "explode"/);
  });

  it('sync makes everything durable at once', async () => {
    const { dir, at } = await mountFresh();
    mkdirSync(at('a'));
    writeFileSync(at('a/b'), 'bytes');
    await syncDataDir(dir);
    writeFileSync(at('a/b'), 'later');
    await revertDataDir(dir);
    expect(read(at('a/b'))).toBe('bytes');
  });

  it('a mount whose daemon was killed is found by its type and removed', async () => {
    const { dir, mount, at } = await mountFresh({ f: 'kept' });
    process.kill(mount.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const leftover = powerLossMounts().find((m) => m.target === dir);
    expect(leftover).toMatchObject({ harnessPid: process.pid, runId: 'plfs-test' });
    expect(() => readdirSync(dir)).toThrow(/ENOTCONN/);
    await removeLeftoverMount(leftover!);
    expect(powerLossMounts().some((m) => m.target === dir)).toBe(false);
    expect(read(at('f'))).toBe('kept');
    expect(existsSync(stashDirOf(dir))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Random operations against the fake

type Op =
  | { op: 'write'; file: number; offset: number; bytes: number[]; zeros: boolean }
  | { op: 'create'; file: number }
  | { op: 'truncate'; file: number; size: number }
  | { op: 'fsync' | 'fdatasync'; file: number }
  | { op: 'fsyncDir'; dir: number }
  | { op: 'rename'; from: number; to: number }
  | { op: 'unlink'; file: number }
  | { op: 'mkdir' | 'rmdir'; dir: number }
  | { op: 'cut'; model: PowerLossEntryModel };

const DIRS = ['', 'd0', 'd1'];
const FILES = DIRS.flatMap((d) => ['f0', 'f1'].map((f) => (d ? `${d}/${f}` : f)));
/** Mostly the two files there from the start (durable names: their bytes matter at every cut), else any. */
const fileArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 3) },
  { weight: 1, arbitrary: fc.nat(FILES.length - 1) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      file: fileArb,
      offset: fc.oneof({ weight: 4, arbitrary: fc.nat(300) }, { weight: 1, arbitrary: fc.nat(70_000) }),
      bytes: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 40 }),
      zeros: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('create' as const), file: fileArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('truncate' as const), file: fileArb, size: fc.nat(400) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constantFrom('fsync' as const, 'fdatasync' as const), file: fileArb }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fsyncDir' as const), dir: fc.nat(DIRS.length - 1) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('rename' as const),
      from: fileArb,
      to: fileArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unlink' as const), file: fileArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constantFrom('mkdir' as const, 'rmdir' as const),
      dir: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('cut' as const),
      model: fc.constantFrom<PowerLossEntryModel>('dir-fsync', 'any-fsync'),
    }),
  },
);

function listTree(dir: string, prefix = ''): TreeListing {
  const out: TreeListing = {};
  for (const name of readdirSync(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, path)).isDirectory()) {
      out[path] = 'dir';
      Object.assign(out, listTree(dir, path));
    } else out[path] = readFileSync(join(dir, path)).toString('hex');
  }
  return out;
}

/** Applies one op to the mount and to the fake, when it applies (a missing file is skipped in both). */
async function apply(op: Op, dir: string, model: PowerLossFsModel): Promise<void> {
  const at = (p: string): string => join(dir, p);
  const parentExists = (p: string): boolean => !p.includes('/') || model.exists(p.split('/')[0]!) === 'dir';
  switch (op.op) {
    case 'write': {
      const file = FILES[op.file]!;
      if (!parentExists(file) || model.exists(file) === 'dir') return;
      const data = op.zeros ? Buffer.alloc(op.bytes.length) : Buffer.from(op.bytes);
      writeAt(at(file), op.offset, data);
      model.write(file, op.offset, data, true);
      return;
    }
    case 'create': {
      const file = FILES[op.file]!;
      if (!parentExists(file) || model.exists(file) === 'dir') return;
      closeSync(openSync(at(file), 'w'));
      model.createOrTruncate(file);
      return;
    }
    case 'truncate': {
      const file = FILES[op.file]!;
      if (model.exists(file) !== 'file') return;
      truncateSync(at(file), op.size);
      model.truncate(file, op.size);
      return;
    }
    case 'fsync':
    case 'fdatasync': {
      const file = FILES[op.file]!;
      if (model.exists(file) !== 'file') return;
      fsyncPath(at(file), op.op === 'fdatasync');
      model.fsync(file);
      return;
    }
    case 'fsyncDir': {
      const d = DIRS[op.dir]!;
      if (d && model.exists(d) !== 'dir') return;
      fsyncPath(d ? at(d) : dir);
      model.fsyncDir(d);
      return;
    }
    case 'rename': {
      const from = FILES[op.from]!;
      const to = FILES[op.to]!;
      if (model.exists(from) !== 'file' || !parentExists(to) || model.exists(to) === 'dir') return;
      renameSync(at(from), at(to));
      model.rename(from, to);
      return;
    }
    case 'unlink': {
      const file = FILES[op.file]!;
      if (model.exists(file) !== 'file') return;
      unlinkSync(at(file));
      model.unlink(file);
      return;
    }
    case 'mkdir': {
      const d = DIRS[op.dir]!;
      if (model.exists(d)) return;
      mkdirSync(at(d));
      model.mkdir(d);
      return;
    }
    case 'rmdir': {
      const d = DIRS[op.dir]!;
      if (model.exists(d) !== 'dir' || readdirSync(at(d)).length > 0) return;
      rmdirSync(at(d));
      model.rmdir(d);
      return;
    }
    case 'cut':
      await revertDataDir(dir, op.model);
      model.cut(op.model);
      return;
  }
}

describe('the power-loss filesystem against its fake', () => {
  it('random operations and cuts leave the same tree as the shadow-copy model, under both models', async () => {
    const { dir } = await mountFresh();
    let seedTree: TreeListing = {};
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
        // Each run starts from the tree as mounted: a cut after a sync brings the mount back to it.
        for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true });
        mkdirSync(join(dir, 'd0'));
        writeFileSync(join(dir, 'f0'), 'initial');
        writeFileSync(join(dir, 'd0/f1'), 'nested');
        await syncDataDir(dir);
        seedTree = listTree(dir);
        const model = new PowerLossFsModel(seedTree);
        for (const op of ops) {
          await apply(op, dir, model);
          expect(listTree(dir), `after ${JSON.stringify(op)}`).toEqual(model.listing());
        }
        await revertDataDir(dir, 'dir-fsync');
        model.cut('dir-fsync');
        expect(listTree(dir), 'after the final cut').toEqual(model.listing());
        expect((await readPowerLossStats(dir)).unknownInodes).toBe(0);
      }),
      { numRuns: 300, seed: 14 },
    );
    expect(Object.keys(seedTree).sort()).toEqual(['d0', 'd0/f1', 'f0']);
  }, 300_000);
});

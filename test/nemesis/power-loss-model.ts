// A fake of the power-loss filesystem: the same durability rules, stated the simplest way (a shadow copy of what
// each file held at its last sync and of what each directory listed at its last fsync), with none of the real
// one's machinery (undo log, stash, swap). The property test runs random operations on both and compares.
import type { PowerLossEntryModel } from '../../src/config.js';

interface FileInode {
  kind: 'file';
  content: Buffer;
  /** What it held at its last fsync or fdatasync (a new file: nothing). */
  synced: Buffer;
}

interface DirInode {
  kind: 'dir';
  entries: Map<string, Inode>;
  /** Per model: the entries that would survive a power cut now. */
  durable: Record<PowerLossEntryModel, Map<string, Inode>>;
}

type Inode = FileInode | DirInode;

const newDir = (): DirInode => ({
  kind: 'dir',
  entries: new Map(),
  durable: { 'dir-fsync': new Map(), 'any-fsync': new Map() },
});

/** What a tree holds: path → file bytes (hex) or 'dir'. */
export type TreeListing = Record<string, string>;

export class PowerLossFsModel {
  private root: DirInode = newDir();

  /** The tree as it is when the filesystem is mounted: all of it durable. */
  constructor(initial: TreeListing = {}) {
    for (const [path, value] of Object.entries(initial).sort(([a], [b]) => a.length - b.length)) {
      if (value === 'dir') this.mkdir(path);
      else this.write(path, 0, Buffer.from(value, 'hex'), true);
    }
    this.syncAll();
  }

  private lookup(path: string): { parent: DirInode; name: string; inode: Inode | undefined } {
    const parts = path.split('/');
    const name = parts.pop()!;
    let dir = this.root;
    for (const part of parts) {
      const next = dir.entries.get(part);
      if (!next || next.kind !== 'dir') throw new Error(`model: no directory ${part} in ${path}`);
      dir = next;
    }
    return { parent: dir, name, inode: dir.entries.get(name) };
  }

  private file(path: string): FileInode {
    const { inode } = this.lookup(path);
    if (!inode || inode.kind !== 'file') throw new Error(`model: no file ${path}`);
    return inode;
  }

  exists(path: string): 'file' | 'dir' | undefined {
    try {
      return this.lookup(path).inode?.kind;
    } catch {
      return undefined;
    }
  }

  /** open(path, 'w'): creates, or truncates what is there. */
  createOrTruncate(path: string): void {
    const { parent, name, inode } = this.lookup(path);
    if (inode?.kind === 'file') inode.content = Buffer.alloc(0);
    else parent.entries.set(name, { kind: 'file', content: Buffer.alloc(0), synced: Buffer.alloc(0) });
  }

  write(path: string, offset: number, data: Buffer, create = false): void {
    if (create && !this.exists(path)) this.createOrTruncate(path);
    const f = this.file(path);
    const end = Math.max(f.content.length, offset + data.length);
    const next = Buffer.alloc(end);
    f.content.copy(next);
    data.copy(next, offset);
    f.content = next;
  }

  truncate(path: string, size: number): void {
    const f = this.file(path);
    const next = Buffer.alloc(size);
    f.content.copy(next, 0, 0, Math.min(size, f.content.length));
    f.content = next;
  }

  /** fsync or fdatasync of a file: its bytes and size are durable; under any-fsync, every entry too. */
  fsync(path: string): void {
    const f = this.file(path);
    f.synced = Buffer.from(f.content);
    this.commitEntries('any-fsync');
  }

  /** fsync of a directory: its entries are durable (under any-fsync, every directory's). */
  fsyncDir(path: string): void {
    const { inode } = path === '' ? { inode: this.root } : this.lookup(path);
    if (!inode || inode.kind !== 'dir') throw new Error(`model: no directory ${path}`);
    inode.durable['dir-fsync'] = new Map(inode.entries);
    this.commitEntries('any-fsync');
  }

  private commitEntries(model: PowerLossEntryModel, dir: DirInode = this.root): void {
    dir.durable[model] = new Map(dir.entries);
    for (const child of dir.entries.values()) if (child.kind === 'dir') this.commitEntries(model, child);
  }

  rename(from: string, to: string): void {
    const src = this.lookup(from);
    const dst = this.lookup(to);
    if (!src.inode) throw new Error(`model: no ${from}`);
    if (src.inode === dst.inode) return;
    src.parent.entries.delete(src.name);
    dst.parent.entries.set(dst.name, src.inode);
  }

  unlink(path: string): void {
    const { parent, name } = this.lookup(path);
    parent.entries.delete(name);
  }

  mkdir(path: string): void {
    const { parent, name } = this.lookup(path);
    parent.entries.set(name, newDir());
  }

  rmdir(path: string): void {
    const { parent, name, inode } = this.lookup(path);
    if (inode?.kind !== 'dir' || inode.entries.size > 0) throw new Error(`model: cannot rmdir ${path}`);
    parent.entries.delete(name);
  }

  /** Everything live is durable. */
  syncAll(): void {
    const walk = (dir: DirInode): void => {
      for (const child of dir.entries.values()) {
        if (child.kind === 'file') child.synced = Buffer.from(child.content);
        else walk(child);
      }
    };
    walk(this.root);
    this.commitEntries('dir-fsync');
    this.commitEntries('any-fsync');
  }

  /** The power cut: the tree becomes what was durable under the model; then all of it is durable. */
  cut(model: PowerLossEntryModel): void {
    const rebuilt = new Map<Inode, Inode>();
    const rebuild = (dir: DirInode): DirInode => {
      const out = newDir();
      for (const [name, child] of dir.durable[model]) {
        let copy = rebuilt.get(child);
        if (!copy) {
          copy =
            child.kind === 'file'
              ? { kind: 'file', content: Buffer.from(child.synced), synced: Buffer.from(child.synced) }
              : rebuild(child);
          rebuilt.set(child, copy);
        }
        out.entries.set(name, copy);
      }
      return out;
    };
    this.root = rebuild(this.root);
    this.syncAll();
  }

  listing(): TreeListing {
    const out: TreeListing = {};
    const walk = (dir: DirInode, prefix: string): void => {
      for (const [name, child] of dir.entries) {
        const path = prefix ? `${prefix}/${name}` : name;
        if (child.kind === 'dir') {
          out[path] = 'dir';
          walk(child, path);
        } else out[path] = child.content.toString('hex');
      }
    };
    walk(this.root, '');
    return out;
  }
}

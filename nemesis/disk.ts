// Disk faults on a node's data directory (a host path): the node is killed, its files are damaged, and it is
// started again. Every record says which file, which offsets and how many bytes, so a finding can be replayed.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { Fault, FaultParam, FaultRecord, FaultRequest, NemesisContext, TargetSpec } from '../src/nemesis.js';
import type { Random } from '../src/random.js';
import { killNodes } from './process.js';
import { resolveTargets } from './targets.js';
import { TimeoutError, waitFor } from '../src/time.js';
import { writeFileDurably } from '../src/zookeeper.js';

export const DISK_FAMILY = 'disk';

/** FileTxnLog header: magic "ZKLG", version (int), dbid (long). */
export const TXN_LOG_HEADER_BYTES = 16;
const TXN_LOG_MAGIC = 0x5a4b4c47;
/** Every txn record ends with this byte ('B'). */
const END_OF_RECORD = 0x42;

export interface TxnRecordSpan {
  /** Offset of the record's checksum. */
  offset: number;
  /** checksum (8) + length (4) + txn + end marker (1). */
  bytes: number;
}

export interface TxnLogLayout {
  records: TxnRecordSpan[];
  /** Where the last complete record ends; past it the file holds preallocated zeros (or a torn record). */
  dataEnd: number;
  /** Bytes after dataEnd that are not zeros: a torn or damaged record. */
  tornTail: boolean;
}

/**
 * Reads a ZooKeeper transaction log's layout. Logs are preallocated with zeros, so the data ends at the first
 * record whose length is 0 (or that does not fit, or lacks its end marker).
 */
export function parseTxnLog(log: Buffer): TxnLogLayout {
  if (log.length < TXN_LOG_HEADER_BYTES || log.readUInt32BE(0) !== TXN_LOG_MAGIC) {
    throw new HarnessError('not a ZooKeeper transaction log (no ZKLG header)');
  }
  const records: TxnRecordSpan[] = [];
  let offset = TXN_LOG_HEADER_BYTES;
  while (offset + 12 <= log.length) {
    const length = log.readInt32BE(offset + 8);
    const end = offset + 12 + length;
    if (length <= 0 || end >= log.length || log[end] !== END_OF_RECORD) break;
    records.push({ offset, bytes: end + 1 - offset });
    offset = end + 1;
  }
  const tail = log.subarray(offset, Math.min(log.length, offset + 4096));
  return { records, dataEnd: offset, tornTail: tail.some((b) => b !== 0) };
}

/** Files in a directory whose names are prefix.<hex zxid>, newest (highest zxid) first. */
export function filesByZxid(dir: string, prefix: 'log' | 'snapshot'): string[] {
  if (!existsSync(dir)) return [];
  const zxidOf = (name: string): bigint => BigInt(`0x${name.slice(prefix.length + 1)}`);
  return readdirSync(dir)
    .filter((name) => new RegExp(`^${prefix}\\.[0-9a-f]+$`, 'i').test(name))
    .sort((a, b) => (zxidOf(b) > zxidOf(a) ? 1 : zxidOf(b) < zxidOf(a) ? -1 : 0));
}

function newestFile(dataDir: string, prefix: 'log' | 'snapshot'): string {
  const dir = join(dataDir, 'version-2');
  const newest = filesByZxid(dir, prefix)[0];
  if (!newest) throw new HarnessError(`no ${prefix === 'log' ? 'transaction log' : 'snapshot'} in ${dir} yet`);
  return join(dir, newest);
}

export type TruncateAmount = { bytes: number } | { records: number };

/** Cuts the tail of a transaction log's data, by bytes or by whole records. */
export function truncateTxnLog(path: string, amount: TruncateAmount): FaultRecord {
  const originalSize = statSync(path).size;
  const layout = parseTxnLog(readFileSync(path));
  let newSize: number;
  if ('bytes' in amount) {
    newSize = Math.max(TXN_LOG_HEADER_BYTES, layout.dataEnd - amount.bytes);
  } else {
    const keep = Math.max(0, layout.records.length - amount.records);
    newSize = keep === layout.records.length ? layout.dataEnd : (layout.records[keep]?.offset ?? TXN_LOG_HEADER_BYTES);
  }
  truncateSync(path, newSize);
  const removedRecords = layout.records.filter((r) => r.offset + r.bytes > newSize).length;
  return {
    file: path,
    originalSize,
    dataEnd: layout.dataEnd,
    recordsBefore: layout.records.length,
    newSize,
    // The file itself shrinks by more than the data when it was preallocated.
    fileBytesRemoved: originalSize - newSize,
    dataBytesRemoved: layout.dataEnd - newSize,
    recordsDamaged: removedRecords,
  };
}

/** Flips `count` random bits in [from, to) of a file. */
export function flipBits(path: string, count: number, from: number, to: number, random: Random): FaultRecord {
  const data = readFileSync(path);
  if (to <= from) throw new HarnessError(`${path} has no bytes to damage in [${from}, ${to})`);
  const flips: { offset: number; bit: number; before: number; after: number }[] = [];
  for (let i = 0; i < count; i++) {
    const offset = random.int(from, to - 1);
    const bit = random.int(0, 7);
    const before = data[offset]!;
    data[offset] = before ^ (1 << bit);
    flips.push({ offset, bit, before, after: data[offset] });
  }
  writeFileSync(path, data);
  return { file: path, range: [from, to], flips };
}

/** Rolls acceptedEpoch and currentEpoch back by `by`. */
export function rollBackEpochs(dataDir: string, by: number): FaultRecord {
  const changed: Record<string, { before: number; after: number }> = {};
  for (const name of ['acceptedEpoch', 'currentEpoch']) {
    const path = join(dataDir, 'version-2', name);
    if (!existsSync(path)) continue;
    const before = Number(readFileSync(path, 'utf8').trim());
    const after = Math.max(0, before - by);
    writeFileSync(path, String(after));
    changed[name] = { before, after };
  }
  if (Object.keys(changed).length === 0) throw new HarnessError(`no epoch files in ${join(dataDir, 'version-2')} yet`);
  return { epochs: changed };
}

/** Removes everything in the data dir, keeping myid if asked; returns the removed paths (relative). */
export function wipeDataDir(dataDir: string, keepMyid: boolean): FaultRecord {
  const removed: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, `${rel}${name}/`);
      removed.push(`${rel}${name}`);
    }
  };
  walk(dataDir, '');
  for (const name of readdirSync(dataDir)) {
    if (keepMyid && name === 'myid') continue;
    rmSync(join(dataDir, name), { recursive: true, force: true });
  }
  return { dataDir, keptMyid: keepMyid, removed: removed.filter((p) => !(keepMyid && p === 'myid')).sort() };
}

/** What a disk fault does to one stopped node's data dir. */
type Damage = (dataDir: string, random: Random, params: Record<string, number | string | boolean>) => FaultRecord;

function positive(params: Record<string, number | string | boolean>, name: string): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new HarnessError(`disk fault parameter ${name} must be a positive whole number, not ${String(value)}`);
  return value;
}

/** Kill → damage → start, on each target node in turn. A node that does not come back is reported, not thrown. */
function diskFault(
  name: string,
  description: string,
  damage: Damage,
  params?: Record<string, FaultParam>,
  target: TargetSpec = 'one',
): Fault {
  return {
    name,
    ...(params ? { params } : {}),
    family: DISK_FAMILY,
    defaultTarget: target,
    description,
    async start(context, request?: FaultRequest) {
      const { nodes, record } = await resolveTargets(context, request?.target ?? target);
      const damaged: Record<string, FaultRecord> = {};
      for (const node of nodes)
        damaged[node.name] = await damageNode(context, node, (dir) =>
          damage(dir, context.random, request?.params ?? {}),
        );
      return { ...record, damaged };
    },
    heal: healDisk,
    healNode: healDiskNode,
  };
}

/**
 * The nodes whose data a fault of this run destroyed on purpose (disk damage, a power cut), by the run's cluster.
 * Only those may be wiped when they refuse to start: any other node that will not start is a finding (the restart
 * oracle's node-did-not-recover), and wiping it would hide it.
 */
const destroyedByRun = new WeakMap<object, Set<string>>();

/** Marks a node's data as destroyed on purpose by a fault of the run `context` belongs to. */
export function markDataDestroyed(context: NemesisContext, node: string): void {
  const set = destroyedByRun.get(context.cluster) ?? new Set<string>();
  set.add(node);
  destroyedByRun.set(context.cluster, set);
}

/** What became of a restarted server: it serves, its process exited (ZooKeeper refused the data), or neither yet. */
export type RestartOutcome = 'serving' | 'exited' | 'not-serving';

/** Waits until the node serves or its server process is gone, up to timeoutMs. */
export async function restartOutcome(
  context: NemesisContext,
  node: ClusterNode,
  timeoutMs = 20_000,
): Promise<RestartOutcome> {
  try {
    return await waitFor(`${node.name} to serve or exit`, timeoutMs, 250, async () => {
      if (!(await context.db.isRunning(node))) return 'exited' as const;
      return (await context.db.status(node)).serving ? ('serving' as const) : undefined;
    });
  } catch (err) {
    if (err instanceof TimeoutError) return 'not-serving';
    throw err;
  }
}

async function damageNode(
  context: NemesisContext,
  node: ClusterNode,
  damage: (dataDir: string) => FaultRecord,
): Promise<FaultRecord> {
  const killed = await killNodes(context, [node]);
  markDataDestroyed(context, node.name);
  const done = damage(join(node.hostDir, 'data'));
  try {
    await context.db.start(node);
  } catch (err) {
    return { killed: killed.length > 0, ...done, afterRestart: 'exited', restartError: (err as Error).message };
  }
  return { killed: killed.length > 0, ...done, afterRestart: await restartOutcome(context, node) };
}

/**
 * The disk family's heal. Damage cannot be undone, but the node must serve again: a lost myid is rewritten
 * and stopped servers are started; a node whose data a fault of this run destroyed and that still refuses to
 * start (ZooKeeper rejects some damage on purpose) is repaired as an operator would, by wiping its data dir
 * (keeping myid) so it resyncs from the leader. The record says which nodes needed that and why.
 */
async function healDisk(context: NemesisContext): Promise<FaultRecord> {
  const done = await Promise.all(context.cluster.nodes.map((node) => repairNode(context, node)));
  const restoredMyid = done.filter((d) => d.restoredMyid).map((d) => d.node);
  const started = done.filter((d) => d.started).map((d) => d.node);
  const repaired = Object.fromEntries(done.filter((d) => d.repaired).map((d) => [d.node, d.repaired!]));
  return { restoredMyid, started: started.sort(), ...(Object.keys(repaired).length ? { repaired } : {}) };
}

/**
 * The disk heal of one node: its myid rewritten if lost, its server started if stopped, its data dir wiped (myid
 * kept) if the server refuses the damaged data. The damage itself is not undone: the node resyncs from the leader.
 */
export async function healDiskNode(context: NemesisContext, name: string): Promise<FaultRecord> {
  const node = context.cluster.nodes.find((n) => n.name === name);
  if (!node) throw new HarnessError(`no node ${name} in this ensemble`);
  const done = await repairNode(context, node);
  return {
    nodes: [name],
    restoredMyid: done.restoredMyid ? [name] : [],
    started: done.started ? [name] : [],
    ...(done.repaired ? { repaired: { [name]: done.repaired } } : {}),
  };
}

async function repairNode(
  context: NemesisContext,
  node: ClusterNode,
): Promise<{ node: string; restoredMyid: boolean; started: boolean; repaired?: string }> {
  const myid = join(node.hostDir, 'data', 'myid');
  const restoredMyid = !existsSync(myid);
  if (restoredMyid) writeFileDurably(myid, `${node.id}\n`);
  // Only stopped nodes: a paused one is the process family's to resume.
  if (await context.db.isRunning(node)) return { node: node.name, restoredMyid, started: false };
  await context.db.start(node).catch(() => undefined);
  // Only a node whose data a fault destroyed may be repaired, so only then is it worth waiting to see whether it
  // serves (up to 20 s: a killed node that is still cut off, as a crash leaves it until the process heal, never
  // would). Any other node that refuses to start is left as it is, for the restart oracle.
  if (!destroyedByRun.get(context.cluster)?.has(node.name)) return { node: node.name, restoredMyid, started: true };
  if ((await restartOutcome(context, node)) !== 'exited') return { node: node.name, restoredMyid, started: true };
  const repaired = lastServerError(node) ?? 'the server exited';
  context.log.warn(`${node.name} does not start after disk damage (${repaired}); wiping its data dir so it resyncs`);
  wipeDataDir(join(node.hostDir, 'data'), true);
  await context.db.start(node);
  return { node: node.name, restoredMyid, started: true, repaired };
}

/** The last exception line ZooKeeper logged on a node, the reason it refused to start. */
function lastServerError(node: ClusterNode): string | undefined {
  const path = join(node.hostDir, 'logs', 'zookeeper.log');
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').slice(-20_000).split('\n');
  return lines
    .reverse()
    .find((l) => /^(Caused by: )?[\w.]+(Exception|Error): /.test(l))
    ?.trim();
}

export const diskFaults: Fault[] = [
  diskFault(
    'disk-truncate-log',
    "cut bytes (default: random 1-256, or `bytes`) off the end of the newest txn log's data",
    (dir, random, params) => {
      const bytes = positive(params, 'bytes') ?? random.int(1, 256);
      return truncateTxnLog(newestFile(dir, 'log'), { bytes });
    },
    { bytes: { kind: 'count', help: 'bytes to cut' } },
  ),
  diskFault(
    'disk-truncate-log-records',
    'drop whole records (default 1, or `records`) from the end of the newest txn log',
    (dir, _random, params) => truncateTxnLog(newestFile(dir, 'log'), { records: positive(params, 'records') ?? 1 }),
    { records: { kind: 'count', help: 'whole records to drop' } },
  ),
  diskFault(
    'disk-flip-log-bits',
    'flip random bits (default 1, or `bits`) in the data of the newest txn log',
    (dir, random, params) => {
      const path = newestFile(dir, 'log');
      const layout = parseTxnLog(readFileSync(path));
      return flipBits(path, positive(params, 'bits') ?? 1, TXN_LOG_HEADER_BYTES, layout.dataEnd, random);
    },
    { bits: { kind: 'count', help: 'bits to flip' } },
  ),
  diskFault(
    'disk-flip-snapshot-bits',
    'flip random bits (default 1, or `bits`) in the newest snapshot',
    (dir, random, params) => {
      const path = newestFile(dir, 'snapshot');
      return flipBits(path, positive(params, 'bits') ?? 1, 0, statSync(path).size, random);
    },
    { bits: { kind: 'count', help: 'bits to flip' } },
  ),
  diskFault('disk-delete-snapshot', 'delete the newest snapshot', (dir) => {
    const path = newestFile(dir, 'snapshot');
    const bytes = statSync(path).size;
    rmSync(path);
    return { deleted: path, bytes };
  }),
  diskFault('disk-wipe', 'wipe the whole data dir but keep myid', (dir) => wipeDataDir(dir, true)),
  diskFault('disk-wipe-myid', 'wipe the whole data dir including myid (the heal rewrites myid)', (dir) =>
    wipeDataDir(dir, false),
  ),
  diskFault(
    'disk-rollback-epoch',
    'roll acceptedEpoch and currentEpoch back (by 1, or `by`)',
    (dir, _random, params) => rollBackEpochs(dir, positive(params, 'by') ?? 1),
    { by: { kind: 'count', help: 'epochs to roll back' } },
  ),
];

// Disaster recovery, the files: what a backup of a node's data dir holds, how it is copied (as operators copy
// it: the newest snapshot, the logs after it, the epoch files) and how a copy is damaged on purpose.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { filesByZxid, flipBits, parseTxnLog, truncateTxnLog, TXN_LOG_HEADER_BYTES } from '../../nemesis/disk.js';
import type { BackupDamage } from '../config.js';
import type { Random } from '../random.js';

export type BackupKind = 'live' | 'stopped';

/** Where a run keeps its backups (backups/live, backups/stopped, backups/live-<damage>). */
export const BACKUP_DIR = 'backups';

export const hex = (n: bigint): string => n.toString(16);
const zxidOfName = (name: string): bigint => BigInt(`0x${name.slice(name.indexOf('.') + 1)}`);

/** What a backup holds: files copied and the zxids they reach. */
export interface BackupContents {
  files: string[];
  bytes: number;
  /** Hex zxid in the name of the newest snapshot copied (null: none). */
  snapshotZxid: string | null;
  /** Hex zxid of the last complete txn record in the newest log, or the snapshot's when no log has records. */
  lastZxid: string | null;
}

/** The zxid of a txn log's last complete record: TxnHeader (clientId 8, cxid 4, zxid 8) follows checksum 8 + length 4. */
export function lastLoggedZxid(logPath: string): bigint | undefined {
  const data = readFileSync(logPath);
  const last = parseTxnLog(data).records.at(-1);
  return last ? data.readBigInt64BE(last.offset + 12 + 12) : undefined;
}

/** Reads what a backup dir (its version-2/) holds. */
export function describeBackup(dir: string): BackupContents {
  const v2 = join(dir, 'version-2');
  const files = existsSync(v2) ? readdirSync(v2).sort() : [];
  const snapshot = filesByZxid(v2, 'snapshot')[0];
  let last = snapshot ? zxidOfName(snapshot) : undefined;
  for (const log of filesByZxid(v2, 'log')) {
    const zxid = (() => {
      try {
        return lastLoggedZxid(join(v2, log));
      } catch {
        return undefined;
      }
    })();
    if (zxid !== undefined) {
      if (last === undefined || zxid > last) last = zxid;
      break; // the newest log with records holds the newest txns
    }
  }
  return {
    files,
    bytes: files.reduce((sum, f) => sum + statSync(join(v2, f)).size, 0),
    snapshotZxid: snapshot ? hex(zxidOfName(snapshot)) : null,
    lastZxid: last === undefined ? null : hex(last),
  };
}

/**
 * Copies what a restore needs from a data dir: the newest snapshot, the txn logs that may hold txns after it
 * (those starting after it, and the one it falls in), and the epoch files. Snapshot first, then logs, so a
 * live copy's logs reach at least as far as its snapshot.
 */
export function copyBackup(dataDir: string, destDir: string): BackupContents {
  const src = join(dataDir, 'version-2');
  const dest = join(destDir, 'version-2');
  mkdirSync(dest, { recursive: true });
  const snapshot = filesByZxid(src, 'snapshot')[0];
  const since = snapshot ? zxidOfName(snapshot) : 0n;
  const logs = filesByZxid(src, 'log');
  const firstNeeded = logs.findIndex((l) => zxidOfName(l) <= since);
  const needed = firstNeeded < 0 ? logs : logs.slice(0, firstNeeded + 1);
  for (const name of [...(snapshot ? [snapshot] : []), ...needed.reverse(), 'currentEpoch', 'acceptedEpoch']) {
    if (existsSync(join(src, name))) copyFileSync(join(src, name), join(dest, name));
  }
  return describeBackup(destDir);
}

/** Copies a backup and damages the copy; returns what was done (file, offsets, bytes) for the record. */
export function damageBackup(
  srcDir: string,
  destDir: string,
  damage: BackupDamage,
  random: Random,
): Record<string, unknown> {
  mkdirSync(join(destDir, 'version-2'), { recursive: true });
  for (const name of readdirSync(join(srcDir, 'version-2')))
    copyFileSync(join(srcDir, 'version-2', name), join(destDir, 'version-2', name));
  const v2 = join(destDir, 'version-2');
  const newestLog = filesByZxid(v2, 'log')[0];
  const snapshot = filesByZxid(v2, 'snapshot')[0];
  const need = (file: string | undefined, what: string): string => {
    if (!file) throw new Error(`backup ${srcDir} has no ${what} to damage`);
    return join(v2, file);
  };
  switch (damage) {
    case 'none':
      return {};
    case 'truncate-log': {
      // A third of the records (at least one): enough that acknowledged adds from before the backup go.
      const path = need(newestLog, 'txn log');
      const records = parseTxnLog(readFileSync(path)).records.length;
      return truncateTxnLog(path, { records: Math.max(1, Math.floor(records / 3)) });
    }
    case 'flip-log': {
      const path = need(newestLog, 'txn log');
      return flipBits(path, 1, TXN_LOG_HEADER_BYTES, parseTxnLog(readFileSync(path)).dataEnd, random);
    }
    case 'flip-snapshot': {
      const path = need(snapshot, 'snapshot');
      return flipBits(path, 1, 0, statSync(path).size, random);
    }
    case 'drop-logs': {
      const dropped = filesByZxid(v2, 'log');
      for (const name of dropped) rmSync(join(v2, name));
      return { dropped };
    }
  }
}

// Two findings of issue 14, each reduced to its smallest case on a real 3.9.6 ensemble with forceSync=yes.
// 1. ZooKeeper fsyncs its txn log (FileTxnLog.commit, channel.force) but never a directory, so the entry of a txn log
//    it creates is never made durable. Under the POSIX rule (a directory entry persists at its directory's fsync), one
//    create acknowledged after a restart is gone once every node loses power. Where a file's fsync also persists its
//    entries (any-fsync: what ext4 and XFS journals do in practice) the same create survives.
// 2. The snapshot a server takes when it loads its database (ZooKeeperServer.loadData → takeSnapshot(), syncSnap
//    false) is never fsynced, while the txn log after it is. A leader cut off before it wrote any later snapshot comes
//    back with an empty snapshot.0 and a log full of txns, and refuses to start: "No snapshot found, but there are log
//    entries. Something is broken!" (FileTxnSnapLog.restore), even under any-fsync.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartOutcome } from '../../nemesis/disk.js';
import { FAULTS } from '../../nemesis/index.js';
import {
  ensurePowerLossPackages,
  PowerLossFilesystems,
  revertDataDir,
  syncDataDir,
} from '../../nemesis/power-loss/fs.js';
import { connectToNode, DEFAULT_CLIENT_OPTIONS } from '../../src/client.js';
import type { ClusterNode } from '../../src/cluster.js';
import { MemoryLogger } from '../../src/log.js';
import type { NemesisContext } from '../../src/nemesis.js';
import { leftovers } from '../integration/helpers.js';
import { startEnsemble, type TestEnsemble } from './ensemble.js';

let ensemble: TestEnsemble;

const dataDir = (node: ClusterNode): string => join(node.hostDir, 'data');

async function createOne(context: NemesisContext, path: string): Promise<void> {
  const leader = await context.db.leader();
  const client = await connectToNode(leader!, DEFAULT_CLIENT_OPTIONS);
  try {
    await client.create(path, Buffer.from('acknowledged'), 'persistent');
  } finally {
    await client.close();
  }
}

async function presentOn(context: NemesisContext, path: string): Promise<Record<string, boolean>> {
  const seen: Record<string, boolean> = {};
  for (const node of context.cluster.nodes) {
    const client = await connectToNode(node, DEFAULT_CLIENT_OPTIONS);
    try {
      await client.sync(path).catch(() => undefined);
      seen[node.name] = (await client.exists(path)).stat !== null;
    } finally {
      await client.close();
    }
  }
  return seen;
}

/** Everything on disk so far made durable, then a graceful restart: the next write goes to a new txn log. */
async function durableThenRestart(context: NemesisContext): Promise<void> {
  for (const node of context.cluster.nodes) await syncDataDir(dataDir(node));
  await FAULTS['restart-all']!.start(context);
  await context.db.waitForQuorum(60_000, { all: true });
}

describe('power loss on 3.9.6 with forceSync=yes: the txn log ZooKeeper creates is never in a fsynced directory', () => {
  beforeAll(async () => {
    await ensurePowerLossPackages(new MemoryLogger());
    ensemble = await startEnsemble('pl-finding', {
      server: 'debian:sid',
      dataDirMount: (runId) => new PowerLossFilesystems({ runId, model: 'dir-fsync', log: new MemoryLogger() }),
    });
  }, 180_000);

  afterAll(async () => {
    await ensemble?.teardown();
    if (ensemble) expect(await leftovers(ensemble.runId)).toEqual([]);
  }, 60_000);

  it('dir-fsync (POSIX): one acknowledged create after a restart is lost on every node', async () => {
    const { context } = ensemble;
    await durableThenRestart(context);
    await createOne(context, '/faultline-finding-posix');
    const record = (await FAULTS['power-loss-all']!.start(context)) as {
      powerLoss: Record<string, { removed: string[]; forceSync: boolean; model: string }>;
    };
    for (const cut of Object.values(record.powerLoss)) {
      expect(cut).toMatchObject({ forceSync: true, model: 'dir-fsync' });
      // The new log: fdatasynced with the create in it, but its name was never made durable.
      expect(
        cut.removed.some((p) => /^version-2\/log\.[0-9a-f]+$/.test(p)),
        JSON.stringify(cut),
      ).toBe(true);
    }
    await FAULTS['power-loss-all']!.heal(context);
    await context.db.waitForQuorum(90_000, { all: true });
    expect(await presentOn(context, '/faultline-finding-posix')).toEqual({ n1: false, n2: false, n3: false });
  }, 180_000);

  it('any-fsync (a journalling file system in practice): the same create survives', async () => {
    const { context } = ensemble;
    await durableThenRestart(context);
    await createOne(context, '/faultline-finding-journal');
    await FAULTS['crash-all']!.start(context);
    for (const node of context.cluster.nodes) {
      const cut = await revertDataDir(dataDir(node), 'any-fsync');
      expect(cut.removed.filter((p) => p.startsWith('version-2/log.'))).toEqual([]);
    }
    await FAULTS['crash-all']!.heal(context);
    await context.db.waitForQuorum(90_000, { all: true });
    expect(await presentOn(context, '/faultline-finding-journal')).toEqual({ n1: true, n2: true, n3: true });
  }, 180_000);
});

describe('power loss on 3.9.6 with forceSync=yes: the snapshot taken at load is never fsynced', () => {
  let fresh: TestEnsemble;

  beforeAll(async () => {
    await ensurePowerLossPackages(new MemoryLogger());
    fresh = await startEnsemble('pl-snapshot', {
      server: 'debian:sid',
      dataDirMount: (runId) => new PowerLossFilesystems({ runId, model: 'any-fsync', log: new MemoryLogger() }),
    });
  }, 180_000);

  afterAll(async () => {
    await fresh?.teardown();
    if (fresh) expect(await leftovers(fresh.runId)).toEqual([]);
  }, 60_000);

  it('any-fsync: a new ensemble, one acknowledged create, every node loses power: the leader will not start again', async () => {
    const { context } = fresh;
    const leader = (await context.db.leader())!;
    await createOne(context, '/faultline-finding-snapshot');
    const record = (await FAULTS['power-loss-all']!.start(context)) as {
      powerLoss: Record<string, { changed: { path: string; size: number; syncedSize: number }[]; removed: string[] }>;
    };
    const cut = record.powerLoss[leader.name]!;
    // The log stays (fdatasynced, its entry committed with it); the snapshot.0 written at load had never been synced.
    expect(cut.removed.filter((p) => p.startsWith('version-2/log.'))).toEqual([]);
    expect(cut.changed).toContainEqual(expect.objectContaining({ path: 'version-2/snapshot.0', syncedSize: 0 }));
    await FAULTS['power-loss-all']!.heal(context);
    expect(await restartOutcome(context, leader, 60_000)).toBe('exited');
    const log = readFileSync(join(leader.hostDir, 'logs', 'zookeeper.log'), 'utf8');
    expect(log).toContain('No snapshot found, but there are log entries. Something is broken!');
  }, 180_000);
});

// A real 3-node ensemble for the nemesis Docker tests: one per test file, reused across its cases.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_SERVER } from '../../docker/image.js';
import { connectToNode, DEFAULT_CLIENT_OPTIONS } from '../../src/client.js';
import { DockerCluster, type ClusterNode, type DataDirMount } from '../../src/cluster.js';
import { prepareEnvironment } from '../../docker/environment.js';
import { MemoryLogger } from '../../src/log.js';
import type { NemesisContext } from '../../src/nemesis.js';
import { Random } from '../../src/random.js';
import { DEFAULT_ZOOKEEPER_CONFIG, ZooKeeperDb, type ZooKeeperConfig } from '../../src/zookeeper.js';

export interface TestEnsemble {
  context: NemesisContext;
  runId: string;
  teardown(): Promise<void>;
}

/** A 3-node ensemble of the server build (default: the default build), with a filesystem under its data dirs if given. */
export async function startEnsemble(
  name: string,
  options: { server?: string; config?: ZooKeeperConfig; dataDirMount?: (runId: string) => DataDirMount } = {},
): Promise<TestEnsemble> {
  const log = new MemoryLogger();
  const env = await prepareEnvironment(options.server ?? DEFAULT_SERVER, log);
  const runId = `${name}-${randomBytes(3).toString('hex')}`;
  const runDir = mkdtempSync(join(tmpdir(), 'faultline-nemesis-'));
  const cluster = new DockerCluster(
    env.docker,
    {
      runId,
      testName: name,
      runDir,
      image: env.image.name,
      nodeCount: 3,
      ...(options.dataDirMount ? { dataDirMount: options.dataDirMount(runId) } : {}),
    },
    log,
  );
  const db = new ZooKeeperDb(cluster, options.config ?? DEFAULT_ZOOKEEPER_CONFIG, log);
  try {
    await cluster.setup();
    await db.setup();
    await db.waitForQuorum(90_000, { all: true });
  } catch (err) {
    await cluster.teardown();
    throw err;
  }
  return { context: { cluster, db, log, random: new Random(11) }, runId, teardown: () => cluster.teardown() };
}

/** Writes a few znodes through one node, so the txn logs hold records. */
export async function writeSome(node: ClusterNode, count: number): Promise<void> {
  const client = await connectToNode(node, DEFAULT_CLIENT_OPTIONS);
  try {
    for (let i = 0; i < count; i++)
      await client.create(`/faultline-${randomBytes(4).toString('hex')}`, Buffer.from('x'.repeat(40)), 'persistent');
  } finally {
    await client.close();
  }
}

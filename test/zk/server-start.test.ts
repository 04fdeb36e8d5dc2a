// ZooKeeperDb.start on a fake cluster (pure logic: no container): a server that exits before the first probe sees
// it still counts as started when it wrote to its log, so a caller sees its exit as it sees a slower one's; and
// start returns as soon as it sees that, not after its timeout.
import { appendFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Cluster, ClusterNode, ExecResult } from '../../src/cluster.js';
import { HarnessError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import { DEFAULT_ZOOKEEPER_CONFIG, ZooKeeperDb } from '../../src/zookeeper.js';

/** A fake cluster of one node on which the server never runs; its start command may write a log line first. */
function fakeCluster(startWritesLog: boolean): { cluster: Cluster; node: ClusterNode; probes: () => number } {
  let probes = 0;
  const hostDir = mkdtempSync(join(tmpdir(), 'faultline-start-'));
  mkdirSync(join(hostDir, 'logs'));
  const node: ClusterNode = { name: 'n1', id: 1, ip: '127.0.0.1', hostDir };
  const exec = (_node: ClusterNode, cmd: string[], options?: { detach?: boolean }): Promise<ExecResult> => {
    if (options?.detach && startWritesLog) {
      // zkServer.sh's own line, then the JVM's (timestamped, as every ZooKeeper log layout writes).
      appendFileSync(
        join(hostDir, 'logs', 'zookeeper.log'),
        'Using config: /faultline/conf/zoo.cfg\n2026-12-03T13:02:59.262 [main] ERROR org.apache.zookeeper.server.quorum.QuorumPeer - No snapshot found, but there are log entries.\n',
      );
    }
    // pgrep finds no server process: it exited (or never ran).
    if (cmd[0] === 'pgrep') probes++;
    return Promise.resolve({ exitCode: cmd[0] === 'pgrep' ? 1 : 0, stdout: '', stderr: '' });
  };
  const cluster: Cluster = {
    runId: 'fake',
    nodes: [node],
    subnet: '127.0.0.0/8',
    setup: () => Promise.resolve(),
    exec,
    run: async (n, cmd) => (await exec(n, cmd)).stdout,
    teardown: () => Promise.resolve(),
  };
  return { cluster, node, probes: () => probes };
}

describe('ZooKeeperDb.start (fake cluster)', () => {
  it('returns for a server that wrote its log and exited before the first probe', async () => {
    const { cluster, node, probes } = fakeCluster(true);
    await expect(new ZooKeeperDb(cluster, DEFAULT_ZOOKEEPER_CONFIG, new MemoryLogger()).start(node)).resolves.toBe(
      undefined,
    );
    // Decided at the first probe after the start (one before it, to see whether the server already ran), not after
    // 10 s of probes every 100 ms.
    expect(probes()).toBe(2);
  }, 20_000);

  it('says the server did not start when it wrote nothing at all', async () => {
    const { cluster, node } = fakeCluster(false);
    const started = new ZooKeeperDb(cluster, DEFAULT_ZOOKEEPER_CONFIG, new MemoryLogger()).start(node);
    await expect(started).rejects.toThrow(HarnessError);
    await expect(started).rejects.toThrow('ZooKeeper did not start on n1');
  }, 20_000);
});

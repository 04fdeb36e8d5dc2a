// The restart oracle in runTest, with the FAKE in-memory cluster: a node that does not come back after the final
// heal is recorded (a 'final' recovery fail event), the run is checked rather than failed, and the recovery checker
// names the node: node-did-not-recover, invalid. No Docker: the real run is in the report's numbers.
import { describe, expect, it } from 'vitest';
import { recoveryChecker } from '../src/checkers/recovery.js';
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import { fakeRun, MemoryCluster, MemoryDatabase, memoryFault, MemoryRegister } from '../src/fakes/memory.js';
import { MemoryLogger } from '../src/log.js';
import { runTest } from '../src/runner.js';
import type { ServerStatus } from '../src/zookeeper.js';

/** A FAKE database whose node n2 never starts again once killed (as a server whose data will not load). */
class NoRestartDatabase extends MemoryDatabase {
  private dead = false;
  override async signal(node: ClusterNode, signal: 'KILL' | 'STOP' | 'CONT' | 'TERM'): Promise<boolean> {
    if (node.name === 'n2' && signal === 'KILL') this.dead = true;
    return super.signal(node, signal);
  }
  override async start(node: ClusterNode): Promise<void> {
    if (node.name === 'n2' && this.dead) return;
    return super.start(node);
  }
  override async waitForQuorum(): Promise<ServerStatus[]> {
    const statuses = await super.waitForQuorum();
    if (statuses.some((s) => !s.serving)) throw new HarnessError('no serving quorum (n2: not serving)');
    return statuses;
  }
}

describe('runTest and the restart oracle', () => {
  it('gives node-did-not-recover for a node that stays down after the final heal, not a failed run', async () => {
    const register = new MemoryRegister();
    const cluster = new MemoryCluster(3);
    const db = new NoRestartDatabase(cluster, register);
    const kill = memoryFault(register);
    const killN2 = {
      ...kill,
      async start() {
        await db.signal(cluster.nodes[1]!, 'KILL');
        return { killed: ['n2'] };
      },
      async heal() {
        for (const node of cluster.nodes) await db.start(node);
        return { started: cluster.nodes.map((n) => n.name) };
      },
    };
    const { test } = fakeRun({
      name: 'restart',
      register,
      cluster,
      db,
      fault: killN2,
      checkers: { recovery: recoveryChecker },
    });
    const outcome = await runTest(test, new MemoryLogger(), new AbortController().signal);
    expect(outcome.error).toBeUndefined();
    expect(outcome.valid).toBe(false);
    const anomalies = outcome.checkers.recovery!.anomalies!;
    expect(anomalies.map((a) => a.type)).toEqual(['node-did-not-recover']);
    expect(anomalies[0]!.description).toMatch(/^n2 did not serve within 5 s of the final heal/);
  }, 30_000);
});

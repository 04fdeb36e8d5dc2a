// A silent crash on a real ensemble, watched by the role monitor: unlike kill -9, the peers are not told, so the
// followers keep following until their timeout (syncLimit × tickTime = 2.5 s by default) before electing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS } from '../../nemesis/index.js';
import { newLeaderAfter, readRoleChanges, servingAfter } from '../../src/role-changes.js';
import { startRoleMonitor, type RoleMonitor } from '../../src/roles.js';
import { waitFor } from '../../src/time.js';
import { DEFAULT_ZOOKEEPER_CONFIG } from '../../src/zookeeper.js';
import { leftovers } from '../integration/helpers.js';
import { startEnsemble, type TestEnsemble } from './ensemble.js';

let ensemble: TestEnsemble;
let monitor: RoleMonitor | undefined;

describe('crash-leader on a real ensemble', () => {
  beforeAll(async () => {
    ensemble = await startEnsemble('nemesis-crash');
  }, 120_000);

  afterAll(async () => {
    await monitor?.stop();
    await ensemble?.teardown();
    if (ensemble) expect(await leftovers(ensemble.runId)).toEqual([]);
  }, 60_000);

  it('the followers notice only by timeout; the heal lets the node talk and it rejoins', async () => {
    const { context } = ensemble;
    const rolesPath = join(mkdtempSync(join(tmpdir(), 'faultline-roles-')), 'roles.jsonl');
    const started = process.hrtime.bigint();
    const now = (): number => Number(process.hrtime.bigint() - started);
    monitor = startRoleMonitor(context.cluster.nodes, (n, t) => context.db.status(n, t), rolesPath, now);
    await waitFor('the monitor to see a leader', 10_000, 100, async () => monitor!.currentLeader());

    const crashAt = now();
    const done = (await FAULTS['crash-leader']!.start(context)) as { killed: string[]; silenced: boolean };
    const victim = context.cluster.nodes.find((n) => n.name === done.killed[0])!;
    expect(await context.db.isRunning(victim)).toBe(false);
    expect(await context.cluster.run(victim, ['iptables', '-S'])).toContain('-A FAULTLINE-CRASH -j DROP');
    const newLeader = await waitFor('a new leader', 30_000, 100, async () =>
      newLeaderAfter(monitor!.changes, crashAt, victim.name),
    );

    const syncTimeoutMs = DEFAULT_ZOOKEEPER_CONFIG.syncLimit * DEFAULT_ZOOKEEPER_CONFIG.tickTime;
    // A follower that had been told (kill -9) would be electing within a few hundred ms.
    const firstUnready = monitor.changes
      .filter((c) => c.time >= crashAt && c.node !== victim.name && c.role !== 'follower')
      .reduce((min, c) => Math.min(min, c.time), Infinity);
    expect((firstUnready - crashAt) / 1e6).toBeGreaterThan(syncTimeoutMs * 0.6);
    expect(newLeader.ms).toBeGreaterThan(syncTimeoutMs * 0.6);

    const healAt = now();
    expect(await FAULTS['crash-leader']!.heal(context)).toMatchObject({
      unsilenced: [victim.name],
      started: [victim.name],
    });
    await waitFor('the crashed node to serve', 60_000, 100, async () =>
      servingAfter(monitor!.changes, healAt, victim.name),
    );
    for (const n of context.cluster.nodes)
      expect(await context.cluster.run(n, ['iptables', '-S'])).not.toContain('FAULTLINE');
    await monitor.stop();
    // The file holds what the monitor saw, streamed as it went.
    expect((await readRoleChanges(rolesPath)).length).toBe(monitor.changes.length);
    monitor = undefined;
  }, 120_000);
});

// The clock and membership families on one real 3-node ensemble (libfaketime preloaded, reconfig enabled): a clock
// jump read back from the JVM, then its heal; the ensemble grown to 5 through reconfig, then healed back to 3.
// Nothing of either may be left: true time on every node, the starting members, no joiner's container.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NemesisContext } from '../../src/nemesis.js';
import { waitFor } from '../../src/time.js';
import { DEFAULT_ZOOKEEPER_CONFIG } from '../../src/zookeeper.js';
import { FAULTS } from '../../nemesis/index.js';
import type { ClockReading } from '../../nemesis/clock.js';
import { readConfig } from '../../nemesis/membership.js';
import { healProcesses } from '../../nemesis/process.js';
import { leftovers } from '../integration/helpers.js';
import { startEnsemble, type TestEnsemble } from './ensemble.js';

let ensemble: TestEnsemble;
let context: NemesisContext;

const wallOf = (readings: readonly ClockReading[], node: string): ClockReading =>
  readings.find((r) => r.node === node)!;

describe('clock and membership faults on a real ensemble', () => {
  beforeAll(async () => {
    ensemble = await startEnsemble('clock-membership', {
      config: { ...DEFAULT_ZOOKEEPER_CONFIG, fakeClock: 'wall', reconfig: true },
    });
    context = ensemble.context;
  }, 180_000);

  afterAll(async () => {
    await ensemble?.teardown();
    if (ensemble) expect(await leftovers(ensemble.runId)).toEqual([]);
  }, 60_000);

  it('jumps the leader’s JVM wall clock, reads the offset back from the JVM, and heals it to true time', async () => {
    const leader = await waitFor('a leader', 30_000, 250, () => context.db.leader());
    const done = (await FAULTS['clock-jump-forward']!.start(context, {
      target: 'leader',
      params: { byMs: 20_000 },
    })) as { clocks: ClockReading[]; nodes: string[] };
    expect(done.nodes).toEqual([leader.name]);
    const jumped = wallOf(done.clocks, leader.name);
    expect(jumped.source).toBe('jvm');
    expect(Math.abs(jumped.wallMs! - 20_000)).toBeLessThan(1000);
    // fakeClock=wall: System.nanoTime keeps true time.
    expect(Math.abs(jumped.monotonicMs!)).toBeLessThan(1000);
    for (const other of done.clocks.filter((r) => r.node !== leader.name))
      expect(Math.abs(other.wallMs!)).toBeLessThan(1000);
    const healed = (await FAULTS['clock-jump-forward']!.heal(context)) as { reset: string[]; clocks: ClockReading[] };
    expect(healed.reset).toEqual([leader.name]);
    for (const r of healed.clocks) expect(Math.abs(r.wallMs!)).toBeLessThan(1000);
    // Idempotent: nothing left to reset.
    expect(((await FAULTS['clock-jump-forward']!.heal(context)) as { reset: string[] }).reset).toEqual([]);
  }, 120_000);

  it('grows 3 → 5 through reconfig with two new containers, and the heal restores the three starting members', async () => {
    const grown = (await FAULTS['membership-grow']!.start(context)) as {
      configAfter: { members: Record<string, string> };
      reconfigs: { outcome: string }[];
    };
    expect(grown.reconfigs.map((r) => r.outcome)).toEqual(['ok']);
    expect(Object.keys(grown.configAfter.members)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(context.cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(await leftovers(ensemble.runId)).toHaveLength(6); // five containers and the network
    await healProcesses(context);
    const healed = (await FAULTS['membership-grow']!.heal(context)) as { stopped: string[] };
    expect(healed.stopped).toEqual(['n4', 'n5']);
    expect((await readConfig(context)).members.map((m) => `${m.id}:${m.role}`)).toEqual([
      '1:participant',
      '2:participant',
      '3:participant',
    ]);
    expect(await leftovers(ensemble.runId)).toHaveLength(4);
    await context.db.waitForQuorum(60_000, { all: true });
  }, 240_000);
});

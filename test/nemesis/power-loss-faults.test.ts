// The power-loss faults without Docker: their names and family, when a run mounts the filesystem, the forceSync a
// record reports, and the kill option's checks (against a fake cluster whose data dirs are not mounted).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_CATALOGUE, FAULTS, resolveFaults } from '../../nemesis/index.js';
import {
  forceSyncOf,
  mountsPowerLoss,
  schedulesPowerLoss,
  withPowerLossOption,
} from '../../nemesis/power-loss/faults.js';
import type { ClusterNode } from '../../src/cluster.js';
import { MemoryLogger } from '../../src/log.js';
import type { Fault, NemesisContext } from '../../src/nemesis.js';
import { Random } from '../../src/random.js';
import { parseScenario } from '../../src/schedule.js';
import type { Database } from '../../src/zookeeper.js';

function fakeNode(name: string, zooCfg?: string): ClusterNode {
  const hostDir = mkdtempSync(join(tmpdir(), 'faultline-plf-'));
  mkdirSync(join(hostDir, 'conf'));
  mkdirSync(join(hostDir, 'data'));
  if (zooCfg !== undefined) writeFileSync(join(hostDir, 'conf', 'zoo.cfg'), zooCfg);
  return { name, id: 1, ip: '127.0.0.1', hostDir };
}

describe('power-loss faults', () => {
  it('are six process-family faults, resolved by name, family, family:option and @TARGET', () => {
    const names = resolveFaults(['power-loss']).map((f) => f.name);
    expect(names).toEqual(['leader', 'follower', 'one', 'minority', 'majority', 'all'].map((t) => `power-loss-${t}`));
    expect(new Set(resolveFaults(['power-loss']).map((f) => f.family))).toEqual(new Set(['process']));
    expect(resolveFaults(['power-loss:leader']).map((f) => f.name)).toEqual(['power-loss-leader']);
    expect(resolveFaults(['power-loss-one@n2']).map((f) => f.name)).toEqual(['power-loss-one@n2']);
  });

  it('mount the filesystem only when the schedule can cut power, unless told on or off', () => {
    expect(mountsPowerLoss('auto', resolveFaults(['kill-leader', 'partition']))).toBe(false);
    expect(mountsPowerLoss('auto', resolveFaults(['kill-leader', 'power-loss-one@n2']))).toBe(true);
    expect(mountsPowerLoss('on', [])).toBe(true);
    expect(mountsPowerLoss('off', resolveFaults(['power-loss-all']))).toBe(false);
    const scenario = (params: string) =>
      parseScenario(`steps:\n  - fault: kill-one\n${params}  - heal: all\n`, 's.yaml', FAULT_CATALOGUE);
    expect(schedulesPowerLoss([], scenario(''))).toBe(false);
    expect(schedulesPowerLoss([], scenario('    params:\n      powerLoss: true\n'))).toBe(true);
  });

  it('record the node\'s forceSync as its zoo.cfg sets it (only "no" turns the fsync off)', () => {
    expect(forceSyncOf(fakeNode('n1', 'tickTime=500\nforceSync=no\n'))).toBe(false);
    expect(forceSyncOf(fakeNode('n1', 'forceSync=yes\n'))).toBe(true);
    expect(forceSyncOf(fakeNode('n1', 'tickTime=500\n'))).toBe(true);
    expect(forceSyncOf(fakeNode('n1'))).toBe(true);
  });

  it('the kill option checks its param, and names the fix when a data dir is not on the filesystem', async () => {
    const node = fakeNode('n1');
    // A fake cluster and database: nothing runs, the kill only reports its target.
    const context = {
      cluster: { nodes: [node] },
      db: { isRunning: () => Promise.resolve(false) } as unknown as Database,
      log: new MemoryLogger(),
      random: new Random(1),
    } as unknown as NemesisContext;
    const fakeKill: Fault = {
      name: 'kill-fake',
      family: 'process',
      description: 'a fake kill',
      start: () => Promise.resolve({ nodes: ['n1'], killed: ['n1'] }),
      heal: () => Promise.resolve({}),
    };
    const kill = withPowerLossOption(fakeKill);
    await expect(kill.start(context)).resolves.toEqual({ nodes: ['n1'], killed: ['n1'] });
    await expect(kill.start(context, { params: { powerLoss: 'yes' } })).rejects.toThrow(
      /powerLoss must be true or false/,
    );
    await expect(kill.start(context, { params: { powerLoss: true } })).rejects.toMatchObject({
      message: expect.stringMatching(/n1: its data dir is not on the power-loss filesystem/),
      fix: expect.stringMatching(/--power-loss-fs on/),
    });
    expect(FAULTS['kill-leader']!.name).toBe('kill-leader');
  });
});

// Per-node heals on one real 3-node ensemble, driven by scenario steps as users write them: two nodes killed and
// one started; two nodes cut off and one reconnected; two paused and one resumed. Each checks the real effect on
// the nodes, and that the history's nemesis records follow the contract (fault, nodes, target, roles, scope).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/cluster.js';
import { HistoryWriter } from '../../src/history.js';
import type { NemesisContext } from '../../src/nemesis.js';
import { readNemesisActions, type NemesisAction } from '../../src/nemesis-actions.js';
import { parseScenario, scenarioSchedule } from '../../src/schedule.js';
import { waitFor } from '../../src/time.js';
import { FAULT_CATALOGUE, familyHealers } from '../../nemesis/index.js';
import { faultlineRules } from '../../nemesis/partition.js';
import { isPaused } from '../../nemesis/process.js';
import { startEnsemble, type TestEnsemble } from './ensemble.js';

let ensemble: TestEnsemble;
let context: NemesisContext;
const node = (name: string): ClusterNode => context.cluster.nodes.find((n) => n.name === name)!;

async function runSteps(steps: string[]): Promise<NemesisAction[]> {
  const scenario = parseScenario(['steps:', ...steps].join('\n'), 'per-node.yaml', FAULT_CATALOGUE);
  const history = new HistoryWriter(join(mkdtempSync(join(tmpdir(), 'faultline-per-node-')), 'history.jsonl'));
  const stop = new AbortController();
  await scenarioSchedule(scenario).run({ context, history, stop: stop.signal, onFault: () => {}, onOutcome: () => {} });
  await history.close();
  return readNemesisActions(history.events);
}

/** Whether a TCP connection from one node to another's client port opens within 2 s. */
async function connects(from: ClusterNode, to: ClusterNode): Promise<boolean> {
  const script = `timeout 2 bash -c 'exec 3<>/dev/tcp/${to.ip}/2181' && echo open || echo shut`;
  return (await context.cluster.run(from, ['sh', '-c', script])).includes('open');
}

async function healEverything(): Promise<void> {
  for (const f of familyHealers()) await f.heal(context);
  await context.db.waitForQuorum(90_000, { all: true });
}

function expectContract(a: NemesisAction): void {
  expect(Object.keys(a.roles).sort()).toEqual(['n1', 'n2', 'n3']);
  for (const role of Object.values(a.roles))
    expect(['leader', 'follower', 'observer', 'looking', 'down', 'unknown']).toContain(role);
  expect(a.error).toBeUndefined();
}

describe('per-node heals on a real ensemble', () => {
  beforeAll(async () => {
    ensemble = await startEnsemble('per-node-heal');
    context = ensemble.context;
  });
  afterAll(async () => {
    await ensemble?.teardown();
  });

  it('kills two nodes, starts one: only it comes back and serves', async () => {
    const actions = await runSteps(['  - fault: kill-one', '    target: n2+n3', '  - start: n2']);
    expect(await context.db.isRunning(node('n2'))).toBe(true);
    expect(await context.db.isRunning(node('n3'))).toBe(false);
    // n1 and n2 form a quorum again; n3 stays down.
    await waitFor('n2 to serve', 60_000, 250, async () =>
      (await context.db.status(node('n2'))).serving ? true : undefined,
    );
    expect((await context.db.status(node('n3'))).answered).toBe(false);
    const [start, heal] = actions;
    expect(start).toMatchObject({ kind: 'start', fault: 'kill-one', nodes: ['n2', 'n3'], target: 'n2+n3' });
    expect(heal).toMatchObject({ kind: 'heal', fault: 'process', nodes: ['n2'], target: 'n2', scope: 'node' });
    expect(heal!.record.started).toEqual(['n2']);
    expectContract(start!);
    expectContract(heal!);
    // At the start every node was up; at the heal n2 and n3 were down.
    expect(start!.roles.n2).not.toBe('down');
    expect(heal!.roles.n2).toBe('down');
    await healEverything();
  });

  it('cuts two nodes off, reconnects one: its links come back, the other stays cut', async () => {
    const actions = await runSteps([
      '  - fault: partition-one',
      '    target: n1',
      '  - fault: partition-one',
      '    target: n2',
      '  - heal: partition',
      '    target: n1',
    ]);
    // What stays is n2's cut alone: n1 and n3 drop n2, n2 drops both.
    const drops = async (n: string) =>
      (await faultlineRules(context, node(n))).filter((r) => r.startsWith('-A FAULTLINE ')).sort();
    const rule = (n: string) => `-A FAULTLINE -s ${node(n).ip}/32 -j DROP`;
    expect(await drops('n1')).toEqual([rule('n2')]);
    expect(await drops('n3')).toEqual([rule('n2')]);
    expect(await drops('n2')).toEqual([rule('n1'), rule('n3')].sort());
    expect(await connects(node('n1'), node('n3'))).toBe(true);
    expect(await connects(node('n3'), node('n1'))).toBe(true);
    expect(await connects(node('n1'), node('n2'))).toBe(false);
    expect(await connects(node('n3'), node('n2'))).toBe(false);
    expect(await connects(node('n2'), node('n3'))).toBe(false);
    const heal = actions.find((a) => a.kind === 'heal')!;
    expect(heal).toMatchObject({ fault: 'partition', nodes: ['n1'], scope: 'node', target: 'n1' });
    expectContract(heal);
    await healEverything();
    expect(await connects(node('n1'), node('n2'))).toBe(true);
  });

  it('pauses two nodes, resumes one', async () => {
    const actions = await runSteps([
      '  - fault: pause-one',
      '    target: n2',
      '  - fault: pause-one',
      '    target: n3',
      '  - heal: process',
      '    target: n3',
    ]);
    expect(await isPaused(context, node('n2'))).toBe(true);
    expect(await isPaused(context, node('n3'))).toBe(false);
    const heal = actions.find((a) => a.kind === 'heal')!;
    expect(heal).toMatchObject({ fault: 'process', nodes: ['n3'], scope: 'node' });
    expect(heal.record.resumed).toEqual(['n3']);
    await healEverything();
    expect(await isPaused(context, node('n2'))).toBe(false);
  });

  it("damages two nodes' packets, restores one: its shaping goes, the other's stays", async () => {
    const actions = await runSteps([
      '  - fault: packet-loss',
      '    target: n2+n3',
      '  - heal: packet',
      '    target: n2',
    ]);
    const shaping = async (n: string): Promise<string> =>
      (await context.cluster.run(node(n), ['iptables', '-S'])) +
      (await context.cluster.run(node(n), ['tc', 'qdisc', 'show', 'dev', 'eth0']));
    expect(await shaping('n2')).not.toMatch(/FAULTLINE-LOSS|fa11:|netem/);
    expect(await shaping('n3')).toMatch(/FAULTLINE-LOSS|netem/);
    const heal = actions.find((a) => a.kind === 'heal')!;
    expect(heal).toMatchObject({ fault: 'packet', nodes: ['n2'], scope: 'node', target: 'n2' });
    expectContract(heal);
    await healEverything();
    expect(await shaping('n3')).not.toMatch(/FAULTLINE-LOSS|fa11:|netem/);
  });
});

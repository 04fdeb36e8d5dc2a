// Every fault family on one real 3-node ensemble: the real effect of each fault, then its heal.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToNode, DEFAULT_CLIENT_OPTIONS } from '../../src/client.js';
import type { ClusterNode } from '../../src/cluster.js';
import type { NemesisContext } from '../../src/nemesis.js';
import { sleep, waitFor } from '../../src/time.js';
import { FAULTS, familyHealers } from '../../nemesis/index.js';
import { faultlineRules } from '../../nemesis/partition.js';
import { leftovers } from '../integration/helpers.js';
import { startEnsemble, writeSome, type TestEnsemble } from './ensemble.js';

let ensemble: TestEnsemble;
let context: NemesisContext;
const fault = (name: string) => FAULTS[name]!;
const node = (name: string): ClusterNode => context.cluster.nodes.find((n) => n.name === name)!;

async function qdiscs(n: ClusterNode): Promise<string> {
  return context.cluster.run(n, ['tc', 'qdisc', 'show', 'dev', 'eth0']);
}

/** TCP connect time (one round trip) from one node to another's client port, median of 7, in ms. */
async function connectRttMs(from: ClusterNode, to: ClusterNode): Promise<number> {
  const script = `for i in 1 2 3 4 5 6 7; do s=$(date +%s%N); exec 3<>/dev/tcp/${to.ip}/2181; e=$(date +%s%N); exec 3>&-; echo $(( (e - s) / 1000 )); done`;
  const samples = (await context.cluster.run(from, ['bash', '-c', script]))
    .trim()
    .split('\n')
    .map(Number)
    .sort((a, b) => a - b);
  return samples[3]! / 1000;
}

/** One TCP extension counter (/proc/net/netstat, per network namespace) summed over nodes. */
async function tcpExtCounter(nodes: readonly ClusterNode[], name: string): Promise<number> {
  let total = 0;
  for (const n of nodes) {
    const [keys, values] = (await context.cluster.run(n, ['cat', '/proc/net/netstat']))
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'))
      .map((l) => l.split(/\s+/));
    total += Number(values![keys!.indexOf(name)]);
  }
  return total;
}

/** The leader and its followers, once one node leads. */
async function leaderAndFollowers(): Promise<{ leader: ClusterNode; followers: ClusterNode[] }> {
  const leader = await waitFor('a leader', 30_000, 250, () => context.db.leader());
  return { leader, followers: context.cluster.nodes.filter((n) => n.name !== leader.name) };
}

/** After a packet heal: no qdisc, no chain and no delayer of Faultline's on any node. */
async function expectNoPacketLeftovers(): Promise<void> {
  for (const n of context.cluster.nodes) {
    const qdisc = await qdiscs(n);
    expect(qdisc).not.toContain('fa11:');
    expect(qdisc).not.toContain('netem');
    expect(await context.cluster.run(n, ['iptables', '-S'])).not.toContain('FAULTLINE');
    expect((await context.cluster.exec(n, ['pgrep', '-x', 'faultline-delay'])).exitCode).toBe(1);
  }
}

interface ShapedRecord {
  [detail: string]: unknown;
  shaped: Record<
    string,
    { peers: string[]; mechanism: string; netem?: string; iptables?: string[]; delayer?: Record<string, unknown> }
  >;
}

interface PacketHealRecord {
  [detail: string]: unknown;
  removedQdiscs: string[];
  removedQueueChains: string[];
  stoppedDelayers: string[];
  delayerCounters?: Record<
    string,
    { queued: number; held: number; duplicated: number; overtook: number; errors: number }
  >;
}

/**
 * A packet fault at 50% on the leader's egress to its followers while `traffic` runs through the leader; the
 * ensemble must keep serving. Returns how far a TCP counter of the followers rose and the delayer's counters.
 * The heal must leave nothing behind.
 */
async function leaderPacketEffect(faultName: string, counter: string, traffic: (leader: ClusterNode) => Promise<void>) {
  const { leader, followers } = await leaderAndFollowers();
  const before = await tcpExtCounter(followers, counter);
  const done = (await fault(faultName).start(context, {
    target: { nodes: [leader.name] },
    params: { percent: 50 },
  })) as ShapedRecord;
  await traffic(leader);
  await context.db.waitForQuorum(30_000, { all: true });
  const rise = (await tcpExtCounter(followers, counter)) - before;
  const healed = (await fault(faultName).heal(context)) as PacketHealRecord;
  await expectNoPacketLeftovers();
  return {
    leader: leader.name,
    mechanism: done.shaped[leader.name]!.mechanism,
    rise,
    counters: healed.delayerCounters?.[leader.name],
  };
}

/** Big znodes through one node: a leader's proposals of them are bursts of full segments towards its followers. */
async function writeBig(through: ClusterNode, count: number, bytes: number): Promise<void> {
  const client = await connectToNode(through, DEFAULT_CLIENT_OPTIONS);
  try {
    for (let i = 0; i < count; i++)
      await client.create(`/faultline-big-${randomBytes(4).toString('hex')}`, Buffer.alloc(bytes, 'x'), 'persistent');
  } finally {
    await client.close();
  }
}

describe('nemesis families on a real ensemble', () => {
  beforeAll(async () => {
    ensemble = await startEnsemble('nemesis-families');
    context = ensemble.context;
  }, 120_000);

  afterAll(async () => {
    await ensemble?.teardown();
    if (ensemble) expect(await leftovers(ensemble.runId)).toEqual([]);
  }, 60_000);

  it('partition-leader: a different node leads the majority side; the heal removes every rule', async () => {
    const done = (await fault('partition-leader').start(context)) as {
      isolated: string[];
      rules: Record<string, string[]>;
    };
    const old = done.isolated[0]!;
    expect(Object.keys(done.rules).sort()).toEqual(['n1', 'n2', 'n3']);
    const majority = context.cluster.nodes.filter((n) => n.name !== old);
    const newLeader = await waitFor('a leader on the majority side', 30_000, 250, async () => {
      const statuses = await Promise.all(majority.map((n) => context.db.status(n)));
      return statuses.find((s) => s.mode === 'leader')?.node;
    });
    expect(newLeader).not.toBe(old);
    const healed = await fault('partition-leader').heal(context);
    expect(healed).toEqual({ healed: ['n1', 'n2', 'n3'] });
    for (const n of context.cluster.nodes) {
      expect(await faultlineRules(context, n)).toEqual([]);
      expect(await context.cluster.run(n, ['iptables', '-S'])).not.toContain('FAULTLINE');
    }
    await context.db.waitForQuorum(60_000, { all: true });
  }, 100_000);

  it('kill-follower: the process is gone; after the heal it rejoins', async () => {
    const done = (await fault('kill-follower').start(context)) as { killed: string[] };
    expect(done.killed).toHaveLength(1);
    const victim = node(done.killed[0]!);
    expect(await context.db.isRunning(victim)).toBe(false);
    expect(await fault('kill-follower').heal(context)).toMatchObject({ started: [victim.name] });
    expect(await context.db.isRunning(victim)).toBe(true);
    await context.db.waitForQuorum(60_000, { all: true });
  }, 100_000);

  it('pause-follower: srvr stops answering until the heal resumes it', async () => {
    const done = (await fault('pause-follower').start(context)) as { paused: string[] };
    const victim = node(done.paused[0]!);
    expect((await context.db.status(victim)).serving).toBe(false);
    await sleep(1000);
    expect((await context.db.status(victim)).serving).toBe(false);
    expect(await fault('pause-follower').heal(context)).toMatchObject({ resumed: [victim.name], started: [] });
    await waitFor('the paused node to serve', 30_000, 250, async () =>
      (await context.db.status(victim)).serving ? true : undefined,
    );
  }, 60_000);

  it('disk-truncate-log: the log is shorter by the recorded bytes and the node restarts', async () => {
    await writeSome(context.cluster.nodes[0]!, 20);
    const done = (await fault('disk-truncate-log').start(context, { target: 'follower', params: { bytes: 30 } })) as {
      nodes: string[];
      damaged: Record<
        string,
        {
          file: string;
          originalSize: number;
          newSize: number;
          fileBytesRemoved: number;
          dataBytesRemoved: number;
          afterRestart: string;
        }
      >;
    };
    const damage = done.damaged[done.nodes[0]!]!;
    expect(damage.dataBytesRemoved).toBe(30);
    expect(damage.originalSize - damage.newSize).toBe(damage.fileBytesRemoved);
    expect(statSync(damage.file).size).toBe(damage.newSize);
    expect(damage.afterRestart).toBe('serving');
    expect(await context.db.isRunning(node(done.nodes[0]!))).toBe(true);
    await fault('disk-truncate-log').heal(context);
    await context.db.waitForQuorum(60_000, { all: true });
  }, 100_000);

  it('disk-wipe-myid: the node cannot start without myid; the disk heal rewrites it and the node resyncs', async () => {
    const done = (await fault('disk-wipe-myid').start(context, { target: 'follower' })) as {
      nodes: string[];
      damaged: Record<string, { removed: string[]; afterRestart: string }>;
    };
    const victim = done.nodes[0]!;
    expect(done.damaged[victim]!.removed).toContain('myid');
    expect(done.damaged[victim]!.afterRestart).toBe('exited');
    expect(await fault('disk-wipe-myid').heal(context)).toMatchObject({ restoredMyid: [victim], started: [victim] });
    await context.db.waitForQuorum(60_000, { all: true });
  }, 100_000);

  it('disk-rollback-epoch: the epoch files go back by one; the heal gets the node serving again', async () => {
    const done = (await fault('disk-rollback-epoch').start(context, { target: 'follower' })) as {
      nodes: string[];
      damaged: Record<string, { epochs: Record<string, { before: number; after: number }> }>;
    };
    const victim = done.nodes[0]!;
    const epochs = done.damaged[victim]!.epochs;
    expect(epochs['currentEpoch']!.after).toBe(epochs['currentEpoch']!.before - 1);
    // ZooKeeper refuses an epoch older than its log ("The current epoch, N, is older than the last zxid"): the heal repairs.
    const healed = (await fault('disk-rollback-epoch').heal(context)) as { repaired?: Record<string, string> };
    expect(healed.repaired?.[victim]).toMatch(/current epoch/);
    await context.db.waitForQuorum(60_000, { all: true });
  }, 100_000);

  it("packet faults: shaping towards peers is installed, and the heal removes exactly Faultline's qdiscs", async () => {
    const [a, b] = [context.cluster.nodes[0]!, context.cluster.nodes[1]!];
    const rate = (await fault('packet-rate').start(context, {
      target: { nodes: [a.name] },
      params: { peers: b.name },
    })) as { shaped: Record<string, { peers: string[] }> };
    expect(rate.shaped[a.name]!.peers).toEqual([b.name]);
    expect(await qdiscs(a)).toContain('htb fa11: root');
    expect(await context.cluster.run(a, ['tc', 'filter', 'show', 'dev', 'eth0'])).toContain('flowid fa11:1');

    const loss = (await fault('packet-loss').start(context, {
      target: { nodes: [a.name] },
      params: { percent: 50 },
    })) as { shaped: Record<string, { netem?: string; iptables?: string[] }> };
    const shaped = loss.shaped[a.name]!;
    expect(shaped.netem ?? shaped.iptables?.join(' ')).toMatch(/loss 50%|probability 0\.5000/);

    // A node carries one packet shaping at a time: the loss replaced the rate. The family heal removes the loss:
    // its netem qdisc, or on a kernel without netem its iptables statistic chain (and then no qdisc is left).
    if (shaped.iptables) expect(await qdiscs(a)).not.toContain('htb fa11');
    const healed = (await fault('packet-loss').heal(context)) as {
      removedQdiscs: string[];
      removedLossChains: string[];
    };
    if (shaped.iptables) {
      expect(healed.removedLossChains).toEqual([a.name]);
      expect(healed.removedQdiscs).toEqual([]);
    } else expect(healed.removedQdiscs).toEqual([a.name]);
    await expectNoPacketLeftovers();
  }, 60_000);

  it('packet-delay: the round trip towards the delayed node rises by the delay, the ensemble keeps serving, and the heal undoes it all', async () => {
    const [a, b] = [context.cluster.nodes[0]!, context.cluster.nodes[1]!];
    const before = await connectRttMs(b, a);
    const done = (await fault('packet-delay').start(context, {
      target: { nodes: [a.name] },
      params: { delayMs: 200, jitterMs: 0, peers: b.name },
    })) as ShapedRecord;
    const shaped = done.shaped[a.name]!;
    expect(shaped.peers).toEqual([b.name]);
    // netem where the kernel has it, else the userspace delayer.
    if (shaped.mechanism === 'nfqueue') expect(shaped.delayer).toMatchObject({ delayMs: 200, jitterMs: 0 });
    else expect(shaped).toMatchObject({ mechanism: 'netem', netem: 'delay 200ms' });
    const during = await connectRttMs(b, a);
    await writeSome(a, 5);
    await context.db.waitForQuorum(30_000, { all: true });
    const healed = (await fault('packet-delay').heal(context)) as PacketHealRecord;
    const after = await connectRttMs(b, a);
    console.log(
      `packet-delay 200 ms (${shaped.mechanism}) on ${a.name}→${b.name}: connect round trip ${b.name}→${a.name} before ${before} ms, during ${during} ms, after ${after} ms`,
    );
    expect(during - before).toBeGreaterThan(180);
    expect(during - before).toBeLessThan(300);
    expect(after).toBeLessThan(before + 30);
    if (shaped.mechanism === 'nfqueue') {
      expect(healed).toMatchObject({ removedQueueChains: [a.name], stoppedDelayers: [a.name] });
      expect(healed.delayerCounters?.[a.name]).toMatchObject({ held: 0, errors: 0 });
      expect(healed.delayerCounters?.[a.name]?.queued).toBeGreaterThan(0);
    }
    await expectNoPacketLeftovers();
  }, 60_000);

  it("packet-duplicate: the followers receive the leader's segments twice (they answer with D-SACKs) and the ensemble keeps serving", async () => {
    const effect = await leaderPacketEffect('packet-duplicate', 'TCPDSACKOldSent', (leader) => writeSome(leader, 30));
    console.log(
      `packet-duplicate 50% (${effect.mechanism}) on leader ${effect.leader}: followers sent ${effect.rise} D-SACKs; delayer ${JSON.stringify(effect.counters)}`,
    );
    expect(effect.rise).toBeGreaterThan(0);
    if (effect.mechanism === 'nfqueue') expect(effect.counters?.duplicated).toBeGreaterThan(0);
  }, 60_000);

  it("packet-reorder: the leader's segments overtake each other (the followers queue them out of order) and the ensemble keeps serving", async () => {
    const effect = await leaderPacketEffect('packet-reorder', 'TCPOFOQueue', (leader) => writeBig(leader, 3, 300_000));
    console.log(
      `packet-reorder 50% (${effect.mechanism}) on leader ${effect.leader}: followers queued ${effect.rise} segments out of order; delayer ${JSON.stringify(effect.counters)}`,
    );
    expect(effect.rise).toBeGreaterThan(0);
    if (effect.mechanism === 'nfqueue') expect(effect.counters?.overtook).toBeGreaterThan(0);
  }, 60_000);

  it('after healing every family every node serves, and a second heal finds nothing to do', async () => {
    for (const healer of familyHealers()) await healer.heal(context);
    await context.db.waitForQuorum(60_000, { all: true });
    const again = Object.fromEntries(
      await Promise.all(familyHealers().map(async (h) => [h.family, await h.heal(context)] as const)),
    );
    expect(again).toEqual({
      partition: { healed: [] },
      packet: { removedQdiscs: [], removedLossChains: [], removedQueueChains: [], stoppedDelayers: [] },
      clock: { reset: [] },
      disk: { restoredMyid: [], started: [] },
      process: { resumed: [], started: [] },
      membership: {},
      client: { resumed: [], nodes: [] },
    });
  }, 100_000);
});

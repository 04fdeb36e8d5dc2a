// Packet fault command building: netem arguments and the tc commands aimed at chosen peers only; without netem,
// the queueing rules and the userspace delayer's command line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  compileDelayer,
  delayerArgs,
  delayerBinary,
  delayerSourcePath,
  parseDelayerCounters,
} from '../../nemesis/delayer.js';
import {
  delayerSettings,
  lossRules,
  netemArgs,
  packetMechanism,
  queueRules,
  shapingCommands,
} from '../../nemesis/packet.js';

describe('netem arguments', () => {
  it('renders each kind of damage', () => {
    expect(netemArgs({ delayMs: 100, jitterMs: 20 })).toEqual(['delay', '100ms', '20ms', 'distribution', 'normal']);
    expect(netemArgs({ lossPercent: 10 })).toEqual(['loss', '10%']);
    expect(netemArgs({ duplicatePercent: 5 })).toEqual(['duplicate', '5%']);
    // Reordering needs a delay to reorder against.
    expect(netemArgs({ reorderPercent: 25 })).toEqual(['delay', '10ms', 'reorder', '25%', '50%']);
    expect(netemArgs({ rate: '1mbit' })).toEqual([]);
  });
});

describe('shaping commands', () => {
  it("put only the peers' traffic through Faultline's class, with a netem leaf when there is damage to do", () => {
    expect(shapingCommands({ delayMs: 50 }, ['10.0.0.2', '10.0.0.3'], true)).toEqual([
      'tc qdisc add dev eth0 root handle fa11: htb',
      'tc class add dev eth0 parent fa11: classid fa11:1 htb rate 10gbit',
      'tc qdisc add dev eth0 parent fa11:1 handle fa12: netem delay 50ms',
      'tc filter add dev eth0 parent fa11: protocol ip prio 1 u32 match ip dst 10.0.0.2/32 flowid fa11:1',
      'tc filter add dev eth0 parent fa11: protocol ip prio 1 u32 match ip dst 10.0.0.3/32 flowid fa11:1',
    ]);
    const rateOnly = shapingCommands({ rate: '256kbit' }, ['10.0.0.2'], true);
    expect(rateOnly[1]).toContain('rate 256kbit');
    expect(rateOnly.some((c) => c.includes('netem'))).toBe(false);
    // Without netem in the kernel, loss is done by iptables instead: no netem leaf.
    expect(shapingCommands({ lossPercent: 20 }, ['10.0.0.2'], false).some((c) => c.includes('netem'))).toBe(false);
  });
});

describe('without netem', () => {
  it('picks the mechanism from what the spec needs and what the kernel has', () => {
    expect(packetMechanism({ delayMs: 100 }, true)).toBe('netem');
    expect(packetMechanism({ delayMs: 100 }, false)).toBe('nfqueue');
    expect(packetMechanism({ duplicatePercent: 5 }, false)).toBe('nfqueue');
    expect(packetMechanism({ reorderPercent: 25 }, false)).toBe('nfqueue');
    expect(packetMechanism({ lossPercent: 20 }, false)).toBe('iptables');
    expect(packetMechanism({ rate: '1mbit' }, false)).toBe('htb');
  });

  it("sends only the peers' packets to the delayer's queue, lets its marked duplicates pass, and bypasses a dead delayer", () => {
    expect(queueRules(['10.0.0.2', '10.0.0.3'])).toEqual([
      '-A FAULTLINE-QUEUE -m mark --mark 0xfa11 -j RETURN',
      '-A FAULTLINE-QUEUE -d 10.0.0.2 -j NFQUEUE --queue-num 64017 --queue-bypass',
      '-A FAULTLINE-QUEUE -d 10.0.0.3 -j NFQUEUE --queue-num 64017 --queue-bypass',
    ]);
    expect(lossRules(50, ['10.0.0.2'])).toEqual([
      '-A FAULTLINE-LOSS -d 10.0.0.2 -m statistic --mode random --probability 0.5000 -j DROP',
    ]);
  });

  it("gives the delayer netem's meaning: reordering against a 10 ms delay unless one is given", () => {
    expect(delayerSettings({ delayMs: 200, jitterMs: 20 }, 7)).toEqual({
      delayMs: 200,
      jitterMs: 20,
      duplicatePercent: 0,
      reorderPercent: 0,
      seed: 7,
    });
    expect(delayerSettings({ reorderPercent: 25 }, 7)).toMatchObject({ delayMs: 10, reorderPercent: 25 });
    expect(delayerSettings({ duplicatePercent: 10 }, 7)).toMatchObject({ delayMs: 0, duplicatePercent: 10 });
    expect(delayerArgs({ delayMs: 200, jitterMs: 0, duplicatePercent: 0, reorderPercent: 0, seed: 7 })).toEqual([
      '/usr/local/sbin/faultline-delayer',
      '-q',
      '64017',
      '-d',
      '200',
      '-j',
      '0',
      '-u',
      '0',
      '-r',
      '0',
      '-s',
      '7',
      '-m',
      '0xfa11',
      '-p',
      '/run/faultline-delayer.pid',
      '-c',
      '/run/faultline-delayer.json',
    ]);
  });

  it("reads the delayer's counters, and nothing else", () => {
    expect(
      parseDelayerCounters(
        ' {"queued":5,"released":5,"held":0,"duplicated":1,"early":0,"overtook":0,"heldMax":2,"errors":0}',
      ),
    ).toMatchObject({ queued: 5, duplicated: 1 });
    expect(parseDelayerCounters('')).toBeUndefined();
    expect(parseDelayerCounters('{"x":1}')).toBeUndefined();
  });

  it('builds the delayer as a static binary that checks its arguments, and names the fix when no compiler exists', async () => {
    const binary = await delayerBinary();
    const usage = await execa(binary, [], { reject: false });
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/usage: faultline-delayer -q QUEUE/);
    const dir = mkdtempSync(join(tmpdir(), 'faultline-delayer-'));
    try {
      await expect(compileDelayer(delayerSourcePath(), join(dir, 'd'), ['no-such-cc-fa11'])).rejects.toMatchObject({
        message: expect.stringMatching(/no netem\) needs a C compiler.*none was found \(tried no-such-cc-fa11\)/),
        fix: expect.stringMatching(/apt-get install gcc libc6-dev/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

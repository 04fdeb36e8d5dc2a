// Packet fault command building: netem arguments and the tc commands aimed at chosen peers only.
import { describe, expect, it } from 'vitest';
import { netemArgs, shapingCommands } from '../../nemesis/packet.js';

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
  it('put only the peers\' traffic through Faultline\'s class, with a netem leaf when there is damage to do', () => {
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

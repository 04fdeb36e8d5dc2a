// Pure logic of the clock and membership families and their checkers, on hand-made histories whose verdict is known.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkConfigConvergence } from '../../src/checkers/membership.js';
import { checkSessions, EXPIRY_MARGIN_MS } from '../../src/checkers/session.js';
import type { HistoryEvent } from '../../src/history.js';
import { buildClockSeries, buildMembershipSpans } from '../../src/report/data.js';
import { encodeRequest } from '../../src/zk/protocol.js';
import {
  faketimeEnv,
  memberLine,
  parseEnsembleConfig,
  renderDynamicConfig,
  renderZooCfg,
  DEFAULT_ZOOKEEPER_CONFIG,
  zkDigest,
} from '../../src/zookeeper.js';
import { consFields, faketimeSpec, offsetAt, specFor } from '../../nemesis/clock.js';
import { applyChange } from '../../nemesis/membership.js';
import { HistoryBuilder } from '../workloads/history-builder.js';

const nemesis = (h: HistoryBuilder, f: 'start' | 'heal', value: Record<string, unknown> | string): number => {
  const e: HistoryEvent = {
    index: h.events.length,
    time: h.events.length * 1_000_000,
    process: 'nemesis',
    type: 'info',
    f,
    value,
  };
  h.events.push(e);
  return e.index;
};
const finalConfig = (
  h: HistoryBuilder,
  nodes: Record<string, { version: string; members: Record<string, string> } | null>,
): void => {
  for (const type of ['invoke', 'ok'] as const)
    h.events.push({
      index: h.events.length,
      time: h.events.length * 1_000_000,
      process: 'final',
      type,
      f: 'final-config',
      value: type === 'ok' ? { nodes } : null,
    });
};
const three = { n1: 'participant', n2: 'participant', n3: 'participant' };
const five = { ...three, n4: 'participant', n5: 'participant' };

describe('config convergence', () => {
  it('is valid when every node reports the last acknowledged configuration', () => {
    const h = new HistoryBuilder();
    nemesis(h, 'start', {
      fault: 'membership-grow',
      configBefore: { version: '100000000', members: three },
      reconfigs: [{ requested: five, outcome: 'ok', version: '100000004' }],
    });
    finalConfig(h, { n1: { version: '100000004', members: five }, n2: { version: '100000004', members: five } });
    expect(checkConfigConvergence(h.events)).toMatchObject({ valid: true, counts: { acknowledged: 1 } });
  });

  it('names nodes that disagree, an acknowledged reconfig lost, and a configuration nobody asked for', () => {
    const grow = (h: HistoryBuilder, outcome = 'ok'): void => {
      nemesis(h, 'start', {
        fault: 'membership-grow',
        configBefore: { version: '100000000', members: three },
        reconfigs: [{ requested: five, outcome, ...(outcome === 'ok' ? { version: '100000004' } : {}) }],
      });
    };
    const divergent = new HistoryBuilder();
    grow(divergent);
    finalConfig(divergent, {
      n1: { version: '100000004', members: five },
      n2: { version: '100000000', members: three },
    });
    expect(checkConfigConvergence(divergent.events).anomalies!.map((a) => a.type)).toEqual(['config-divergence']);

    const lost = new HistoryBuilder();
    grow(lost);
    finalConfig(lost, { n1: { version: '100000000', members: three }, n2: { version: '100000000', members: three } });
    expect(checkConfigConvergence(lost.events)).toMatchObject({ valid: false, anomalies: [{ type: 'config-lost' }] });

    const unexplained = new HistoryBuilder();
    grow(unexplained, 'fail');
    finalConfig(unexplained, { n1: { version: '100000004', members: five } });
    expect(checkConfigConvergence(unexplained.events).anomalies!.map((a) => a.type)).toEqual(['config-unexplained']);
  });

  it('accepts the configuration of a later reconfig whose outcome is unknown, and is unknown when a node is silent', () => {
    const h = new HistoryBuilder();
    nemesis(h, 'start', {
      fault: 'membership-grow',
      configBefore: { version: '100000000', members: three },
      reconfigs: [{ requested: five, outcome: 'ok', version: '100000004' }],
    });
    nemesis(h, 'start', { fault: 'membership-shrink', reconfigs: [{ requested: three, outcome: 'unknown' }] });
    finalConfig(h, { n1: { version: '200000002', members: three }, n2: { version: '200000002', members: three } });
    expect(checkConfigConvergence(h.events).valid).toBe(true);
    const silent = new HistoryBuilder();
    finalConfig(silent, { n1: { version: '0', members: three }, n2: null });
    expect(checkConfigConvergence(silent.events).valid).toBe('unknown');
  });
});

describe('session expiry rule', () => {
  const hold = (h: HistoryBuilder, node: string, silentMs: number): number =>
    h.op(
      0,
      'hold',
      { name: 'h-0', holdMs: 4000 },
      'ok',
      { name: 'h-0', outcome: 'expired', timeoutMs: 5000, silentMs },
      { node },
    );
  const clockFault = (h: HistoryBuilder, fakeClock: 'wall' | 'all'): void => {
    nemesis(h, 'start', {
      fault: 'clock-jump-forward',
      nodes: ['n3'],
      roles: { n1: 'follower', n3: 'leader' },
      fakeClock,
    });
  };

  it('flags a session expired before its timeout of silence, unless a monotonic clock fault on its server or the leader explains it', () => {
    const bare = new HistoryBuilder();
    hold(bare, 'n1', 700);
    bare.finalRead('n1', []);
    expect(checkSessions(bare.events)).toMatchObject({ valid: false, anomalies: [{ type: 'early-expiry' }] });

    const wallOnly = new HistoryBuilder();
    clockFault(wallOnly, 'wall');
    hold(wallOnly, 'n1', 700);
    wallOnly.finalRead('n1', []);
    expect(checkSessions(wallOnly.events).valid).toBe(false);

    const monotonic = new HistoryBuilder();
    clockFault(monotonic, 'all');
    hold(monotonic, 'n1', 700);
    monotonic.finalRead('n1', []);
    const explained = checkSessions(monotonic.events);
    expect(explained.valid).toBe(true);
    expect(explained.anomalies).toEqual([expect.objectContaining({ type: 'early-expiry', documented: true })]);
    expect(explained.counts).toMatchObject({ expired: 1, earlyExpiries: 1, explainedByClock: 1 });
  });

  it('counts a clock fault from its invocation: the clock moves before the completion is recorded', () => {
    const h = new HistoryBuilder();
    nemesis(h, 'start', 'clock-jump-forward');
    hold(h, 'n2', 300);
    clockFault(h, 'all');
    h.finalRead('n1', []);
    expect(checkSessions(h.events)).toMatchObject({ valid: true, counts: { explainedByClock: 1 } });
  });

  it('accepts an expiry after the timeout of silence', () => {
    const h = new HistoryBuilder();
    hold(h, 'n1', 5000 - EXPIRY_MARGIN_MS);
    h.finalRead('n1', []);
    expect(checkSessions(h.events)).toMatchObject({ valid: true, counts: { expired: 1, earlyExpiries: 0 } });
  });
});

describe('clock faults', () => {
  it('writes libfaketime specs and keeps the fake clock continuous across rate changes', () => {
    expect(faketimeSpec(30_000, 1)).toBe('+30.000 x1');
    expect(faketimeSpec(-1500, 2)).toBe('-1.500 x2');
    // A JVM started at 1000 runs at +5 s; at 61000 it goes twice as fast: no jump at that moment.
    const skewed = specFor(5000, 2, 61_000, 1000);
    expect(offsetAt(skewed, 61_000)).toBe(5000);
    expect(offsetAt(skewed, 71_000)).toBe(15_000);
  });

  it('preloads libfaketime with the monotonic fix exactly when the monotonic clock is faked', () => {
    expect(faketimeEnv('wall')).toMatchObject({ FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_FORCE_MONOTONIC_FIX: '0' });
    expect(faketimeEnv('all')).toMatchObject({ FAKETIME_FORCE_MONOTONIC_FIX: '1' });
    expect(faketimeEnv('all')).not.toHaveProperty('FAKETIME_DONT_FAKE_MONOTONIC');
  });

  it('reads est and lresp of one session from cons', () => {
    const cons =
      ' /172.29.0.1:40000[1](queued=0,recved=2,sent=2,sid=0x10000a,lop=EXIS,est=1796174200049,to=4000,lcxid=0x1,lzxid=0x5,lresp=2600123,llat=1,minlat=0,avglat=0.5,maxlat=1)\n' +
      ' /172.29.0.1:40002[1](queued=0,recved=1,sent=1,sid=0x10000b,lop=PING,est=1,to=4000,lzxid=0x5,lresp=2,llat=0,minlat=0,avglat=0,maxlat=0)\n';
    expect(consFields(cons, 0x10000an)).toMatchObject({ est: '1796174200049', lresp: '2600123' });
    expect(consFields(cons, 0x99n)).toBeUndefined();
  });
});

describe('reconfig plumbing', () => {
  it('parses /zookeeper/config and renders the dynamic config and zoo.cfg of a reconfig-enabled ensemble', () => {
    const config = parseEnsembleConfig(
      'server.1=172.29.0.11:2888:3888:participant;0.0.0.0:2181\nserver.3=172.29.0.13:2888:3888:observer;0.0.0.0:2181\nversion=10000000b',
    );
    expect(config).toEqual({
      version: '10000000b',
      members: [
        { id: 1, host: '172.29.0.11', role: 'participant' },
        { id: 3, host: '172.29.0.13', role: 'observer' },
      ],
    });
    expect(memberLine(config.members[1]!)).toBe('server.3=172.29.0.13:2888:3888:observer;2181');
    expect(renderDynamicConfig(config.members)).toBe(
      'server.1=172.29.0.11:2888:3888:participant;2181\nserver.3=172.29.0.13:2888:3888:observer;2181\n',
    );
    const nodes = [{ name: 'n1', id: 1, ip: '172.29.0.11', hostDir: '/x' }];
    const cfg = renderZooCfg({ ...DEFAULT_ZOOKEEPER_CONFIG, reconfig: true }, nodes, nodes[0]);
    expect(cfg).toContain(
      'reconfigEnabled=true\nstandaloneEnabled=false\ndynamicConfigFile=/faultline/conf/zoo.cfg.dynamic',
    );
    expect(cfg).not.toContain('server.1=');
    expect(applyChange(config.members, [1], [{ id: 4, host: 'h', role: 'participant' }]).map((m) => m.id)).toEqual([
      3, 4,
    ]);
  });

  it("encodes reconfig and auth requests as ZooKeeper's jute records", () => {
    const reconfig = encodeRequest(7, {
      op: 'reconfig',
      joining: null,
      leaving: '4',
      newMembers: null,
      fromConfig: -1n,
    });
    // length, xid 7, type 16, joining null (-1), leaving "4", newMembers null (-1), curConfigId -1
    expect(reconfig.toString('hex')).toBe(
      '0000001d' + '00000007' + '00000010' + 'ffffffff' + '0000000134' + 'ffffffff' + 'ffffffffffffffff',
    );
    const auth = encodeRequest(1, { op: 'auth', scheme: 'digest', auth: Buffer.from('super:x') });
    expect(auth.readInt32BE(4)).toBe(-4);
    expect(auth.readInt32BE(8)).toBe(100);
    // ZooKeeper's DigestAuthenticationProvider.generateDigest("super:secret")
    expect(zkDigest('super', 'secret')).toBe('super:' + createHash('sha1').update('super:secret').digest('base64'));
  });
});

describe('report data', () => {
  it('places clock readings by their true time and builds membership bands from the recorded configurations', () => {
    const h = new HistoryBuilder();
    nemesis(h, 'start', {
      fault: 'clock-jump-forward',
      clocks: [
        { at: 1_000_005_000, node: 'n3', wallMs: 30_010, monotonicMs: -4, source: 'jvm' },
        { at: 1_000_005_000, node: 'n1', wallMs: 3, monotonicMs: 1, source: 'jvm' },
      ],
    });
    nemesis(h, 'heal', { fault: 'clock', clocks: [{ at: 1_000_015_000, node: 'n3', wallMs: 2, monotonicMs: null }] });
    expect(buildClockSeries(h.events, 1_000_000_000)).toEqual([
      { node: 'n1', points: [[5000, 3, 1]] },
      {
        node: 'n3',
        points: [
          [5000, 30_010, -4],
          [15_000, 2, null],
        ],
      },
    ]);
    const m = new HistoryBuilder();
    m.op(0, 'read', null, 'ok', 1);
    nemesis(m, 'start', {
      configBefore: { version: '1', members: three },
      configAfter: { version: '2', members: { ...three, n3: 'observer' } },
    });
    expect(buildMembershipSpans(m.events, 10)).toEqual([
      {
        node: 'n1',
        spans: [
          [0, 2, 'participant', '1'],
          [2, 10, 'participant', '2'],
        ],
      },
      {
        node: 'n2',
        spans: [
          [0, 2, 'participant', '1'],
          [2, 10, 'participant', '2'],
        ],
      },
      {
        node: 'n3',
        spans: [
          [0, 2, 'participant', '1'],
          [2, 10, 'observer', '2'],
        ],
      },
    ]);
  });
});

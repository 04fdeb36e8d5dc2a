// Pure logic of the nemesis: target resolution, partition grudges, fault-list parsing.
import { describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/cluster.js';
import { UsageError } from '../../src/errors.js';
import { Random } from '../../src/random.js';
import type { ServerMode, ServerStatus } from '../../src/zookeeper.js';
import { resolveFaults } from '../../nemesis/index.js';
import {
  bridgeGrudge,
  completeGrudge,
  halves,
  majoritiesRingGrudge,
  reconnectInCuts,
  rulesForCuts,
} from '../../nemesis/partition.js';
import { parseTarget, resolveTargets, selectTargets } from '../../nemesis/targets.js';
import { fakeNemesisContext } from '../../src/fakes/memory.js';

const nodes: ClusterNode[] = [1, 2, 3, 4, 5].map((id) => ({
  name: `n${id}`,
  id,
  ip: `10.0.0.${id}`,
  hostDir: `/tmp/n${id}`,
}));
const roles = new Map<string, ServerMode | undefined>([
  ['n1', 'follower'],
  ['n2', 'leader'],
  ['n3', 'follower'],
  ['n4', undefined],
  ['n5', 'follower'],
]);
const names = (list: readonly ClusterNode[]): string[] => list.map((n) => n.name);

describe('selectTargets', () => {
  it('resolves roles from what the nodes report', () => {
    const random = new Random(1);
    expect(names(selectTargets('leader', nodes, roles, random))).toEqual(['n2']);
    for (let i = 0; i < 20; i++)
      expect(['n1', 'n3', 'n5']).toContain(selectTargets('follower', nodes, roles, random)[0]!.name);
    expect(selectTargets('one', nodes, roles, random)).toHaveLength(1);
    expect(selectTargets('minority', nodes, roles, random)).toHaveLength(2);
    expect(selectTargets('majority', nodes, roles, random)).toHaveLength(3);
    expect(names(selectTargets('all', nodes, roles, random))).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(names(selectTargets({ nodes: ['n4', 'n1'] }, nodes, roles, random))).toEqual(['n1', 'n4']);
  });

  it('returns distinct nodes in cluster order, the same for the same seed', () => {
    const a = names(selectTargets('majority', nodes, roles, new Random(9)));
    expect(new Set(a).size).toBe(3);
    expect([...a].sort()).toEqual(a);
    expect(names(selectTargets('majority', nodes, roles, new Random(9)))).toEqual(a);
  });

  it('fails clearly without a leader, a follower, or with an unknown node', () => {
    const noLeader = new Map<string, ServerMode | undefined>(nodes.map((n) => [n.name, undefined]));
    expect(() => selectTargets('leader', nodes, noLeader, new Random(1))).toThrow(/no single leader/);
    expect(() => selectTargets('follower', nodes, noLeader, new Random(1))).toThrow(/no follower/);
    expect(() => selectTargets({ nodes: ['n9'] }, nodes, roles, new Random(1))).toThrow(UsageError);
  });
});

describe('resolveTargets', () => {
  it('records a node that answers srvr but does not serve as looking, and one that does not answer as down', async () => {
    const context = fakeNemesisContext();
    const statusOf: Record<string, ServerStatus> = {
      n1: { node: 'n1', answered: true, serving: false },
      n2: { node: 'n2', answered: false, serving: false },
      n3: { node: 'n3', answered: true, serving: true, mode: 'follower' },
    };
    const db = { ...context.db, status: async (n: ClusterNode) => statusOf[n.name]! };
    const resolved = await resolveTargets({ ...context, db }, { nodes: ['n3'] });
    expect(names(resolved.nodes)).toEqual(['n3']);
    expect(resolved.record.roles).toEqual({ n1: 'looking', n2: 'down', n3: 'follower' });
  });
});

describe('parseTarget', () => {
  it('takes roles and node lists', () => {
    expect(parseTarget('follower')).toBe('follower');
    expect(parseTarget('n1+n3')).toEqual({ nodes: ['n1', 'n3'] });
    expect(() => parseTarget('leaders')).toThrow(UsageError);
    expect(() => parseTarget('n7', ['n1', 'n2', 'n3'])).toThrow(/unknown target "n7"/);
  });
});

describe('partition grudges', () => {
  it('complete grudge and halves', () => {
    expect(halves(['n1', 'n2', 'n3'])).toEqual([['n1'], ['n2', 'n3']]);
    expect(completeGrudge([['n1'], ['n2', 'n3']])).toEqual({ n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] });
  });

  it('majorities ring: each node sees a majority, no two the same', () => {
    for (const ring of [
      ['a', 'b', 'c'],
      ['a', 'b', 'c', 'd', 'e'],
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    ]) {
      const grudge = majoritiesRingGrudge(ring);
      const seen = ring.map((node) =>
        ring
          .filter((o) => !grudge[node]!.includes(o))
          .sort()
          .join(''),
      );
      for (const s of seen) expect(s.length).toBe(Math.floor(ring.length / 2) + 1);
      expect(new Set(seen).size).toBe(ring.length);
      for (const node of ring) expect(seen[ring.indexOf(node)]).toContain(node);
    }
  });

  it('bridge: the middle node sees both halves, the halves not each other', () => {
    const { grudge, bridge } = bridgeGrudge(['a', 'b', 'c', 'd', 'e']);
    expect(bridge).toBe('c');
    expect(grudge).toEqual({ c: [], a: ['d', 'e'], b: ['d', 'e'], d: ['a', 'b'], e: ['a', 'b'] });
  });
});

describe('resolveFaults', () => {
  it('takes names, families and family:option', () => {
    expect(resolveFaults(['partition-leader', 'kill-leader']).map((f) => f.name)).toEqual([
      'partition-leader',
      'kill-leader',
    ]);
    expect(resolveFaults(['kill:follower', 'partition:isolate-leader']).map((f) => f.name)).toEqual([
      'kill-follower',
      'partition-leader',
    ]);
    expect(resolveFaults(['pause']).map((f) => f.name)).toContain('pause-follower');
    expect(resolveFaults(['none'])).toEqual([]);
    expect(() => resolveFaults(['explode'])).toThrow(/unknown fault "explode"/);
  });

  it('aims faults with @TARGET, and refuses it on faults that take no target', () => {
    const [killN2] = resolveFaults(['kill-one@n2']);
    expect(killN2).toMatchObject({ name: 'kill-one@n2', family: 'process', defaultTarget: { nodes: ['n2'] } });
    const disk = resolveFaults(['disk@follower']);
    expect(disk.length).toBeGreaterThan(3);
    for (const fault of disk) expect(fault.defaultTarget).toBe('follower');
    expect(() => resolveFaults(['partition-halves@n1'])).toThrow(/partition-halves takes no target/);
    expect(() => resolveFaults(['kill-one@boss'])).toThrow(/unknown target "boss"/);
  });
});

describe('reconnecting one node among overlapping cuts', () => {
  const names = ['n1', 'n2', 'n3'];
  const nodes = names.map((name, i) => ({ name, id: i + 1, ip: `10.0.0.${i + 1}`, hostDir: `/tmp/${name}` }));
  const isolate = (n: string) => ({ isolated: [n], grudge: completeGrudge([[n], names.filter((o) => o !== n)]) });

  it("takes the node out of its own cut and leaves the other node's cut whole", () => {
    const left = reconnectInCuts([isolate('n1'), isolate('n2')], 'n1', names);
    expect(left).toEqual([isolate('n2')]);
    // n2's cut still needs n1 to drop n2: that rule is not n1's to lose.
    expect(rulesForCuts(left, nodes)).toEqual({
      n1: ['-A FAULTLINE -s 10.0.0.2/32 -j DROP'],
      n2: ['-A FAULTLINE -s 10.0.0.1/32 -j DROP', '-A FAULTLINE -s 10.0.0.3/32 -j DROP'],
      n3: ['-A FAULTLINE -s 10.0.0.2/32 -j DROP'],
    });
  });

  it('shrinks an isolated group, and forgets the node in grudges of their own', () => {
    const group = { isolated: ['n1', 'n2'], grudge: completeGrudge([['n1', 'n2'], ['n3']]) };
    expect(reconnectInCuts([group], 'n1', names)).toEqual([isolate('n2')]);
    const ring = { grudge: { n1: ['n2'], n2: ['n3'], n3: ['n1'] } };
    expect(reconnectInCuts([ring], 'n1', names)).toEqual([{ grudge: { n2: ['n3'] } }]);
    expect(reconnectInCuts([isolate('n3')], 'n3', names)).toEqual([]);
  });

  it('keeps one rule for a pair two cuts both drop', () => {
    expect(rulesForCuts([isolate('n1'), isolate('n1')], nodes).n2).toEqual(['-A FAULTLINE -s 10.0.0.1/32 -j DROP']);
  });
});

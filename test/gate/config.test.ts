// Suite and test file validation, layering, and how settings reach zoo.cfg and the JVM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVariant } from '../../src/gate/compare.js';
import { resolveRunConfig } from '../../src/config.js';
import { UsageError } from '../../src/errors.js';
import { loadSuite, loadTestFile, planSuite } from '../../src/gate/spec.js';
import { renderZooCfg, serverJvmFlags, zooKeeperConfigOf } from '../../src/zookeeper.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-gate-'));
function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  }
  throw new Error('expected a UsageError');
}

describe('suites', () => {
  it('loads the default suite and plans about ten minutes of runs with fixed seeds', () => {
    const suite = loadSuite('suites/default.yaml');
    const runs = planSuite(suite, { resultsDir: dir, overrides: { server: 'debian:sid' } });
    expect(runs.length).toBeGreaterThanOrEqual(5);
    expect(runs.every((r) => r.config.server === 'debian:sid')).toBe(true);
    expect(runs.reduce((s, r) => s + r.config.timeLimitS, 0)).toBeLessThanOrEqual(8 * 60);
    // The same suite plans the same seeds: a gate repeats its schedule.
    expect(planSuite(suite, { resultsDir: dir }).map((r) => r.seed)).toEqual(runs.map((r) => r.seed));
    expect(runs.find((r) => r.test === 'register-five-nodes')?.config.nodes).toBe(5);
  });

  it('expands repetitions and seeds, layering test over defaults and the command line over both', () => {
    const path = yamlFile(
      's.yaml',
      `
name: s
defaults: { timeLimit: 10, zookeeper: { tickTime: 1000, forceSync: no } }
tests:
  - { name: a, repetitions: 2, seed: 5, zookeeper: { snapCount: 100 } }
  - { name: b, seeds: [9, 11], nemesis: kill-leader, workload: set, timeLimit: 12 }
`,
    );
    const runs = planSuite(loadSuite(path), { resultsDir: dir, overrides: { concurrency: 3 } });
    expect(runs.map((r) => [r.test, r.seed])).toEqual([
      ['a', 5],
      ['a', 6],
      ['b', 9],
      ['b', 11],
    ]);
    expect(runs[0]!.config.zookeeper).toMatchObject({ tickTime: 1000, forceSync: false, snapCount: 100 });
    expect(runs[0]!.config).toMatchObject({ name: 's.a', timeLimitS: 10, concurrency: 3 });
    expect(runs[2]!.config).toMatchObject({ nemesis: ['kill-leader'], workload: 'set', timeLimitS: 12 });
    expect(
      planSuite(loadSuite(yamlFile('sc.yaml', 'name: sc\ntests: [{ name: a, scenario: kills.yaml }]\n')), {
        resultsDir: dir,
      })[0]!.config.scenario,
    ).toBe(join(dir, 'kills.yaml'));
  });

  it('names every problem with its file, line and field', () => {
    const msg = usageMessage(() =>
      loadSuite(
        yamlFile(
          'bad.yaml',
          `name: bad
paralel: 2
tests:
  - { name: a, nodes: 4, zookeeper: { tickTme: 5 } }
`,
        ),
      ),
    );
    expect(msg).toContain('bad.yaml:2 (paralel): unknown suite field "paralel"');
    expect(msg).toContain('bad.yaml:4 (tests[0].nodes): must be 3 or 5');
    expect(msg).toContain('bad.yaml:4 (tests[0].zookeeper.tickTme): unknown ZooKeeper setting "tickTme"');
  });

  it('rejects duplicate names, seeds that disagree with repetitions, empty suites, bad YAML and the name latest', () => {
    expect(usageMessage(() => loadSuite(yamlFile('d.yaml', 'name: d\ntests: [{name: a}, {name: a}]\n')))).toContain(
      'two tests are named "a"',
    );
    expect(
      usageMessage(() => loadSuite(yamlFile('r.yaml', 'name: r\ntests: [{name: a, seeds: [1], repetitions: 2}]\n'))),
    ).toContain('1 seeds but repetitions 2');
    expect(usageMessage(() => loadSuite(yamlFile('e.yaml', 'name: e\ntests: []\n')))).toContain('at least one test');
    expect(usageMessage(() => loadSuite(yamlFile('y.yaml', 'name: [\n')))).toContain('not valid YAML');
    expect(usageMessage(() => loadSuite(yamlFile('l.yaml', 'name: latest\ntests: [{name: a}]\n')))).toContain(
      '"latest" is the link to the newest run',
    );
  });

  it('reads a single test file as one layer', () => {
    const layer = loadTestFile(
      yamlFile('t.yaml', 'name: t\nnodes: 5\nzookeeper: { observers: 2, dbAutocreate: false }\n'),
    );
    const config = resolveRunConfig(layer);
    expect(config.nodes).toBe(5);
    expect(config.zookeeper.observers).toBe(2);
    expect(zooKeeperConfigOf(config.zookeeper).jvmProperties).toEqual({ 'zookeeper.db.autocreate': 'false' });
  });
});

describe('ZooKeeper settings', () => {
  it('maps zoo.cfg settings to lines and JVM-only settings to system properties', () => {
    const config = zooKeeperConfigOf(
      resolveRunConfig({
        zookeeper: {
          tickTime: 2000,
          snapCount: 1000,
          preAllocSize: 64,
          forceSync: false,
          autopurgeInterval: 1,
          autopurgeRetain: 3,
          dbAutocreate: false,
          snapshotTrustEmpty: true,
          heapMb: 512,
          extra: { maxSessionTimeout: '40000' },
        },
      }).zookeeper,
    );
    expect(config).toMatchObject({ tickTime: 2000, heapMb: 512 });
    expect(config.extra).toEqual({
      snapCount: '1000',
      preAllocSize: '64',
      forceSync: 'no',
      'autopurge.purgeInterval': '1',
      'autopurge.snapRetainCount': '3',
      maxSessionTimeout: '40000',
    });
    expect(serverJvmFlags(config)).toBe(
      '-Xms512m -Xmx512m -Dzookeeper.db.autocreate=false -Dzookeeper.snapshot.trust.empty=true',
    );
  });

  it('takes variants by YAML names, run settings included', () => {
    expect(parseVariant('server=debian:sid,tickTime=2000,autopurge.purgeInterval=2').layer).toEqual({
      server: 'debian:sid',
      zookeeper: { tickTime: 2000, autopurgeInterval: 2 },
    });
    expect(parseVariant('forceSync=no').layer).toEqual({ zookeeper: { forceSync: false } });
    expect(usageMessage(() => parseVariant('tickTime'))).toContain('is not key=value');
    expect(usageMessage(() => parseVariant('forceSync=maybe'))).toContain('forceSync: must be yes or no (got "maybe")');
    expect(usageMessage(() => parseVariant('tickTme=5'))).toContain('unknown setting "tickTme"');
  });

  it('marks observers in every zoo.cfg and peerType in their own, and keeps three voters', () => {
    const nodes = [1, 2, 3, 4, 5].map((id) => ({ name: `n${id}`, id, ip: `10.0.0.${id}`, hostDir: '/x' }));
    const config = zooKeeperConfigOf(resolveRunConfig({ nodes: 5, zookeeper: { observers: 2 } }).zookeeper);
    const voter = renderZooCfg(config, nodes, nodes[0]);
    expect(voter).toContain('server.4=10.0.0.4:2888:3888:observer');
    expect(voter).toContain('server.3=10.0.0.3:2888:3888\n');
    expect(voter).not.toContain('peerType');
    expect(renderZooCfg(config, nodes, nodes[4])).toContain('peerType=observer');
    expect(usageMessage(() => resolveRunConfig({ nodes: 3, zookeeper: { observers: 1 } }))).toContain(
      'fewer than 3 voters',
    );
  });
});

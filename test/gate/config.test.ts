// Suite, test file and settings validation, and how settings reach zoo.cfg and the JVM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVariant } from '../../src/commands/compare.js';
import { UsageError } from '../../src/errors.js';
import type { TestFlags } from '../../src/commands/test.js';
import {
  loadSuite,
  loadTestSpec,
  planSuite,
  resolveSpec,
  resolveTestFile,
  SUITE_RUN_DEFAULTS,
} from '../../src/gate/spec.js';
import { settingsFromFlags, toZooKeeperConfig, zooKeeperSettingsSchema } from '../../src/settings.js';
import { renderZooCfg, serverJvmFlags } from '../../src/zookeeper.js';

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
    const runs = planSuite(suite, { resultsDir: dir, server: 'debian:sid' });
    expect(runs.length).toBeGreaterThanOrEqual(5);
    expect(runs.every((r) => r.config.server === 'debian:sid')).toBe(true);
    expect(runs.reduce((s, r) => s + r.config.timeLimitS, 0)).toBeLessThanOrEqual(8 * 60);
    // The same suite plans the same seeds: a gate repeats its schedule.
    expect(planSuite(suite, { resultsDir: dir }).map((r) => r.seed)).toEqual(runs.map((r) => r.seed));
    expect(runs.find((r) => r.test === 'register-five-nodes')?.config.nodes).toBe(5);
  });

  it('expands repetitions and seeds, layering test over defaults', () => {
    const path = yamlFile(
      's.yaml',
      `
name: s
defaults: { timeLimit: 10, zookeeper: { tickTime: 1000, forceSync: no } }
tests:
  - { name: a, repetitions: 2, seed: 5, zookeeper: { snapCount: 100 } }
  - { name: b, seeds: [9, 11], nemesis: kill-leader, workload: set }
`,
    );
    const runs = planSuite(loadSuite(path), { resultsDir: dir });
    expect(runs.map((r) => [r.test, r.seed])).toEqual([
      ['a', 5],
      ['a', 6],
      ['b', 9],
      ['b', 11],
    ]);
    expect(runs[0]!.config.zookeeper).toMatchObject({ tickTime: 1000, extra: { forceSync: 'no', snapCount: '100' } });
    expect(runs[2]!.config).toMatchObject({ nemesis: ['kill-leader'], workload: 'set', timeLimitS: 10 });
    expect(
      planSuite(loadSuite(yamlFile('sc.yaml', 'name: sc\ntests: [{ name: a, scenario: kills.yaml }]\n')), {
        resultsDir: dir,
      })[0]!.config.scenario,
    ).toBe(join(dir, 'kills.yaml'));
  });

  it('names every problem with its place', () => {
    const msg = usageMessage(() =>
      loadSuite(
        yamlFile(
          'bad.yaml',
          `
name: bad
paralel: 2
tests:
  - { name: a, nodes: 4, zookeeper: { tickTme: 5 } }
`,
        ),
      ),
    );
    expect(msg).toContain('unknown suite field "paralel"');
    expect(msg).toContain('tests.0.nodes: nodes must be 3 or 5');
    expect(msg).toContain('tests.0.zookeeper: unknown ZooKeeper setting "tickTme"');
  });

  it('rejects duplicate names, seeds that disagree with repetitions, empty suites and bad YAML', () => {
    expect(usageMessage(() => loadSuite(yamlFile('d.yaml', 'name: d\ntests: [{name: a}, {name: a}]\n')))).toContain(
      'two tests are named "a"',
    );
    expect(
      usageMessage(() => loadSuite(yamlFile('r.yaml', 'name: r\ntests: [{name: a, seeds: [1], repetitions: 2}]\n'))),
    ).toContain('1 seeds but repetitions 2');
    expect(usageMessage(() => loadSuite(yamlFile('e.yaml', 'name: e\ntests: []\n')))).toContain('at least one test');
    expect(usageMessage(() => loadSuite(yamlFile('y.yaml', 'name: [\n')))).toContain('not valid YAML');
  });

  it('reads a single test file', () => {
    const spec = loadTestSpec(
      yamlFile('t.yaml', 'name: t\nnodes: 5\nzookeeper: { observers: 2, dbAutocreate: false }\n'),
    );
    const config = resolveSpec(SUITE_RUN_DEFAULTS, [spec]);
    expect(config.nodes).toBe(5);
    expect(config.zookeeper.observers).toBe(2);
    expect(config.zookeeper.jvmProperties).toEqual({ 'zookeeper.db.autocreate': 'false' });
  });
});

describe('ZooKeeper settings', () => {
  it('maps zoo.cfg settings to lines and JVM-only settings to system properties', () => {
    const config = toZooKeeperConfig(
      zooKeeperSettingsSchema.parse({
        tickTime: '2000',
        snapCount: 1000,
        preAllocSize: 64,
        forceSync: 'no',
        autopurge: { purgeInterval: 1, snapRetainCount: 3 },
        dbAutocreate: 'no',
        snapshotTrustEmpty: true,
        heapMb: 512,
        extra: { maxSessionTimeout: 40000 },
      }),
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

  it('takes flags, --zk lists and variants', () => {
    const s = settingsFromFlags({
      tickTime: '700',
      forceSync: 'off',
      autopurgeInterval: '2',
      zk: 'snapCount=50,autopurge.snapRetainCount=4',
    });
    expect(s).toMatchObject({
      tickTime: 700,
      forceSync: false,
      snapCount: 50,
      autopurge: { purgeInterval: 2, snapRetainCount: 4 },
    });
    expect(usageMessage(() => settingsFromFlags({ forceSync: 'maybe' }))).toContain('forceSync must be yes or no');
    expect(parseVariant('server=debian:sid,tickTime=2000')).toMatchObject({
      server: 'debian:sid',
      zookeeper: { tickTime: '2000' },
    });
    expect(usageMessage(() => parseVariant('tickTime'))).toContain('is not key=value');
  });

  it('marks observers in every zoo.cfg and peerType in their own, and keeps three voters', () => {
    const nodes = [1, 2, 3, 4, 5].map((id) => ({ name: `n${id}`, id, ip: `10.0.0.${id}`, hostDir: '/x' }));
    const config = { ...toZooKeeperConfig({ observers: 2 }) };
    const voter = renderZooCfg(config, nodes, nodes[0]);
    expect(voter).toContain('server.4=10.0.0.4:2888:3888:observer');
    expect(voter).toContain('server.3=10.0.0.3:2888:3888\n');
    expect(voter).not.toContain('peerType');
    expect(renderZooCfg(config, nodes, nodes[4])).toContain('peerType=observer');
    expect(usageMessage(() => resolveSpec(SUITE_RUN_DEFAULTS, [{ nodes: 3, zookeeper: { observers: 1 } }]))).toContain(
      'fewer than 3 voters',
    );
  });
});

describe('faultline test --file', () => {
  const base: TestFlags = { ...SUITE_RUN_DEFAULTS, timeLimit: '60', tickTime: '500' };
  const path = yamlFile(
    'one.yaml',
    'name: one\ntimeLimit: 20\nnodes: 5\nzookeeper: { tickTime: 2000, forceSync: no }\n',
  );

  it('lets the file win over flag defaults and flags typed on the command line win over the file', () => {
    const fromFile = resolveTestFile(path, base, () => false);
    expect(fromFile).toMatchObject({
      name: 'one',
      timeLimitS: 20,
      nodes: 5,
      zookeeper: { tickTime: 2000, extra: { forceSync: 'no' } },
    });
    const typed = new Set(['timeLimit', 'tickTime']);
    const overridden = resolveTestFile(path, { ...base, timeLimit: '30', tickTime: '900' }, (flag) => typed.has(flag));
    expect(overridden).toMatchObject({
      timeLimitS: 30,
      nodes: 5,
      zookeeper: { tickTime: 900, extra: { forceSync: 'no' } },
    });
  });
});

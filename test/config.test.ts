// The settings table: defaults, layers, flags generated from it, and the reproduce command derived from it, checked
// through the real CLI (`faultline test --dry-run` prints the config it resolved and starts nothing).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  FLAG_SETTINGS,
  layerFromSettingsList,
  reproduceArgs,
  resolveRunConfig,
  RUN_SETTINGS,
  type RunConfig,
} from '../src/config.js';
import { UsageError } from '../src/errors.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'faultline.js');
const dir = mkdtempSync(join(tmpdir(), 'faultline-config-'));

async function dryRun(args: readonly string[]): Promise<{ config?: RunConfig; exitCode: number; stderr: string }> {
  const run = await execa('node', [BIN, ...args, '--dry-run'], { reject: false });
  return {
    exitCode: run.exitCode ?? -1,
    stderr: run.stderr,
    ...(run.exitCode === 0 ? { config: JSON.parse(run.stdout) as RunConfig } : {}),
  };
}

describe('the settings table', () => {
  it('gives every setting with a flag its flag once, and the defaults as `faultline test` has always run', () => {
    const flags = FLAG_SETTINGS.map((s) => s.flag.split(' ')[0]);
    expect(new Set(flags).size).toBe(flags.length);
    const config = resolveRunConfig({ seed: 1 });
    expect(config).toMatchObject({
      name: 'register',
      server: 'debian:bookworm',
      nodes: 3,
      timeLimitS: 60,
      concurrency: 10,
      rate: 50,
      nemesis: ['partition-leader', 'kill-leader'],
      nemesisIntervalS: 10,
      workload: 'register',
      readMode: 'sync',
      opTimeoutS: 5,
      zookeeper: { tickTime: 500, initLimit: 10, syncLimit: 5, heapMb: 256, observers: 0, extra: {} },
    });
    // A seed is drawn when none is given, and recorded.
    expect(Number.isInteger(resolveRunConfig().seed)).toBe(true);
  });

  it('merges layers key by key, later ones winning, zoo.cfg extras line by line', () => {
    const config = resolveRunConfig(
      { timeLimitS: 20, zookeeper: { tickTime: 1000, extra: { a: '1' } } },
      { zookeeper: { forceSync: false, extra: { b: '2' } } },
      { timeLimitS: 30 },
    );
    expect(config.timeLimitS).toBe(30);
    expect(config.zookeeper).toMatchObject({ tickTime: 1000, forceSync: false, extra: { a: '1', b: '2' } });
  });

  it('parses the disaster-recovery setting and checks it needs the set workload', () => {
    expect(RUN_SETTINGS.dr.schema.parse(true)).toEqual({ damage: [], seedOne: true });
    expect(RUN_SETTINGS.dr.schema.parse('truncate-log,drop-logs')?.damage).toEqual(['truncate-log', 'drop-logs']);
    expect(RUN_SETTINGS.dr.schema.parse(false)).toBeUndefined();
    expect(RUN_SETTINGS.dr.schema.safeParse('shred').error?.issues[0]?.message).toContain(
      'unknown backup damage shred',
    );
    expect(() => resolveRunConfig({ dr: { damage: [], seedOne: true } })).toThrow(/needs the set workload/);
  });

  it('refuses a zoo.cfg value with a newline, which would add zoo.cfg lines of its own', () => {
    expect(() => layerFromSettingsList('extra.maxClientCnxns=1\nfoo=bar', '--zk', false)).toThrow(UsageError);
    expect(() => layerFromSettingsList('extra.maxClientCnxns=1\nfoo=bar', '--zk', false)).toThrow(/single line/);
  });
});

describe('faultline test flags and files', () => {
  it('layers the defaults, then the test file, then the flags typed on the command line', async () => {
    const file = join(dir, 'one.yaml');
    writeFileSync(file, 'name: one\ntimeLimit: 20\nnodes: 5\nzookeeper: { tickTime: 2000, forceSync: no }\n');
    const fromFile = await dryRun(['test', '--file', file]);
    expect(fromFile.config).toMatchObject({
      name: 'one',
      timeLimitS: 20,
      nodes: 5,
      concurrency: 10,
      zookeeper: { tickTime: 2000, forceSync: false },
    });
    const overridden = await dryRun(['test', '--file', file, '--time-limit', '30', '--tick-time', '900']);
    expect(overridden.config).toMatchObject({
      timeLimitS: 30,
      nodes: 5,
      zookeeper: { tickTime: 900, forceSync: false },
    });
  });

  it('names the option at fault, with the value it got', async () => {
    const bad = await dryRun(['test', '--nemesis-interval', 'abc']);
    expect(bad.exitCode).toBe(4);
    expect(bad.stderr).toContain('--nemesis-interval: must be a number of seconds (got "abc")');
    expect((await dryRun(['test', '--zk', 'forceSync=maybe'])).stderr).toContain('forceSync: must be yes or no');
  });

  it('reruns exactly the same config from the reproduce command', async () => {
    const configs = [
      resolveRunConfig({ seed: 3 }),
      resolveRunConfig({
        name: 'cmp.v2',
        server: 'debian:sid',
        nodes: 5,
        timeLimitS: 36,
        concurrency: 8,
        rate: 12.5,
        nemesis: ['kill-leader', 'pause-one@n2'],
        nemesisIntervalS: 6,
        workload: 'set',
        readMode: 'plain',
        opTimeoutS: 3,
        sessionTimeoutS: 8,
        recoveryTimeoutS: 60,
        dr: { damage: ['flip-log'], seedOne: true },
        seed: 77,
        zookeeper: {
          tickTime: 700,
          initLimit: 12,
          syncLimit: 3,
          snapCount: 100,
          preAllocSize: 64,
          forceSync: false,
          autopurgeInterval: 1,
          autopurgeRetain: 4,
          dbAutocreate: false,
          snapshotTrustEmpty: true,
          heapMb: 300,
          observers: 2,
          extra: { maxSessionTimeout: '40000' },
        },
      }),
    ];
    for (const config of configs) {
      const rerun = await dryRun(reproduceArgs(config));
      expect(rerun.stderr).toBe('');
      expect(rerun.config).toEqual(config);
    }
  });
});

describe('every setting', () => {
  it('accepts its own resolved value, so a config read back from test.json parses to itself', () => {
    const config = resolveRunConfig({ workload: 'set', dr: { damage: ['drop-logs'], seedOne: true }, seed: 5 });
    expect(resolveRunConfig(config)).toEqual(config);
  });
});

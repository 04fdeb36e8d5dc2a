// Test specs as YAML holds them (a `faultline test --file`, one entry of a gate suite, a compare variant), and
// suites: a list of specs with repetitions and seeds. Specs resolve to the same TestConfig `faultline test` runs.
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { resolveTestConfig, type TestConfig, type TestFlags } from '../commands/test.js';
import { UsageError } from '../errors.js';
import {
  mergeSettings,
  parseOrThrow,
  readYamlFile,
  settingsFromFlags,
  toZooKeeperConfig,
  zooKeeperSettingsSchema,
  type ZooKeeperSettings,
} from '../settings.js';
import { DEFAULT_ZOOKEEPER_CONFIG } from '../zookeeper.js';

// tickTime and syncLimit from the flags' defaults must not override a test file's; the file starts from these.
const DEFAULT_TIMING = { tickTime: DEFAULT_ZOOKEEPER_CONFIG.tickTime, syncLimit: DEFAULT_ZOOKEEPER_CONFIG.syncLimit };

const whole = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

/** The fields of one run, all optional: defaults and the suite's `defaults` fill the gaps. */
const runFields = {
  server: z.string().min(1).optional(),
  nodes: z.union([z.literal(3), z.literal(5)], { error: 'nodes must be 3 or 5' }).optional(),
  timeLimit: whole('timeLimit', 1, 86_400).optional(),
  concurrency: whole('concurrency', 1, 1000).optional(),
  rate: z.number({ error: 'rate must be a number' }).positive('rate must be above 0').optional(),
  nemesis: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  /** A YAML scenario file (relative to the suite or test file); it replaces the nemesis schedule. */
  scenario: z.string().min(1).optional(),
  nemesisInterval: z
    .number({ error: 'nemesisInterval must be a number' })
    .positive('nemesisInterval must be above 0')
    .optional(),
  workload: z.string().optional(),
  readMode: z.enum(['sync', 'plain', 'none'], { error: 'readMode must be sync, plain or none' }).optional(),
  /** Issue #15: recipe workloads' Curator connect string: node or ensemble. */
  driverConnect: z.enum(['node', 'ensemble'], { error: 'driverConnect must be node or ensemble' }).optional(),
  opTimeout: z.number().positive('opTimeout must be above 0').optional(),
  zookeeper: zooKeeperSettingsSchema.optional(),
};

const unknownKey =
  (what: string) =>
  (issue: z.core.$ZodRawIssue): string | undefined =>
    issue.code === 'unrecognized_keys'
      ? `unknown ${what} field ${issue.keys.map((k) => `"${k}"`).join(', ')} (accepted: ${Object.keys(runFields).join(', ')}${what === 'test' ? ', name, seed, repetitions, seeds' : ''})`
      : undefined;

export const runDefaultsSchema = z.strictObject(runFields, { error: unknownKey('defaults') });
export type RunDefaults = z.output<typeof runDefaultsSchema>;

export const testSpecSchema = z.strictObject(
  {
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'name may hold letters, digits, ".", "_" and "-" only'),
    ...runFields,
    seed: whole('seed', 0, 2 ** 31 - 1).optional(),
    repetitions: whole('repetitions', 1, 1000).optional(),
    seeds: z
      .array(whole('seed', 0, 2 ** 31 - 1))
      .min(1)
      .optional(),
  },
  { error: unknownKey('test') },
);
export type TestSpec = z.output<typeof testSpecSchema>;

export const suiteSchema = z.strictObject(
  {
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'name may hold letters, digits, ".", "_" and "-" only'),
    description: z.string().optional(),
    /** Runs at once; the command line and the machine may lower it. */
    parallel: whole('parallel', 1, 16).optional(),
    /** Stop starting runs after the first invalid one (runs already going finish). */
    stopOnInvalid: z.boolean().optional(),
    defaults: runDefaultsSchema.optional(),
    tests: z.array(testSpecSchema).min(1, 'a suite needs at least one test'),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown suite field ${issue.keys.map((k) => `"${k}"`).join(', ')} (accepted: name, description, parallel, stopOnInvalid, defaults, tests)`
        : undefined,
  },
);
export type Suite = z.output<typeof suiteSchema>;

/** What a suite run does not say: short runs with the default faults. */
export const SUITE_RUN_DEFAULTS: TestFlags = {
  name: 'run',
  server: 'debian:bookworm',
  nodes: '3',
  timeLimit: '30',
  concurrency: '8',
  rate: '50',
  nemesis: 'partition-leader,kill-leader',
  nemesisInterval: '6',
  workload: 'register',
  readMode: 'sync',
  resultsDir: 'results',
  tickTime: '500',
  syncLimit: '5',
  opTimeout: '5',
};

/** Scenario paths are written relative to the file that names them. */
function resolveScenarioPath<T extends { scenario?: string | undefined }>(layer: T, file: string): T {
  return layer.scenario === undefined ? layer : { ...layer, scenario: resolve(dirname(file), layer.scenario) };
}

export function loadSuite(path: string): Suite {
  const parsed = parseOrThrow(
    suiteSchema,
    readYamlFile(path, 'suite'),
    `suite ${path}`,
    'Fix the fields named; suites/default.yaml shows every field.',
  );
  const suite: Suite = {
    ...parsed,
    ...(parsed.defaults ? { defaults: resolveScenarioPath(parsed.defaults, path) } : {}),
    tests: parsed.tests.map((t) => resolveScenarioPath(t, path)),
  };
  const names = suite.tests.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice)
    throw new UsageError(
      `suite ${path}: two tests are named "${twice}"`,
      'Give every test its own name: run directories and JUnit cases are named after it.',
    );
  for (const t of suite.tests) {
    if (t.seeds && t.repetitions && t.seeds.length !== t.repetitions) {
      throw new UsageError(
        `suite ${path}: test "${t.name}" has ${t.seeds.length} seeds but repetitions ${t.repetitions}`,
        'Give seeds (one run each) or repetitions, not both.',
      );
    }
  }
  return suite;
}

export function loadTestSpec(path: string): TestSpec {
  return resolveScenarioPath(
    parseOrThrow(
      testSpecSchema,
      readYamlFile(path, 'test file'),
      `test file ${path}`,
      'Fix the fields named; a test file holds name, server, nodes, timeLimit, workload, nemesis, zookeeper, ...',
    ),
    path,
  );
}

type Layer = Omit<RunDefaults, 'zookeeper'> & { name?: string; seed?: number; zookeeper?: ZooKeeperSettings };

/** Resolves spec layers (later wins) over base flags into a validated TestConfig. */
export function resolveSpec(
  base: TestFlags,
  layers: Layer[],
  overrides: { server?: string; resultsDir?: string; seed?: number; name?: string } = {},
): TestConfig {
  const flags = applyLayers(base, layers);
  if (overrides.server !== undefined) flags.server = overrides.server;
  if (overrides.resultsDir !== undefined) flags.resultsDir = overrides.resultsDir;
  if (overrides.seed !== undefined) flags.seed = String(overrides.seed);
  if (overrides.name !== undefined) flags.name = overrides.name;
  const config = resolveTestConfig(flags);
  const settings = mergeSettings(...layers.map((l) => l.zookeeper));
  return checkObservers({ ...config, zookeeper: toZooKeeperConfig(settings, config.zookeeper) });
}

/**
 * `faultline test --file t.yaml`: the file's fields win over the flags' defaults; flags given on the command
 * line (`fromCommandLine`) win over the file.
 */
export function resolveTestFile(
  path: string,
  flags: TestFlags,
  fromCommandLine: (flag: string) => boolean,
): TestConfig {
  const spec = loadTestSpec(path);
  const merged = applyLayers(flags, [spec]);
  const given: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(flags) as [keyof TestFlags, string | undefined][]) {
    if (!fromCommandLine(key)) continue;
    given[key] = value;
    (merged as unknown as Record<string, string | undefined>)[key] = value;
  }
  const config = resolveTestConfig(merged);
  const settings = mergeSettings(spec.zookeeper, settingsFromFlags(given));
  return checkObservers({
    ...config,
    zookeeper: toZooKeeperConfig(settings, { ...config.zookeeper, ...DEFAULT_TIMING }),
  });
}

function applyLayers(base: TestFlags, layers: Layer[]): TestFlags {
  const flags: TestFlags = { ...base };
  for (const layer of layers) {
    if (layer.name !== undefined) flags.name = layer.name;
    if (layer.server !== undefined) flags.server = layer.server;
    if (layer.nodes !== undefined) flags.nodes = String(layer.nodes);
    if (layer.timeLimit !== undefined) flags.timeLimit = String(layer.timeLimit);
    if (layer.concurrency !== undefined) flags.concurrency = String(layer.concurrency);
    if (layer.rate !== undefined) flags.rate = String(layer.rate);
    if (layer.seed !== undefined) flags.seed = String(layer.seed);
    if (layer.nemesis !== undefined)
      flags.nemesis = Array.isArray(layer.nemesis) ? layer.nemesis.join(',') : layer.nemesis;
    if (layer.scenario !== undefined) flags.scenario = layer.scenario;
    if (layer.nemesisInterval !== undefined) flags.nemesisInterval = String(layer.nemesisInterval);
    if (layer.workload !== undefined) flags.workload = layer.workload;
    if (layer.readMode !== undefined) flags.readMode = layer.readMode;
    if (layer.driverConnect !== undefined) flags.driverConnect = layer.driverConnect;
    if (layer.opTimeout !== undefined) flags.opTimeout = String(layer.opTimeout);
  }
  return flags;
}

/** Observers must leave at least three voters. */
export function checkObservers(config: TestConfig): TestConfig {
  const observers = config.zookeeper.observers ?? 0;
  if (config.nodes - observers < 3) {
    throw new UsageError(
      `${observers} observer(s) among ${config.nodes} nodes leave fewer than 3 voters`,
      'Use 5 nodes for 1 or 2 observers, or no observers with 3 nodes.',
    );
  }
  return config;
}

/** One run of a suite: which test, which repetition, its seed and its resolved config. */
export interface PlannedRun {
  test: string;
  repetition: number;
  seed: number;
  config: TestConfig;
}

/** A seed that depends only on the suite, test and repetition: a gate is the same schedule every time. */
export function derivedSeed(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('/')).digest().readUInt32BE(0) >>> 1;
}

export function planSuite(suite: Suite, options: { server?: string; resultsDir: string }): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const test of suite.tests) {
    const seeds =
      test.seeds ??
      Array.from({ length: test.repetitions ?? 1 }, (_, i) =>
        test.seed !== undefined ? test.seed + i : derivedSeed(suite.name, test.name, i),
      );
    seeds.forEach((seed, repetition) => {
      const config = resolveSpec(SUITE_RUN_DEFAULTS, [suite.defaults ?? {}, test], {
        ...options,
        seed,
        name: `${suite.name}.${test.name}`,
      });
      runs.push({ test: test.name, repetition, seed, config });
    });
  }
  return runs;
}

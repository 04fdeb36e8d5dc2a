// Test specs as YAML holds them (a `faultline test --file`, one entry of a gate suite) and suites: a list of specs
// with repetitions and seeds. Every run field is a setting of src/config.ts; a spec is one layer of settings.
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import {
  layerFromYaml,
  nameSchema,
  resolveRunConfig,
  RUN_SETTINGS,
  RUN_YAML_KEYS,
  runFieldsShape,
  type RunConfig,
  type RunLayer,
} from '../config.js';
import { UsageError } from '../errors.js';
import { spaceFrom } from '../explore/space.js';
import { parseYamlWith, readYaml } from '../yaml.js';

const seedSchema = RUN_SETTINGS.seed.schema;
const whole = (min: number, max: number) =>
  z
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const unknownKey = (what: string, accepted: readonly string[]) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'unrecognized_keys'
    ? `unknown ${what} field ${issue.keys.map((k) => `"${k}"`).join(', ')} (accepted: ${accepted.join(', ')})`
    : undefined;

const SPEC_KEYS = ['name', 'seed', 'repetitions', 'seeds', 'explore'] as const;

/** A suite entry that explores instead of running one test: trials until the budget, each finding shrunk. */
export const exploreSpecSchema = z.strictObject({
  budget: z.string().regex(/^\d+(\.\d+)?(s|m|h)?$/, 'must be a duration such as 10m'),
  trials: whole(1, 100_000).optional(),
  /** Weights as `faultline explore` takes them: register=2,set=1; mixes: composed, kill+partition... */
  workloads: z.string().optional(),
  mixes: z.string().optional(),
  sizes: z.string().optional(),
  profiles: z.string().optional(),
  feedback: z.number().min(0).max(1).optional(),
  keepGoing: z.boolean().optional(),
  shrink: z.boolean().optional(),
  replays: whole(1, 20).optional(),
  shrinkBudget: z
    .string()
    .regex(/^\d+(\.\d+)?(s|m|h)?$/, 'must be a duration such as 5m')
    .optional(),
  rateReplays: whole(1, 50).optional(),
});
export type ExploreSpec = z.output<typeof exploreSpecSchema>;

export const runDefaultsSchema = z.strictObject(runFieldsShape(), {
  error: unknownKey(
    'defaults',
    RUN_YAML_KEYS.filter((k) => k !== 'name' && k !== 'seed'),
  ),
});

export const testSpecSchema = z.strictObject(
  {
    name: nameSchema,
    ...runFieldsShape(),
    seed: seedSchema.optional(),
    repetitions: whole(1, 1000).optional(),
    seeds: z.array(seedSchema).min(1).optional(),
    explore: exploreSpecSchema.optional(),
  },
  { error: unknownKey('test', [...new Set([...SPEC_KEYS, ...RUN_YAML_KEYS])]) },
);
export type TestSpec = z.output<typeof testSpecSchema>;

const SUITE_KEYS = ['name', 'description', 'parallel', 'stopOnInvalid', 'defaults', 'tests'];

export const suiteSchema = z.strictObject(
  {
    name: nameSchema,
    description: z.string().optional(),
    /** Runs at once; the command line and the machine may lower it. */
    parallel: whole(1, 16).optional(),
    /** Stop starting runs after the first invalid one (runs already going finish). */
    stopOnInvalid: z.boolean().optional(),
    defaults: runDefaultsSchema.optional(),
    tests: z.array(testSpecSchema).min(1, 'a suite needs at least one test'),
  },
  { error: unknownKey('suite', SUITE_KEYS) },
);

/** A suite as loaded: its tests and defaults already turned into layers of settings. */
export interface Suite {
  name: string;
  description?: string;
  parallel?: number;
  stopOnInvalid?: boolean;
  defaults: RunLayer;
  tests: { name: string; layer: RunLayer; seed?: number; repetitions?: number; seeds?: number[] }[];
  /** Entries that explore for a budget (run after the tests). */
  explores: { name: string; layer: RunLayer; seed?: number; spec: ExploreSpec }[];
}

/** A YAML spec's settings as a layer; its scenario path is relative to the file that names it. */
function specLayer(data: Record<string, unknown>, file: string): RunLayer {
  const layer = layerFromYaml(data);
  return layer.scenario === undefined ? layer : { ...layer, scenario: resolve(dirname(file), layer.scenario) };
}

export function loadSuite(path: string): Suite {
  const source = readYaml(path, 'suite');
  const parsed = parseYamlWith(
    suiteSchema,
    source,
    'suite',
    'Fix the fields named; suites/default.yaml shows every field.',
  );
  const names = parsed.tests.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) {
    throw new UsageError(
      `suite ${path}: two tests are named "${twice}"`,
      'Give every test its own name: run directories and JUnit cases are named after it.',
    );
  }
  const explores = parsed.tests.flatMap((t) => {
    if (!t.explore) return [];
    const { name, seed, repetitions: _r, seeds: _s, explore, ...fields } = t;
    return [{ name, layer: specLayer(fields, path), ...(seed !== undefined ? { seed } : {}), spec: explore }];
  });
  const tests = parsed.tests
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => !t.explore)
    .map(({ t, i }) => {
      if (t.seeds && t.repetitions && t.seeds.length !== t.repetitions) {
        throw new UsageError(
          `suite ${source.where(['tests', i])}: test "${t.name}" has ${t.seeds.length} seeds but repetitions ${t.repetitions}`,
          'Give seeds (one run each) or repetitions, not both.',
        );
      }
      const { name, seed, repetitions, seeds, explore: _e, ...fields } = t;
      return {
        name,
        layer: specLayer(fields, path),
        ...(seed !== undefined ? { seed } : {}),
        ...(repetitions !== undefined ? { repetitions } : {}),
        ...(seeds !== undefined ? { seeds } : {}),
      };
    });
  return {
    name: parsed.name,
    ...(parsed.description !== undefined ? { description: parsed.description } : {}),
    ...(parsed.parallel !== undefined ? { parallel: parsed.parallel } : {}),
    ...(parsed.stopOnInvalid !== undefined ? { stopOnInvalid: parsed.stopOnInvalid } : {}),
    defaults: specLayer(parsed.defaults ?? {}, path),
    tests,
    explores,
  };
}

/** A `faultline test --file` test file, as one layer of settings (its name and seed included). */
export function loadTestFile(path: string): RunLayer {
  const parsed = parseYamlWith(
    testSpecSchema,
    readYaml(path, 'test file'),
    'test file',
    'Fix the fields named; a test file holds name, server, nodes, timeLimit, workload, nemesis, zookeeper, ...',
  );
  const { repetitions: _r, seeds: _s, explore: _e, ...fields } = parsed;
  return specLayer(fields, path);
}

/** One run of a suite: which test, which repetition, its seed and its resolved config. */
export interface PlannedRun {
  test: string;
  repetition: number;
  seed: number;
  config: RunConfig;
}

/** A seed that depends only on the suite, test and repetition: a gate is the same schedule every time. */
export function derivedSeed(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('/')).digest().readUInt32BE(0) >>> 1;
}

/**
 * Every run of a suite: settings from the defaults, the suite's defaults, the test, then the command line's
 * `overrides`; each repetition with its own seed and the run name `<suite>.<test>`.
 */
export function planSuite(suite: Suite, options: { overrides?: RunLayer; resultsDir: string }): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const test of suite.tests) {
    const seeds =
      test.seeds ??
      Array.from({ length: test.repetitions ?? 1 }, (_, i) =>
        test.seed !== undefined ? test.seed + i : derivedSeed(suite.name, test.name, i),
      );
    seeds.forEach((seed, repetition) => {
      const config = resolveRunConfig(suite.defaults, test.layer, options.overrides, {
        seed,
        name: `${suite.name}.${test.name}`,
        resultsDir: options.resultsDir,
      });
      runs.push({ test: test.name, repetition, seed, config });
    });
  }
  return runs;
}

/** One explore entry of a suite, planned: its seed and run settings, and what bounds it. */
export interface PlannedExplore {
  test: string;
  seed: number;
  config: RunConfig;
  spec: ExploreSpec;
}

export function planSuiteExplores(
  suite: Suite,
  options: { overrides?: RunLayer; resultsDir: string },
): PlannedExplore[] {
  return suite.explores.map((e) => {
    // Its weights and mixes are checked now, not after the suite's tests have run.
    try {
      spaceFrom(e.spec);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(`suite entry ${e.name}, explore: ${err.message.replace(/^--/, '')}`, err.fix);
    }
    const seed = e.seed ?? derivedSeed(suite.name, e.name, 'explore');
    const config = resolveRunConfig(suite.defaults, e.layer, options.overrides, {
      seed,
      name: `${suite.name}.${e.name}`,
      resultsDir: options.resultsDir,
    });
    return { test: e.name, seed, config, spec: e.spec };
  });
}

// Splitting planned work across machines: `--shard I/N` picks a deterministic, disjoint share of a plan (a gate's
// runs; explore's seeds can use the same functions), balanced by expected duration. The partition depends only on
// the entries' keys and weights, never on the machine, the clock or the order the entries arrive in, so N machines
// that plan the same suite together run exactly what one would.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../explore/trials.js';
import type { PlannedExploreRef, PlannedRunRef } from '../store/gate.js';
import type { ExploreSpec, PlannedExplore, PlannedRun } from './spec.js';
import { isTarballServer } from '../../docker/image.js';

/** One shard of N: index counts from 1, as users and CI matrices write it (`--shard 2/4`). */
export interface Shard {
  index: number;
  count: number;
}

/** The largest N: beyond it shards hold nothing on any suite we ship, and a typo (`--shard 1/200`) is likelier. */
export const MAX_SHARDS = 64;

export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** `I/N` with 1 ≤ I ≤ N ≤ 64. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > MAX_SHARDS || index < 1 || index > count)
    throw new UsageError(
      `--shard must be I/N with 1 ≤ I ≤ N ≤ ${MAX_SHARDS}, not "${text}"`,
      'For example --shard 1/2 and --shard 2/2 on two machines. A Kubernetes Indexed Job counts from 0: pass $((JOB_COMPLETION_INDEX + 1))/N.',
    );
  return { index, count };
}

/** What the partition sees of a planned entry: a key unique in the plan, and its expected cost (e.g. seconds). */
export interface ShardEntry {
  key: string;
  weight: number;
}

/**
 * The shard (1..count) of every entry, in the entries' order. Longest expected first, each to the shard with the
 * least expected total so far (lowest index on a tie); equal weights go in key order. Every shard's total stays
 * within the longest entry of every other's. Keys must be unique: a duplicate would make the order ambiguous.
 */
export function assignShards(entries: readonly ShardEntry[], count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer: ${count}`);
  const keys = new Set<string>();
  for (const e of entries) {
    if (keys.has(e.key)) throw new RangeError(`duplicate shard key "${e.key}"`);
    if (!Number.isFinite(e.weight) || e.weight < 0) throw new RangeError(`bad weight for "${e.key}": ${e.weight}`);
    keys.add(e.key);
  }
  const order = entries
    .map((e, i) => ({ ...e, i }))
    .sort((a, b) => b.weight - a.weight || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const result = new Array<number>(entries.length);
  for (const e of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += e.weight;
    result[e.i] = best + 1;
  }
  return result;
}

/** The items of one shard, in their plan order. */
export function selectShard<T>(items: readonly T[], shard: Shard, entry: (item: T) => ShardEntry): T[] {
  const assigned = assignShards(items.map(entry), shard.count);
  return items.filter((_, i) => assigned[i] === shard.index);
}

/**
 * Expected wall time of one run, in seconds: its main phase plus start-up, recovery and checking. The overhead was
 * measured on this machine kind: 3-node runs of 12 s took 23 to 27 s (idle) in test/gate/gate-run.test.ts.
 */
export function expectedRunSeconds(config: Pick<RunConfig, 'timeLimitS' | 'nodes'>): number {
  return config.timeLimitS + 6 + 2 * config.nodes;
}

/** JSON with keys sorted at every level: the same value gives the same text on every machine. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : typeof v === 'bigint'
        ? v.toString()
        : v,
  );
}

function fileDigest(path: string): string {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16) : 'missing';
}

/**
 * A run's settings as they decide what it does, without where this machine keeps things: the results dir goes,
 * and paths (a scenario file, a server tarball) become their file name and content digest, so two checkouts in
 * different folders plan the same run.
 */
export function portableConfig(config: RunConfig): Record<string, unknown> {
  const { resultsDir: _resultsDir, ...rest } = config;
  const portable: Record<string, unknown> = { ...rest };
  if (config.scenario !== undefined) portable.scenario = `${basename(config.scenario)}@${fileDigest(config.scenario)}`;
  if (isTarballServer(config.server)) portable.server = `${basename(config.server)}@${fileDigest(config.server)}`;
  return portable;
}

/** A digest of a whole plan (every entry, in order): shards of one plan carry the same one. */
export function planDigest(entries: readonly unknown[]): string {
  return createHash('sha256').update(canonicalJson(entries)).digest('hex').slice(0, 16);
}

/** Expected wall time of an explore entry, in seconds: its budget (a shrink after a finding comes on top). */
export function expectedExploreSeconds(spec: Pick<ExploreSpec, 'budget'>): number {
  return parseDuration(spec.budget, 'budget');
}

/** A gate's whole plan, its runs and explores, cut into shards. */
export interface GateSharding {
  /** Digest of the whole plan: shards of one gate carry the same. */
  plan: string;
  planned: PlannedRunRef[];
  plannedExplores: PlannedExploreRef[];
  shardOf: (entry: PlannedRun | PlannedExplore) => number;
}

/**
 * A gate's whole plan cut into `count` shards: the plan's digest, and every run and explore entry with the shard it
 * falls to. Explores are dealt with the runs, weighed by their budget: a 10-minute explore is a shard's worth.
 */
export function shardGatePlan(
  runs: readonly PlannedRun[],
  explores: readonly PlannedExplore[],
  count: number,
): GateSharding {
  const assigned = assignShards(
    [
      ...runs.map((r) => ({ key: `${r.test}#${r.repetition}`, weight: expectedRunSeconds(r.config) })),
      ...explores.map((e) => ({ key: `explore:${e.test}`, weight: expectedExploreSeconds(e.spec) })),
    ],
    count,
  );
  const entries: (PlannedRun | PlannedExplore)[] = [...runs, ...explores];
  const byEntry = new Map(entries.map((e, i) => [e, assigned[i]!]));
  return {
    plan: planDigest([
      ...runs.map((r) => ({ test: r.test, repetition: r.repetition, seed: r.seed, config: portableConfig(r.config) })),
      ...explores.map((e) => ({ explore: e.test, seed: e.seed, spec: e.spec, config: portableConfig(e.config) })),
    ]),
    planned: runs.map((r, i) => ({
      group: r.test,
      repetition: r.repetition,
      seed: r.seed,
      server: r.config.server,
      shard: assigned[i]!,
    })),
    plannedExplores: explores.map((e, i) => ({
      test: e.test,
      seed: e.seed,
      server: e.config.server,
      shard: assigned[runs.length + i]!,
    })),
    shardOf: (entry) => byEntry.get(entry) ?? 0,
  };
}

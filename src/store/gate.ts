// gate.json and compare.json: what a gate or a comparison decided and measured, run by run. The writers
// (src/gate) and the readers (gate.html, serve, compare --from) share these schemas.
import { join } from 'node:path';
import { z } from 'zod';
import { exploreRecordSchema } from './explore.js';
import { STORE_FORMAT, readStoreFile, validitySchema } from './format.js';

export const GATE_JSON = 'gate.json';
export const GATE_JUNIT = 'junit.xml';
export const GATE_HTML = 'gate.html';
export const COMPARE_JSON = 'compare.json';
export const COMPARE_MD = 'compare.md';
export const COMPARE_HTML = 'compare.html';

/** Spread of a measure over runs (or over the faults of several runs). */
export const spreadSchema = z.object({
  n: z.number(),
  min: z.number(),
  median: z.number(),
  mean: z.number(),
  max: z.number(),
  sd: z.number(),
});
export type Spread = z.infer<typeof spreadSchema>;

/** Recovery and availability measures of one run (src/gate/metrics.ts says how each is measured). Times in ms. */
export const runMetricsSchema = z.object({
  lostWrites: z.number(),
  /** Lost writes the mode does not promise to keep (documented: e.g. a power cut under forceSync=no). */
  documentedLostWrites: z.number().default(0),
  availabilityDuringFaults: z.number().nullable(),
  timeToElectMs: z.array(z.number()),
  timeToNewLeaderMs: z.array(z.number()),
  rejoinMs: z.array(z.number()),
  timeToFirstWriteAfterHealMs: z.array(z.number()),
  timeUntilAllServeMs: z.number().nullable(),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() }).nullable(),
  ops: z.object({ ok: z.number(), fail: z.number(), info: z.number() }),
});
export type RunMetrics = z.infer<typeof runMetricsSchema>;

/** What one run of a gate or comparison came to. */
export const runRecordSchema = z.object({
  /** Groups runs: a suite's test name, or a compare variant. */
  group: z.string(),
  repetition: z.number(),
  seed: z.number(),
  server: z.string(),
  valid: validitySchema,
  runId: z.string().nullable(),
  runDir: z.string().nullable(),
  durationMs: z.number(),
  /** The version the servers reported (srvr). */
  serverVersion: z.string().nullable(),
  /** Non-documented anomalies of every checker, as "checker: type: description". */
  anomalies: z.array(z.string()),
  /** Checkers that could not decide, with their reason. */
  undecided: z.array(z.string()),
  /** Set when the run did not complete (harness error, abort). */
  error: z.string().optional(),
  metrics: runMetricsSchema.nullable(),
  /** In a merged gate: the shard (its index) that ran this run. */
  shard: z.number().optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** One run of a gate's whole plan, and the shard it falls to. */
export const plannedRunSchema = z.object({
  group: z.string(),
  repetition: z.number(),
  seed: z.number(),
  server: z.string(),
  shard: z.number(),
});
export type PlannedRunRef = z.infer<typeof plannedRunSchema>;

/** One explore entry of a gate's whole plan, and the shard it falls to. */
export const plannedExploreSchema = z.object({
  test: z.string(),
  seed: z.number(),
  server: z.string(),
  shard: z.number(),
});
export type PlannedExploreRef = z.infer<typeof plannedExploreSchema>;

/** What a shard of a gate is, and what it must share with the other shards of its gate to be merged with them. */
export const gateShardSchema = z.object({
  index: z.number(),
  count: z.number(),
  /** Digest of the whole plan (every run's test, repetition, seed and settings): one suite, seed and settings. */
  plan: z.string(),
  /** The command line's run settings (e.g. --server), as given: named in the message when shards differ. */
  overrides: z.record(z.string(), z.unknown()),
  harness: z.object({ version: z.string(), commit: z.string().nullable() }),
  /** Every run of the whole plan with its shard, so a merge can name what a missing shard would have run. */
  planned: z.array(plannedRunSchema),
  /** Every explore entry of the whole plan with its shard (absent in gates written before explores were dealt). */
  plannedExplores: z.array(plannedExploreSchema).default([]),
  /** Where the gate was written, absolute: run dirs below it are found again after the tree is copied. */
  gateDir: z.string(),
});
export type GateShard = z.infer<typeof gateShardSchema>;

/** What a merged gate was merged from. */
export const gateMergeSchema = z.object({
  count: z.number(),
  plan: z.string(),
  harness: z.object({ version: z.string(), commit: z.string().nullable() }),
  shards: z.array(
    z.object({
      index: z.number(),
      /** Where the shard's gate.json was read, or null for a missing shard. */
      gateDir: z.string().nullable(),
      startedAt: z.string().nullable(),
      durationMs: z.number().nullable(),
      verdict: validitySchema,
      runs: z.number(),
      /** Runs planned for the shard that it did not record (a missing shard, or one stopped early). */
      missing: z.number(),
    }),
  ),
});
export type GateMerge = z.infer<typeof gateMergeSchema>;

export const gateResultSchema = z.object({
  format: z.literal(STORE_FORMAT),
  suite: z.string(),
  server: z.string().nullable(),
  startedAt: z.string(),
  durationMs: z.number(),
  verdict: validitySchema,
  counts: z.object({
    runs: z.number(),
    valid: z.number(),
    invalid: z.number(),
    unknown: z.number(),
    errors: z.number(),
  }),
  runs: z.array(runRecordSchema),
  /** Set when the gate is one shard of a sharded gate (`gate --shard I/N`). */
  shard: gateShardSchema.optional(),
  /** Set when the gate was merged from shards (`faultline merge`). */
  merged: gateMergeSchema.optional(),
  /** The suite's explore entries: each explore's record (its findings with their shrunk scenarios). */
  explores: z
    .array(
      z.object({
        test: z.string(),
        dir: z.string(),
        record: exploreRecordSchema,
        /** In a merged gate: the shard that ran this explore. */
        shard: z.number().optional(),
      }),
    )
    .default([]),
});
export type GateResult = z.infer<typeof gateResultSchema>;

export const variantSummarySchema = z.object({
  variant: z.string(),
  server: z.string(),
  serverVersions: z.array(z.string()),
  verdicts: z.object({ valid: z.number(), invalid: z.number(), unknown: z.number() }),
  /** Measure key → spread over every value of every run (per-fault measures pool the faults of all runs). */
  measures: z.record(z.string(), spreadSchema.nullable()),
  /** Measure key → the values, run by run, for the charts. */
  values: z.record(z.string(), z.array(z.array(z.number()))),
  runs: z.array(runRecordSchema),
});
export type VariantSummary = z.infer<typeof variantSummarySchema>;

export const comparisonSchema = z.object({
  format: z.literal(STORE_FORMAT),
  name: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  repetitions: z.number(),
  seeds: z.array(z.number()),
  schedule: z.object({
    nemesis: z.array(z.string()),
    nemesisIntervalS: z.number(),
    timeLimitS: z.number(),
    workload: z.string(),
  }),
  measures: z.array(z.object({ key: z.string(), label: z.string(), unit: z.string() })),
  variants: z.array(variantSummarySchema),
});
export type Comparison = z.infer<typeof comparisonSchema>;

export function readGate(dir: string): GateResult {
  return readStoreFile(join(dir, GATE_JSON), gateResultSchema, 'gate.json');
}

export function readComparison(dir: string): Comparison {
  return readStoreFile(join(dir, COMPARE_JSON), comparisonSchema, 'compare.json');
}

// explore.json: what an explore found, trial by trial, and each finding's shrunk scenario. Written by
// src/explore, read by explore.html and the gate (a suite entry may be an explore budget).
import { join } from 'node:path';
import { z } from 'zod';
import { STORE_FORMAT, readStoreFile, validitySchema } from './format.js';

export const EXPLORE_JSON = 'explore.json';
export const EXPLORE_HTML = 'explore.html';
/** Written next to a failing run by `faultline shrink` (and linked from its report). */
export const SHRINK_DIR = 'shrink';
export const SHRUNK_SCENARIO = 'shrunk.yaml';
export const SHRINK_JSON = 'shrink.json';

export const trialRecordSchema = z.object({
  index: z.number(),
  seed: z.number(),
  workload: z.string(),
  mix: z.string(),
  nodes: z.number(),
  /** The settings profile, when the explore drew from profiles. */
  profile: z.string().optional(),
  valid: validitySchema,
  runDir: z.string().nullable(),
  durationMs: z.number(),
  /** Non-documented anomalies, as "checker: type: description". */
  anomalies: z.array(z.string()),
  error: z.string().optional(),
  /** A mutant (explore feedback): the trial whose schedule it mutated, and the mutations. */
  mutantOf: z.number().optional(),
  mutations: z.array(z.string()).optional(),
  /** Protocol features its server logs showed, and how many no earlier trial had (explore feedback). */
  features: z.number().optional(),
  newFeatures: z.number().optional(),
});
export type TrialRecord = z.infer<typeof trialRecordSchema>;

/** How often a scenario failed when replayed. */
export const replayRateSchema = z.object({ server: z.string(), failed: z.number(), of: z.number() });
export type ReplayRate = z.infer<typeof replayRateSchema>;

/** shrink.json: the minimal scenario of one failing run, and how well it reproduces. */
export const shrinkRecordSchema = z.object({
  format: z.literal(STORE_FORMAT),
  runDir: z.string(),
  scenario: z.string(),
  steps: z.number(),
  nodes: z.number(),
  timeLimitS: z.number(),
  oracleTests: z.number(),
  replaysPerTest: z.number(),
  phases: z.array(z.object({ phase: z.string(), steps: z.number(), waitS: z.number(), nodes: z.number() })),
  reproduction: replayRateSchema.nullable(),
  against: replayRateSchema.nullable(),
  /** Set when its time budget stopped the shrink: smaller failing scenarios may exist. */
  cutShort: z.boolean().optional(),
  /** False when the recorded schedule did not fail in each of its first replays: not shrunk. */
  recordedReproduces: z.boolean().optional(),
});
export type ShrinkRecord = z.infer<typeof shrinkRecordSchema>;

export const findingSchema = z.object({
  trial: z.number(),
  runDir: z.string().nullable(),
  anomalies: z.array(z.string()),
  /** The shrunk scenario, when shrink ran (null: --no-shrink, or it could not). */
  shrink: shrinkRecordSchema.nullable(),
  shrinkError: z.string().optional(),
});
export type Finding = z.infer<typeof findingSchema>;

const feedbackCountsSchema = z.object({ trials: z.number(), newFeatures: z.number(), invalid: z.number() });

/** Explore's feedback: features reached, the corpus, and fresh and mutant trials counted apart (what it buys). */
export const feedbackRecordSchema = z.object({
  share: z.number(),
  features: z.number(),
  corpus: z.number(),
  fresh: feedbackCountsSchema,
  mutant: feedbackCountsSchema,
  /** Features reached so far after each trial, in the order trials ended. */
  curve: z.array(z.object({ trial: z.number(), features: z.number() })),
});
export type FeedbackRecord = z.infer<typeof feedbackRecordSchema>;

/** What a shard of an explore is (`explore --shard I/N`), and what it must share with the others to be merged. */
export const exploreShardSchema = z.object({
  index: z.number(),
  count: z.number(),
  /** Digest of what decides the trials: seed, space, budget, feedback share and the base run settings. */
  plan: z.string(),
  harness: z.object({ version: z.string(), commit: z.string().nullable() }),
  /** Where the explore was written, absolute: trial run dirs below it are found again after a copy. */
  exploreDir: z.string(),
});
export type ExploreShard = z.infer<typeof exploreShardSchema>;

/** What a merged explore was merged from; missing shards make the merge unknown, never a pass. */
export const exploreMergeSchema = z.object({
  count: z.number(),
  shards: z.array(
    z.object({
      index: z.number(),
      exploreDir: z.string().nullable(),
      trials: z.number(),
      durationMs: z.number().nullable(),
    }),
  ),
  missing: z.array(z.number()),
});
export type ExploreMerge = z.infer<typeof exploreMergeSchema>;

export const exploreRecordSchema = z.object({
  format: z.literal(STORE_FORMAT),
  seed: z.number(),
  server: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  /** What bounded it: seconds, trials, and whether it went on after a finding. */
  budget: z.object({ seconds: z.number().nullable(), trials: z.number().nullable(), keepGoing: z.boolean() }),
  parallel: z.number(),
  counts: z.object({ trials: z.number(), valid: z.number(), invalid: z.number(), unknown: z.number() }),
  /** From the explore's start to the end of the first invalid trial; null when none was. */
  timeToFirstFailureMs: z.number().nullable(),
  trialsPerHour: z.number(),
  /** Set when Ctrl-C or a harness error stopped it early. */
  aborted: z.string().optional(),
  trials: z.array(trialRecordSchema),
  findings: z.array(findingSchema),
  /** Absent when the explore ran without feedback. */
  feedback: feedbackRecordSchema.optional(),
  /** Set when this explore is one shard of several (`explore --shard I/N`). */
  shard: exploreShardSchema.optional(),
  /** Set when it was merged from shards (`faultline merge`). */
  merged: exploreMergeSchema.optional(),
});
export type ExploreRecord = z.infer<typeof exploreRecordSchema>;

export function readExploreRecord(dir: string): ExploreRecord {
  return readStoreFile(join(dir, EXPLORE_JSON), exploreRecordSchema, 'explore.json');
}

export function readShrinkRecord(path: string): ShrinkRecord {
  return readStoreFile(path, shrinkRecordSchema, 'shrink.json');
}

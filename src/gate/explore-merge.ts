// Joining the shards of an explore (`explore --shard I/N` on N machines) into one explore.json: every trial of
// every shard in index order, the findings, and the counts and rates of the whole. Shards of different plans
// (seed, space, budget, settings) or Faultline builds are refused; a missing shard makes the whole unknown.
import { canonicalJson } from './shard.js';
import { indexShards, relocateBelow, requireSameAcross, ShardMismatchError } from './merge.js';
import type { ExploreRecord, ExploreShard, FeedbackRecord, TrialRecord } from '../store/explore.js';
import { summarizeExplore } from '../explore/explore.js';

export interface FoundExplore {
  dir: string;
  record: ExploreRecord;
}

type Sharded = FoundExplore & { shard: ExploreShard };

const describe = (s: Sharded): string => `shard ${s.shard.index}/${s.shard.count} (${s.dir})`;

const requireSame = (shards: Sharded[], what: string, value: (s: Sharded) => string, fix: string): void =>
  requireSameAcross(shards, 'explore', what, value, describe, fix);

/** A trial's run dir as found after the tree was copied: below the shard's explore dir wherever that is now. */
const relocate = (runDir: string | null, shard: ExploreShard, foundDir: string): string | null =>
  relocateBelow(runDir, shard.exploreDir, foundDir);

function sumFeedback(records: readonly FeedbackRecord[]): FeedbackRecord | undefined {
  if (records.length === 0) return undefined;
  const add = (k: 'fresh' | 'mutant') => ({
    trials: records.reduce((n, r) => n + r[k].trials, 0),
    newFeatures: records.reduce((n, r) => n + r[k].newFeatures, 0),
    invalid: records.reduce((n, r) => n + r[k].invalid, 0),
  });
  // Each shard counts features new to itself: the union is not known from the counts, so the curve is left out.
  return {
    share: records[0]!.share,
    features: Math.max(...records.map((r) => r.features)),
    corpus: records.reduce((n, r) => n + r.corpus, 0),
    fresh: add('fresh'),
    mutant: add('mutant'),
    curve: [],
  };
}

/** One explore from the shards of one. */
export function mergeExploreShards(found: readonly FoundExplore[]): ExploreRecord {
  const { shards, byIndex } = indexShards(found, 'explore', (f) => ({
    ...(f.record.shard ? { shard: f.record.shard } : {}),
    merged: f.record.merged !== undefined,
  }));
  requireSame(
    shards,
    'plans (explore seed, space, budget or run settings)',
    (s) => canonicalJson({ plan: s.shard.plan, seed: s.record.seed, server: s.record.server }),
    'Run every shard with the same flags, --explore-seed included.',
  );
  const count = shards[0]!.shard.count;
  const trials: TrialRecord[] = [];
  for (const s of shards)
    for (const t of s.record.trials) {
      if (t.index % count !== s.shard.index - 1)
        throw new ShardMismatchError(
          `${describe(s)} holds trial ${t.index}, which falls to shard ${(t.index % count) + 1}/${count}`,
          'The explore.json was edited or mixed up; rerun that shard.',
        );
      trials.push({ ...t, runDir: relocate(t.runDir, s.shard, s.dir) });
    }
  const findings = shards.flatMap((s) =>
    s.record.findings.map((f) => ({ ...f, runDir: relocate(f.runDir, s.shard, s.dir) })),
  );
  const starts = shards.map((s) => Date.parse(s.record.startedAt));
  const startedAt = Math.min(...starts);
  const durationMs = Math.max(...shards.map((s) => Date.parse(s.record.startedAt) + s.record.durationMs)) - startedAt;
  // The first failure of the whole: the earliest, counted from when the whole began.
  const failures = shards
    .filter((s) => s.record.timeToFirstFailureMs !== null)
    .map((s) => Date.parse(s.record.startedAt) - startedAt + s.record.timeToFirstFailureMs!);
  const first = shards[0]!.record;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  const summary = summarizeExplore(
    {
      seed: first.seed,
      server: first.server,
      ...(first.budget.seconds !== null ? { budgetS: first.budget.seconds } : {}),
      ...(first.budget.trials !== null ? { trials: first.budget.trials } : {}),
      keepGoing: first.budget.keepGoing,
      parallel: shards.reduce((n, s) => n + s.record.parallel, 0),
    },
    new Date(startedAt),
    durationMs,
    trials,
    findings,
    failures.length ? Math.min(...failures) : null,
    sumFeedback(shards.flatMap((s) => (s.record.feedback ? [s.record.feedback] : []))),
  );
  return {
    ...summary,
    merged: {
      count,
      shards: Array.from({ length: count }, (_, i) => {
        const s = byIndex.get(i + 1);
        return {
          index: i + 1,
          exploreDir: s ? s.dir : null,
          trials: s ? s.record.trials.length : 0,
          durationMs: s ? s.record.durationMs : null,
        };
      }),
      missing,
    },
  };
}

// Explore's feedback loop: which trial to run next, given what the servers did in the trials so far.
//
// Every trial's server logs give a set of protocol features (src/explore/coverage.ts). A trial that reached a
// feature no earlier trial reached joins the corpus, with its recorded schedule. Each next trial is then, with
// probability `share`, a mutant: a corpus trial's workload, size and settings with its schedule mutated
// (src/explore/mutate.ts), run as a scenario; otherwise a fresh draw from the space, as without feedback. Corpus
// trials are chosen by how many new features they brought, divided by how often they were mutated already.
//
// Fresh and mutant trials are counted apart (trials, new features, invalid), so each explore measures what the
// feedback buys. With feedback, trial n depends on what the trials before it reached; `share` 0 (the default) gives
// the pure seeded sequence (planTrial) and only records coverage. Pure over an observer (features and steps of a
// finished trial), tested with fakes.
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { Random } from '../random.js';
import type { FeedbackRecord, TrialRecord } from '../store/explore.js';
import { mutateSchedule } from './mutate.js';
import type { TimedStep } from './scenario.js';
import { existsSync, readFileSync } from 'node:fs';
import { nodeLogPath } from '../store/server-logs.js';
import { coverageFeatures, protocolEvents } from './coverage.js';
import { loadRecordedSchedule } from './replay.js';
import { planTrial, type ExploreSpace, type TrialPlan } from './trials.js';

/**
 * Off by default: measured here (two 30-minute trixie explores at share 0.5, 46 trials after the first), mutants
 * reached 2.4 new features per trial and fresh draws 2.9, and neither kind found an invalid trial. At some 25 trials
 * per half hour a corpus has too few trials to pay off. Coverage is still read and recorded for every trial.
 */
export const DEFAULT_FEEDBACK_SHARE = 0;

export function parseFeedbackShare(text: string | number, where: string): number {
  const share = Number(text);
  if (text === '' || !Number.isFinite(share) || share < 0 || share > 1)
    throw new UsageError(
      `${where} must be a share from 0 to 1, not "${text}"`,
      `For example ${where} 0.5 (half the trials mutants), or 0 for none.`,
    );
  return share;
}

/** ExploreOptions' guide for a share, observing real run directories (at share 0 it only records coverage). */
export function guideFor(seed: number, space: ExploreSpace, share: number): { guide: TrialGuide } {
  // Without mutants no schedule is ever mutated, so a trial's history need not be read back for its steps.
  const observe = share > 0 ? observeTrialRun : (trial: TrialRecord) => observeTrialRun(trial, false);
  return { guide: new CoverageGuide(seed, space, share, observe) };
}

/** What a finished trial reached, and its schedule as run (null: no run directory, nothing to mutate). */
export interface TrialObservation {
  features: ReadonlySet<string>;
  steps: TimedStep[] | null;
  timeLimitS: number;
}

export type TrialObserver = (trial: TrialRecord) => Promise<TrialObservation>;

/** Where trials come from in an explore (ExploreOptions.guide): a plan per index, told of every finished trial. */
export interface TrialGuide {
  plan(index: number): TrialPlan;
  observe(plan: TrialPlan, trial: TrialRecord): Promise<{ features: number; newFeatures: number }>;
  record(): FeedbackRecord;
}

interface CorpusEntry {
  plan: TrialPlan;
  steps: TimedStep[];
  timeLimitS: number;
  newFeatures: number;
  picked: number;
}

interface KindCounts {
  trials: number;
  newFeatures: number;
  invalid: number;
}

const hashSeed = (text: string): number => createHash('sha256').update(text).digest().readUInt32BE(0) >>> 1;

export class CoverageGuide implements TrialGuide {
  private readonly firstSeen = new Map<string, number>();
  private readonly corpus: CorpusEntry[] = [];
  private readonly counts: Record<'fresh' | 'mutant', KindCounts> = {
    fresh: { trials: 0, newFeatures: 0, invalid: 0 },
    mutant: { trials: 0, newFeatures: 0, invalid: 0 },
  };
  private readonly curve: [number, number][] = [];

  constructor(
    private readonly exploreSeed: number,
    private readonly space: ExploreSpace,
    /** The share of trials that mutate a corpus trial once there is one, in [0, 1]. */
    private readonly share: number,
    private readonly observer: TrialObserver,
  ) {}

  /** Trial `index`: a mutant of a corpus trial (with probability `share`), else planTrial's fresh draw. */
  plan(index: number): TrialPlan {
    const fresh = planTrial(this.exploreSeed, index, this.space);
    if (this.corpus.length === 0 || this.share <= 0) return fresh;
    const random = new Random(hashSeed(`explore/${this.exploreSeed}/${index}/feedback`));
    if (random.float() >= this.share) return fresh;
    const weights = this.corpus.map((e) => e.newFeatures / (1 + e.picked));
    let x = random.float() * weights.reduce((s, w) => s + w, 0);
    let entry = this.corpus[this.corpus.length - 1]!;
    for (let i = 0; i < this.corpus.length; i++) {
      x -= weights[i]!;
      if (x < 0) {
        entry = this.corpus[i]!;
        break;
      }
    }
    const mutant = mutateSchedule(entry.steps, random, entry.plan.nodes, entry.timeLimitS);
    if (!mutant) return fresh;
    entry.picked++;
    const { mutant: _parent, ...source } = entry.plan;
    return {
      ...source,
      index,
      seed: fresh.seed,
      mutant: { of: entry.plan.index, mutations: mutant.mutations, steps: mutant.steps },
    };
  }

  /** Takes in a finished trial: its features, and the corpus if it reached new ones. Returns the trial's counts. */
  async observe(plan: TrialPlan, trial: TrialRecord): Promise<{ features: number; newFeatures: number }> {
    const kind = plan.mutant ? 'mutant' : 'fresh';
    this.counts[kind].trials++;
    if (trial.valid === false) this.counts[kind].invalid++;
    if (!trial.runDir) return { features: 0, newFeatures: 0 };
    const seen = await this.observer(trial);
    let fresh = 0;
    for (const f of seen.features)
      if (!this.firstSeen.has(f)) {
        this.firstSeen.set(f, trial.index);
        fresh++;
      }
    this.counts[kind].newFeatures += fresh;
    this.curve.push([trial.index, this.firstSeen.size]);
    if (fresh > 0 && seen.steps && seen.steps.length > 0)
      this.corpus.push({ plan, steps: seen.steps, timeLimitS: seen.timeLimitS, newFeatures: fresh, picked: 0 });
    return { features: seen.features.size, newFeatures: fresh };
  }

  record(): FeedbackRecord {
    return {
      share: this.share,
      features: this.firstSeen.size,
      corpus: this.corpus.length,
      fresh: { ...this.counts.fresh },
      mutant: { ...this.counts.mutant },
      curve: this.curve.map(([trial, features]) => ({ trial, features })),
    };
  }
}

/** What a finished trial's servers did (their logs' protocol features) and its schedule as run, from its run dir. */
export async function observeTrialRun(trial: TrialRecord, withSteps = true): Promise<TrialObservation> {
  const logs: Record<string, string> = {};
  for (let i = 1; i <= trial.nodes; i++) {
    const path = nodeLogPath(trial.runDir!, `n${i}`);
    if (existsSync(path)) logs[`n${i}`] = readFileSync(path, 'utf8');
  }
  const features = coverageFeatures(protocolEvents(logs));
  if (!withSteps) return { features, steps: null, timeLimitS: 0 };
  try {
    const recorded = await loadRecordedSchedule(trial.runDir!);
    return { features, steps: recorded.steps, timeLimitS: recorded.config.timeLimitS };
  } catch {
    // A run without a readable history or test record still counts for coverage; it just cannot be mutated.
    return { features, steps: null, timeLimitS: 0 };
  }
}

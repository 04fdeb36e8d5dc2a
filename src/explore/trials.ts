// What each explore trial runs: a workload, a fault mix and an ensemble size, drawn with weights from the explore
// seed and the trial's number alone, so the same seed gives the same trials in the same order, whatever ran
// before or beside them. Defaults are uniform: no weight favours a workload or fault for any known bug.
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { Random } from '../random.js';
import type { TimedStep } from './scenario.js';

export interface Weighted<T> {
  value: T;
  weight: number;
}

/** The composed schedule's tempo, as its settings take it: ranges of seconds. */
export interface ComposedTempo {
  gapS: [number, number];
  holdS: [number, number];
  quietS: [number, number];
  earlyHeals: boolean;
}

/** A fault mix: a name for the table, the `nemesis` list a trial runs with, and a composed tempo if not the run's. */
export interface FaultMix {
  name: string;
  nemesis: string[];
  tempo?: ComposedTempo;
}

/** Server settings a trial runs with over the explore's own: `default` changes nothing. */
export interface SettingsProfile {
  name: string;
  zookeeper: { snapCount?: number };
}

/** The named profiles: the run's settings, and snapshots all the time under load (snapCount 100). */
export const SETTINGS_PROFILES: readonly SettingsProfile[] = [
  { name: 'default', zookeeper: {} },
  { name: 'snapshot-heavy', zookeeper: { snapCount: 100 } },
];

export interface ExploreSpace {
  workloads: Weighted<string>[];
  mixes: Weighted<FaultMix>[];
  nodes: Weighted<3 | 5>[];
  /** Absent: the run's settings only. */
  profiles?: Weighted<SettingsProfile>[];
}

export interface TrialPlan {
  index: number;
  seed: number;
  workload: string;
  mix: string;
  nemesis: string[];
  tempo?: ComposedTempo;
  nodes: 3 | 5;
  /** Set when the space has profiles (drawn last, so adding them leaves the other draws as they were). */
  profile?: SettingsProfile;
  /** Set when feedback made this trial a mutant of an earlier one: its schedule, run as a scenario. */
  mutant?: { of: number; mutations: string[]; steps: TimedStep[] };
}

/** The usual workloads (the ones whose checkers judge data: registers, sets, queues, transfers, ACLs). */
export const DEFAULT_WORKLOADS = ['register', 'set', 'multi-register', 'queue', 'bank'];

/** The composed schedule: faults of every family overlapping, healed node by node, at the run's tempo. */
export const COMPOSED_MIX: FaultMix = { name: 'composed', nemesis: ['composed'] };

/**
 * The composed schedule at a brisk tempo: shorter gaps, holds and quiet periods, and every fault held for its
 * whole hold (no early heals: at this tempo an early heal mostly ends a fault before another can overlap it), so
 * in a trial of the same length about twice as many faults start, more of them overlap, and more nodes come back
 * while others are still down. Jepsen users run both regimes, slow faults that let each recovery finish and quick
 * ones that interrupt recoveries; the explore draws both alike.
 */
export const COMPOSED_BRISK_MIX: FaultMix = {
  name: 'composed-brisk',
  nemesis: ['composed'],
  tempo: { gapS: [0.5, 2], holdS: [3, 10], quietS: [2, 6], earlyHeals: false },
};

/**
 * Until the composed schedule exists: several families on the random schedule, each pair of the common ones and
 * all of them together, every one weighted alike.
 */
export const FALLBACK_MIXES: FaultMix[] = [
  { name: 'kill+partition', nemesis: ['kill', 'partition'] },
  { name: 'pause+partition', nemesis: ['pause', 'partition'] },
  { name: 'kill+pause', nemesis: ['kill', 'pause'] },
  { name: 'crash+packet', nemesis: ['crash', 'packet'] },
  { name: 'kill+pause+partition+packet', nemesis: ['kill', 'pause', 'partition', 'packet'] },
];

export const uniform = <T>(values: readonly T[]): Weighted<T>[] => values.map((value) => ({ value, weight: 1 }));

function pickWeighted<T>(random: Random, items: readonly Weighted<T>[]): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let x = random.float() * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item.value;
  }
  return items[items.length - 1]!.value;
}

/** Trial `index` of an explore with this seed: a pure function of the two and the space. */
export function planTrial(exploreSeed: number, index: number, space: ExploreSpace): TrialPlan {
  // Hashed, not Random.fork: forks of nearby salts start with nearly the same draws (the first real explore drew
  // the same workload for its first trials).
  const seed = createHash('sha256').update(`explore/${exploreSeed}/${index}`).digest().readUInt32BE(0) >>> 1;
  const random = new Random(seed);
  const workload = pickWeighted(random, space.workloads);
  const mix = pickWeighted(random, space.mixes);
  const nodes = pickWeighted(random, space.nodes);
  const profile = space.profiles ? pickWeighted(random, space.profiles) : undefined;
  return {
    index,
    seed,
    workload,
    mix: mix.name,
    nemesis: mix.nemesis,
    ...(mix.tempo ? { tempo: mix.tempo } : {}),
    nodes,
    ...(profile ? { profile } : {}),
  };
}

/**
 * A weights flag: `a,b,c` (alike) or `a=3,b=1`. Names are checked by the caller (`known`), weights here: each a
 * number above 0.
 */
export function parseWeights(flag: string, what: string, known?: (name: string) => boolean): Weighted<string>[] {
  const items = flag
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what} names nothing`, `For example --${what} register=2,set=1.`);
  return items.map((item) => {
    const [name, weightText] = item.split('=', 2) as [string, string | undefined];
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!Number.isFinite(weight) || weight <= 0)
      throw new UsageError(
        `--${what}: the weight of ${name} must be a number above 0, not "${weightText}"`,
        `For example --${what} ${name}=2.`,
      );
    if (known && !known(name))
      throw new UsageError(
        `--${what}: unknown ${what.replace(/s$/, '')} "${name}"`,
        what === 'profiles'
          ? `Profiles: ${SETTINGS_PROFILES.map((p) => p.name).join(', ')}.`
          : what === 'sizes'
            ? 'Ensembles have 3 or 5 nodes: for example --sizes 3=2,5=1.'
            : `Run \`faultline ${what === 'workloads' ? 'test --help' : 'nemesis list'}\` for the names.`,
      );
    return { value: name, weight };
  });
}

/** A duration flag: 30m, 90s, 1h, or plain seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new UsageError(
      `${flag} must be a duration such as 30m, 90s or 1h, not "${text}"`,
      `For example ${flag} 30m.`,
    );
  const n = Number(m[1]);
  return Math.round(n * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1));
}

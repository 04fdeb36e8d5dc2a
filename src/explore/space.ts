// The explore's default space: the usual workloads, the composed schedule at two tempos, 3 or 5 nodes; all
// weighted alike.
import {
  COMPOSED_BRISK_MIX,
  COMPOSED_MIX,
  DEFAULT_WORKLOADS,
  FALLBACK_MIXES,
  parseWeights,
  SETTINGS_PROFILES,
  uniform,
  type ExploreSpace,
  type FaultMix,
} from './trials.js';
import { resolveFaultEntry } from '../../nemesis/index.js';
import { WORKLOADS } from '../../workloads/index.js';
import { UsageError } from '../errors.js';

/** The default fault mixes are the composed schedule at both tempos; the single-family random mixes may be chosen by name. */
export function defaultMixes(): FaultMix[] {
  return [COMPOSED_MIX, COMPOSED_BRISK_MIX];
}

export function defaultSpace(): ExploreSpace {
  return { workloads: uniform(DEFAULT_WORKLOADS), mixes: uniform(defaultMixes()), nodes: uniform([3, 5] as const) };
}

/** The faults of a mix written as faults joined by +, each one a fault `--nemesis` takes. */
function checkedFaults(mix: string, named: readonly string[]): string[] {
  const faults = mix.split('+');
  for (const fault of faults) {
    try {
      resolveFaultEntry(fault);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(
        `--mixes: "${mix}" is neither a mix nor faults joined by +: unknown fault "${fault}"`,
        `Mixes: ${named.join(', ')}; or faults joined by +, such as kill+partition (run \`faultline nemesis list\` for the faults).`,
      );
    }
  }
  return faults;
}

/** A space from weight lists as `faultline explore` and suite explore entries write them (absent: the default). */
export function spaceFrom(lists: {
  workloads?: string;
  mixes?: string;
  sizes?: string;
  profiles?: string;
}): ExploreSpace {
  const space = defaultSpace();
  if (lists.workloads)
    space.workloads = parseWeights(lists.workloads, 'workloads', (name) => Object.hasOwn(WORKLOADS, name));
  if (lists.mixes) {
    const byName = new Map([...defaultMixes(), ...FALLBACK_MIXES].map((m) => [m.name, m]));
    // A mix is a default mix's name, or a nemesis list joined by + (kill+partition), each fault checked here so a
    // typo stops the explore before its first trial.
    space.mixes = parseWeights(lists.mixes, 'mixes').map((w) => ({
      weight: w.weight,
      value: byName.get(w.value) ?? { name: w.value, nemesis: checkedFaults(w.value, [...byName.keys()]) },
    }));
  }
  if (lists.profiles) {
    const byName = new Map(SETTINGS_PROFILES.map((p) => [p.name, p]));
    space.profiles = parseWeights(lists.profiles, 'profiles', (n) => byName.has(n)).map((w) => ({
      weight: w.weight,
      value: byName.get(w.value)!,
    }));
  }
  if (lists.sizes)
    space.nodes = parseWeights(lists.sizes, 'sizes', (n) => n === '3' || n === '5').map((w) => ({
      weight: w.weight,
      value: Number(w.value) as 3 | 5,
    }));
  return space;
}

// The explore's default space: the usual workloads, the composed schedule when this build has it (else several
// families on the random schedule), 3 or 5 nodes; all weighted alike.
import { resolveFaults } from '../../nemesis/index.js';
import {
  COMPOSED_MIX,
  DEFAULT_WORKLOADS,
  FALLBACK_MIXES,
  uniform,
  type ExploreSpace,
  type FaultMix,
} from './trials.js';

/** Whether `--nemesis composed` resolves here (it does once the composed schedule is merged). */
export function hasComposedSchedule(): boolean {
  try {
    resolveFaults(['composed']);
    return true;
  } catch {
    return false;
  }
}

export function defaultMixes(): FaultMix[] {
  return hasComposedSchedule() ? [COMPOSED_MIX] : FALLBACK_MIXES;
}

export function defaultSpace(): ExploreSpace {
  return { workloads: uniform(DEFAULT_WORKLOADS), mixes: uniform(defaultMixes()), nodes: uniform([3, 5] as const) };
}

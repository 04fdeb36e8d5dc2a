// The fault catalogue by name, as `--nemesis` takes it.
import { UsageError } from '../src/errors.js';
import type { Fault } from '../src/nemesis.js';
import { partitionLeader } from './partition.js';
import { killLeader } from './process.js';

export const FAULTS: Record<string, Fault> = {
  [partitionLeader.name]: partitionLeader,
  [killLeader.name]: killLeader,
};

export const DEFAULT_NEMESIS = [partitionLeader.name, killLeader.name];

/** Parses a comma-separated fault list; "none" means no faults. */
export function resolveFaults(names: readonly string[]): Fault[] {
  if (names.length === 1 && names[0] === 'none') return [];
  return names.map((name) => {
    const fault = FAULTS[name];
    if (!fault) throw new UsageError(`unknown fault "${name}" in --nemesis`, `Use a comma-separated list of: ${Object.keys(FAULTS).join(', ')}, or none.`);
    return fault;
  });
}

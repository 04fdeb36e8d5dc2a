// The nemesis: faults, each with its heal, run on a schedule and recorded in the history.
import type { Cluster } from './cluster.js';
import type { HistoryWriter } from './history.js';
import type { Logger } from './log.js';
import type { Random } from './random.js';
import type { Database } from './zookeeper.js';

export interface NemesisContext {
  cluster: Cluster;
  db: Database;
  log: Logger;
  random: Random;
}

/** What a fault or heal actually did, recorded as the value of the nemesis completion. */
export type FaultRecord = Record<string, unknown>;

/**
 * Which nodes a fault hits, resolved from the live ensemble at the moment of the fault: a role
 * (`one` = any single node, `minority`/`majority` = random node sets of that size) or named nodes.
 */
export type TargetSpec = 'leader' | 'follower' | 'one' | 'minority' | 'majority' | 'all' | { nodes: string[] };

/** What a schedule may ask of a fault beyond its defaults. */
export interface FaultRequest {
  target?: TargetSpec;
  /** Fault-specific settings (bytes, records, bits, delayMs...); each fault documents its own. */
  params?: Record<string, number | string | boolean>;
}

/** One fault: a way to break the ensemble, and the heal of its family, which undoes all of the family's faults. */
export interface Fault {
  name: string;
  /** partition, process, disk or packet: faults of one family share one heal. */
  family: string;
  description: string;
  /** The nodes it hits when a schedule does not say; absent for faults that take no target (halves, rings...). */
  defaultTarget?: TargetSpec;
  start(context: NemesisContext, request?: FaultRequest): Promise<FaultRecord>;
  /** Undoes everything this family may have done, on every node. Idempotent: safe before, during and after a run. */
  heal(context: NemesisContext): Promise<FaultRecord>;
}

/** Runs one nemesis action and records it as an info pair from process "nemesis". */
export async function recordNemesis(
  history: HistoryWriter,
  f: 'start' | 'heal',
  fault: Fault,
  action: () => Promise<FaultRecord>,
): Promise<FaultRecord> {
  history.append({ process: 'nemesis', type: 'info', f, value: fault.name });
  try {
    const done = await action();
    history.append({ process: 'nemesis', type: 'info', f, value: { fault: fault.name, ...done } });
    return done;
  } catch (err) {
    history.append({
      process: 'nemesis',
      type: 'info',
      f,
      value: { fault: fault.name },
      error: (err as Error).message,
    });
    throw err;
  }
}

/** A fault's family heal under the family's name, so the history says "heal partition", not one fault's name. */
export function familyHeal(fault: Fault): Fault {
  return { ...fault, name: fault.family };
}

/**
 * Heals every fault family of the list once (faults of one family share a heal), recording each heal.
 * Errors are collected, not thrown midway, so every family gets its turn.
 */
export async function healAll(
  faults: readonly Fault[],
  context: NemesisContext,
  history: HistoryWriter,
): Promise<Error[]> {
  const errors: Error[] = [];
  const seen = new Set<string>();
  for (const fault of faults) {
    if (seen.has(fault.family)) continue;
    seen.add(fault.family);
    const family = familyHeal(fault);
    try {
      await recordNemesis(history, 'heal', family, () => family.heal(context));
    } catch (err) {
      errors.push(err as Error);
      context.log.warn(`heal of ${fault.family} failed: ${(err as Error).message}`);
    }
  }
  return errors;
}

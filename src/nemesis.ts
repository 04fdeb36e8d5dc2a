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

/** One fault family: a way to break the ensemble, and the heal that undoes all of it. */
export interface Fault {
  name: string;
  start(context: NemesisContext): Promise<FaultRecord>;
  /** Undoes everything this family may have done, on every node. Idempotent: safe before, during and after a run. */
  heal(context: NemesisContext): Promise<FaultRecord>;
}

/** Runs one nemesis action and records it as an info pair from process "nemesis". */
export async function recordNemesis(history: HistoryWriter, f: 'start' | 'heal', fault: Fault, action: () => Promise<FaultRecord>): Promise<FaultRecord> {
  history.append({ process: 'nemesis', type: 'info', f, value: fault.name });
  try {
    const done = await action();
    history.append({ process: 'nemesis', type: 'info', f, value: { fault: fault.name, ...done } });
    return done;
  } catch (err) {
    history.append({ process: 'nemesis', type: 'info', f, value: { fault: fault.name }, error: (err as Error).message });
    throw err;
  }
}

/** Heals every fault family, recording each heal. Errors are collected, not thrown midway, so every family gets its turn. */
export async function healAll(faults: readonly Fault[], context: NemesisContext, history: HistoryWriter): Promise<Error[]> {
  const errors: Error[] = [];
  for (const fault of faults) {
    try {
      await recordNemesis(history, 'heal', fault, () => fault.heal(context));
    } catch (err) {
      errors.push(err as Error);
      context.log.warn(`heal of ${fault.name} failed: ${(err as Error).message}`);
    }
  }
  return errors;
}

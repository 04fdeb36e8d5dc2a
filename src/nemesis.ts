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
  /** The settings a scenario may give it (`params:`), checked before the run starts; absent: it takes none. */
  params?: Record<string, FaultParam>;
  start(context: NemesisContext, request?: FaultRequest): Promise<FaultRecord>;
  /** Undoes everything this family may have done, on every node. Idempotent: safe before, during and after a run. */
  heal(context: NemesisContext): Promise<FaultRecord>;
}

/**
 * count: a whole number above 0; amount: a number ≥ 0; number: any number; rate: a bandwidth as tc writes it;
 * nodes: n1+n2; flag: true or false; choice: one of `choices`.
 */
export type ParamKind = 'count' | 'amount' | 'number' | 'rate' | 'nodes' | 'flag' | 'choice';

export interface FaultParam {
  kind: ParamKind;
  help: string;
  /** The accepted values of a choice. */
  choices?: readonly string[];
}

const PARAM_CHECKS: Record<ParamKind, { ok: (v: unknown) => boolean; want: string }> = {
  count: { ok: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0, want: 'a whole number above 0' },
  amount: { ok: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, want: 'a number ≥ 0' },
  rate: {
    ok: (v) => typeof v === 'string' && /^\d+(\.\d+)?[kmg]?(bit|bps)$/.test(v),
    want: 'a rate such as 256kbit or 1mbit',
  },
  nodes: { ok: (v) => typeof v === 'string' && /^n\d+(\+n\d+)*$/.test(v), want: 'node names joined by + (n2+n3)' },
  flag: { ok: (v) => typeof v === 'boolean', want: 'true or false' },
  number: { ok: (v) => typeof v === 'number' && Number.isFinite(v), want: 'a number' },
  choice: { ok: (v) => typeof v === 'string', want: 'one of the choices' },
};

/**
 * What is wrong with the params given to a fault, if anything: an unknown name (with the accepted ones), a value
 * of the wrong kind, or node names the ensemble does not have.
 */
export function paramProblems(
  fault: Fault,
  params: Readonly<Record<string, unknown>>,
  nodeNames?: readonly string[],
): string[] {
  const accepted = fault.params ?? {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const spec = accepted[name];
    if (!spec) {
      const names = Object.keys(accepted);
      problems.push(
        `${fault.name} has no param "${name}"${names.length ? ` (it takes ${names.join(', ')})` : ' (it takes none)'}`,
      );
      continue;
    }
    const check = PARAM_CHECKS[spec.kind];
    if (!check.ok(value))
      problems.push(`${fault.name} param ${name} must be ${check.want}, not ${JSON.stringify(value)}`);
    else if (spec.kind === 'nodes' && nodeNames) {
      const unknown = (value as string).split('+').filter((n) => !nodeNames.includes(n));
      if (unknown.length) problems.push(`${fault.name} param ${name}: no node ${unknown.join(', ')} in this ensemble`);
    }
  }
  return problems;
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

// The nemesis: faults, each with its heal, run on a schedule and recorded in the history.
import type { Cluster } from './cluster.js';
import type { HistoryWriter } from './history.js';
import type { Logger } from './log.js';
import type { Random } from './random.js';
import type { NodeRole } from './role-changes.js';
import type { Database } from './zookeeper.js';
import type { NemesisRecord, NemesisRole } from './nemesis-actions.js';

export type { NemesisRecord, NemesisRole } from './nemesis-actions.js';

export interface NemesisContext {
  cluster: Cluster;
  db: Database;
  log: Logger;
  random: Random;
  /**
   * Every node's role as the role monitor last saw it (src/roles.ts), read without waiting; absent when no monitor
   * runs (then the record's roles come from a fast srvr probe).
   */
  currentRoles?: () => ReadonlyMap<string, NodeRole>;
  /** Fires when the main phase ends (time limit or abort): a fault that waits (a client pause) stops waiting. */
  signal?: AbortSignal;
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
  /**
   * It acts on the workload's client processes (the Curator driver's JVMs in their sidecar), not on the servers: a
   * run whose workload has no such processes refuses it before it starts.
   */
  targetsClients?: boolean;
  start(context: NemesisContext, request?: FaultRequest): Promise<FaultRecord>;
  /** Undoes everything this family may have done, on every node. Idempotent: safe before, during and after a run. */
  heal(context: NemesisContext): Promise<FaultRecord>;
  /**
   * Undoes this family's faults on one node only, leaving the other nodes' faults in place. Idempotent. Absent for
   * families whose faults are not one node's (membership).
   */
  healNode?(context: NemesisContext, node: string): Promise<FaultRecord>;
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

/** What the completion of an action records besides what the fault itself says (see NemesisRecord). */
export interface ActionInfo {
  /** Where the roles come from; without it the record's roles are all unknown. */
  context?: NemesisContext;
  params?: Readonly<Record<string, number | string | boolean>>;
  /** The requested target as written (a role, n1+n2, an `as:` name). */
  target?: string;
  /** Heals only: one node's faults of the family, or the whole family's. */
  scope?: 'node' | 'family';
  /** The nodes the action is aimed at when the fault's own record does not say (per-node heals). */
  nodes?: readonly string[];
  /** harness: the heals before and after the main phase (healAll), not the schedule's. */
  origin?: 'schedule' | 'harness';
}

/** How long the fallback role probe may take (no monitor running): the record must not slow an action. */
const ROLE_PROBE_MS = 150;

/** Every node's role now, in the record's words: the monitor's latest view, else a fast srvr probe. */
export async function rolesNow(context: NemesisContext | undefined): Promise<Record<string, NemesisRole>> {
  if (!context) return {};
  const known = context.currentRoles?.();
  const out: Record<string, NemesisRole> = {};
  if (known) {
    for (const node of context.cluster.nodes) out[node.name] = recordRole(known.get(node.name));
    return out;
  }
  const statuses = await Promise.all(
    context.cluster.nodes.map((n) =>
      context.db.status(n, ROLE_PROBE_MS).catch(() => ({ node: n.name, answered: false, mode: undefined })),
    ),
  );
  for (const s of statuses) out[s.node] = s.answered ? recordRole(s.mode ?? 'not-serving') : 'down';
  return out;
}

function recordRole(role: NodeRole | undefined): NemesisRole {
  switch (role) {
    case 'leader':
    case 'follower':
    case 'observer':
    case 'down':
      return role;
    case 'not-serving':
      return 'looking';
    default:
      return 'unknown';
  }
}

/**
 * The nodes an action hit, from its record: `nodes` when the fault says; else every node named in the record's
 * top-level lists (healed, started, killed...) or as a grudge's keys.
 */
export function nodesOfRecord(done: FaultRecord, nodeNames: readonly string[]): string[] {
  if (Array.isArray(done.nodes) && done.nodes.every((n) => typeof n === 'string')) return done.nodes;
  const hit = new Set<string>();
  for (const value of Object.values(done)) {
    if (Array.isArray(value)) for (const v of value) if (typeof v === 'string' && nodeNames.includes(v)) hit.add(v);
  }
  const grudge = done.grudge;
  if (grudge && typeof grudge === 'object')
    for (const [node, dropped] of Object.entries(grudge as Record<string, unknown>))
      if (Array.isArray(dropped) && dropped.length > 0) hit.add(node);
  return nodeNames.filter((n) => hit.has(n));
}

/**
 * Runs one nemesis action and records it as an info pair from process "nemesis": the request (the fault's name),
 * then a NemesisRecord (what the fault did, the nodes it hit, the request, every node's role as it began).
 */
export async function recordNemesis(
  history: HistoryWriter,
  f: 'start' | 'heal',
  fault: Fault,
  action: () => Promise<FaultRecord>,
  info: ActionInfo = {},
): Promise<FaultRecord> {
  history.append({ process: 'nemesis', type: 'info', f, value: fault.name });
  const roles = await rolesNow(info.context);
  const nodeNames = info.context?.cluster.nodes.map((n) => n.name) ?? [];
  const request = {
    ...(info.params && Object.keys(info.params).length ? { params: { ...info.params } } : {}),
    ...(info.target !== undefined ? { target: info.target } : {}),
    ...(f === 'heal' ? { scope: info.scope ?? 'family' } : {}),
    ...(info.origin ? { origin: info.origin } : {}),
  };
  try {
    const done = await action();
    const nodes = info.nodes ? [...info.nodes] : nodesOfRecord(done, nodeNames);
    // The fault's own target and roles (as its resolver saw them) stay under their own names.
    const { target: resolvedTarget, roles: resolvedRoles, ...rest } = done;
    const value: NemesisRecord = {
      ...rest,
      ...(resolvedTarget !== undefined ? { resolvedTarget } : {}),
      ...(resolvedRoles !== undefined ? { resolvedRoles } : {}),
      fault: fault.name,
      ...(f === 'start' ? { family: fault.family } : {}),
      nodes,
      roles,
      ...request,
    };
    history.append({ process: 'nemesis', type: 'info', f, value });
    return done;
  } catch (err) {
    const value: NemesisRecord = {
      fault: fault.name,
      ...(f === 'start' ? { family: fault.family } : {}),
      nodes: info.nodes ? [...info.nodes] : [],
      roles,
      ...request,
    };
    history.append({ process: 'nemesis', type: 'info', f, value, error: (err as Error).message });
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
      await recordNemesis(history, 'heal', family, () => family.heal(context), {
        context,
        scope: 'family',
        origin: 'harness',
      });
    } catch (err) {
      errors.push(err as Error);
      context.log.warn(`heal of ${fault.family} failed: ${(err as Error).message}`);
    }
  }
  return errors;
}

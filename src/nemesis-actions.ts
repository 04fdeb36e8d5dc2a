// The nemesis actions of a run, read back from its history: pure (events in, actions out), so checkers, the report,
// replay and shrink read what each action did and to whom without reaching the servers. The nemesis writes the
// records (src/nemesis.ts recordNemesis); this module only reads them.
import type { HistoryEvent } from './history.js';

/** A node's role as a nemesis record gives it: what the role monitor (or a fast probe) last saw. */
export type NemesisRole = 'leader' | 'follower' | 'observer' | 'looking' | 'down' | 'unknown';

/**
 * The value of every nemesis completion event (process "nemesis", type info, f start or heal), besides what the
 * fault itself records (killed, grudge, shaped...). The invocation before it carries the fault's name alone.
 */
export interface NemesisRecord {
  /** The fault's name for a start (kill-one, partition-one@n2...); the family's name for a heal (process, partition). */
  fault: string;
  /** Starts only: the family whose heal undoes it (process for kill-one, partition...), which heals name. */
  family?: string;
  /** The nodes the action actually hit, resolved at action time (for a per-node heal: that node). */
  nodes: string[];
  /** Every node's role as the action began. */
  roles: Record<string, NemesisRole>;
  /** The params the request gave, if any. */
  params?: Record<string, number | string | boolean>;
  /** The requested target as written (leader, n1+n2, an `as:` name), if the request named one. */
  target?: string;
  /** Heals only: `node` healed the family's faults on `nodes` alone, `family` on every node. */
  scope?: 'node' | 'family';
  /** harness: the heals before and after the main phase; absent: the schedule's own action. */
  origin?: 'schedule' | 'harness';
  [detail: string]: unknown;
}

/** One nemesis action of a run, in order. */
export interface NemesisAction {
  /** When it was requested (its invocation), ms on the history's clock. */
  timeMs: number;
  /** When it completed, ms. */
  doneMs: number;
  kind: 'start' | 'heal';
  fault: string;
  /** Starts: the fault's family (absent in records from before it was recorded); heals: the family healed. */
  family?: string;
  nodes: string[];
  params?: Record<string, number | string | boolean>;
  target?: string;
  scope?: 'node' | 'family';
  roles: Record<string, NemesisRole>;
  /** harness: a heal of every family before or after the main phase, not one of the schedule's actions. */
  harness: boolean;
  error?: string;
  /** The whole recorded value, for what the fault itself said. */
  record: Record<string, unknown>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The nemesis start and heal actions of a history, in order. Records written before the contract (no `nodes`,
 * no `roles`) read as far as they go: missing lists are empty, a heal without scope is a family heal.
 */
export function readNemesisActions(events: readonly HistoryEvent[]): NemesisAction[] {
  const actions: NemesisAction[] = [];
  const invokedAt = new Map<string, number>();
  for (const e of events) {
    if (e.process !== 'nemesis' || (e.f !== 'start' && e.f !== 'heal')) continue;
    if (typeof e.value === 'string') {
      invokedAt.set(e.f, e.time);
      continue;
    }
    if (e.value === null || typeof e.value !== 'object') continue;
    const v = e.value as Record<string, unknown>;
    const at = invokedAt.get(e.f) ?? e.time;
    invokedAt.delete(e.f);
    const params =
      v.params && typeof v.params === 'object' ? (v.params as Record<string, number | string | boolean>) : undefined;
    const roles = v.roles && typeof v.roles === 'object' ? (v.roles as Record<string, NemesisRole>) : {};
    actions.push({
      timeMs: at / 1e6,
      doneMs: e.time / 1e6,
      kind: e.f,
      fault: typeof v.fault === 'string' ? v.fault : '?',
      ...(typeof v.family === 'string'
        ? { family: v.family }
        : e.f === 'heal' && typeof v.fault === 'string'
          ? { family: v.fault }
          : {}),
      nodes: strings(v.nodes),
      ...(params ? { params } : {}),
      ...(typeof v.target === 'string' ? { target: v.target } : {}),
      ...(e.f === 'heal' ? { scope: v.scope === 'node' ? ('node' as const) : ('family' as const) } : {}),
      roles,
      harness: v.origin === 'harness',
      ...(e.error !== undefined ? { error: e.error } : {}),
      record: v,
    });
  }
  return actions;
}

/** What fault families the catalogue's fault names belong to, for overlap counting (kill-one → process). */
export type FamilyOf = (fault: string) => string;

export interface FaultOverlap {
  /** The most faults active at once (a fault on two nodes counts once). */
  maxActive: number;
  /** The most nodes under some fault at once. */
  maxFaultyNodes: number;
  /** When the most faults were active, ms. */
  atMs: number | undefined;
}

/**
 * How far faults overlapped in a run: a start opens a fault on its nodes; a node-scoped heal closes the family's
 * faults on its nodes, a family heal every fault of the family. Faults that end by themselves (restart, disk) are
 * not passed as lasting when `lasting` says so.
 */
export function faultOverlap(
  actions: readonly NemesisAction[],
  familyOf: FamilyOf,
  lasting: (fault: string) => boolean = () => true,
): FaultOverlap {
  const open: { family: string; nodes: Set<string> }[] = [];
  let best: FaultOverlap = { maxActive: 0, maxFaultyNodes: 0, atMs: undefined };
  for (const a of actions) {
    if (a.error !== undefined) continue;
    if (a.kind === 'start') {
      if (!lasting(a.fault) || a.nodes.length === 0) continue;
      open.push({ family: a.family ?? familyOf(a.fault), nodes: new Set(a.nodes) });
    } else {
      for (let i = open.length - 1; i >= 0; i--) {
        const f = open[i]!;
        if (f.family !== a.fault) continue;
        if (a.scope === 'node') for (const n of a.nodes) f.nodes.delete(n);
        else f.nodes.clear();
        if (f.nodes.size === 0) open.splice(i, 1);
      }
    }
    const faulty = new Set(open.flatMap((f) => [...f.nodes])).size;
    if (open.length > best.maxActive)
      best = { maxActive: open.length, maxFaultyNodes: best.maxFaultyNodes, atMs: a.doneMs };
    if (faulty > best.maxFaultyNodes) best = { ...best, maxFaultyNodes: faulty };
  }
  return best;
}

// The nemesis actions a run recorded, read back from its history: what each start and heal did, to whom, when, and
// every node's role at that moment. Pure over history events, so replay and shrink are tested without servers.
// The composed schedule records `nodes`, `roles`, `params`, `target` and a heal's `scope` on every completion; older
// runs recorded fault-specific fields (killed, paused, isolated...), read here as a fallback.
// TODO(merge): unify with the composed branch's readNemesisActions.
import type { HistoryEvent } from '../history.js';

export type ParamValue = number | string | boolean;

export interface RecordedAction {
  f: 'start' | 'heal';
  /** The fault's name for a start; the family for a heal. */
  fault: string;
  /** When it was asked for and when it completed, ms since the history began. */
  invokedMs: number;
  completedMs: number;
  /** The nodes it actually hit (empty: the whole ensemble, or none recorded). */
  nodes: string[];
  params?: Record<string, ParamValue>;
  target?: string;
  /** Every node's role as the action saw it. */
  roles: Record<string, string>;
  /** A heal's reach: one node's fault, or the whole family. */
  scope?: 'node' | 'family';
  /** Nodes a heal of the process family started again (a `start:` step when it is one node). */
  started?: string[];
}

/** Fault-specific fields older records name their nodes in, in order of preference. */
const NODE_FIELDS = ['nodes', 'killed', 'paused', 'isolated', 'crashed', 'restarted', 'silenced'];

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function nodesOf(value: Record<string, unknown>): string[] {
  for (const field of NODE_FIELDS) if (isNames(value[field])) return [...value[field]];
  return [];
}

function paramsOf(value: unknown): Record<string, ParamValue> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(value))
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

function rolesOf(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The completed nemesis starts and heals of a history, in order; failed actions (with `error`) are left out, since
 * they did nothing to replay. Times are ms since the history began.
 */
export function readNemesisActions(events: readonly HistoryEvent[]): RecordedAction[] {
  const actions: RecordedAction[] = [];
  // The invocation of each action is its name alone; its completion follows, before the next invocation.
  let invokedNs: number | undefined;
  for (const e of events) {
    if (e.process !== 'nemesis' || e.type !== 'info' || (e.f !== 'start' && e.f !== 'heal')) continue;
    if (typeof e.value === 'string') {
      invokedNs = e.time;
      continue;
    }
    const value = e.value as Record<string, unknown> | null;
    if (e.error !== undefined || value === null || typeof value !== 'object' || typeof value.fault !== 'string') {
      invokedNs = undefined;
      continue;
    }
    const params = paramsOf(value.params);
    const scope = value.scope === 'node' || value.scope === 'family' ? value.scope : undefined;
    const started = isNames(value.started) ? [...value.started] : undefined;
    actions.push({
      f: e.f,
      fault: value.fault,
      invokedMs: Math.round((invokedNs ?? e.time) / 1e6),
      completedMs: Math.round(e.time / 1e6),
      nodes: nodesOf(value),
      ...(params ? { params } : {}),
      ...(typeof value.target === 'string' ? { target: value.target } : {}),
      roles: rolesOf(value.roles),
      ...(scope ? { scope } : {}),
      ...(started ? { started } : {}),
    });
    invokedNs = undefined;
  }
  return actions;
}

/** When the main phase's workload began: the first client invocation, ms since the history began. */
export function workloadStartMs(events: readonly HistoryEvent[]): number {
  const first = events.find((e) => typeof e.process === 'number' && e.type === 'invoke');
  return first ? Math.round(first.time / 1e6) : 0;
}

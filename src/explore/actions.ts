// The nemesis actions a run recorded, read back from its history: what each start and heal did, to whom, when, and
// every node's role at that moment. Pure over history events, so replay and shrink are tested without servers.
// The composed schedule records `nodes`, `roles`, `params`, `target` and a heal's `scope` on every completion; older
// runs recorded fault-specific fields (killed, paused, isolated...), read here as a fallback.
// The history is read by src/nemesis-actions.ts (the one reader); this adapts its actions to what replay needs.
import type { HistoryEvent } from '../history.js';
import { readNemesisActions as readActions } from '../nemesis-actions.js';

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
const NODE_FIELDS = ['killed', 'paused', 'isolated', 'crashed', 'restarted', 'silenced'];

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function legacyNodesOf(record: Record<string, unknown>): string[] {
  for (const field of NODE_FIELDS) if (isNames(record[field])) return [...record[field]];
  return [];
}

/**
 * The completed nemesis starts and heals of a history, in order; failed actions (with `error`) are left out, since
 * they did nothing to replay. Times are ms since the history began.
 */
export function readNemesisActions(events: readonly HistoryEvent[]): RecordedAction[] {
  return readActions(events)
    .filter((a) => a.error === undefined && a.fault !== '?')
    .map((a) => {
      const started = isNames(a.record.started) ? [...a.record.started] : undefined;
      const roles: Record<string, string> = Object.fromEntries(
        Object.entries(a.roles).filter((e) => typeof e[1] === 'string'),
      );
      return {
        f: a.kind,
        fault: a.fault,
        invokedMs: Math.round(a.timeMs),
        completedMs: Math.round(a.doneMs),
        nodes: a.nodes.length ? [...a.nodes] : legacyNodesOf(a.record),
        ...(a.params ? { params: { ...a.params } } : {}),
        ...(a.target !== undefined ? { target: a.target } : {}),
        roles,
        ...(a.kind === 'heal' && a.record.scope !== undefined ? { scope: a.scope } : {}),
        ...(started ? { started } : {}),
      };
    });
}

/** When the main phase's workload began: the first client invocation, ms since the history began. */
export function workloadStartMs(events: readonly HistoryEvent[]): number {
  const first = events.find((e) => typeof e.process === 'number' && e.type === 'invoke');
  return first ? Math.round(first.time / 1e6) : 0;
}

// The report's coordination view (issue #15): lock holds and leadership terms as bands per client process, and
// watch notifications as ticks per session. Built from the history alone, like the rest of the report data.
import { ELECTION_OPS, holdsOf, LOCK_OPS, type Hold } from '../checkers/holds.js';
import type { WatchOpValue } from '../checkers/watch.js';
import { pairOperations, type HistoryEvent } from '../history.js';

export interface CoordinationBand {
  process: number;
  token: string;
  /** ms on the history's clock. */
  start: number;
  end: number;
  endedBy: Hold['endedBy'];
  /** The holder's connection or session was in trouble during the hold. */
  troubled: boolean;
  /** Another process's hold began while this one was still on. */
  overlapped: boolean;
}

export interface CoordinationTick {
  process: number;
  /** ms: the completion of the op whose reply the notification came before (it arrived between that op's invoke and it). */
  time: number;
  type: string;
  path: string;
  zxid: string | null;
  conn: number;
}

export interface CoordinationView {
  kind: 'lock' | 'election' | 'watch';
  /** One row per process, in this order. */
  processes: number[];
  bands: CoordinationBand[];
  ticks: CoordinationTick[];
  /** One line saying what is drawn. */
  caption: string;
}

const MS = 1e-6;

export function buildCoordination(
  events: readonly HistoryEvent[],
  workload: string | undefined,
): CoordinationView | undefined {
  if (!workload) return undefined;
  const recipe = workload.startsWith('lock') ? LOCK_OPS : workload.startsWith('election') ? ELECTION_OPS : undefined;
  if (recipe) {
    const holds = holdsOf(events, recipe);
    const overlapped = new Set<Hold>();
    for (let i = 0; i < holds.length; i++)
      for (let j = i + 1; j < holds.length && holds[j]!.start < holds[i]!.end; j++)
        if (holds[j]!.process !== holds[i]!.process) overlapped.add(holds[i]!);
    const bands = holds.map((h) => ({
      process: h.process,
      token: h.token,
      start: h.start * MS,
      end: h.end * MS,
      endedBy: h.endedBy,
      troubled: h.trouble !== undefined,
      overlapped: overlapped.has(h),
    }));
    const name = recipe.kind === 'lock' ? 'lock holds' : 'leadership terms';
    return {
      kind: recipe.kind,
      processes: [...new Set(bands.map((b) => b.process))].sort((a, b) => a - b),
      bands,
      ticks: [],
      caption: `${bands.length} ${name} (${overlapped.size} overlapped by a later one, ${bands.filter((b) => b.troubled).length} whose holder lost its connection or session)`,
    };
  }
  if (workload !== 'watch') return undefined;
  const ticks: CoordinationTick[] = [];
  for (const op of pairOperations(events)) {
    const value = op.output as WatchOpValue | undefined;
    if (!value?.events || !Number.isFinite(op.completeTime)) continue;
    for (const e of value.events)
      ticks.push({
        process: op.process,
        time: op.completeTime * MS,
        type: e.type,
        path: e.path,
        zxid: e.zxid,
        conn: e.conn,
      });
  }
  const withZxid = ticks.filter((t) => t.zxid !== null).length;
  return {
    kind: 'watch',
    processes: [...new Set(ticks.map((t) => t.process))].sort((a, b) => a - b),
    bands: [],
    ticks,
    caption: `${ticks.length} watch notifications (${withZxid} carried the change's zxid), drawn at the reply they came before`,
  };
}

// Which events of a history happened before which. Checkers order events by `index`. For Faultline's own
// histories that is the truth (one thread records every event, in order, and times come from one monotonic clock),
// so the convention there is `recorded`. Another tool's timestamps may tie: a completion and an invocation with
// the same time may have happened in either order, and the safe reading (Porcupine's) is that they overlap.
// `concurrent` re-indexes the events by time so that, at equal times, invocations come before completions (each
// process keeping its own order): equal times then count as concurrent, never as "before".
import type { HistoryEvent } from '../history.js';

export type TiesConvention = 'recorded' | 'concurrent';
export const tiesConventions: readonly TiesConvention[] = ['recorded', 'concurrent'];

/** The events re-indexed under the convention (`recorded`: unchanged). */
export function applyTies(events: readonly HistoryEvent[], ties: TiesConvention): HistoryEvent[] {
  if (ties === 'recorded') return [...events];
  const byTime = events.map((_, i) => i).sort((a, b) => events[a]!.time - events[b]!.time || a - b);
  const out: HistoryEvent[] = [];
  for (let start = 0; start < byTime.length;) {
    let end = start + 1;
    while (end < byTime.length && events[byTime[end]!]!.time === events[byTime[start]!]!.time) end++;
    if (end - start === 1) out.push(events[byTime[start]!]!);
    else for (const e of orderTie(byTime.slice(start, end).map((i) => events[i]!))) out.push(e);
    start = end;
  }
  return out.map((e, index) => (e.index === index ? e : { ...e, index }));
}

/**
 * One group of equal times: repeatedly take the first (recorded) event that is next for its process and is an
 * invocation; when none is, the first that is next for its process. Quadratic in the group, which is small.
 */
function orderTie(group: HistoryEvent[]): HistoryEvent[] {
  const left = [...group];
  const out: HistoryEvent[] = [];
  while (left.length > 0) {
    const seen = new Set<unknown>();
    let pick = -1;
    let fallback = -1;
    for (let i = 0; i < left.length; i++) {
      const e = left[i]!;
      if (seen.has(e.process)) continue; // not this process's next event
      seen.add(e.process);
      if (fallback < 0) fallback = i;
      if (e.type === 'invoke') {
        pick = i;
        break;
      }
    }
    out.push(...left.splice(pick >= 0 ? pick : fallback, 1));
  }
  return out;
}

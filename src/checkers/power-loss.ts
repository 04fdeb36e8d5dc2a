// What ZooKeeper does not promise to keep: with forceSync=no it acknowledges writes it has not fsynced, so a power cut
// may take them, and with them the replicas' agreement. The power-loss faults' records say which nodes lost power and
// whether they ran with forceSync=no; the recovery checkers mark what such a cut explains as documented.
import type { HistoryEvent } from '../history.js';

/** A power cut of nodes that did not fsync their log (forceSync=no), as the fault's completion recorded it. */
export interface UnsyncedPowerCut {
  /** The completion event (after the revert). */
  index: number;
  time: number;
  nodes: string[];
}

export function unsyncedPowerCuts(history: readonly HistoryEvent[]): UnsyncedPowerCut[] {
  const cuts: UnsyncedPowerCut[] = [];
  for (const e of history) {
    if (e.process !== 'nemesis' || e.f !== 'start' || e.value === null || typeof e.value !== 'object') continue;
    const powerLoss = (e.value as { powerLoss?: unknown }).powerLoss;
    if (powerLoss === null || typeof powerLoss !== 'object') continue;
    const nodes = Object.entries(powerLoss as Record<string, { forceSync?: unknown }>)
      .filter(([, cut]) => cut.forceSync === false)
      .map(([node]) => node)
      .sort();
    if (nodes.length) cuts.push({ index: e.index, time: e.time, nodes });
  }
  return cuts;
}

/** The first forceSync=no power cut after `time` (ns), which may have taken what was acknowledged before it. */
export function unsyncedCutAfter(cuts: readonly UnsyncedPowerCut[], time: number): UnsyncedPowerCut | undefined {
  return cuts.find((c) => c.time > time);
}

export function describeCut(cut: UnsyncedPowerCut): string {
  return `${cut.nodes.join(', ')} lost power with forceSync=no (event ${cut.index}): ZooKeeper then acknowledges writes before they are on disk`;
}

// Hand-made histories for checker tests: events get consecutive indexes and times in call order.
import type { HistoryEvent } from '../../src/history.js';
import type { FinalZxids, NodeSnapshot } from '../../src/final-state.js';

type Extra = Partial<Pick<HistoryEvent, 'key' | 'node' | 'error' | 'zxid'>>;

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];

  private push(event: Omit<HistoryEvent, 'index' | 'time'>): HistoryEvent {
    const full = { index: this.events.length, time: this.events.length * 1_000_000, ...event };
    this.events.push(full);
    return full;
  }

  invoke(process: number, f: string, value: unknown, extra: Extra = {}): number {
    return this.push({ process, type: 'invoke', f, value, ...extra }).index;
  }

  complete(process: number, type: 'ok' | 'fail' | 'info', f: string, value: unknown, extra: Extra = {}): number {
    return this.push({ process, type, f, value, ...extra }).index;
  }

  /** An op that runs alone: invoke, then its completion. Returns the invoke's index. */
  op(
    process: number,
    f: string,
    input: unknown,
    type: 'ok' | 'fail' | 'info',
    output: unknown,
    extra: Extra = {},
  ): number {
    const { zxid, error, ...keyed } = extra;
    const index = this.invoke(process, f, input, keyed);
    this.complete(process, type, f, output, {
      ...keyed,
      ...(zxid !== undefined ? { zxid } : {}),
      ...(error !== undefined ? { error } : {}),
    });
    return index;
  }

  heal(): void {
    this.push({ process: 'nemesis', type: 'info', f: 'heal', value: { fault: 'kill-all' } });
  }

  /** A recovery read on one node; returns the index of its completion. */
  finalRead(node: string, state: unknown): number {
    this.push({ process: 'final', type: 'invoke', f: 'final-read', value: null, node });
    return this.push({ process: 'final', type: 'ok', f: 'final-read', value: state, node }).index;
  }

  finalZxids(nodes: Record<string, NodeSnapshot>, settled = true): void {
    this.push({ process: 'final', type: 'invoke', f: 'final-zxids', value: null });
    this.push({ process: 'final', type: 'ok', f: 'final-zxids', value: { nodes, settled } satisfies FinalZxids });
  }
}

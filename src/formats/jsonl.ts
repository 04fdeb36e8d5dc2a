// Writing Faultline's history.jsonl from events read in another format. (Reading it is src/history.ts.)
import type { HistoryEvent } from '../history.js';
import { exactJson } from './show.js';

/** One JSON object a line, keys in the order the recorder writes them; bigints as plain integers. */
export function toJsonl(events: readonly HistoryEvent[]): string {
  let out = '';
  for (const e of events) {
    const ordered: HistoryEvent = {
      index: e.index,
      time: e.time,
      process: e.process,
      type: e.type,
      f: e.f,
      value: e.value ?? null,
      ...(e.key !== undefined ? { key: e.key } : {}),
      ...(e.node !== undefined ? { node: e.node } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.zxid !== undefined ? { zxid: e.zxid } : {}),
    };
    out += exactJson(ordered) + '\n';
  }
  return out;
}

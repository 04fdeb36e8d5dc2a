// Jepsen's text log of a compare-and-set register (the etcd histories of Porcupine's corpus): lines like
// `INFO  jepsen.util - 3	:invoke	:cas	[1 4]` (process, type, f, value); every other line is noise. Values are
// EDN, read exactly (integers beyond 2^53 as bigints). Times are the line order.
import { UsageError } from '../errors.js';
import type { EventType, HistoryEvent } from '../history.js';
import { readEdnValues } from './edn.js';

export const jepsenLine = /jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:([\w-]+)\s*(.*?)\s*$/;
/** Some line of a text is a client op line of a Jepsen log. */
export const hasJepsenLine = /jepsen\.util\s+-\s+\d+\s+:(invoke|ok|fail|info)\s+:/;

function parseValue(text: string, where: string): unknown {
  if (text === '') return null;
  const values = readEdnValues(text, where);
  if (values.length !== 1)
    throw new UsageError(
      `${where}: cannot read the value "${text}"`,
      'Jepsen register logs carry one EDN value per line: nil, an integer or [old new].',
    );
  return (values[0] as { value: unknown }).value;
}

/**
 * `:fail :cas` becomes a fail with error "value-mismatch": in these logs (etcd) a failed compare-and-set says
 * the register did not hold `old`. A `:timed-out` completion (also `:fail :read :timed-out`) becomes info.
 */
export function parseJepsenLog(text: string, source = 'jepsen log'): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const m = jepsenLine.exec(lines[n] as string);
    if (!m) continue;
    const [, proc, rawType, f, rawValue] = m as unknown as [string, string, EventType, string, string];
    const event: HistoryEvent = {
      index: events.length,
      time: events.length,
      process: Number(proc),
      type: rawType,
      f,
      value: null,
    };
    if (rawValue === ':timed-out') {
      if (rawType !== 'invoke') event.type = 'info';
      event.error = 'timed-out';
    } else {
      event.value = parseValue(rawValue, `${source}:${n + 1}`);
      if (rawType === 'fail' && f === 'cas') event.error = 'value-mismatch';
    }
    events.push(event);
  }
  return events;
}

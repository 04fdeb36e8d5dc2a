// The log oracle's verdict: what the servers' logs said (server-logs.json, scanned by src/server-logs.ts) against the
// faults the history records. A match of an `invalid` pattern makes the run invalid unless a fault its pattern
// names came before it (then it is documented: a CRC error after a bit flip is what the bit flip is for); an
// `advisory` one is reported and decides nothing. Pure: logs and history in, verdict out.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import type { HistoryEvent } from '../history.js';
import { DEFAULT_LOG_PATTERNS, type LogPattern, type ServerLogs } from '../server-logs.js';

/** When each fault started (its invoke), by name, from the history's nemesis events. */
export function faultStarts(history: readonly HistoryEvent[]): { name: string; time: number; index: number }[] {
  return (
    history
      // A disaster-recovery backup acts on the ensemble as faults do: the stopped copy stops a follower and starts it.
      .filter((e) => e.process === 'nemesis' && (e.f === 'start' || e.f === 'backup') && typeof e.value === 'string')
      .map((e) => ({ name: e.value as string, time: e.time, index: e.index }))
  );
}

/** A pattern's first match on a node: what the report marks on the history graph. */
export interface LogMark {
  node: string;
  pattern: string;
  /** On the history's clock (ns). */
  time: number | null;
  line: number;
  text: string;
  documented: boolean;
}

export function judgeServerLogs(
  logs: ServerLogs,
  history: readonly HistoryEvent[],
  patterns: readonly LogPattern[] = DEFAULT_LOG_PATTERNS,
): CheckerResult {
  const byName = new Map(patterns.map((p) => [p.name, p]));
  const starts = faultStarts(history);
  const anomalies: Anomaly[] = [];
  const counts: Record<string, number> = {};
  const first: LogMark[] = [];
  let undocumented = 0;
  for (const [node, log] of Object.entries(logs.nodes).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [name, n] of Object.entries(log.counts)) counts[name] = (counts[name] ?? 0) + n;
    // One anomaly per node and pattern (its first kept line): a thread that dies in a loop is one finding.
    const seen = new Set<string>();
    for (const finding of log.findings) {
      const pattern = byName.get(finding.pattern);
      if (!pattern || seen.has(pattern.name)) continue;
      seen.add(pattern.name);
      const explained =
        pattern.documentedAfter &&
        starts.find((s) => pattern.documentedAfter!.test(s.name) && (finding.time === null || s.time <= finding.time));
      const documented = pattern.severity === 'advisory' || explained !== undefined;
      if (!documented) undocumented++;
      first.push({
        node,
        pattern: pattern.name,
        time: finding.time,
        line: finding.line,
        text: finding.text,
        documented,
      });
      anomalies.push({
        type: `log-${pattern.name}`,
        ops: explained ? [explained.index] : [],
        description:
          `${node}: ${pattern.description} (×${log.counts[pattern.name] ?? 1}, first at line ${finding.line}): ${finding.text}` +
          `${finding.detail[0] ? ` — ${finding.detail[0]}` : ''}` +
          (explained ? ` [after ${explained.name}]` : pattern.severity === 'advisory' ? ' [advisory]' : ''),
        ...(documented ? { documented: true } : {}),
      });
    }
  }
  const nodes = Object.keys(logs.nodes).length;
  return {
    valid: nodes === 0 ? 'unknown' : undocumented === 0,
    counts,
    anomalies,
    ...(nodes === 0 ? { reason: 'no server log was read' } : {}),
    first,
  };
}

/** The checker: the logs come with the check's context (the runner scans them after the run). */
export function serverLogChecker(patterns: readonly LogPattern[] = DEFAULT_LOG_PATTERNS): Checker {
  return {
    check(history, context) {
      const logs = context.serverLogs;
      if (!logs) return Promise.resolve({ valid: 'unknown', reason: 'the run recorded no server-logs.json' });
      return Promise.resolve(judgeServerLogs(logs, history, patterns));
    },
  };
}

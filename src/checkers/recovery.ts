// The restart oracle: a node that did not serve again within the recovery timeout after the final heal is an
// anomaly `node-did-not-recover`, with its log's last errors, rather than only a timeout. It is documented when a
// fault deliberately damaged that node's data (a disk fault's record names it among `damaged`): whether ZooKeeper
// should have survived that damage is the disk checkers' question. Pure: history and server logs in, verdict out.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { FINAL_RECOVERY, type FinalRecovery } from '../final-state.js';
import type { HistoryEvent } from '../history.js';
import type { LogFinding, ServerLogs } from '../server-logs.js';

/** The nodes each disk fault damaged, with the index of the fault's completion. */
function damagedNodes(history: readonly HistoryEvent[]): Map<string, { fault: string; index: number }> {
  const damaged = new Map<string, { fault: string; index: number }>();
  for (const e of history) {
    if (e.process !== 'nemesis' || e.f !== 'start' || e.value === null || typeof e.value !== 'object') continue;
    const value = e.value as { fault?: unknown; damaged?: unknown };
    if (typeof value.fault !== 'string' || !value.fault.startsWith('disk-')) continue;
    if (value.damaged === null || typeof value.damaged !== 'object') continue;
    for (const node of Object.keys(value.damaged)) damaged.set(node, { fault: value.fault, index: e.index });
  }
  return damaged;
}

/** A node's last words: its last ERROR entries (else its last WARN ones), with the first line of each's exception. */
export function lastErrors(tail: readonly LogFinding[], count = 3): string[] {
  const errors = tail.filter((f) => f.level === 'ERROR' || f.level === 'FATAL');
  return (errors.length ? errors : tail)
    .slice(-count)
    .map((f) => `line ${f.line}: ${f.text}${f.detail[0] ? ` — ${f.detail[0]}` : ''}`);
}

export function judgeRecovery(history: readonly HistoryEvent[], logs?: ServerLogs): CheckerResult {
  const failed = history.filter((e) => e.process === 'final' && e.f === FINAL_RECOVERY && e.type === 'fail');
  const damaged = damagedNodes(history);
  const anomalies: Anomaly[] = [];
  const lastWords: Record<string, string[]> = {};
  for (const event of failed) {
    const value = event.value as FinalRecovery;
    for (const [node, state] of Object.entries(value.nodes).sort(([a], [b]) => a.localeCompare(b))) {
      if (state.serving) continue;
      const words = lastErrors(logs?.nodes[node]?.tail ?? []);
      lastWords[node] = words;
      const cause = damaged.get(node);
      anomalies.push({
        type: 'node-did-not-recover',
        ops: [event.index, ...(cause ? [cause.index] : [])],
        description:
          `${node} did not serve within ${value.timeoutS} s of the final heal (${value.reason}; its server process ` +
          `${state.running ? `runs, ${state.mode ?? 'not answering'}` : 'is not running'})` +
          (cause ? `, after ${cause.fault} damaged its data` : '') +
          (words.length
            ? `. Its log's last errors: ${words.join(' | ')}`
            : logs
              ? '. Its log has no warning or error.'
              : ''),
        ...(cause ? { documented: true } : {}),
      });
    }
  }
  return {
    valid: anomalies.every((a) => a.documented === true),
    counts: { notRecovered: anomalies.length },
    anomalies,
    ...(Object.keys(lastWords).length ? { lastErrors: lastWords } : {}),
  };
}

export const recoveryChecker: Checker = {
  check(history, context) {
    return Promise.resolve(judgeRecovery(history, context.serverLogs));
  },
};

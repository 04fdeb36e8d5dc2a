// server-logs.json: what the log oracle read in each server's log after the run (src/server-logs.ts scans it, the
// log and restart checkers judge it). Written once per run; `faultline analyze` scans the logs again when a run
// has none (an older run, or one whose harness died before it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { scanServerLog, type LogPattern, type ServerLogs } from '../server-logs.js';
import { readStoreFile, STORE_FORMAT } from './format.js';
import { writeJson } from './index.js';

export const SERVER_LOGS_FILE = 'server-logs.json';
/** Where each node's log is, inside the run directory. */
export const nodeLogPath = (runDir: string, node: string): string =>
  join(runDir, 'nodes', node, 'logs', 'zookeeper.log');

const findingSchema = z.object({
  pattern: z.string(),
  line: z.number(),
  time: z.number().nullable(),
  level: z.string(),
  text: z.string(),
  detail: z.array(z.string()),
});

export const serverLogsSchema = z.object({
  format: z.literal(STORE_FORMAT),
  historyStartMs: z.number(),
  patterns: z.array(z.string()),
  nodes: z.record(
    z.string(),
    z.object({
      lines: z.number(),
      counts: z.record(z.string(), z.number()),
      findings: z.array(findingSchema),
      tail: z.array(findingSchema),
    }),
  ),
});
// The schema and the scanner's type say the same thing.
const _same: ServerLogs = {} as Omit<z.infer<typeof serverLogsSchema>, 'format'>;
void _same;

/** Scans the logs of the named nodes in a run directory (a node without a log gets an empty entry). */
export function scanRunLogs(
  runDir: string,
  nodes: readonly string[],
  patterns: readonly LogPattern[],
  historyStartMs: number,
): ServerLogs {
  return {
    historyStartMs,
    patterns: patterns.map((p) => p.name),
    nodes: Object.fromEntries(
      nodes.map((node) => {
        const path = nodeLogPath(runDir, node);
        const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
        return [node, scanServerLog(text, patterns, historyStartMs)];
      }),
    ),
  };
}

export function writeServerLogs(runDir: string, logs: ServerLogs): void {
  writeJson(join(runDir, SERVER_LOGS_FILE), { format: STORE_FORMAT, ...logs });
}

export function readServerLogs(runDir: string): ServerLogs | undefined {
  const path = join(runDir, SERVER_LOGS_FILE);
  if (!existsSync(path)) return undefined;
  const { format: _format, ...logs } = readStoreFile(path, serverLogsSchema, SERVER_LOGS_FILE);
  return logs;
}

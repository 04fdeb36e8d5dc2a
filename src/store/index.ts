// The run store: results/<test>/<timestamp>/ with history, verdicts, config, logs; results/latest → newest run.
// Gates and comparisons keep their own directories under results/gates and results/compares, each with its runs.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { nameSchema } from '../config.js';
import { UsageError } from '../errors.js';

export const HISTORY_FILE = 'history.jsonl';
export const RESULTS_FILE = 'results.json';
export const TEST_FILE = 'test.json';
export const HARNESS_LOG = 'harness.log';
export const LATEST_LINK = 'latest';

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Creates a fresh directory <root>/<name>/<timestamp> and points <root>/latest at it. The name is checked here
 * too (it becomes a path): no separators, no dot-dot, never `latest`.
 */
export function createRunDir(resultsRoot: string, name: string, now = new Date()): string {
  const checked = nameSchema.safeParse(name);
  if (!checked.success) {
    throw new UsageError(
      `bad name "${name}": ${checked.error.issues[0]?.message}`,
      'Choose a name such as register-kill.',
    );
  }
  const root = resolve(resultsRoot);
  const base = join(root, name, timestamp(now));
  let dir = base;
  for (let i = 1; existsSync(dir); i++) dir = `${base}-${i}`;
  mkdirSync(dir, { recursive: true });
  pointLatestAt(root, dir);
  return dir;
}

/** Replaces the latest link atomically (a new link renamed over the old one), so readers never see it missing. */
function pointLatestAt(root: string, dir: string): void {
  const latest = join(root, LATEST_LINK);
  const next = join(root, `.${LATEST_LINK}-${process.pid}-${Date.now()}`);
  rmSync(next, { force: true });
  symlinkSync(relative(root, dir), next);
  renameSync(next, latest);
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

export function readJson<T>(path: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(
      `${what} not found: ${path}`,
      'Give a run directory written by `faultline test` (results/<test>/<timestamp>).',
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UsageError(`${what} is not valid JSON: ${path}`, 'Restore the file, or rerun the test.');
  }
}

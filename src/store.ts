// The run store: results/<test>/<timestamp>/ with history, verdicts, config, logs; results/latest → newest run.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UsageError } from './errors.js';

export const HISTORY_FILE = 'history.jsonl';
export const RESULTS_FILE = 'results.json';
export const TEST_FILE = 'test.json';
export const HARNESS_LOG = 'harness.log';

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Creates a fresh run directory and points results/latest at it. */
export function createRunDir(resultsRoot: string, testName: string, now = new Date()): string {
  const base = join(resolve(resultsRoot), testName, timestamp(now));
  let dir = base;
  for (let i = 1; existsSync(dir); i++) dir = `${base}-${i}`;
  mkdirSync(dir, { recursive: true });
  const latest = join(resolve(resultsRoot), 'latest');
  rmSync(latest, { force: true });
  symlinkSync(relative(resolve(resultsRoot), dir), latest);
  return dir;
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

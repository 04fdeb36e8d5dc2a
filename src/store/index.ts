// The run store: results/<test>/<timestamp>/ with history, verdicts, config, logs; results/latest → newest run.
// Gates and comparisons keep their own directories under results/gates and results/compares, each with its runs.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { nameSchema } from '../config.js';
import { describeFailure, UsageError } from '../errors.js';

export const HISTORY_FILE = 'history.jsonl';
export const RESULTS_FILE = 'results.json';
/** Space a run holds in its directory until it writes its verdict (given back then, or when it fails). */
export const RESULTS_RESERVE = '.results-reserve';
export const RESULTS_RESERVE_BYTES = 1 << 20;
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
 * Makes sure runs can be written under resultsRoot, creating it (one level at a time: Node's recursive mkdir spins
 * forever under /proc) and proving it writable with a probe directory. Run before anything starts, so a read-only
 * or impossible --results-dir is one usage error, not a stack trace after the ensemble ran.
 */
export function ensureResultsDir(resultsRoot: string): string {
  const root = resolve(resultsRoot);
  const fix =
    'Give --results-dir a directory you can write to (or create it, or fix its permissions), e.g. --results-dir ./results.';
  const missing: string[] = [];
  let existing = root;
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const fail = (what: string, err?: unknown): never => {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const words = code ? ` (${describeFailure(err)})` : '';
    throw new UsageError(`the results directory ${root} cannot be used: ${what}${words}`, fix);
  };
  if (!statSync(existing).isDirectory()) fail(`${existing} is not a directory`);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      fail(`cannot create ${dir}`, err);
    }
  }
  const probe = join(root, `.faultline-write-probe-${process.pid}`);
  try {
    accessSync(root, constants.W_OK);
    mkdirSync(probe);
    rmdirSync(probe);
  } catch (err) {
    fail('it is not writable', err);
  }
  return root;
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
  const root = ensureResultsDir(resultsRoot);
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

// Joining the shards of a gate (`gate --shard I/N` on N machines) into one gate: the same runs, in the plan's order,
// as one unsharded gate would list them. Shards of different suites, seeds, settings or builds are refused; a shard
// that is missing, or stopped before all its runs, leaves its runs unknown, never passed.
import { join, relative, sep } from 'node:path';
import { HarnessError } from '../errors.js';
import type { GateMerge, GateResult, GateShard, RunRecord } from '../store/gate.js';
import { STORE_FORMAT } from '../store/format.js';
import { canonicalJson, shardLabel } from './shard.js';
import { summarizeGate } from './outputs.js';

/** A gate.json as found, and the directory it was found in (which may not be where it was written). */
export interface FoundGate {
  dir: string;
  gate: GateResult;
}

/** Shards that do not belong together: the message names which, and how they differ. Exit 3, never a verdict. */
export class ShardMismatchError extends HarnessError {
  constructor(message: string, fix: string) {
    super(message, fix);
    this.name = 'ShardMismatchError';
  }
}

type Sharded = FoundGate & { shard: GateShard };

function describe(found: Sharded): string {
  return `shard ${shardLabel(found.shard)} (${found.dir})`;
}

/**
 * Refuses unless every shard has the same value of `what`; the message lists each value with its shards
 * (`of`: what they would be shards of, a gate or an explore).
 */
export function requireSameAcross<T>(
  shards: readonly T[],
  of: string,
  what: string,
  value: (s: T) => string,
  name: (s: T) => string,
  fix: string,
): void {
  const groups = new Map<string, T[]>();
  for (const s of shards) groups.set(value(s), [...(groups.get(value(s)) ?? []), s]);
  if (groups.size <= 1) return;
  const lines = [...groups].map(([v, group]) => `  ${v}: ${group.map(name).join(', ')}`);
  throw new ShardMismatchError(`these shards are not of one ${of}: their ${what} differ\n${lines.join('\n')}`, fix);
}

const requireSame = (shards: Sharded[], what: string, value: (s: Sharded) => string, fix: string): void =>
  requireSameAcross(shards, 'gate', what, value, describe, fix);

/** A path written below `writtenDir`, as found after the tree was copied: below `foundDir` (others as they are). */
export function relocateBelow(path: string | null, writtenDir: string, foundDir: string): string | null {
  if (path === null) return null;
  const rel = relative(writtenDir, path);
  if (rel.startsWith('..') || rel === '' || rel.startsWith(sep)) return path;
  return join(foundDir, rel);
}

/** The run dir as found after the tree was copied: below the shard's gate dir wherever that dir is now. */
const relocate = (runDir: string | null, shard: GateShard, foundDir: string): string | null =>
  relocateBelow(runDir, shard.gateDir, foundDir);

function missingRecord(ref: GateShard['planned'][number], count: number, why: string): RunRecord {
  return {
    group: ref.group,
    repetition: ref.repetition,
    seed: ref.seed,
    server: ref.server,
    valid: 'unknown',
    runId: null,
    runDir: null,
    durationMs: 0,
    serverVersion: null,
    anomalies: [],
    undecided: [],
    error: `shard ${ref.shard}/${count} ${why}`,
    metrics: null,
    shard: ref.shard,
  };
}

/** An explore its shard did not deliver: no trial, so it counts as unknown, never as passed. */
function missingExplore(
  ref: GateShard['plannedExplores'][number],
  count: number,
  why: string,
  startedAt: string,
): GateResult['explores'][number] {
  return {
    test: ref.test,
    dir: '',
    shard: ref.shard,
    record: {
      format: STORE_FORMAT,
      seed: ref.seed,
      server: ref.server,
      startedAt,
      durationMs: 0,
      budget: { seconds: null, trials: null, keepGoing: false },
      parallel: 0,
      counts: { trials: 0, valid: 0, invalid: 0, unknown: 0 },
      timeToFirstFailureMs: null,
      trialsPerHour: 0,
      aborted: `shard ${ref.shard}/${count} ${why}`,
      trials: [],
      findings: [],
    },
  };
}

/** What every kind of shard records: which of how many, and the Faultline that ran it. */
interface ShardIdentity {
  index: number;
  count: number;
  harness: { version: string; commit: string | null };
}

/**
 * The checks every merge makes: something to merge, only shards, one shard count, one Faultline build, no shard
 * twice. Returns the shards with their identity, and by index.
 */
export function indexShards<T extends { dir: string }, S extends ShardIdentity>(
  found: readonly T[],
  kind: 'gate' | 'explore',
  identity: (f: T) => { shard?: S; merged: boolean },
): { shards: (T & { shard: S })[]; byIndex: Map<number, T & { shard: S }> } {
  const file = `${kind}.json`;
  if (found.length === 0)
    throw new ShardMismatchError(
      'no shard to merge',
      `Give the ${kind} directories (or results trees) that \`faultline ${kind} --shard I/N\` wrote.`,
    );
  const whole = found.find((f) => identity(f).shard === undefined);
  if (whole)
    throw new ShardMismatchError(
      `${join(whole.dir, file)} is ${identity(whole).merged ? `a merged ${kind}` : `a whole ${kind} (run without --shard)`}, not a shard`,
      `Merge only what \`faultline ${kind} --shard I/N\` wrote; leave this one out.`,
    );
  const shards = found.map((f) => ({ ...f, shard: identity(f).shard! }));
  const name = (s: T & { shard: S }): string => `shard ${shardLabel(s.shard)} (${s.dir})`;
  requireSameAcross(
    shards,
    kind,
    'shard counts',
    (s) => String(s.shard.count),
    name,
    `Every shard of a ${kind} must be run with the same N in --shard I/N.`,
  );
  requireSameAcross(
    shards,
    kind,
    'Faultline builds',
    (s) => `${s.shard.harness.version} at ${s.shard.harness.commit ?? 'unknown commit'}`,
    name,
    'Run every shard with the same Faultline (one commit, or one runner image), then merge.',
  );
  const byIndex = new Map<number, T & { shard: S }>();
  for (const s of shards) {
    const twice = byIndex.get(s.shard.index);
    if (twice)
      throw new ShardMismatchError(
        `shard ${shardLabel(s.shard)} is given twice: ${twice.dir} and ${s.dir}`,
        'Keep one of them (e.g. the retried one) and merge again.',
      );
    byIndex.set(s.shard.index, s);
  }
  return { shards, byIndex };
}

/**
 * One gate from the shards of one: every planned run and explore in plan order, each marked with its shard. The
 * merged gate starts when the first shard started and lasts until the last one ended.
 */
export function mergeShards(found: readonly FoundGate[]): GateResult {
  const { shards, byIndex } = indexShards(found, 'gate', (f) => ({
    ...(f.gate.shard ? { shard: f.gate.shard } : {}),
    merged: f.gate.merged !== undefined,
  }));
  const first = shards[0]!;
  requireSame(shards, 'suites', (s) => s.gate.suite, 'Merge the shards of one suite at a time.');
  requireSame(
    shards,
    'command-line settings',
    (s) => canonicalJson(s.shard.overrides),
    'Run every shard with the same flags (e.g. the same --server and --seed).',
  );
  requireSame(
    shards,
    'plans (the suite files, seeds or settings of their runs)',
    (s) => s.shard.plan,
    'Run every shard from the same suite file and settings; `faultline gate SUITE --shard I/N --dry-run` lists each plan.',
  );
  const count = first.shard.count;
  // One server build reports one version: shards that ran different builds under one name are no single gate.
  const versions = new Map<string, Map<string, Set<number>>>();
  for (const s of shards)
    for (const r of s.gate.runs) {
      if (r.serverVersion === null) continue;
      const seen = versions.get(r.server) ?? new Map<string, Set<number>>();
      seen.set(r.serverVersion, (seen.get(r.serverVersion) ?? new Set()).add(s.shard.index));
      versions.set(r.server, seen);
    }
  for (const [server, seen] of versions)
    if (seen.size > 1)
      throw new ShardMismatchError(
        `these shards ran different builds of ${server}:\n${[...seen]
          .map(([v, idx]) => `  ${v}: shard ${[...idx].map((i) => `${i}/${count}`).join(', ')}`)
          .join('\n')}`,
        'Build the same server image on every machine (the same Debian snapshot or tarball), rerun the odd shards, then merge.',
      );

  const runs: RunRecord[] = [];
  for (const ref of first.shard.planned) {
    const s = byIndex.get(ref.shard);
    if (!s) {
      runs.push(missingRecord(ref, count, 'is missing: its runs were not merged'));
      continue;
    }
    const record = s.gate.runs.find((r) => r.group === ref.group && r.repetition === ref.repetition);
    runs.push(
      record
        ? { ...record, runDir: relocate(record.runDir, s.shard, s.dir), shard: ref.shard }
        : missingRecord(ref, count, 'did not run it (stopped early or interrupted)'),
    );
  }
  const explores: GateResult['explores'] = first.shard.plannedExplores.map((ref) => {
    const s = byIndex.get(ref.shard);
    const done = s?.gate.explores.find((e) => e.test === ref.test);
    if (s && done) return { ...done, dir: relocate(done.dir, s.shard, s.dir)!, shard: ref.shard };
    const why = s ? 'did not run it (stopped early or interrupted)' : 'is missing: its explore was not merged';
    return missingExplore(ref, count, why, shards[0]!.gate.startedAt);
  });
  for (const s of shards)
    for (const e of s.gate.explores)
      if (!first.shard.plannedExplores.some((p) => p.test === e.test && p.shard === s.shard.index))
        throw new ShardMismatchError(
          `${describe(s)} holds explore ${e.test}, which its plan gives to another shard or does not list`,
          'The gate.json was edited, mixed up or written by an older Faultline; rerun that shard.',
        );
  const planned = new Set(first.shard.planned.map((r) => `${r.shard}:${r.group}#${r.repetition}`));
  for (const s of shards)
    for (const r of s.gate.runs)
      if (!planned.has(`${s.shard.index}:${r.group}#${r.repetition}`))
        throw new ShardMismatchError(
          `${describe(s)} holds run ${r.group} #${r.repetition + 1}, which its plan gives to another shard`,
          'The gate.json was edited or mixed up; rerun that shard.',
        );

  const starts = shards.map((s) => Date.parse(s.gate.startedAt));
  const ends = shards.map((s) => Date.parse(s.gate.startedAt) + s.gate.durationMs);
  const startedAt = Math.min(...starts);
  const servers = new Set(shards.map((s) => s.gate.server));
  const merged: GateMerge = {
    count,
    plan: first.shard.plan,
    harness: first.shard.harness,
    shards: Array.from({ length: count }, (_, i) => {
      const s = byIndex.get(i + 1);
      // Runs and explores alike: a missing explore is work the shard did not deliver.
      const plannedHere =
        first.shard.planned.filter((r) => r.shard === i + 1).length +
        first.shard.plannedExplores.filter((e) => e.shard === i + 1).length;
      return s
        ? {
            index: i + 1,
            gateDir: s.dir,
            startedAt: s.gate.startedAt,
            durationMs: s.gate.durationMs,
            verdict: s.gate.verdict,
            runs: s.gate.runs.length + s.gate.explores.length,
            missing: plannedHere - s.gate.runs.length - s.gate.explores.length,
          }
        : {
            index: i + 1,
            gateDir: null,
            startedAt: null,
            durationMs: null,
            verdict: 'unknown' as const,
            runs: 0,
            missing: plannedHere,
          };
    }),
  };
  const gate = summarizeGate(
    first.gate.suite,
    servers.size === 1 ? first.gate.server : null,
    new Date(startedAt),
    runs,
    explores,
  );
  return { ...gate, durationMs: Math.max(...ends) - startedAt, merged };
}

/** Shards that `mergeShards` found missing or short, as one line each for the terminal. */
export function missingShards(gate: GateResult): string[] {
  return (gate.merged?.shards ?? [])
    .filter((s) => s.missing > 0)
    .map((s) =>
      s.gateDir === null
        ? `shard ${s.index}/${gate.merged!.count} is missing (${s.missing} runs unknown)`
        : `shard ${s.index}/${gate.merged!.count} recorded ${s.runs} of ${s.runs + s.missing} runs (${s.missing} unknown): ${s.gateDir}`,
    );
}

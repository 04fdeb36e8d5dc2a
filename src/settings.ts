// Per-run ZooKeeper settings as users write them (flags, YAML test files, suites, compare variants), validated
// with zod and turned into the ZooKeeperConfig the database renders (zoo.cfg lines and JVM system properties).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { DEFAULT_ZOOKEEPER_CONFIG, type ZooKeeperConfig } from './zookeeper.js';

const whole = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

/** yes/no, true/false, on/off: YAML and flags both spell booleans in several ways. */
const yesNo = (name: string) =>
  z
    .union([z.boolean(), z.enum(['yes', 'no', 'true', 'false', 'on', 'off'])], { error: `${name} must be yes or no` })
    .transform((v) => v === true || v === 'yes' || v === 'true' || v === 'on');

/** Every ZooKeeper setting that matters for recovery. Unknown keys are errors, so a typo never goes unnoticed. */
export const zooKeeperSettingsSchema = z.strictObject(
  {
    tickTime: whole('tickTime', 100, 60_000).optional(),
    initLimit: whole('initLimit', 1, 1000).optional(),
    syncLimit: whole('syncLimit', 1, 1000).optional(),
    /** Transactions between snapshots. */
    snapCount: whole('snapCount', 2, 100_000_000).optional(),
    /** Transaction log preallocation, KiB. */
    preAllocSize: whole('preAllocSize', 1, 10_000_000).optional(),
    forceSync: yesNo('forceSync').optional(),
    autopurge: z
      .strictObject({
        snapRetainCount: whole('autopurge.snapRetainCount', 3, 1000).optional(),
        purgeInterval: whole('autopurge.purgeInterval', 0, 10_000).optional(),
      })
      .optional(),
    /** zookeeper.db.autocreate: may a server with an empty data dir start afresh? */
    dbAutocreate: yesNo('dbAutocreate').optional(),
    /** zookeeper.snapshot.trust.empty: may a server trust a log without snapshot? */
    snapshotTrustEmpty: yesNo('snapshotTrustEmpty').optional(),
    heapMb: whole('heapMb', 64, 65_536).optional(),
    observers: whole('observers', 0, 2).optional(),
    /** Any other zoo.cfg line. */
    extra: z
      .record(
        z.string().regex(/^[A-Za-z][\w.]*$/, 'extra keys are zoo.cfg keys such as maxSessionTimeout'),
        z.union([z.string(), z.number(), z.boolean()]).transform(String),
      )
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown ZooKeeper setting ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : undefined,
  },
);

export type ZooKeeperSettings = z.output<typeof zooKeeperSettingsSchema>;
export type ZooKeeperSettingsInput = z.input<typeof zooKeeperSettingsSchema>;

export const SETTING_NAMES = Object.keys(zooKeeperSettingsSchema.shape);

/** Later settings win; autopurge and extra merge key by key. */
export function mergeSettings(...layers: (ZooKeeperSettings | undefined)[]): ZooKeeperSettings {
  const merged: ZooKeeperSettings = {};
  for (const layer of layers) {
    if (!layer) continue;
    const { autopurge, extra, ...plain } = layer;
    Object.assign(merged, plain);
    if (autopurge) merged.autopurge = { ...merged.autopurge, ...autopurge };
    if (extra) merged.extra = { ...merged.extra, ...extra };
  }
  return merged;
}

/** zoo.cfg lines for what zoo.cfg accepts; JVM properties for what ZooKeeper reads only from the JVM. */
export function toZooKeeperConfig(
  settings: ZooKeeperSettings,
  base: ZooKeeperConfig = DEFAULT_ZOOKEEPER_CONFIG,
): ZooKeeperConfig {
  const extra: Record<string, string> = { ...base.extra };
  // zoo.cfg keys QuorumPeerConfig does not know become zookeeper.<key> system properties: snapCount, preAllocSize, forceSync.
  if (settings.snapCount !== undefined) extra.snapCount = String(settings.snapCount);
  if (settings.preAllocSize !== undefined) extra.preAllocSize = String(settings.preAllocSize);
  if (settings.forceSync !== undefined) extra.forceSync = settings.forceSync ? 'yes' : 'no';
  if (settings.autopurge?.snapRetainCount !== undefined)
    extra['autopurge.snapRetainCount'] = String(settings.autopurge.snapRetainCount);
  if (settings.autopurge?.purgeInterval !== undefined)
    extra['autopurge.purgeInterval'] = String(settings.autopurge.purgeInterval);
  Object.assign(extra, settings.extra);
  const jvmProperties: Record<string, string> = { ...base.jvmProperties };
  if (settings.dbAutocreate !== undefined) jvmProperties['zookeeper.db.autocreate'] = String(settings.dbAutocreate);
  if (settings.snapshotTrustEmpty !== undefined)
    jvmProperties['zookeeper.snapshot.trust.empty'] = String(settings.snapshotTrustEmpty);
  return {
    tickTime: settings.tickTime ?? base.tickTime,
    initLimit: settings.initLimit ?? base.initLimit,
    syncLimit: settings.syncLimit ?? base.syncLimit,
    heapMb: settings.heapMb ?? base.heapMb,
    extra,
    observers: settings.observers ?? base.observers ?? 0,
    jvmProperties,
  };
}

/** One zod issue as "where: what". */
export function describeIssue(issue: z.core.$ZodIssue, prefix = ''): string {
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Parses with a schema; a failure is a UsageError listing every problem with its place. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string, fix: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 8).map((i) => describeIssue(i));
  throw new UsageError(`${what} is not valid:\n  ${problems.join('\n  ')}`, fix);
}

/**
 * `key=value,key=value` as in `--zk forceSync=no,snapCount=1000` or a compare variant. Dotted keys nest
 * (autopurge.purgeInterval=1); keys outside the settings go to `extra` only when spelled extra.<zoo.cfg key>.
 */
export function parseSettingsList(text: string, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `${what}: "${pair}" is not key=value`,
        'Write settings as key=value pairs separated by commas, e.g. forceSync=no,tickTime=2000.',
      );
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const [head, ...rest] = key.split('.');
    if (rest.length > 0) {
      const inner = (out[head!] ??= {}) as Record<string, unknown>;
      inner[rest.join('.')] = value;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Reads a YAML file; a syntax error names the file and line. */
export function readYamlFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${what} not found: ${path}`, 'Check the path.');
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(
      `${what} ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      'Fix the YAML syntax at the place named.',
    );
  }
}

/** Flags for the settings that `faultline test` had no flag for (tick-time and sync-limit it has). */
export interface ZooKeeperFlags {
  initLimit?: string;
  snapCount?: string;
  preAllocSize?: string;
  forceSync?: string;
  autopurgeInterval?: string;
  autopurgeRetain?: string;
  dbAutocreate?: string;
  snapshotTrustEmpty?: string;
  heap?: string;
  observers?: string;
  zk?: string;
}

export function addZooKeeperOptions(command: Command): Command {
  return command
    .option('--init-limit <ticks>', 'ZooKeeper initLimit')
    .option('--snap-count <n>', 'ZooKeeper snapCount (transactions between snapshots)')
    .option('--pre-alloc-size <kib>', 'ZooKeeper preAllocSize (txn log preallocation, KiB)')
    .option('--force-sync <yes|no>', 'ZooKeeper forceSync (fsync the txn log before acking)')
    .option('--autopurge-interval <hours>', 'ZooKeeper autopurge.purgeInterval (0 = off)')
    .option('--autopurge-retain <n>', 'ZooKeeper autopurge.snapRetainCount')
    .option('--db-autocreate <yes|no>', 'JVM property zookeeper.db.autocreate')
    .option('--snapshot-trust-empty <yes|no>', 'JVM property zookeeper.snapshot.trust.empty')
    .option('--heap <mib>', 'ZooKeeper JVM heap, MiB')
    .option('--observers <n>', 'observers among the nodes (5 nodes: up to 2)')
    .option('--zk <settings>', 'more settings as key=value,... (any of the above, or extra.<zoo.cfg key>=value)');
}

export function settingsFromFlags(
  flags: ZooKeeperFlags & { tickTime?: string; syncLimit?: string },
): ZooKeeperSettings {
  const raw: Record<string, unknown> = flags.zk ? parseSettingsList(flags.zk, '--zk') : {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) raw[key] = value;
  };
  set('tickTime', flags.tickTime);
  set('syncLimit', flags.syncLimit);
  set('initLimit', flags.initLimit);
  set('snapCount', flags.snapCount);
  set('preAllocSize', flags.preAllocSize);
  set('forceSync', flags.forceSync);
  set('dbAutocreate', flags.dbAutocreate);
  set('snapshotTrustEmpty', flags.snapshotTrustEmpty);
  set('heapMb', flags.heap);
  set('observers', flags.observers);
  if (flags.autopurgeInterval !== undefined || flags.autopurgeRetain !== undefined) {
    raw.autopurge = {
      ...(raw.autopurge as object | undefined),
      ...(flags.autopurgeInterval !== undefined ? { purgeInterval: flags.autopurgeInterval } : {}),
      ...(flags.autopurgeRetain !== undefined ? { snapRetainCount: flags.autopurgeRetain } : {}),
    };
  }
  return parseOrThrow(
    zooKeeperSettingsSchema,
    raw,
    'ZooKeeper settings',
    `Accepted settings: ${SETTING_NAMES.join(', ')}; see \`faultline test --help\`.`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Run settings of the power-loss filesystem (issue 14, nemesis/power-loss/): the only run settings it adds.
// `faultline test --power-loss-fs / --power-loss-entries`, `powerLoss:` in test files and suites,
// `powerLoss.entries=...` in compare variants.

/** When a directory entry (a create, rename or unlink) becomes durable on the power-loss filesystem. */
export const POWER_LOSS_ENTRY_MODELS = ['dir-fsync', 'any-fsync'] as const;
export type PowerLossEntryModel = (typeof POWER_LOSS_ENTRY_MODELS)[number];

export const powerLossSettingsSchema = z.strictObject(
  {
    /**
     * auto: mounted under the data dirs when the schedule can cut power (a power-loss fault, or `powerLoss: true` in
     * a kill's params); on: always (e.g. to measure its cost); off: never (power-loss faults then fail).
     */
    filesystem: z.enum(['auto', 'on', 'off'], { error: 'powerLoss.filesystem must be auto, on or off' }).optional(),
    /**
     * dir-fsync: at the directory's fsync, as POSIX promises (the default); any-fsync: at any fsync, file or
     * directory, as a journalling file system (ext4, XFS) commits every pending namespace change in practice.
     */
    entries: z.enum(POWER_LOSS_ENTRY_MODELS, { error: 'powerLoss.entries must be dir-fsync or any-fsync' }).optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown powerLoss setting ${issue.keys.map((k) => `"${k}"`).join(', ')} (accepted: filesystem, entries)`
        : undefined,
  },
);

export type PowerLossSettingsInput = z.output<typeof powerLossSettingsSchema>;

export interface PowerLossSettings {
  filesystem: 'auto' | 'on' | 'off';
  entries: PowerLossEntryModel;
}

export const DEFAULT_POWER_LOSS_SETTINGS: PowerLossSettings = { filesystem: 'auto', entries: 'dir-fsync' };

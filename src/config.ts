// A run's settings: one table (field, flag, YAML key, default, parser, help) from which the command-line flags
// of every command that runs tests, the YAML schema of test files and suites, the defaults and the report's
// reproduce command are all derived. Settings arrive in layers (defaults < test file < suite defaults < suite
// test < flags < compare variant), each a typed partial config, merged and then checked as a whole.
// Adding a ZooKeeper setting is one entry in ZOOKEEPER_SETTINGS.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { UsageError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------
// Value parsers: each accepts what a flag gives (a string) and what YAML gives (its own type), and says what
// is wrong without saying where (the caller knows: a flag, a file and line, a variant).

/** A unit for messages: "a whole number of seconds", "at most 3600 seconds". */
const of = (unit: string): string => (unit ? ` of ${unit}` : '');
const after = (unit: string): string => (unit ? ` ${unit}` : '');

const whole = (min: number, max: number, unit = '') =>
  z.coerce
    .number({ error: `must be a whole number${of(unit)}` })
    .int(`must be a whole number${of(unit)}`)
    .min(min, `must be at least ${min}${after(unit)}`)
    .max(max, `must be at most ${max}${after(unit)}`);

const positive = (max: number, unit = '') =>
  z.coerce
    .number({ error: `must be a number${of(unit)}` })
    .positive(`must be above 0`)
    .max(max, `must be at most ${max}${after(unit)}`);

/** yes/no, true/false, on/off: YAML and flags both spell booleans in several ways. */
const yesNo = () =>
  z
    .union([z.boolean(), z.enum(['yes', 'no', 'true', 'false', 'on', 'off'])], { error: 'must be yes or no' })
    .transform((v) => v === true || v === 'yes' || v === 'true' || v === 'on');

/** A list as flags write it (a,b,c) or as YAML does (a string or a list). */
const list = () =>
  z
    .union([z.string(), z.array(z.string())], { error: 'must be a name or a list of names' })
    .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s.length > 0))
    .pipe(z.array(z.string()).min(1, 'must name at least one (or none)'));

/** Names become directories and Docker labels: no separators, no dot-dot, and never `latest` (the newest-run link). */
export const nameSchema = z
  .string({ error: 'must be a name' })
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'may hold letters, digits, ".", "_" and "-" only, starting with a letter or digit',
  )
  .max(80, 'must be at most 80 characters')
  .refine((v) => v !== 'latest', '"latest" is the link to the newest run; choose another name');

/** A zoo.cfg value is one line: a newline would add lines of its own to zoo.cfg. */
const zooCfgValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((v) => !/[\r\n]/.test(v), 'must be a single line (no newline)');

/** The damaged copies of the live backup a disaster-recovery run also restores (src/dr). */
export const BACKUP_DAMAGE = ['none', 'truncate-log', 'flip-log', 'flip-snapshot', 'drop-logs'] as const;
export type BackupDamage = (typeof BACKUP_DAMAGE)[number];

export interface DrSettings {
  /** Damaged copies of the live backup to restore, besides the intact backups. */
  damage: BackupDamage[];
  /** Also restore the live backup into one seeded node with the others empty. */
  seedOne: boolean;
}

/** `--dr` alone (true), `--dr truncate-log,flip-log`, or in YAML `dr: true` / `dr: [truncate-log]`. */
const drSchema = z
  .union(
    [
      z.boolean(),
      z.string(),
      z.array(z.string()),
      // The resolved value itself (a config read back from test.json).
      z.strictObject({ damage: z.array(z.enum(BACKUP_DAMAGE)), seedOne: z.boolean() }),
    ],
    { error: 'must be yes or a list of backup damages' },
  )
  .transform((v, ctx): DrSettings | undefined => {
    if (v === false) return undefined;
    if (typeof v === 'object' && !Array.isArray(v)) return v;
    const names = v === true ? [] : list().parse(typeof v === 'string' && v.trim() === '' ? [] : v);
    const unknown = names.filter((n) => !(BACKUP_DAMAGE as readonly string[]).includes(n));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown backup damage ${unknown.join(', ')} (use ${BACKUP_DAMAGE.join(', ')})`,
      });
      return z.NEVER;
    }
    return { damage: names as BackupDamage[], seedOne: true };
  });

/** A range of seconds as flags write it (5-20) or YAML does (the same string, or [5, 20]); the low end above 0. */
const secondsRange = () =>
  z
    .union([z.string(), z.tuple([z.number(), z.number()])], { error: 'must be a range of seconds such as 5-20' })
    .transform((v, ctx): [number, number] => {
      const parts = typeof v === 'string' ? v.split('-').map((p) => Number(p.trim())) : v;
      const [low, high] = parts.length === 1 ? [parts[0]!, parts[0]!] : parts;
      if (
        parts.length > 2 ||
        !Number.isFinite(low) ||
        !Number.isFinite(high) ||
        low! <= 0 ||
        high! < low! ||
        high! > 86_400
      ) {
        ctx.addIssue({ code: 'custom', message: 'must be a range of seconds such as 5-20 (low above 0, high ≥ low)' });
        return z.NEVER;
      }
      return [low!, high!];
    });

/** The families the composed schedule may draw from (--nemesis composed). */
export const COMPOSED_FAMILY_NAMES = [
  'partition',
  'kill',
  'crash',
  'pause',
  'packet',
  'restart',
  'clock',
  'disk',
  'power-loss',
  'membership',
] as const;

/** When a create, rename or unlink survives a power cut on the power-loss filesystem (nemesis/power-loss). */
export const POWER_LOSS_ENTRY_MODELS = ['dir-fsync', 'any-fsync'] as const;
export type PowerLossEntryModel = (typeof POWER_LOSS_ENTRY_MODELS)[number];

// ---------------------------------------------------------------------------------------------------------
// The table.

/** One setting. `T` is its value; settings without a default may be absent from a resolved config. */
interface SettingBase<T> {
  /** Its key in YAML (within `zookeeper:` for ZooKeeper settings); dotted for nested maps (autopurge.purgeInterval). */
  yaml: string | null;
  /** The flag, as commander takes it ('--time-limit <s>'); null: set only from YAML or code. */
  flag: string | null;
  help: string;
  schema: z.ZodType<T, unknown>;
  /** How the reproduce command writes the value after its flag (default: String; lists joined by commas). */
  toFlag?: (value: T) => string | null;
  /**
   * Where the server reads a ZooKeeper setting: a zoo.cfg key or a JVM system property, and how its value is
   * written there (default: String). Absent for settings the harness itself interprets (heap, observers...).
   */
  server?: { zooCfg: string } | { jvm: string };
  serverText?: (value: T) => string;
}
interface RequiredSetting<T> extends SettingBase<T> {
  default: T;
}
interface OptionalSetting<T> extends SettingBase<T> {
  default: undefined;
}
type Setting<T> = RequiredSetting<T> | OptionalSetting<T>;

const required = <T>(s: SettingBase<T> & { default: NoInfer<T> }): RequiredSetting<T> => s;
const optional = <T>(s: SettingBase<T>): OptionalSetting<T> => ({ ...s, default: undefined });

/** The run's own settings: what runs, for how long, with which faults. */
export const RUN_SETTINGS = {
  name: required({
    yaml: 'name',
    flag: '--name <name>',
    help: "test name (results/<name>/<timestamp>; default: the workload's name)",
    schema: nameSchema,
    default: 'register',
  }),
  server: required({
    yaml: 'server',
    flag: '--server <build>',
    help: 'server build: debian:bookworm (3.8.0), debian:trixie (3.9.3), debian:sid (3.9.6), an apache-zookeeper-X-bin.tar.gz, or a local image',
    schema: z.string().min(1, 'must name a build'),
    default: 'debian:bookworm',
  }),
  nodes: required({
    yaml: 'nodes',
    flag: '--nodes <n>',
    help: 'ensemble size: 3 or 5',
    schema: z.coerce
      .number({ error: 'must be 3 or 5' })
      .refine((n): n is 3 | 5 => n === 3 || n === 5, 'must be 3 or 5'),
    default: 3,
  }),
  timeLimitS: required({
    yaml: 'timeLimit',
    flag: '--time-limit <s>',
    help: 'length of the main phase, seconds',
    schema: whole(1, 86_400, 'seconds'),
    default: 60,
  }),
  concurrency: required({
    yaml: 'concurrency',
    flag: '--concurrency <n>',
    help: 'client processes',
    schema: whole(1, 1000),
    default: 10,
  }),
  rate: required({
    yaml: 'rate',
    flag: '--rate <r>',
    help: 'target ops per second over all processes',
    schema: positive(1_000_000, 'ops per second'),
    default: 50,
  }),
  seed: optional({
    yaml: 'seed',
    flag: '--seed <n>',
    help: 'random seed (default: random, recorded in test.json)',
    schema: whole(0, 2 ** 31 - 1),
  }),
  nemesis: required({
    yaml: 'nemesis',
    flag: '--nemesis <list>',
    help: 'faults (names, families such as kill, or family:option such as kill:follower, each optionally @TARGET), comma-separated, or none, on a seeded random schedule; composed (overlapping faults, --composed-* settings); or a scenario file (.yaml)',
    schema: list(),
    default: ['partition-leader', 'kill-leader'],
  }),
  nemesisIntervalS: required({
    yaml: 'nemesisInterval',
    flag: '--nemesis-interval <s>',
    help: 'seconds between nemesis actions',
    schema: positive(86_400, 'seconds'),
    default: 10,
  }),
  composedFamilies: required({
    yaml: 'composed.families',
    flag: '--composed-families <list>',
    help: `--nemesis composed: the fault families it draws from (${COMPOSED_FAMILY_NAMES.join(', ')})`,
    schema: list().pipe(
      z.array(z.enum(COMPOSED_FAMILY_NAMES, { error: `must be families among ${COMPOSED_FAMILY_NAMES.join(', ')}` })),
    ),
    default: ['partition', 'kill', 'crash', 'pause', 'packet', 'restart'],
  }),
  composedMaxFaulty: optional({
    yaml: 'composed.maxFaulty',
    flag: '--composed-max-faulty <n>',
    help: '--nemesis composed: the most nodes faulty at once outside a majority spell (default: a minority)',
    schema: whole(1, 5, 'nodes'),
  }),
  composedMajorityS: required({
    yaml: 'composed.majoritySpell',
    flag: '--composed-majority-spell <s>',
    help: '--nemesis composed: how long a spell with up to a majority faulty lasts, s (0: never more than max-faulty); spells are at least three spell lengths apart',
    schema: z.coerce.number({ error: 'must be a number of seconds' }).min(0, 'must be at least 0').max(3600),
    default: 10,
  }),
  composedHoldS: required({
    yaml: 'composed.hold',
    flag: '--composed-hold <s-s>',
    help: '--nemesis composed: how long a fault is held before its heal, a range of seconds',
    schema: secondsRange(),
    default: [5, 20],
    toFlag: (v) => v.join('-'),
  }),
  composedQuietS: required({
    yaml: 'composed.quiet',
    flag: '--composed-quiet <s-s>',
    help: '--nemesis composed: a quiet period after the last fault in force is healed (one time in two), a range of seconds',
    schema: secondsRange(),
    default: [5, 15],
    toFlag: (v) => v.join('-'),
  }),
  composedEarlyHeals: required({
    yaml: 'composed.earlyHeals',
    flag: '--composed-early-heals <yes|no>',
    help: '--nemesis composed: whether a step may heal a fault before its hold ends (no: every heal comes when its hold ends)',
    schema: yesNo(),
    default: true,
    toFlag: (v) => (v ? 'yes' : 'no'),
  }),
  composedGapS: required({
    yaml: 'composed.gap',
    flag: '--composed-gap <s-s>',
    help: '--nemesis composed: the gap between two steps, a range of seconds',
    schema: secondsRange(),
    default: [1, 5],
    toFlag: (v) => v.join('-'),
  }),
  scenario: optional({
    yaml: 'scenario',
    flag: '--scenario <file>',
    help: 'a YAML scenario of timed fault steps, instead of --nemesis (example: nemesis/scenarios/lagging-follower.yaml)',
    schema: z.string().min(1, 'must be a file path'),
  }),
  workload: required({
    yaml: 'workload',
    flag: '--workload <name>',
    help: 'workload: register, multi-register, set, queue, bank, session, watch, acl, lock, lock-fenced, election, election-fenced',
    schema: z.string().min(1),
    default: 'register',
  }),
  readMode: required({
    yaml: 'readMode',
    flag: '--read-mode <mode>',
    help: 'register reads: sync (sync then get), plain (get only) or none',
    schema: z.enum(['sync', 'plain', 'none'], { error: 'must be sync, plain or none' }),
    default: 'sync',
  }),
  driverConnect: required({
    yaml: 'driverConnect',
    flag: '--driver-connect <mode>',
    help: "recipe workloads (lock, election): each Curator client on its worker's node (node) or the whole ensemble (ensemble)",
    schema: z.enum(['node', 'ensemble'], { error: 'must be node or ensemble' }),
    default: 'node',
  }),
  opTimeoutS: required({
    yaml: 'opTimeout',
    flag: '--op-timeout <s>',
    help: 'seconds before an op is given up as unknown (info)',
    schema: positive(3600, 'seconds'),
    default: 5,
  }),
  sessionTimeoutS: required({
    yaml: 'sessionTimeout',
    flag: '--session-timeout <s>',
    help: 'session timeout the clients ask for, seconds (ZooKeeper clamps it to 2-20 tickTimes)',
    schema: positive(3600, 'seconds'),
    default: 5,
  }),
  logPatterns: required({
    yaml: 'logPatterns',
    flag: '--log-pattern <list>',
    help: "the log oracle's patterns beyond ZooKeeper's own signs of trouble, comma-separated: name=regex (invalid when a server logs it) or name~regex (advisory)",
    schema: z
      .union([z.string(), z.array(z.string())], { error: 'must be name=regex, name~regex or a list of them' })
      .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s.length > 0)),
    default: [],
  }),
  recoveryTimeoutS: required({
    yaml: 'recoveryTimeout',
    flag: '--recovery-timeout <s>',
    help: 'how long the ensemble may take to serve again after the final heal, seconds',
    schema: whole(5, 3600, 'seconds'),
    default: 120,
  }),
  dr: optional({
    yaml: 'dr',
    flag: '--dr [damage]',
    help: "disaster recovery (set workload): back up a node's data dir live and stopped under load, destroy the ensemble, restore each backup into a fresh one and check it; optional damaged copies to restore too: truncate-log, flip-log, flip-snapshot, drop-logs (comma-separated)",
    schema: drSchema,
    toFlag: (v) => (v && v.damage.length > 0 ? v.damage.join(',') : null),
  }),
  powerLossFs: required({
    yaml: 'powerLoss.filesystem',
    flag: '--power-loss-fs <when>',
    help: 'the power-loss filesystem under the data dirs: auto (when the schedule can cut power), on, off',
    schema: z.enum(['auto', 'on', 'off'], { error: 'must be auto, on or off' }),
    default: 'auto',
  }),
  powerLossEntries: required({
    yaml: 'powerLoss.entries',
    flag: '--power-loss-entries <model>',
    help: "when a create, rename or unlink survives a power cut: dir-fsync (at the directory's fsync, as POSIX promises) or any-fsync (at any fsync, as ext4 and XFS journals do in practice)",
    schema: z.enum(POWER_LOSS_ENTRY_MODELS, { error: 'must be dir-fsync or any-fsync' }),
    default: 'dir-fsync',
  }),
  resultsDir: required({
    yaml: null,
    flag: '--results-dir <dir>',
    help: 'where runs are stored',
    schema: z.string().min(1),
    default: 'results',
  }),
};

/** ZooKeeper's own settings, under `zookeeper:` in YAML. Unknown keys are errors, so a typo never goes unnoticed. */
export const ZOOKEEPER_SETTINGS = {
  tickTime: required({
    yaml: 'tickTime',
    flag: '--tick-time <ms>',
    help: 'ZooKeeper tickTime, ms',
    schema: whole(100, 60_000),
    default: 500,
  }),
  initLimit: required({
    yaml: 'initLimit',
    flag: '--init-limit <ticks>',
    help: 'ZooKeeper initLimit, ticks',
    schema: whole(1, 1000),
    default: 10,
  }),
  syncLimit: required({
    yaml: 'syncLimit',
    flag: '--sync-limit <ticks>',
    help: 'ZooKeeper syncLimit, ticks',
    schema: whole(1, 1000),
    default: 5,
  }),
  snapCount: optional({
    yaml: 'snapCount',
    flag: '--snap-count <n>',
    help: 'ZooKeeper snapCount (transactions between snapshots)',
    schema: whole(2, 100_000_000),
    server: { zooCfg: 'snapCount' },
  }),
  preAllocSize: optional({
    yaml: 'preAllocSize',
    flag: '--pre-alloc-size <kib>',
    help: 'ZooKeeper preAllocSize (txn log preallocation, KiB)',
    schema: whole(1, 10_000_000),
    server: { zooCfg: 'preAllocSize' },
  }),
  forceSync: optional({
    yaml: 'forceSync',
    flag: '--force-sync <yes|no>',
    help: 'ZooKeeper forceSync (fsync the txn log before acknowledging)',
    schema: yesNo(),
    toFlag: (v) => (v ? 'yes' : 'no'),
    server: { zooCfg: 'forceSync' },
    serverText: (v) => (v ? 'yes' : 'no'),
  }),
  autopurgeInterval: optional({
    yaml: 'autopurge.purgeInterval',
    flag: '--autopurge-interval <hours>',
    help: 'ZooKeeper autopurge.purgeInterval (0 = off)',
    schema: whole(0, 10_000),
    server: { zooCfg: 'autopurge.purgeInterval' },
  }),
  autopurgeRetain: optional({
    yaml: 'autopurge.snapRetainCount',
    flag: '--autopurge-retain <n>',
    help: 'ZooKeeper autopurge.snapRetainCount',
    schema: whole(3, 1000),
    server: { zooCfg: 'autopurge.snapRetainCount' },
  }),
  maxSessionTimeout: optional({
    yaml: 'maxSessionTimeout',
    flag: '--max-session-timeout <ms>',
    help: 'ZooKeeper maxSessionTimeout, ms (the longest session a client may negotiate; default 20 ticks)',
    schema: whole(1, 86_400_000),
    server: { zooCfg: 'maxSessionTimeout' },
  }),
  dbAutocreate: optional({
    yaml: 'dbAutocreate',
    flag: '--db-autocreate <yes|no>',
    help: 'JVM property zookeeper.db.autocreate: may a server with an empty data dir start afresh?',
    schema: yesNo(),
    toFlag: (v) => (v ? 'yes' : 'no'),
    server: { jvm: 'zookeeper.db.autocreate' },
  }),
  snapshotTrustEmpty: optional({
    yaml: 'snapshotTrustEmpty',
    flag: '--snapshot-trust-empty <yes|no>',
    help: 'JVM property zookeeper.snapshot.trust.empty: may a server trust a log without snapshot?',
    schema: yesNo(),
    toFlag: (v) => (v ? 'yes' : 'no'),
    server: { jvm: 'zookeeper.snapshot.trust.empty' },
  }),
  heapMb: required({
    yaml: 'heapMb',
    flag: '--heap <mib>',
    help: 'ZooKeeper JVM heap, MiB',
    schema: whole(64, 65_536),
    default: 256,
  }),
  observers: required({
    yaml: 'observers',
    flag: '--observers <n>',
    help: 'observers among the nodes (5 nodes: up to 2)',
    schema: whole(0, 2),
    default: 0,
  }),
  fakeClock: optional({
    yaml: 'fakeClock',
    flag: '--fake-clock <wall|all>',
    help: 'preload libfaketime into the servers for clock faults: wall clock only, or all (also the monotonic clock); wall when the faults include clock faults',
    schema: z.enum(['wall', 'all'], { error: 'must be wall or all' }),
  }),
  reconfig: optional({
    yaml: 'reconfig',
    flag: '--reconfig <yes|no>',
    help: 'reconfigEnabled with a dynamic config file (membership faults need it; on when the faults include them)',
    schema: yesNo(),
    toFlag: (v) => (v ? 'yes' : 'no'),
  }),
  extra: required({
    yaml: 'extra',
    flag: null,
    help: 'any other zoo.cfg line (key: value); on the command line --zk extra.<key>=value',
    schema: z.record(
      z.string().regex(/^[A-Za-z][\w.]*$/, 'extra keys are zoo.cfg keys such as maxSessionTimeout'),
      zooCfgValue,
    ),
    default: {},
  }),
};

/**
 * The zoo.cfg lines and JVM properties that a run's ZooKeeper settings become, from the table's `server` entries
 * (settings left unset are left to ZooKeeper's own defaults), then the `extra` zoo.cfg lines.
 */
export function serverSettingsOf(settings: ZooKeeperSettings): {
  zooCfg: Record<string, string>;
  jvm: Record<string, string>;
} {
  const zooCfg: Record<string, string> = {};
  const jvm: Record<string, string> = {};
  for (const [key, setting] of Object.entries(ZOOKEEPER_SETTINGS) as [string, SettingBase<unknown>][]) {
    const value = (settings as Record<string, unknown>)[key];
    if (!setting.server || value === undefined) continue;
    const text = setting.serverText ? setting.serverText(value) : String(value);
    if ('zooCfg' in setting.server) zooCfg[setting.server.zooCfg] = text;
    else jvm[setting.server.jvm] = text;
  }
  Object.assign(zooCfg, settings.extra);
  return { zooCfg, jvm };
}

type ValueOf<S> = S extends RequiredSetting<infer T> ? T : S extends OptionalSetting<infer T> ? T | undefined : never;
type Values<Table> = { -readonly [K in keyof Table]: ValueOf<Table[K]> };

export type RunKey = keyof typeof RUN_SETTINGS;
export type ZooKeeperKey = keyof typeof ZOOKEEPER_SETTINGS;
export type ZooKeeperSettings = Values<typeof ZOOKEEPER_SETTINGS>;

/** A resolved run configuration: every setting with its value (the seed drawn if none was given). */
export type RunConfig = Omit<Values<typeof RUN_SETTINGS>, 'seed'> & { seed: number; zookeeper: ZooKeeperSettings };

/** One layer of settings: any subset, typed. */
export type RunLayer = Partial<Omit<RunConfig, 'zookeeper'>> & { zookeeper?: Partial<ZooKeeperSettings> };

type AnySetting = Setting<unknown>;
const RUN_ENTRIES = Object.entries(RUN_SETTINGS) as unknown as [RunKey, AnySetting][];
const ZOOKEEPER_ENTRIES = Object.entries(ZOOKEEPER_SETTINGS) as unknown as [ZooKeeperKey, AnySetting][];

/** Every setting with a flag, for the commands: where it goes in a layer, and how its flag reads. */
export interface FlagSetting {
  group: 'run' | 'zookeeper';
  key: string;
  flag: string;
  help: string;
  /** The default, as the flag would write it (for --help); undefined when the setting has none. */
  defaultText: string | undefined;
}

export const FLAG_SETTINGS: readonly FlagSetting[] = [
  ...RUN_ENTRIES.map(([key, s]) => ({ group: 'run' as const, key, s })),
  ...ZOOKEEPER_ENTRIES.map(([key, s]) => ({ group: 'zookeeper' as const, key, s })),
].flatMap(({ group, key, s }) =>
  s.flag === null
    ? []
    : [
        {
          group,
          key,
          flag: s.flag,
          help: s.help,
          defaultText: s.default === undefined ? undefined : (flagText(s, s.default) ?? undefined),
        },
      ],
);

function flagText(setting: AnySetting, value: unknown): string | null {
  if (setting.toFlag) return setting.toFlag(value);
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

// ---------------------------------------------------------------------------------------------------------
// Layers.

/** The defaults, as a layer. */
export function defaultLayer(): RunLayer {
  const run: Record<string, unknown> = {};
  for (const [key, s] of RUN_ENTRIES) if (s.default !== undefined) run[key] = structuredClone(s.default);
  const zookeeper: Record<string, unknown> = {};
  for (const [key, s] of ZOOKEEPER_ENTRIES) if (s.default !== undefined) zookeeper[key] = structuredClone(s.default);
  return { ...(run as RunLayer), zookeeper: zookeeper };
}

/** Later layers win, key by key; `extra` (zoo.cfg lines) merges line by line. */
export function mergeLayers(...layers: (RunLayer | undefined)[]): RunLayer {
  const merged: RunLayer = {};
  const zookeeper: Partial<ZooKeeperSettings> = {};
  for (const layer of layers) {
    if (!layer) continue;
    const { zookeeper: zk, ...run } = layer;
    for (const [k, v] of Object.entries(run)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
    if (!zk) continue;
    const { extra, ...rest } = zk;
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) (zookeeper as Record<string, unknown>)[k] = v;
    if (extra) zookeeper.extra = { ...zookeeper.extra, ...extra };
  }
  return { ...merged, zookeeper };
}

/** The whole-config schema, for configs built in code and for test.json as a run wrote it. */
export const runConfigSchema = z.strictObject({
  ...Object.fromEntries(RUN_ENTRIES.map(([key, s]) => [key, s.default === undefined ? s.schema.optional() : s.schema])),
  seed: RUN_SETTINGS.seed.schema,
  zookeeper: z.strictObject(
    Object.fromEntries(
      ZOOKEEPER_ENTRIES.map(([key, s]) => [key, s.default === undefined ? s.schema.optional() : s.schema]),
    ),
  ),
}) as unknown as z.ZodType<RunConfig, unknown>;

/**
 * Resolves layers over the defaults into a checked config: the seed drawn when none is given, then the rules
 * that involve several settings. A layer built in code is validated here like any other.
 */
export function resolveRunConfig(...layers: (RunLayer | undefined)[]): RunConfig {
  const merged = mergeLayers(defaultLayer(), ...layers);
  merged.seed ??= randomBytes(4).readUInt32BE() >>> 1;
  // Unnamed runs are named after their workload (results/set/..., not results/register/... for a set run).
  if (!layers.some((l) => l?.name !== undefined) && merged.workload) merged.name = merged.workload;
  const parsed = runConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      `bad setting ${issue.path.join('.')}: ${issue.message}`,
      'Run `faultline test --help` for the accepted values.',
    );
  }
  return checkConfig(parsed.data);
}

/** Rules across settings. */
function checkConfig(config: RunConfig): RunConfig {
  const voters = config.nodes - config.zookeeper.observers;
  if (voters < 3) {
    throw new UsageError(
      `${config.zookeeper.observers} observer(s) among ${config.nodes} nodes leave fewer than 3 voters`,
      'Use 5 nodes for 1 or 2 observers, or no observers with 3 nodes.',
    );
  }
  if (config.dr && config.workload !== 'set') {
    throw new UsageError(
      `the disaster-recovery scenario (--dr) needs the set workload, not ${config.workload}`,
      "Add --workload set: restores are checked against the set workload's distinct adds.",
    );
  }
  return config;
}

// ---------------------------------------------------------------------------------------------------------
// Where layers come from.

/** Parses one value of a setting; a problem is a UsageError naming `where` (a flag, a file and line, a variant). */
function parseValue(setting: AnySetting, value: unknown, where: string, fix: string): unknown {
  const parsed = setting.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const shown = typeof value === 'string' ? ` (got "${value}")` : '';
  throw new UsageError(`${where}: ${parsed.error.issues[0]?.message ?? 'not a valid value'}${shown}`, fix);
}

/**
 * A layer from flag values as commander hands them over (key → string, or true for a bare optional value).
 * Only flags the user gave appear: commander gets no defaults, so the layers below are not overridden.
 */
export function layerFromFlags(values: ReadonlyMap<FlagSetting, unknown>): RunLayer {
  const layer: RunLayer = {};
  const zookeeper: Record<string, unknown> = {};
  for (const [flag, raw] of values) {
    if (raw === undefined) continue;
    const table = (flag.group === 'run' ? RUN_SETTINGS : ZOOKEEPER_SETTINGS) as unknown as Record<string, AnySetting>;
    const value = parseValue(
      table[flag.key]!,
      raw,
      flag.flag.split(' ')[0]!,
      'Run the command with --help for the accepted values.',
    );
    if (flag.group === 'run') (layer as Record<string, unknown>)[flag.key] = value;
    else zookeeper[flag.key] = value;
  }
  return Object.keys(zookeeper).length ? { ...layer, zookeeper } : layer;
}

/** The YAML key paths of every setting (zookeeper ones under `zookeeper.`), for messages. */
function yamlPaths(): { path: string; group: 'run' | 'zookeeper'; key: string; setting: AnySetting }[] {
  return [
    ...RUN_ENTRIES.filter(([, s]) => s.yaml !== null).map(([key, s]) => ({
      path: s.yaml!,
      group: 'run' as const,
      key,
      setting: s,
    })),
    ...ZOOKEEPER_ENTRIES.filter(([, s]) => s.yaml !== null).map(([key, s]) => ({
      path: `zookeeper.${s.yaml}`,
      group: 'zookeeper' as const,
      key,
      setting: s,
    })),
  ];
}

const unknownField = (what: string, accepted: readonly string[]) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'unrecognized_keys'
    ? `unknown ${what} ${issue.keys.map((k) => `"${k}"`).join(', ')} (accepted: ${accepted.join(', ')})`
    : undefined;

/** A YAML map of settings, nested where their names are dotted (autopurge.purgeInterval, powerLoss.entries). */
function yamlShape(entries: readonly [string, AnySetting][], skip: readonly string[] = []): Record<string, z.ZodType> {
  const top: Record<string, z.ZodType> = {};
  const nested: Record<string, Record<string, z.ZodType>> = {};
  for (const [key, s] of entries) {
    if (s.yaml === null || skip.includes(key)) continue;
    const [head, sub] = s.yaml.split('.', 2) as [string, string | undefined];
    if (sub === undefined) top[head] = s.schema.optional();
    else (nested[head] ??= {})[sub] = s.schema.optional();
  }
  for (const [head, fields] of Object.entries(nested)) {
    top[head] = z.strictObject(fields, { error: unknownField(`${head} setting`, Object.keys(fields)) }).optional();
  }
  return top;
}

/**
 * The run fields of a YAML test file or suite entry, as zod shape entries (name and seed are the caller's: a suite
 * gives them rules of its own). Values are parsed by each setting's own parser.
 */
export function runFieldsShape(): Record<string, z.ZodType> {
  const zookeeper = yamlShape(ZOOKEEPER_ENTRIES);
  return {
    ...yamlShape(RUN_ENTRIES, ['name', 'seed']),
    zookeeper: z
      .strictObject(zookeeper, { error: unknownField('ZooKeeper setting', Object.keys(zookeeper)) })
      .optional(),
  };
}

/** The YAML keys a test file or suite entry accepts, for "unknown field" messages. */
export const RUN_YAML_KEYS: readonly string[] = [
  ...new Set(RUN_ENTRIES.filter(([, s]) => s.yaml !== null).map(([, s]) => s.yaml!.split('.')[0]!)),
  'zookeeper',
];

/** A layer from run fields of YAML data already validated with runFieldsShape (name and seed included if present). */
export function layerFromYaml(data: Record<string, unknown>): RunLayer {
  const layer: Record<string, unknown> = {};
  const zookeeper: Record<string, unknown> = {};
  for (const { path, group, key } of yamlPaths()) {
    const value = path
      .split('.')
      .reduce<unknown>(
        (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        data,
      );
    if (value === undefined) continue;
    if (group === 'run') layer[key] = value;
    else zookeeper[key] = value;
  }
  return Object.keys(zookeeper).length ? { ...(layer as RunLayer), zookeeper } : layer;
}

/**
 * `key=value,key=value` as in `--zk forceSync=no,snapCount=1000` or a compare variant `server=debian:sid,nodes=5`.
 * Keys are YAML names: ZooKeeper settings bare or under zookeeper., extra.<zoo.cfg key> for any other zoo.cfg line,
 * and (when `runKeys` allows) the run's own settings.
 */
export function layerFromSettingsList(text: string, what: string, runKeys: boolean): RunLayer {
  const accepted = yamlPaths().filter((p) => runKeys || p.group === 'zookeeper');
  const names = accepted.map((p) => (p.group === 'zookeeper' ? p.path.slice('zookeeper.'.length) : p.path));
  const fix = `Write key=value pairs separated by commas; keys: ${names.join(', ')}, extra.<zoo.cfg key>.`;
  const layer: Record<string, unknown> = {};
  const zookeeper: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const pair of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what}: "${pair}" is not key=value`, fix);
    const key = pair
      .slice(0, eq)
      .trim()
      .replace(/^zookeeper\./, '');
    const value = pair.slice(eq + 1).trim();
    if (key.startsWith('extra.')) {
      extra[key.slice('extra.'.length)] = value;
      continue;
    }
    const entry = accepted.find((p) => (p.group === 'zookeeper' ? p.path === `zookeeper.${key}` : p.path === key));
    if (!entry) throw new UsageError(`${what}: unknown setting "${key}"`, fix);
    const parsed = parseValue(entry.setting, value, `${what}: ${key}`, fix);
    if (entry.group === 'run') layer[entry.key] = parsed;
    else zookeeper[entry.key] = parsed;
  }
  if (Object.keys(extra).length)
    zookeeper.extra = parseValue(ZOOKEEPER_SETTINGS.extra as unknown as AnySetting, extra, `${what}: extra`, fix);
  return Object.keys(zookeeper).length ? { ...(layer as RunLayer), zookeeper } : layer;
}

// ---------------------------------------------------------------------------------------------------------
// Back to flags: the reproduce command.

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The `faultline test` arguments that rerun a config: every run setting that differs from its default by its
 * flag, every ZooKeeper setting that does through --zk by its YAML name (forceSync=no, as variants and test
 * files write it), and always the seed. Derived from the table, so no setting is ever left out.
 */
export function reproduceArgs(config: RunConfig): string[] {
  const args = ['test'];
  for (const [key, s] of RUN_ENTRIES) {
    const value = config[key];
    if (key === 'seed' || key === 'resultsDir' || s.flag === null || value === undefined || same(value, s.default))
      continue;
    // An unnamed run is named after its workload: that name needs no flag.
    if (key === 'name' && value === config.workload) continue;
    const text = flagText(s, value);
    args.push(s.flag.split(' ')[0]!, ...(text === null ? [] : [text]));
  }
  const zk: string[] = [];
  for (const [key, s] of ZOOKEEPER_ENTRIES) {
    const value = config.zookeeper[key];
    if (value === undefined || same(value, s.default) || s.yaml === null) continue;
    if (key === 'extra')
      for (const [k, v] of Object.entries(value as Record<string, string>)) zk.push(`extra.${k}=${v}`);
    else zk.push(`${s.yaml}=${flagText(s, value)}`);
  }
  if (zk.length > 0) args.push('--zk', zk.join(','));
  args.push('--seed', String(config.seed));
  return args;
}

// The lose-unsynced-writes filesystem (powerloss.c) from the harness's side: built once on the host (cached by source
// hash, as the packet delayer is), mounted over a node's data dir before its container is created, commanded through
// its control file, and unmounted after the containers are gone. `faultline clean` finds what a killed harness left
// by the filesystem type in /proc/mounts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ensureDebianPackage } from '../../src/packages.js';
import type { ClusterNode, DataDirMount } from '../../src/cluster.js';
import { HarnessError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { PowerLossEntryModel } from '../../src/config.js';
import { sleep } from '../../src/time.js';
import { compileHelper, findSource, helperBinary, type CHelper } from '../c-helper.js';

/** The type /proc/mounts shows (fuse.<subtype>), by which `faultline clean` finds leftovers. */
export const POWER_LOSS_FS_TYPE = 'fuse.faultline-power-loss';
/** The virtual file at the mount's root (not listed) through which the harness commands the filesystem. */
export const CONTROL_FILE = '.faultline-power-loss';
const SOURCE_NAME = 'powerloss.c';
/** Debian's flags for libfuse3, when pkg-config is not there to say them. */
const FALLBACK_FUSE_FLAGS = { cflags: ['-I/usr/include/fuse3'], libs: ['-lfuse3', '-lpthread'] };
const FUSE_HEADER = '/usr/include/fuse3/fuse.h';
const INSTALL_FIX =
  'On Debian: `apt-get install fuse3 libfuse3-dev gcc` (or run faultline as root on Debian so it can).';

/** What one revert did (see powerloss.c): files rewound, bytes cut and put back, entries removed and restored. */
export interface RevertRecord {
  model: PowerLossEntryModel;
  ok: boolean;
  files: number;
  dirs: number;
  bytesCut: number;
  bytesGrown: number;
  bytesRestored: number;
  missing: number;
  removedCount: number;
  /** Live paths (relative to the data dir) that were not durable: gone. At most 64 named. */
  removed: string[];
  restoredCount: number;
  /** Durable paths that were no longer live: back. */
  restored: string[];
  changedCount: number;
  /** Files whose bytes changed: size before, synced size, bytes of undo written back. */
  changed: { path: string; size: number; syncedSize: number; bytesRestored: number }[];
}

/** The filesystem's counters, as its control file reads. */
export interface PowerLossStats {
  model: PowerLossEntryModel;
  writes: number;
  bytesWritten: number;
  fsyncs: number;
  fdatasyncs: number;
  dirFsyncs: number;
  undoRanges: number;
  undoBytes: number;
  undoZeroBytes: number;
  stashed: number;
  reverts: number;
  syncs: number;
  unknownInodes: number;
  openFiles: number;
  lastError: string;
  lastRevert: RevertRecord | null;
}

/** powerloss.c beside this module when run from source; back in the checkout when run from dist/. */
export function powerLossSourcePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return findSource(`the power-loss filesystem's ${SOURCE_NAME}`, [
    join(here, SOURCE_NAME),
    join(here, '..', '..', '..', 'nemesis', 'power-loss', SOURCE_NAME),
  ]);
}

async function fuseFlags(): Promise<{ cflags: string[]; libs: string[] }> {
  const result = await execa('pkg-config', ['--cflags', '--libs', 'fuse3'], { reject: false });
  if (result.exitCode !== 0) return FALLBACK_FUSE_FLAGS;
  const words = result.stdout.trim().split(/\s+/).filter(Boolean);
  return { cflags: words.filter((w) => !w.startsWith('-l')), libs: words.filter((w) => w.startsWith('-l')) };
}

async function powerLossHelper(): Promise<CHelper> {
  const { cflags, libs } = await fuseFlags();
  return {
    name: 'faultline-power-loss',
    purpose: "Faultline's power-loss filesystem (FUSE, for the power-loss faults)",
    sourcePath: powerLossSourcePath(),
    flags: ['-O2', '-Wall', ...cflags],
    libs,
    buildFailedFix: `It links against libfuse3. ${INSTALL_FIX}`,
    compilerFix: `Install a compiler and libfuse3. ${INSTALL_FIX}`,
  };
}

/** Compiles the filesystem to `output` (for tests of the build itself). */
export async function compilePowerLoss(output: string, candidates?: readonly string[]): Promise<void> {
  return compileHelper(await powerLossHelper(), output, candidates);
}

/** The built filesystem daemon on the host: compiled on first use, then reused while the source is unchanged. */
export async function powerLossBinary(): Promise<string> {
  return helperBinary(await powerLossHelper());
}

/** As root on Debian, installs fuse3 and libfuse3-dev when missing; elsewhere says what to install. */
export async function ensurePowerLossPackages(log: Logger): Promise<void> {
  const why = 'for the power-loss filesystem (FUSE) under the data dirs';
  await ensureDebianPackage('fusermount3', 'fuse3', why, log);
  await ensureDebianPackage('libfuse3 headers', 'libfuse3-dev', why, log, () =>
    Promise.resolve(existsSync(FUSE_HEADER)),
  );
}

/** Why this machine cannot mount the filesystem, or undefined when it can. */
export function powerLossUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting it (with allow_other, so the containers can use it) needs root';
  if (!existsSync('/dev/fuse')) return 'there is no /dev/fuse (the kernel lacks FUSE, or it is not exposed here)';
  return undefined;
}

/** Whether a directory is served by the filesystem: only then does the control file exist. */
export function isPowerLossMounted(dir: string): boolean {
  return existsSync(join(dir, CONTROL_FILE));
}

/** The counters and the last revert of the filesystem mounted at `dir`. */
export async function readPowerLossStats(dir: string): Promise<PowerLossStats> {
  return JSON.parse(await readFile(join(dir, CONTROL_FILE), 'utf8')) as PowerLossStats;
}

async function command(dir: string, text: string): Promise<void> {
  try {
    await writeFile(join(dir, CONTROL_FILE), `${text}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const said = await readPowerLossStats(dir).then(
      (s) => s.lastError,
      () => '',
    );
    throw Object.assign(
      new HarnessError(`the power-loss filesystem at ${dir} refused "${text}": ${said || code || String(err)}`),
      { code },
    );
  }
}

/**
 * Cuts the power of the data dir: everything not durable under `model` (default: the mount's) is undone. Files
 * must be closed; a server just killed may take a moment to release them, so a busy filesystem is asked again.
 */
export async function revertDataDir(
  dir: string,
  model?: PowerLossEntryModel,
  timeoutMs = 10_000,
): Promise<RevertRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await command(dir, model ? `revert ${model}` : 'revert');
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EBUSY' || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  const record = (await readPowerLossStats(dir)).lastRevert;
  if (!record) throw new HarnessError(`the power-loss filesystem at ${dir} reverted but reports no revert`);
  return record;
}

/** Makes everything under the mount durable now, as sync(2) would. */
export function syncDataDir(dir: string): Promise<void> {
  return command(dir, 'sync');
}

export interface PowerLossMount {
  dir: string;
  fsname: string;
  pid: number;
  /** Unmounts (the daemon removes its stash and exits); returns the last counters read. Idempotent. */
  stop(): Promise<PowerLossStats | undefined>;
}

/** The stash beside the directory (same file system, so hard links work): nodes/n1/.power-loss-data. */
export function stashDirOf(dir: string): string {
  return join(dirname(dir), `.power-loss-${basename(dir)}`);
}

/**
 * Mounts the filesystem over `dir` (which keeps its files: they are served from underneath). Resolves once the
 * mount is in place. `fsname` shows in /proc/mounts; Faultline writes faultline:<harness pid>:<run>:<node>.
 */
export async function mountPowerLoss(
  dir: string,
  options: { fsname: string; model: PowerLossEntryModel },
): Promise<PowerLossMount> {
  const unavailable = powerLossUnavailable();
  if (unavailable)
    throw new HarnessError(
      `the power-loss filesystem cannot be mounted here: ${unavailable}`,
      'Run as root on a machine with FUSE (/dev/fuse), or leave power-loss faults out (--power-loss-fs off).',
    );
  const binary = await powerLossBinary();
  const child = spawn(binary, ['-s', stashDirOf(dir), '-e', options.model, '-n', options.fsname, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HarnessError(`mounting the power-loss filesystem on ${dir} took more than 10 s`));
    }, 10_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (stdout.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HarnessError(`starting the power-loss filesystem failed: ${err.message}`, INSTALL_FIX));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(
        new HarnessError(
          `the power-loss filesystem did not mount on ${dir} (exit ${code}): ${stderr.trim() || 'no message'}`,
          'Check that /dev/fuse exists and that nothing else is mounted there.',
        ),
      );
    });
  });
  // The run's teardown stops it; it must not keep the harness alive meanwhile.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  let stopped: Promise<PowerLossStats | undefined> | undefined;
  return {
    dir,
    fsname: options.fsname,
    pid: child.pid!,
    stop: () => (stopped ??= stopDaemon(child, dir)),
  };
}

async function stopDaemon(child: ChildProcess, dir: string): Promise<PowerLossStats | undefined> {
  const stats = await readPowerLossStats(dir).catch(() => undefined);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const inTime = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!inTime) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  // A daemon that died (or was killed above) leaves its mount behind, disconnected: detach it and drop the stash.
  if (mountedAt(dir)) await detach(dir);
  rmSync(stashDirOf(dir), { recursive: true, force: true });
  return stats;
}

/** One line of /proc/mounts of this filesystem. */
export interface PowerLossMountEntry {
  fsname: string;
  target: string;
  /** From an fsname Faultline wrote (faultline:<pid>:<run>:<node>). */
  harnessPid?: number;
  runId?: string;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountField(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMounts(text: string): PowerLossMountEntry[] {
  const entries: PowerLossMountEntry[] = [];
  for (const line of text.split('\n')) {
    const [source, target, type] = line.split(' ');
    if (type !== POWER_LOSS_FS_TYPE || !source || !target) continue;
    const fsname = unescapeMountField(source);
    const match = /^faultline:(\d+):([^:]+):/.exec(fsname);
    entries.push({
      fsname,
      target: unescapeMountField(target),
      ...(match ? { harnessPid: Number(match[1]), runId: match[2] } : {}),
    });
  }
  return entries;
}

export function powerLossMounts(): PowerLossMountEntry[] {
  return parseMounts(readFileSync('/proc/mounts', 'utf8'));
}

function mountedAt(dir: string): boolean {
  return powerLossMounts().some((m) => m.target === dir);
}

/** Lazy unmount: works on a mount whose daemon is gone, and on one a process still uses (it goes when they do). */
export async function detach(dir: string): Promise<void> {
  for (const [cmd, args] of [
    ['umount', ['-l', dir]],
    ['fusermount3', ['-u', '-z', dir]],
  ] as const) {
    const result = await execa(cmd, args, { reject: false });
    if (result.exitCode === 0) return;
  }
  if (mountedAt(dir))
    throw new HarnessError(
      `could not unmount the power-loss filesystem at ${dir}`,
      `Run \`umount -l ${dir}\` as root.`,
    );
}

/** Unmounts a leftover mount (its harness died) and removes its stash; the daemon, if alive, then exits by itself. */
export async function removeLeftoverMount(entry: PowerLossMountEntry): Promise<void> {
  await detach(entry.target);
  rmSync(stashDirOf(entry.target), { recursive: true, force: true });
}

/**
 * The filesystem under every node's data dir of one run, for DockerCluster: mounted before each container is
 * created (a container's bind mount copies the mounts below it at creation and is private afterwards, so a mount
 * made later is not seen inside), unmounted after the containers are gone.
 */
export class PowerLossFilesystems implements DataDirMount {
  private readonly mounts: PowerLossMount[] = [];
  private readonly mounted = new Set<string>();
  /** The counters each filesystem reported at its unmount, by node. */
  readonly finalStats: Record<string, PowerLossStats> = {};

  constructor(private readonly options: { runId: string; model: PowerLossEntryModel; log: Logger }) {}

  async mount(node: ClusterNode, dataDir: string): Promise<void> {
    // A node that left the ensemble and joins again keeps its mount.
    if (this.mounted.has(node.name)) return;
    this.mounted.add(node.name);
    const mount = await mountPowerLoss(dataDir, {
      fsname: `faultline:${process.pid}:${this.options.runId}:${node.name}`,
      model: this.options.model,
    });
    this.mounts.push(mount);
    this.options.log.debug(
      `${node.name}: power-loss filesystem (pid ${mount.pid}, ${this.options.model}) on ${dataDir}`,
    );
  }

  async unmountAll(): Promise<void> {
    this.mounted.clear();
    const errors: Error[] = [];
    for (const mount of this.mounts.splice(0)) {
      try {
        const stats = await mount.stop();
        const node = mount.fsname.split(':').pop()!;
        if (stats) this.finalStats[node] = stats;
      } catch (err) {
        errors.push(err as Error);
      }
    }
    if (errors.length) throw errors[0]!;
  }
}

// The userspace packet delayer (delayer.c) for kernels without netem: built once on the host as a static
// binary (cached by source hash), staged into a node through its bind mount, installed and started there.
// Static linking makes one binary run in every image, whatever its libc; the images carry no compiler.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { NODE_MOUNT, type ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { NemesisContext } from '../src/nemesis.js';

/** The NFQUEUE number the delayer serves and the firewall mark of its duplicates: 0xfa11, Faultline's mark. */
export const DELAYER_QUEUE = 0xfa11;
export const DELAYER_MARK = '0xfa11';
export const DELAYER_BINARY = '/usr/local/sbin/faultline-delayer';
/** The kernel keeps 15 characters of a process name: what pgrep -x matches. */
export const DELAYER_PROCESS = 'faultline-delay';
export const DELAYER_PIDFILE = '/run/faultline-delayer.pid';
export const DELAYER_COUNTERS = '/run/faultline-delayer.json';
const SOURCE_NAME = 'delayer.c';
const STAGED_NAME = '.faultline-delayer';
const COMPILE_FLAGS = ['-O2', '-static'];
const COMPILERS = ['cc', 'gcc', 'clang'];

export interface DelayerSettings {
  delayMs: number;
  jitterMs: number;
  duplicatePercent: number;
  reorderPercent: number;
  seed: number;
}

/** What the delayer counted, from its counters file (see delayer.c). */
export interface DelayerCounters {
  queued: number;
  released: number;
  held: number;
  duplicated: number;
  /** Released at once by the reorder share. */
  early: number;
  /** Released while an earlier packet of the same flow was still held: real reorderings. */
  overtook: number;
  heldMax: number;
  errors: number;
}

/** The delayer's command line for these settings. */
export function delayerArgs(settings: DelayerSettings): string[] {
  return [
    DELAYER_BINARY,
    '-q',
    String(DELAYER_QUEUE),
    '-d',
    String(settings.delayMs),
    '-j',
    String(settings.jitterMs),
    '-u',
    String(settings.duplicatePercent),
    '-r',
    String(settings.reorderPercent),
    '-s',
    String(settings.seed),
    '-m',
    DELAYER_MARK,
    '-p',
    DELAYER_PIDFILE,
    '-c',
    DELAYER_COUNTERS,
  ];
}

/** The counters file's JSON, or undefined when it is missing or not the delayer's. */
export function parseDelayerCounters(text: string): DelayerCounters | undefined {
  try {
    const value = JSON.parse(text) as Partial<DelayerCounters>;
    return typeof value.queued === 'number' && typeof value.released === 'number'
      ? (value as DelayerCounters)
      : undefined;
  } catch {
    return undefined;
  }
}

/** delayer.c beside this module when run from source; back in the checkout's nemesis/ when run from dist/nemesis. */
export function delayerSourcePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, SOURCE_NAME), join(here, '..', '..', 'nemesis', SOURCE_NAME)];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new HarnessError(
      `the packet delayer's source ${SOURCE_NAME} is missing (looked in ${candidates.join(', ')})`,
      'Reinstall Faultline from a complete checkout.',
    );
  return found;
}

/** node_modules/.cache/faultline in the checkout, as build tools do; the system temp dir when there is no node_modules. */
function cacheDir(sourcePath: string): string {
  const modules = join(dirname(sourcePath), '..', 'node_modules');
  return existsSync(modules) ? join(modules, '.cache', 'faultline') : join(tmpdir(), 'faultline-cache');
}

/** The compilers to try, in order: $CC first when set. */
function compilers(): string[] {
  const chosen = process.env['CC'];
  return chosen ? [chosen, ...COMPILERS] : COMPILERS;
}

/** Compiles the delayer with the first of the compilers that exists; says how to get one when none does. */
export async function compileDelayer(
  sourcePath: string,
  output: string,
  candidates: readonly string[] = compilers(),
): Promise<void> {
  const tried: string[] = [];
  for (const compiler of candidates) {
    tried.push(compiler);
    const result = await execa(compiler, [...COMPILE_FLAGS, '-o', output, sourcePath, '-lm'], { reject: false });
    // A compiler that is not installed fails to spawn and has no exit code.
    if (result.exitCode === undefined && /ENOENT/.test(result.shortMessage ?? '')) continue;
    if (result.exitCode === 0) return;
    const said = (result.stderr || result.shortMessage || '').trim().split('\n').slice(-3).join(' | ');
    throw new HarnessError(
      `building the packet delayer with ${compiler} failed: ${said}`,
      "Static linking needs the C library's static archive: on Debian, `apt-get install libc6-dev`.",
    );
  }
  throw new HarnessError(
    `Faultline's userspace packet delayer (packet delay, duplication and reordering where the kernel has no netem) needs a C compiler to build, and none was found (tried ${tried.join(', ')})`,
    'Install one, e.g. `apt-get install gcc libc6-dev` on Debian, or set CC to a compiler.',
  );
}

let building: Promise<string> | undefined;

/** The path of the built delayer on the host: compiled on first use, then reused while the source is unchanged. */
export function delayerBinary(): Promise<string> {
  building ??= (async () => {
    const sourcePath = delayerSourcePath();
    const hash = createHash('sha256')
      .update(readFileSync(sourcePath))
      .update(COMPILE_FLAGS.join(' '))
      .update(process.arch)
      .digest('hex')
      .slice(0, 12);
    const dir = cacheDir(sourcePath);
    const binary = join(dir, `faultline-delayer-${hash}`);
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    // Built under a temporary name and renamed: a concurrent run never sees half a binary.
    const partial = `${binary}.${process.pid}.tmp`;
    try {
      await compileDelayer(sourcePath, partial);
      chmodSync(partial, 0o755);
      renameSync(partial, binary);
      // Builds of older sources are dead weight.
      for (const old of readdirSync(dir))
        if (old.startsWith('faultline-delayer-') && join(dir, old) !== binary && !old.endsWith('.tmp'))
          rmSync(join(dir, old), { force: true });
    } finally {
      rmSync(partial, { force: true });
    }
    return binary;
  })();
  // A failed build is not cached: the next fault tries again (a compiler may have been installed meanwhile).
  building.catch(() => {
    building = undefined;
  });
  return building;
}

/** Copies the delayer into the node: staged through the node's bind mount, installed into the container's own filesystem. */
async function installDelayer(context: NemesisContext, node: ClusterNode, binary: string): Promise<void> {
  const staged = join(node.hostDir, STAGED_NAME);
  copyFileSync(binary, staged);
  try {
    await context.cluster.run(node, ['install', '-m', '0755', `${NODE_MOUNT}/${STAGED_NAME}`, DELAYER_BINARY]);
  } finally {
    rmSync(staged, { force: true });
  }
}

/** Builds (once), installs and starts the delayer on one node; returns its command line. It serves the queue when this returns. */
export async function startDelayer(
  context: NemesisContext,
  node: ClusterNode,
  settings: DelayerSettings,
): Promise<string[]> {
  await installDelayer(context, node, await delayerBinary());
  const args = delayerArgs(settings);
  // The delayer forks once it has bound the queue: the exec ends then, with its error when it could not.
  const result = await context.cluster.exec(node, args);
  if (result.exitCode !== 0)
    throw new HarnessError(
      `${node.name}: the packet delayer did not start (${(result.stderr || result.stdout).trim()})`,
    );
  return args;
}

/**
 * Shell that stops the node's delayer, if one runs: SIGTERM (it releases every held packet, writes its counters
 * and exits), SIGKILL after 5 s. Prints `delayer <counters JSON>` when it stopped one.
 */
export const stopDelayerScript = [
  `pid=$(pgrep -x ${DELAYER_PROCESS});`,
  'if [ -n "$pid" ]; then',
  '  kill -TERM $pid; i=0;',
  '  while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i+1)); done;',
  '  kill -KILL $pid 2>/dev/null;',
  `  echo "delayer $(cat ${DELAYER_COUNTERS} 2>/dev/null)";`,
  'fi;',
  `rm -f ${DELAYER_PIDFILE} ${DELAYER_COUNTERS}`,
].join(' ');

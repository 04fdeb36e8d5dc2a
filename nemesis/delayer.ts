// The userspace packet delayer (delayer.c) for kernels without netem: built once on the host as a static
// binary (cached by source hash), staged into a node through its bind mount, installed and started there.
// Static linking makes one binary run in every image, whatever its libc; the images carry no compiler.
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_MOUNT, type ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { NemesisContext } from '../src/nemesis.js';
import { compileHelper, findSource, helperBinary, type CHelper } from './c-helper.js';

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
  return findSource(`the packet delayer's ${SOURCE_NAME}`, [
    join(here, SOURCE_NAME),
    join(here, '..', '..', 'nemesis', SOURCE_NAME),
  ]);
}

function delayerHelper(sourcePath: string): CHelper {
  return {
    name: 'faultline-delayer',
    purpose:
      "Faultline's userspace packet delayer (packet delay, duplication and reordering where the kernel has no netem)",
    sourcePath,
    flags: COMPILE_FLAGS,
    libs: ['-lm'],
    buildFailedFix: "Static linking needs the C library's static archive: on Debian, `apt-get install libc6-dev`.",
    compilerFix: 'Install one, e.g. `apt-get install gcc libc6-dev` on Debian, or set CC to a compiler.',
  };
}

/** Compiles the delayer with the first of the compilers that exists; says how to get one when none does. */
export function compileDelayer(sourcePath: string, output: string, candidates?: readonly string[]): Promise<void> {
  return compileHelper(delayerHelper(sourcePath), output, candidates);
}

/** The path of the built delayer on the host: compiled on first use, then reused while the source is unchanged. */
export function delayerBinary(): Promise<string> {
  return helperBinary(delayerHelper(delayerSourcePath()));
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

// The runner image: Faultline itself, to run a shard wherever a Docker engine is reachable (a CI job, a Kubernetes
// Indexed Job). Built like the server images: mmdebstrap writes a Debian trixie root filesystem (its nodejs meets
// our engines field; docker.io gives the CLI and a dockerd for when no host socket is mounted; mmdebstrap builds
// server images inside), the engine imports it. This checkout's built CLI goes in with its production modules.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { HarnessError } from '../src/errors.js';
import { BUILD_COMMIT_FILE, harnessBuild } from '../src/harness-build.js';
import type { Logger } from '../src/log.js';
import { ensureRecipeImage, imageExists, imageName, type ServerImage, type ServerRecipe } from './image.js';

/**
 * What of the checkout the runner needs: the built CLI, the report's assets, the sources of what is compiled on the
 * machine that runs (the driver's Java, the packet delayer's and the power-loss filesystem's C), suites, scenarios
 * and the entry. The tools that compile them (a C compiler, libfuse3) are in the image's package list.
 */
const SHIPPED = [
  'package.json',
  'package-lock.json',
  'bin',
  'dist',
  'src/report/assets',
  'suites',
  'nemesis/scenarios',
  'nemesis/delayer.c',
  'nemesis/power-loss/powerloss.c',
  'docker/driver',
  'docker/runner',
];
/** Where Faultline lives in the image; `faultline` and `faultline-runner` are on the PATH. */
export const RUNNER_HOME = '/opt/faultline';

function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package-lock.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The files of `path` (a file, or a directory walked), relative to root. */
function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** A digest of everything the image ships (and the commit): the image is rebuilt exactly when one changes. */
export function runnerDigest(root = checkoutRoot(), commit = harnessBuild().commit): string {
  const hash = createHash('sha256').update(`commit=${commit ?? 'none'}\n`);
  for (const path of SHIPPED) {
    for (const file of filesUnder(root, path).sort()) hash.update(`${file}\n`).update(readFileSync(join(root, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

/** The recipe of the runner image for a staged tree (its path is named by the digest, so the recipe is stable). */
export function runnerRecipe(staging: string, digest: string): ServerRecipe {
  return {
    id: 'runner',
    suite: 'trixie',
    expectedVersion: '',
    // trixie's docker.io holds the daemon only; docker-cli is the client the entry script waits with. gcc, libc6-dev
    // and libfuse3 build the packet delayer and the power-loss filesystem where the faults run (without them a
    // shard's packet faults all failed: its runs were incomplete).
    packages: [
      'nodejs',
      'docker.io',
      'docker-cli',
      'mmdebstrap',
      'iptables',
      'iproute2',
      'procps',
      'ca-certificates',
      'gcc',
      'libc6-dev',
      'fuse3',
      'libfuse3-dev',
      'pkg-config',
    ],
    aptOptions: [],
    repo: 'faultline/runner',
    kind: 'runner',
    hooks: [
      `mkdir -p "$1${RUNNER_HOME}"`,
      `sync-in ${staging} ${RUNNER_HOME}`,
      `chroot "$1" sh -c 'ln -sf ${RUNNER_HOME}/bin/faultline /usr/local/bin/faultline && ln -sf ${RUNNER_HOME}/docker/runner/faultline-runner /usr/local/bin/faultline-runner && mkdir -p /work'`,
      // Names the content in the recipe: a new digest is a new image name.
      `echo ${digest} > "$1${RUNNER_HOME}/BUILD-DIGEST"`,
    ],
  };
}

/** Copies what the image ships into a scratch dir and installs the production modules there (from npm's cache). */
async function stage(root: string, staging: string, commit: string | null, log: Logger): Promise<void> {
  if (!existsSync(join(root, 'dist', 'src', 'cli.js')))
    throw new HarnessError(`${root} has no built CLI (dist/src/cli.js)`, 'Run `npm install` (it builds dist/) first.');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const path of SHIPPED)
    if (existsSync(join(root, path))) cpSync(join(root, path), join(staging, path), { recursive: true });
  writeFileSync(join(staging, BUILD_COMMIT_FILE), `${commit ?? ''}\n`);
  log.info('Installing production modules for the runner image (npm ci --omit=dev)...');
  const npm = await execa(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: staging, reject: false, all: true },
  );
  if (npm.exitCode !== 0)
    throw new HarnessError(
      `npm ci for the runner image failed:\n  ${npm.all?.split('\n').slice(-6).join('\n  ')}`,
      'Check that the npm registry is reachable (npm ping) and run again.',
    );
}

/** Builds (or finds) the runner image of this checkout. */
export async function ensureRunnerImage(docker: Docker, log: Logger): Promise<ServerImage> {
  const root = checkoutRoot();
  const { commit } = harnessBuild();
  const digest = runnerDigest(root, commit);
  const staging = join(tmpdir(), `faultline-runner-${digest}`);
  const recipe = runnerRecipe(staging, digest);
  try {
    // ensureRecipeImage returns at once when the image exists; staging is only needed for a build.
    if (!(await imageExists(docker, imageName(recipe)))) await stage(root, staging, commit, log);
    return await ensureRecipeImage(docker, recipe, log);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// Builds ZooKeeper server images from Debian packages: mmdebstrap writes a root filesystem tarball,
// `docker import` turns it into an image. No registry is involved.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { RUN_SETTINGS } from '../src/config.js';
import { HarnessError, UsageError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { ensureDebianPackage } from '../src/packages.js';
import { AbortedError } from '../src/time.js';

/** A server build Faultline knows how to make. */
export interface ServerRecipe {
  /** What users pass as --server. */
  id: string;
  suite: string;
  /** The ZooKeeper version this suite ships, as seen on this machine kind. */
  expectedVersion: string;
  packages: string[];
  aptOptions: string[];
  /** Image repository; ZooKeeper server images by default. */
  repo?: string;
  /** What the image is, for its faultline.image label: zookeeper (default), jdk, driver. */
  kind?: string;
  /** mmdebstrap --customize-hook steps run in the finished root filesystem (e.g. compiling a program into it). */
  hooks?: string[];
}

// Bump when the image layout changes in a way the recipe fields do not show.
const RECIPE_REVISION = 1;
// libfaketime: clock faults preload it into the server's JVM only (nemesis/clock.ts).
const BASE_PACKAGES = ['zookeeper', 'iptables', 'iproute2', 'procps', 'libfaketime'];

export const SERVER_RECIPES: Record<string, ServerRecipe> = {
  'debian:bookworm': {
    id: 'debian:bookworm',
    suite: 'bookworm',
    expectedVersion: '3.8.0',
    packages: [...BASE_PACKAGES, 'openjdk-17-jre-headless'],
    aptOptions: [],
  },
  'debian:trixie': {
    id: 'debian:trixie',
    suite: 'trixie',
    expectedVersion: '3.9.3',
    packages: [...BASE_PACKAGES, 'openjdk-21-jre-headless'],
    aptOptions: [],
  },
  // sid's mirror snapshot is frozen, so its Release file has expired.
  'debian:sid': {
    id: 'debian:sid',
    suite: 'sid',
    expectedVersion: '3.9.6',
    packages: BASE_PACKAGES,
    aptOptions: ['Acquire::Check-Valid-Until "false"'],
  },
};

/** The build a run uses when none is named: the settings table's default. */
export const DEFAULT_SERVER = RUN_SETTINGS.server.default;

/** A JDK and the tools faults need, no ZooKeeper: the base that Apache binary tarballs are layered on. */
export const JDK_BASE_RECIPE: ServerRecipe = {
  id: 'jdk:bookworm',
  suite: 'bookworm',
  expectedVersion: '',
  packages: ['openjdk-17-jre-headless', 'iptables', 'iproute2', 'procps', 'bash', 'libfaketime'],
  aptOptions: [],
  repo: 'faultline/jdk',
};

export interface ServerImage {
  name: string;
  server: string;
  recipeHash: string;
}

export function recipeFor(server: string): ServerRecipe {
  const recipe = SERVER_RECIPES[server];
  if (!recipe) {
    throw new UsageError(`unknown server build "${server}"`, `Use one of: ${Object.keys(SERVER_RECIPES).join(', ')}.`);
  }
  return recipe;
}

export function recipeHash(recipe: ServerRecipe): string {
  return createHash('sha256')
    .update(JSON.stringify({ RECIPE_REVISION, ...recipe }))
    .digest('hex')
    .slice(0, 12);
}

export function imageName(recipe: ServerRecipe): string {
  return `${recipe.repo ?? 'faultline/zookeeper'}:${recipe.suite}-${recipeHash(recipe)}`;
}

function mmdebstrapArgs(recipe: ServerRecipe, output = '-'): string[] {
  return [
    '--variant=apt',
    '--mode=root',
    `--include=${recipe.packages.join(',')}`,
    ...recipe.aptOptions.map((o) => `--aptopt=${o}`),
    ...(recipe.hooks ?? []).map((h) => `--customize-hook=${h}`),
    // Docs and locales are dead weight in a test image (man pages stay: openjdk's postinst needs their directories).
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    recipe.suite,
    output,
  ];
}

export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns the image for a server build: a Debian suite build (built when no image of the current recipe exists),
 * an Apache binary tarball on disk (layered on the JDK base), or an image that already exists locally.
 */
export async function ensureImage(
  docker: Docker,
  server: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<ServerImage> {
  if (SERVER_RECIPES[server]) return ensureRecipeImage(docker, SERVER_RECIPES[server], log, signal);
  if (isTarballServer(server)) return ensureTarballImage(docker, server, log, signal);
  if (await imageExists(docker, server)) return { name: server, server, recipeHash: 'local' };
  throw new UsageError(
    `unknown server build "${server}"`,
    `Use one of ${Object.keys(SERVER_RECIPES).join(', ')}, a path to an apache-zookeeper-X-bin.tar.gz, or the name of a local image (\`docker images\`).`,
  );
}

/** How long a stopped build step may take to end on SIGTERM before it is killed. */
const BUILD_KILL_GRACE_MS = 2000;

/**
 * Builds (or finds) the image of a recipe. The signal stops the build within a few seconds: mmdebstrap runs in its
 * own process group, and the whole group (apt, dpkg, the chroot's processes) gets SIGTERM, then SIGKILL; the
 * import's upload is cut; the partial tarball and any partial image are removed; then AbortedError.
 */
export async function ensureRecipeImage(
  docker: Docker,
  recipe: ServerRecipe,
  log: Logger,
  signal?: AbortSignal,
): Promise<ServerImage> {
  if (signal?.aborted) throw new AbortedError('the image build');
  const server = recipe.id;
  const hash = recipeHash(recipe);
  const name = imageName(recipe);
  if (await imageExists(docker, name)) return { name, server, recipeHash: hash };

  await ensureDebianPackage('mmdebstrap', 'mmdebstrap', 'to build ZooKeeper images from Debian packages', log);
  log.info(
    `Building image ${name} from Debian ${recipe.suite} packages (${recipe.expectedVersion ? `ZooKeeper ${recipe.expectedVersion}` : recipe.packages.join(', ')}; about a minute)...`,
  );
  const started = Date.now();
  // The root filesystem goes to a file first, then to the engine: streamed straight into an import, the request sat
  // idle until mmdebstrap wrote its tarball, and builds that took about 5 minutes (a loaded machine) failed with
  // "socket hang up" (seen building the driver image).
  const scratch = mkdtempSync(join(tmpdir(), 'faultline-image-'));
  const tarball = join(scratch, 'rootfs.tar');
  const build = execa('mmdebstrap', mmdebstrapArgs(recipe, tarball), {
    buffer: { stdout: false, stderr: true },
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
    detached: true,
  });
  let importStream: NodeJS.ReadableStream | undefined;
  let upload: ReturnType<typeof createReadStream> | undefined;
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      if (build.pid !== undefined && build.exitCode === null) process.kill(-build.pid, sig);
    } catch {
      /* already gone */
    }
  };
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), BUILD_KILL_GRACE_MS);
    upload?.destroy();
    (importStream as { destroy?: () => void } | undefined)?.destroy?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let phase = 'starting';
  const stderrLines: string[] = [];
  build.stderr?.setEncoding('utf8');
  build.stderr?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      stderrLines.push(line);
      if (stderrLines.length > 50) stderrLines.shift();
      if (line.startsWith('I: ')) phase = line.slice(3);
      log.debug(`mmdebstrap: ${line}`);
    }
  });
  const ticker = setInterval(
    () => log.status(`building ${name}: ${Math.round((Date.now() - started) / 1000)} s, ${phase}`),
    250,
  );
  try {
    const result = await build;
    if (signal?.aborted) throw new AbortedError('the image build');
    if (result.exitCode !== 0) {
      throw new HarnessError(
        `mmdebstrap failed building ${server} (exit ${result.exitCode}):\n  ${stderrLines.slice(-8).join('\n  ')}`,
        'Check that Debian packages can be fetched (apt-get update works) and run again.',
      );
    }
    phase = 'importing into the engine';
    upload = createReadStream(tarball);
    const stream = await docker.importImage(upload, {
      repo: name.split(':')[0],
      tag: name.split(':')[1],
      changes: [
        `LABEL faultline.image=${recipe.kind ?? (recipe.repo ? 'jdk' : 'zookeeper')} faultline.server=${server} faultline.recipe=${hash} faultline.zookeeper.expected=${recipe.expectedVersion || 'none'}`,
      ],
    } as Record<string, unknown>);
    importStream = stream;
    if (signal?.aborted) onAbort();
    await new Promise<void>((resolve, reject) => {
      const stopped = (): void => reject(new AbortedError('the image build'));
      signal?.addEventListener('abort', stopped, { once: true });
      docker.modem.followProgress(stream, (err: Error | null) => {
        signal?.removeEventListener('abort', stopped);
        if (err) reject(err);
        else resolve();
      });
    });
    if (signal?.aborted) throw new AbortedError('the image build');
  } catch (err) {
    // A half-imported image must not be taken for a good one next time.
    await docker
      .getImage(name)
      .remove({ force: true })
      .catch(() => undefined);
    if (err instanceof HarnessError || err instanceof AbortedError) throw err;
    if (signal?.aborted) throw new AbortedError('the image build');
    throw new HarnessError(
      `building image ${name} failed: ${(err as Error).message}`,
      'Run `faultline setup` again; see harness.log for details.',
      { cause: err },
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The group may still be ending (SIGTERM sent): wait for it, so no mmdebstrap outlives the build.
    await build.catch(() => undefined);
    clearTimeout(killTimer);
    clearInterval(ticker);
    log.status(null);
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!(await imageExists(docker, name))) {
    throw new HarnessError(`image ${name} is missing after the build`, 'Run `faultline setup` again.');
  }
  log.info(`Built ${name} in ${Math.round((Date.now() - started) / 1000)} s.`);
  return { name, server, recipeHash: hash };
}

export function isTarballServer(server: string): boolean {
  return /\.(tar\.gz|tgz)$/.test(server);
}

/** apache-zookeeper-3.9.3-bin.tar.gz → 3.9.3; anything else → the file name without its extension. */
export function tarballVersion(path: string): string {
  const file = basename(path).replace(/\.(tar\.gz|tgz)$/, '');
  return /^apache-zookeeper-(.+?)-bin$/.exec(file)?.[1] ?? file;
}

/** Refuses, with the reason, a server tarball that is missing, unreadable, or not an Apache binary release. */
export async function checkTarball(path: string): Promise<void> {
  if (!existsSync(path))
    throw new UsageError(
      `server tarball not found: ${path}`,
      'Give the path of an apache-zookeeper-X-bin.tar.gz on this machine.',
    );
  await tarballTopDir(path);
}

/** The single top-level directory of a tarball (apache-zookeeper-X-bin/). */
async function tarballTopDir(path: string): Promise<string> {
  const listing = await execa('tar', ['-tzf', path], { reject: false, buffer: true, maxBuffer: 64 * 2 ** 20 });
  if (listing.exitCode !== 0)
    throw new UsageError(
      `${path} is not a readable .tar.gz: ${
        listing.stderr
          .split('\n')
          .map((l) => l.trim())
          .find(Boolean) ?? `tar -tzf exited with ${listing.exitCode}`
      }`,
      'Give an apache-zookeeper-X-bin.tar.gz as released by Apache.',
    );
  const tops = new Set(
    listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\.\//, '').split('/')[0]!)
      .filter(Boolean),
  );
  const names = listing.stdout.split('\n');
  if (tops.size !== 1 || !names.some((n) => /(^|\/)bin\/zkServer\.sh$/.test(n))) {
    throw new UsageError(
      `${path} does not hold one apache-zookeeper-X-bin/ directory with bin/zkServer.sh`,
      'Give an Apache ZooKeeper binary tarball (the -bin one, not the source release).',
    );
  }
  return [...tops][0]!;
}

/**
 * An Apache binary tarball layered on the JDK base: the tarball is unpacked into /opt by the engine (putArchive
 * takes gzip), and /usr/share/zookeeper points at it, where the harness looks for bin/zkServer.sh on every image.
 * Named by the tarball's content hash, so the same file is layered once.
 */
export async function ensureTarballImage(
  docker: Docker,
  path: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<ServerImage> {
  await checkTarball(path);
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
  const version = tarballVersion(path);
  const name = `faultline/zookeeper:tarball-${version.replace(/[^\w.-]/g, '_')}-${hash}`;
  if (await imageExists(docker, name)) return { name, server: path, recipeHash: hash };
  const top = await tarballTopDir(path);
  const base = await ensureRecipeImage(docker, JDK_BASE_RECIPE, log, signal);
  log.info(`Layering ${basename(path)} on ${base.name} as ${name}...`);
  const container = await docker.createContainer({
    Image: base.name,
    Cmd: ['sleep', 'infinity'],
    Labels: { 'faultline.image-build': name },
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await container.start();
    await container.putArchive(createReadStream(path), { path: '/opt' });
    const link = await container.exec({
      Cmd: [
        'sh',
        '-c',
        `rm -rf /usr/share/zookeeper && ln -s /opt/${top} /usr/share/zookeeper && test -x /usr/share/zookeeper/bin/zkServer.sh`,
      ],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await link.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.resume();
    });
    const { ExitCode } = await link.inspect();
    if (ExitCode !== 0)
      throw new UsageError(
        `${path}: bin/zkServer.sh is missing or not executable after unpacking`,
        'Give an Apache ZooKeeper binary tarball.',
      );
    await container.stop({ t: 0 }).catch(() => undefined);
    await container.commit({
      repo: name.split(':')[0],
      tag: name.split(':')[1],
      changes: [
        `LABEL faultline.image=zookeeper faultline.server=${basename(path)} faultline.recipe=${hash} faultline.zookeeper.expected=${version} faultline.base=${base.name}`,
        'CMD ["sleep", "infinity"]',
      ],
    } as Record<string, unknown>);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
  log.info(`Built ${name}.`);
  return { name, server: path, recipeHash: hash };
}

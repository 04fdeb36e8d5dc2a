// Builds ZooKeeper server images from Debian packages: mmdebstrap writes a root filesystem tarball,
// `docker import` turns it into an image. No registry is involved.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { HarnessError, UsageError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { ensureDebianPackage } from './engine.js';

/** A server build Faultline knows how to make. */
export interface ServerRecipe {
  /** What users pass as --server. */
  id: string;
  suite: string;
  /** The ZooKeeper version this suite ships, as seen on this machine kind. */
  expectedVersion: string;
  packages: string[];
  aptOptions: string[];
}

// Bump when the image layout changes in a way the recipe fields do not show.
const RECIPE_REVISION = 1;
const BASE_PACKAGES = ['zookeeper', 'iptables', 'iproute2', 'procps'];

export const SERVER_RECIPES: Record<string, ServerRecipe> = {
  'debian:bookworm': { id: 'debian:bookworm', suite: 'bookworm', expectedVersion: '3.8.0', packages: [...BASE_PACKAGES, 'openjdk-17-jre-headless'], aptOptions: [] },
  'debian:trixie': { id: 'debian:trixie', suite: 'trixie', expectedVersion: '3.9.3', packages: [...BASE_PACKAGES, 'openjdk-21-jre-headless'], aptOptions: [] },
  // sid's mirror snapshot is frozen, so its Release file has expired.
  'debian:sid': { id: 'debian:sid', suite: 'sid', expectedVersion: '3.9.6', packages: BASE_PACKAGES, aptOptions: ['Acquire::Check-Valid-Until "false"'] },
};

export const DEFAULT_SERVER = 'debian:bookworm';

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
  return createHash('sha256').update(JSON.stringify({ RECIPE_REVISION, ...recipe })).digest('hex').slice(0, 12);
}

export function imageName(recipe: ServerRecipe): string {
  return `faultline/zookeeper:${recipe.suite}-${recipeHash(recipe)}`;
}

function mmdebstrapArgs(recipe: ServerRecipe): string[] {
  return [
    '--variant=apt',
    '--mode=root',
    `--include=${recipe.packages.join(',')}`,
    ...recipe.aptOptions.map((o) => `--aptopt=${o}`),
    // Docs and locales are dead weight in a test image (man pages stay: openjdk's postinst needs their directories).
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    recipe.suite,
    '-',
  ];
}

async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Returns the image for a server build, building it when no image of the current recipe exists. */
export async function ensureImage(docker: Docker, server: string, log: Logger): Promise<ServerImage> {
  const recipe = recipeFor(server);
  const hash = recipeHash(recipe);
  const name = imageName(recipe);
  if (await imageExists(docker, name)) return { name, server, recipeHash: hash };

  await ensureDebianPackage('mmdebstrap', 'mmdebstrap', 'to build ZooKeeper images from Debian packages', log);
  log.info(`Building image ${name} from Debian ${recipe.suite} packages (ZooKeeper ${recipe.expectedVersion}; about a minute)...`);
  const started = Date.now();
  const build = execa('mmdebstrap', mmdebstrapArgs(recipe), { buffer: { stdout: false, stderr: true }, stdout: 'pipe', stderr: 'pipe', reject: false });
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
  const ticker = setInterval(() => log.status(`building ${name}: ${Math.round((Date.now() - started) / 1000)} s, ${phase}`), 250);
  try {
    const imported = docker.importImage(build.stdout!, {
      repo: name.split(':')[0],
      tag: name.split(':')[1],
      changes: [
        `LABEL faultline.image=zookeeper faultline.server=${server} faultline.recipe=${hash} faultline.zookeeper.expected=${recipe.expectedVersion}`,
      ],
    } as Record<string, unknown>);
    const [stream, result] = await Promise.all([imported, build]);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream as NodeJS.ReadableStream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
    if (result.exitCode !== 0) {
      throw new HarnessError(`mmdebstrap failed building ${server} (exit ${result.exitCode}):\n  ${stderrLines.slice(-8).join('\n  ')}`,
        'Check that Debian packages can be fetched (apt-get update works) and run again.');
    }
  } catch (err) {
    // A half-imported image must not be taken for a good one next time.
    await docker.getImage(name).remove({ force: true }).catch(() => undefined);
    if (err instanceof HarnessError) throw err;
    throw new HarnessError(`building image ${name} failed: ${(err as Error).message}`, 'Run `faultline setup` again; see harness.log for details.', { cause: err });
  } finally {
    clearInterval(ticker);
    log.status(null);
  }
  if (!(await imageExists(docker, name))) {
    throw new HarnessError(`image ${name} is missing after the build`, 'Run `faultline setup` again.');
  }
  log.info(`Built ${name} in ${Math.round((Date.now() - started) / 1000)} s.`);
  return { name, server, recipeHash: hash };
}

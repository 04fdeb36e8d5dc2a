// Which Faultline is running: its package version and commit. Shards of one gate must come from one build, and
// the runner image, which holds no .git, carries the commit it was built from in a file.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which Faultline ran a shard: the package version and the checkout's commit (`-dirty` with local changes). */
export interface HarnessBuild {
  version: string;
  commit: string | null;
}

/** Beside package.json in the runner image, which holds no .git: the commit the image was built from. */
export const BUILD_COMMIT_FILE = 'BUILD-COMMIT';

/** The checkout's root from this module, in src/gate (tests) or dist/src/gate (the built CLI). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * The commit comes from git when the checkout has one, else from BUILD-COMMIT (written into the runner image),
 * else from FAULTLINE_COMMIT, else null: then shards can only be matched by version and plan.
 */
export function harnessBuild(env: NodeJS.ProcessEnv = process.env): HarnessBuild {
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const git = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const head = existsSync(join(root, '.git')) ? git(['rev-parse', 'HEAD']) : null;
  if (head) {
    // Only what the harness is made of counts as dirty: results and scratch files do not change a run.
    const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'workloads', 'nemesis', 'docker']);
    return { version, commit: dirty ? `${head}-dirty` : head };
  }
  const built = join(root, BUILD_COMMIT_FILE);
  const fromFile = existsSync(built) ? readFileSync(built, 'utf8').trim() : '';
  return { version, commit: fromFile || env.FAULTLINE_COMMIT?.trim() || null };
}

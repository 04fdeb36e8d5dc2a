// Faultline's C helpers (the packet delayer, the power-loss filesystem) are compiled on the host with its C compiler
// the first time they are needed, and cached by the hash of source, flags and architecture in
// node_modules/.cache/faultline (the system temp dir without node_modules), as build tools cache their output.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { HarnessError } from '../src/errors.js';

const COMPILERS = ['cc', 'gcc', 'clang'];

export interface CHelper {
  /** The binary's name, also the prefix of its cached builds (faultline-delayer). */
  name: string;
  /** What it is and why it is needed, for the no-compiler message. */
  purpose: string;
  sourcePath: string;
  /** Compiler flags before the source. */
  flags: readonly string[];
  /** Libraries after the source. */
  libs: readonly string[];
  /** The fix to name when the compiler ran and failed (a missing header or static library). */
  buildFailedFix: string;
  /** The packages that give a compiler and what the helper links against. */
  compilerFix: string;
}

/** The first existing of the candidate paths of a source file (beside the module from source, in nemesis/ from dist). */
export function findSource(name: string, candidates: readonly string[]): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new HarnessError(
      `the source ${name} is missing (looked in ${candidates.join(', ')})`,
      'Reinstall Faultline from a complete checkout.',
    );
  return found;
}

/** node_modules/.cache/faultline in the checkout, as build tools do; the system temp dir when there is no node_modules. */
function cacheDir(sourcePath: string): string {
  let dir = dirname(sourcePath);
  for (let i = 0; i < 3 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  const modules = join(dir, 'node_modules');
  return existsSync(modules) ? join(modules, '.cache', 'faultline') : join(tmpdir(), 'faultline-cache');
}

/** The compilers to try, in order: $CC first when set. */
export function compilers(): string[] {
  const chosen = process.env['CC'];
  return chosen ? [chosen, ...COMPILERS] : COMPILERS;
}

/** Compiles with the first of the compilers that exists; says how to get one when none does. */
export async function compileHelper(
  helper: CHelper,
  output: string,
  candidates: readonly string[] = compilers(),
): Promise<void> {
  const tried: string[] = [];
  for (const compiler of candidates) {
    tried.push(compiler);
    const result = await execa(compiler, [...helper.flags, '-o', output, helper.sourcePath, ...helper.libs], {
      reject: false,
    });
    // A compiler that is not installed fails to spawn and has no exit code.
    if (result.exitCode === undefined && /ENOENT/.test(result.shortMessage ?? '')) continue;
    if (result.exitCode === 0) return;
    const said = (result.stderr || result.shortMessage || '').trim().split('\n').slice(-3).join(' | ');
    throw new HarnessError(`building ${helper.name} with ${compiler} failed: ${said}`, helper.buildFailedFix);
  }
  throw new HarnessError(
    `${helper.purpose} needs a C compiler to build, and none was found (tried ${tried.join(', ')})`,
    helper.compilerFix,
  );
}

const building = new Map<string, Promise<string>>();

/** The path of the built helper on the host: compiled on first use, then reused while source and flags are unchanged. */
export function helperBinary(helper: CHelper): Promise<string> {
  const known = building.get(helper.name);
  if (known) return known;
  const build = (async () => {
    const hash = createHash('sha256')
      .update(readFileSync(helper.sourcePath))
      .update([...helper.flags, '|', ...helper.libs].join(' '))
      .update(process.arch)
      .digest('hex')
      .slice(0, 12);
    const dir = cacheDir(helper.sourcePath);
    const binary = join(dir, `${helper.name}-${hash}`);
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    // Built under a temporary name and renamed: a concurrent run never sees half a binary.
    const partial = `${binary}.${process.pid}.tmp`;
    try {
      await compileHelper(helper, partial);
      chmodSync(partial, 0o755);
      renameSync(partial, binary);
      // Builds of older sources are dead weight.
      for (const old of readdirSync(dir))
        if (
          old.startsWith(`${helper.name}-`) &&
          /^[0-9a-f]{12}$/.test(old.slice(helper.name.length + 1)) &&
          join(dir, old) !== binary
        )
          rmSync(join(dir, old), { force: true });
    } finally {
      rmSync(partial, { force: true });
    }
    return binary;
  })();
  building.set(helper.name, build);
  // A failed build is not cached: the next use tries again (a compiler may have been installed meanwhile).
  build.catch(() => building.delete(helper.name));
  return build;
}

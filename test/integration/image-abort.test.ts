// Ctrl-C during an image build: a real mmdebstrap build of a throwaway recipe (its own repository and tag, never a
// server image anyone uses) is stopped a few seconds in; the build must end within 5 s, leave no mmdebstrap (or
// apt/dpkg under it) running, no scratch tarball and no image.
import { execSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ensureRecipeImage, imageExists, imageName, type ServerRecipe } from '../../docker/image.js';
import { MemoryLogger } from '../../src/log.js';
import { AbortedError } from '../../src/time.js';

const THROWAWAY: ServerRecipe = {
  id: 'throwaway:interrupted-build',
  suite: 'bookworm',
  expectedVersion: '',
  packages: ['procps'],
  aptOptions: [],
  repo: 'faultline/test-throwaway',
  kind: 'test-throwaway',
};

function buildProcesses(): string[] {
  return execSync('ps -eo pid,args', { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('mmdebstrap') && l.includes('procps') && !l.includes('ps -eo'));
}

describe('an image build', () => {
  it('stops within 5 s of Ctrl-C and leaves no process, tarball or image', async () => {
    const docker = new Docker();
    const name = imageName(THROWAWAY);
    const scratch = (): string[] => readdirSync(tmpdir()).filter((f) => /^(faultline-image-|mmdebstrap\.)/.test(f));
    const scratchBefore = scratch();
    const controller = new AbortController();
    const build = ensureRecipeImage(docker, THROWAWAY, new MemoryLogger(), controller.signal);
    await new Promise((r) => setTimeout(r, 8000));
    expect(buildProcesses().length, 'mmdebstrap should be running 8 s in').toBeGreaterThan(0);
    const abortedAt = Date.now();
    controller.abort('SIGINT');
    await expect(build).rejects.toBeInstanceOf(AbortedError);
    const tookMs = Date.now() - abortedAt;
    expect(tookMs).toBeLessThan(5000);
    expect(buildProcesses()).toEqual([]);
    // Ours and mmdebstrap's own chroot directory (it removes that itself on SIGTERM).
    expect(scratch().filter((f) => !scratchBefore.includes(f))).toEqual([]);
    expect(await imageExists(docker, name)).toBe(false);
  }, 120_000);
});

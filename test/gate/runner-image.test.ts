// The runner image's recipe without building it: named by a digest of what it ships, so it is rebuilt exactly when
// the shipped files or the commit change; Faultline is synced in and put on the PATH with its entry script.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageName } from '../../docker/image.js';
import { RUNNER_HOME, runnerDigest, runnerRecipe } from '../../docker/runner.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the runner image recipe', () => {
  it('is named by what it ships and by the commit', () => {
    const copy = mkdtempSync(join(tmpdir(), 'faultline-runner-test-'));
    for (const path of ['package.json', 'package-lock.json', 'bin', 'suites', 'docker/runner'])
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    const digest = runnerDigest(copy, 'abc');
    expect(runnerDigest(copy, 'abc')).toBe(digest);
    expect(runnerDigest(copy, 'def')).not.toBe(digest);
    writeFileSync(join(copy, 'suites', 'extra.yaml'), 'name: extra\n');
    expect(runnerDigest(copy, 'abc')).not.toBe(digest);

    const recipe = runnerRecipe(`/tmp/faultline-runner-${digest}`, digest);
    expect(imageName(recipe)).toBe(imageName(runnerRecipe(`/tmp/faultline-runner-${digest}`, digest)));
    expect(imageName(recipe)).toMatch(/^faultline\/runner:trixie-[0-9a-f]{12}$/);
    expect(imageName(runnerRecipe('/tmp/x', 'other'))).not.toBe(imageName(recipe));
    expect(recipe.packages).toEqual(
      expect.arrayContaining(['nodejs', 'docker.io', 'docker-cli', 'mmdebstrap', 'gcc', 'libc6-dev', 'libfuse3-dev']),
    );
    expect(recipe.hooks).toContain(`sync-in /tmp/faultline-runner-${digest} ${RUNNER_HOME}`);
    expect(recipe.hooks!.join('\n')).toMatch(/faultline-runner \/usr\/local\/bin\/faultline-runner/);
  });
});

// `faultline analyze` refuses a time budget that is not a positive number, naming the option (before reading the run).
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../porcupine/corpus.js';

describe('faultline analyze --timeout', () => {
  for (const bad of ['abc', '-5', '0', '']) {
    it(`refuses "${bad}"`, async () => {
      const { stderr, exitCode } = await execa(
        process.execPath,
        [path.join(repoRoot, 'bin', 'faultline.js'), 'analyze', '--timeout', bad, '/nonexistent-run'],
        { reject: false },
      );
      expect(stderr).toMatch(/--timeout must be a positive number of seconds, not "/);
      expect(exitCode).toBe(4);
    });
  }
});

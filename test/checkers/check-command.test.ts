// `faultline check` and `faultline import` through commander, on temporary files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerCheckCommand } from '../../src/commands/check.js';
import { registerImportCommand } from '../../src/commands/import.js';
import { UsageError } from '../../src/errors.js';
import { corpusDir } from '../porcupine/corpus.js';

const dir = mkdtempSync(path.join(tmpdir(), 'faultline-check-'));
const line = (index: number, process: number, type: string, f: string, value: unknown): string =>
  JSON.stringify({ index, time: index, process, type, f, value });
const staleRead = [
  line(0, 0, 'invoke', 'write', 1),
  line(1, 0, 'ok', 'write', 1),
  line(2, 1, 'invoke', 'write', 2),
  line(3, 1, 'ok', 'write', 2),
  line(4, 2, 'invoke', 'read', null),
  line(5, 2, 'ok', 'read', 1),
].join('\n');
const twin = [
  line(0, 0, 'invoke', 'write', 1),
  line(1, 0, 'ok', 'write', 1),
  line(2, 1, 'invoke', 'write', 2),
  line(3, 2, 'invoke', 'read', null),
  line(4, 2, 'ok', 'read', 1),
  line(5, 1, 'ok', 'write', 2),
].join('\n');
writeFileSync(path.join(dir, 'stale.jsonl'), staleRead);
writeFileSync(path.join(dir, 'twin.jsonl'), twin);

async function run(...args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  const program = new Command().exitOverride();
  registerCheckCommand(program);
  registerImportCommand(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'faultline', ...args]);
  } finally {
    spy.mockRestore();
  }
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { out, exitCode };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('faultline check', () => {
  it('prints one JSON line per file and exits 1 when any is invalid', async () => {
    const { out, exitCode } = await run(
      'check',
      '--model',
      'cas-register',
      '--json',
      path.join(dir, 'twin.jsonl'),
      path.join(dir, 'stale.jsonl'),
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; valid: unknown; model: string; ops: number; ms: number });
    expect(lines.map((l) => [path.basename(l.file), l.valid, l.model, l.ops])).toEqual([
      ['twin.jsonl', true, 'cas-register', 3],
      ['stale.jsonl', false, 'cas-register', 3],
    ]);
    expect(exitCode).toBe(1);
  });
  it('explains an invalid history in text mode; exits 0 when all are valid', async () => {
    expect((await run('check', '--model', 'register', path.join(dir, 'stale.jsonl'))).out).toMatch(
      /NOT linearizable[\s\S]*could not place:[\s\S]*#4 process 2 read -> 1/,
    );
    expect((await run('check', '--model', 'register', path.join(dir, 'twin.jsonl'))).exitCode).toBe(0);
  });
  it('rejects a bad timeout and a missing file with a UsageError', async () => {
    await expect(
      run('check', '--model', 'register', '--timeout', '-1', path.join(dir, 'twin.jsonl')),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(run('check', '--model', 'register', path.join(dir, 'missing.jsonl'))).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});

describe('faultline import', () => {
  it('converts a Jepsen log that check then accepts', async () => {
    const out = path.join(dir, 'etcd_002.jsonl');
    await run('import', 'auto', path.join(corpusDir, 'jepsen', 'etcd_002.log'), '-o', out);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toContain('"process":4');
    expect((await run('check', '--model', 'cas-register', '--json', out)).exitCode).toBe(0);
  });
});

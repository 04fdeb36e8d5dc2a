// `faultline check` and `faultline import` as a user runs them (the built CLI), on fixtures and temporary files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { corpusDir, repoRoot } from '../porcupine/corpus.js';

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

/** Runs the built CLI (npm test builds dist/ first), as a user would: a command is tested through its process. */
async function run(...args: string[]): Promise<{ out: string; err: string; exitCode: number | undefined }> {
  const result = await execa(process.execPath, [path.join(repoRoot, 'bin', 'faultline.js'), ...args], {
    reject: false,
    stripFinalNewline: false,
  });
  return { out: result.stdout, err: result.stderr, exitCode: result.exitCode };
}

const histories = path.join(corpusDir, '..', 'histories');

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
  it('rejects a bad timeout with a usage error', async () => {
    const { err, exitCode } = await run(
      'check',
      '--model',
      'register',
      '--timeout',
      '-1',
      path.join(dir, 'twin.jsonl'),
    );
    expect(err).toMatch(/--timeout must be a positive number/);
    expect(exitCode).toBe(4);
  });
  it('checks EDN directly: write 1, read 2 is not linearizable (exit 1)', async () => {
    const { out, exitCode } = await run('check', '--model', 'cas-register', path.join(histories, 'write1-read2.edn'));
    expect(out).toMatch(/write1-read2\.edn: NOT linearizable/);
    expect(exitCode).toBe(1);
  });
  it('refuses what is not a history, file by file, and still checks the others (exit 4)', async () => {
    writeFileSync(path.join(dir, 'empty.jsonl'), '');
    writeFileSync(path.join(dir, 'hostname'), 'myhost\n');
    const { out, err, exitCode } = await run(
      'check',
      '--model',
      'register',
      path.join(dir, 'empty.jsonl'),
      path.join(dir, 'missing.jsonl'),
      path.join(dir, 'hostname'),
      path.join(dir, 'twin.jsonl'),
    );
    expect(err).toMatch(/empty\.jsonl: not a history: the file is empty/);
    expect(err).toMatch(/missing\.jsonl: no such file/);
    expect(err).toMatch(/hostname: not a history/);
    expect(out).toMatch(/twin\.jsonl: linearizable/);
    expect(out).not.toMatch(/0 ops/);
    expect(exitCode).toBe(4);
  });
  it('names the file when its content does not fit the model', async () => {
    writeFileSync(path.join(dir, 'kv.jsonl'), line(0, 0, 'invoke', 'frobnicate', 1) + '\n');
    const { err, exitCode } = await run('check', '--model', 'register', path.join(dir, 'kv.jsonl'));
    expect(err).toMatch(/kv\.jsonl: history event 0 .*unknown operation "frobnicate"/);
    expect(exitCode).toBe(4);
  });
  it('prints huge values cut short', async () => {
    // A stale read of a 5 MB value: the counterexample names it, cut to a few hundred characters.
    const huge = 'v'.repeat(5_000_000);
    writeFileSync(
      path.join(dir, 'huge.jsonl'),
      [
        line(0, 0, 'invoke', 'write', huge),
        line(1, 0, 'ok', 'write', huge),
        line(2, 0, 'invoke', 'write', 'y'),
        line(3, 0, 'ok', 'write', 'y'),
        line(4, 1, 'invoke', 'read', null),
        line(5, 1, 'ok', 'read', huge),
      ].join('\n'),
    );
    const { out, exitCode } = await run('check', '--model', 'register', path.join(dir, 'huge.jsonl'));
    expect(exitCode).toBe(1);
    expect(out).toMatch(/then state "y"; could not place:/);
    expect(out.length).toBeLessThan(2_000);
    expect(out).toMatch(/… \(5,000,0\d\d characters\)/);
  });
});

describe('faultline import', () => {
  it('converts a Jepsen log that check then accepts', async () => {
    const out = path.join(dir, 'etcd_002.jsonl');
    await run('import', 'auto', path.join(corpusDir, 'jepsen', 'etcd_002.log'), '-o', out);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toContain('"process":4');
    expect((await run('check', '--model', 'cas-register', '--json', out)).exitCode).toBe(0);
  });
  it('EDN through import auto: write 1, read 2 stays not linearizable; 2^53+1 keeps its digits', async () => {
    const out = path.join(dir, 'w1r2.jsonl');
    expect((await run('import', 'auto', path.join(histories, 'write1-read2.edn'), '-o', out)).exitCode).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('"f":"read","value":2}');
    expect((await run('check', '--model', 'cas-register', out)).exitCode).toBe(1);
    const big = path.join(dir, 'big.jsonl');
    await run('import', 'auto', path.join(histories, 'big-integers.edn'), '-o', big);
    expect(readFileSync(big, 'utf8')).toContain('"value":9007199254740993}');
    const checked = await run('check', '--model', 'cas-register', big);
    expect(checked.exitCode).toBe(1);
    expect(checked.out).toMatch(/read -> 9007199254740992 needs 9007199254740992, which no op/);
  });
  it('refuses an EDN file or /etc/passwd as a Jepsen log, and goes on with the next file', async () => {
    const passwd = path.join(dir, 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\n');
    const outDir = path.join(dir, 'imported');
    const { err, exitCode } = await run(
      'import',
      'jepsen-log',
      path.join(histories, 'write1-read2.edn'),
      passwd,
      path.join(histories, 'register.log'),
      '-o',
      outDir,
    );
    expect(err).toMatch(/write1-read2\.edn: no Jepsen log line[\s\S]*This file is EDN/);
    expect(err).toMatch(/passwd: no Jepsen log line/);
    expect(readFileSync(path.join(outDir, 'register.jsonl'), 'utf8').split('\n')).toHaveLength(11);
    expect(exitCode).toBe(4);
    const noDir = await run('import', 'jepsen-log', passwd, passwd);
    expect(noDir.err).toMatch(/no --output directory/);
    expect(noDir.exitCode).toBe(4);
  });
});

describe('the faultline launcher (bin/faultline, the command npm installs)', () => {
  // Node parses every certificate NODE_EXTRA_CA_CERTS names before any code runs; check and import need none. A
  // file that does not exist makes Node say so at start-up, which shows whether it was passed on.
  const launch = (...args: string[]) =>
    execa(path.join(repoRoot, 'bin', 'faultline'), args, {
      reject: false,
      env: { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' },
    });

  it('starts check and import without NODE_EXTRA_CA_CERTS, and every other command with it', async () => {
    const check = await launch('check', '--model', 'cas-register', path.join(dir, 'stale.jsonl'));
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toMatch(/not linearizable/i);
    expect(check.stderr).not.toContain('extra certs');
    const other = await launch('nemesis', 'list');
    expect(other.exitCode).toBe(0);
    expect(other.stderr).toContain('Ignoring extra certs from `/nonexistent/extra-ca.pem`');
  });
});

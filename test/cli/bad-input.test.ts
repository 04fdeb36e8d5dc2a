// Bad input at the command line, as a user meets it: one clear message naming the problem and the fix, exit 4,
// before any engine, image or container is touched (these runs would need Docker otherwise, and have none).
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'faultline.js');
const scratch = mkdtempSync(join(tmpdir(), 'faultline-bad-input-'));

async function faultline(...args: string[]) {
  // DOCKER_HOST points nowhere: if any of these reached the engine, they would fail differently (and slowly).
  return execa('node', [BIN, ...args], {
    reject: false,
    all: true,
    timeout: 30_000,
    env: { DOCKER_HOST: 'unix:///nonexistent/faultline-test.sock' },
  });
}

function expectOneClearMessage(result: { exitCode?: number; all?: string }, ...words: string[]): void {
  expect(result.exitCode, result.all).toBe(4);
  expect(result.all).toMatch(/^faultline: /);
  expect(result.all).toMatch(/\n {2}fix: /);
  expect(result.all).not.toMatch(/\n\s+at /); // no stack trace
  for (const w of words) expect(result.all).toContain(w);
}

describe('--results-dir', () => {
  it('refuses a path under /proc at once (Node alone would spin forever creating it)', async () => {
    const result = await faultline('test', '--results-dir', '/proc/faultline-nope', '--time-limit', '5');
    expectOneClearMessage(result, '/proc/faultline-nope', 'cannot create', '--results-dir');
  });

  it('refuses a path under a regular file', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const result = await faultline('test', '--results-dir', join(file, 'runs'), '--time-limit', '5');
    expectOneClearMessage(result, `${file} is not a directory`);
  });

  it.runIf(process.getuid?.() === 0)('refuses a read-only filesystem, naming it', async () => {
    const mnt = join(scratch, 'ro');
    mkdirSync(mnt);
    execSync(`mount -t tmpfs -o ro,size=1m faultline-test-ro ${mnt}`);
    try {
      const result = await faultline('test', '--results-dir', join(mnt, 'runs'), '--time-limit', '5');
      expectOneClearMessage(result, 'read-only', 'EROFS');
      const existing = await faultline('test', '--results-dir', mnt, '--time-limit', '5');
      expectOneClearMessage(existing, 'not writable', 'read-only');
    } finally {
      execSync(`umount ${mnt}`);
    }
  });
});

describe('--rate', () => {
  it.each([
    ['0', 'above 0'],
    ['-1', 'above 0'],
    ['abc', 'a number'],
    ['', 'got ""'],
  ])('refuses %j, naming the flag', async (value, why) => {
    const result = await faultline('test', '--rate', value, '--dry-run');
    expectOneClearMessage(result, '--rate', why);
  });

  it('accepts a tiny rate as given (its run is bounded by the time limit: test/runner.test.ts)', async () => {
    const result = await faultline('test', '--rate', '0.000000001', '--time-limit', '10', '--dry-run');
    expect(result.exitCode, result.all).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rate: 1e-9, timeLimitS: 10 });
  });
});

describe('--server tarball', () => {
  it.each([
    ['random bytes', (path: string) => writeFileSync(path, randomBytes(3000)), 'not in gzip format'],
    // GNU tar lists a gzip of plain text as an empty archive: refused for what it lacks.
    ['a gzip that is not a tar', (path: string) => writeFileSync(path, gzipSync('just text\n')), 'bin/zkServer.sh'],
    [
      'a tar without bin/zkServer.sh',
      (path: string) => {
        const dir = join(scratch, 'not-zookeeper');
        mkdirSync(join(dir, 'apache-zookeeper-9.9.9-bin'), { recursive: true });
        writeFileSync(join(dir, 'apache-zookeeper-9.9.9-bin', 'README'), 'x');
        execSync(`tar -czf ${path} -C ${dir} apache-zookeeper-9.9.9-bin`);
      },
      'bin/zkServer.sh',
    ],
  ])('refuses %s with the reason, before any engine is asked', async (what, make, why) => {
    const path = join(scratch, `${what.replace(/\W+/g, '-')}.tar.gz`);
    make(path);
    const result = await faultline('test', '--server', path, '--time-limit', '5', '--results-dir', join(scratch, 'r'));
    expectOneClearMessage(result, path, why);
    expect(result.all).not.toContain('dockerd');
  });

  it('refuses a tarball that is not there', async () => {
    const result = await faultline(
      'test',
      '--server',
      '/nonexistent/apache-zookeeper-1-bin.tar.gz',
      '--time-limit',
      '5',
    );
    expectOneClearMessage(result, 'server tarball not found');
  });
});

describe('an engine named by DOCKER_HOST that does not answer', () => {
  it('is named in one message, and no local dockerd is started in its place', async () => {
    const result = await faultline('test', '--time-limit', '5', '--results-dir', join(scratch, 'r'));
    expect(result.exitCode, result.all).toBe(3);
    expect(result.all).toMatch(/^faultline: no Docker engine answers at DOCKER_HOST=unix:\/\/\/nonexistent/);
    expect(result.all).toMatch(/\n {2}fix: /);
    expect(result.all).not.toContain('starting dockerd');
    expect(result.all).not.toMatch(/\n\s+at /);
  });
});

afterAll(() => execSync(`rm -rf ${scratch}`));

describe('explore --shard', () => {
  it.each([
    [['--shard', '1/2'], '--shard needs --explore-seed'],
    [['--shard', '3/2', '--explore-seed', '1'], '--shard must be I/N'],
    [['--feedback', 'half'], '--feedback must be a share from 0 to 1'],
  ])('refuses %j before any engine is asked', async (flags, why) => {
    const result = await faultline('explore', '--trials', '1', '--results-dir', join(scratch, 'r'), ...flags);
    expectOneClearMessage(result, why);
    expect(result.all).not.toContain('dockerd');
  });
});

// The Curator driver pool on a fake sidecar (no Docker): fake JVMs that say they are spares and connect when the
// test lets them. A fault that keeps JVMs from connecting must not make every retried open start another JVM: on
// a busy 2-core machine that piled up dozens of starting JVMs, which starved the ensemble and the clients, and a
// fenced lock run on 3.9.6 ended with no hold at all.
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { SidecarRoster, type AttachedProcess, type ExecResult, type Sidecar } from '../../src/cluster.js';
import { DriverPool } from '../../src/driver.js';
import { MemoryLogger } from '../../src/log.js';

/** A sidecar whose spawned "JVMs" answer connect at once while `connecting` is true, and never otherwise. */
class FakeSidecar implements Sidecar {
  readonly name = 'fake-driver';
  readonly ip = '10.0.0.200';
  readonly roster = new SidecarRoster();
  spawned = 0;
  connecting = true;
  private readonly held: (() => void)[] = [];

  exec(): Promise<ExecResult> {
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  }

  spawn(): Promise<AttachedProcess> {
    const pid = ++this.spawned;
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    createInterface({ input: stdin }).on('line', (text) => {
      const request = JSON.parse(text) as { id: number; op: string };
      const answer = (): void => {
        stdout.write(JSON.stringify({ id: request.id, type: 'ok' }) + '\n');
      };
      if (request.op === 'close') end();
      else if (request.op !== 'connect') answer();
      else if (this.connecting) answer();
      else this.held.push(answer);
    });
    setImmediate(() => stdout.write(JSON.stringify({ spare: true, pid }) + '\n'));
    return Promise.resolve({ stdin, stdout, stderr, ended, detach: () => end() });
  }

  /** The fault heals: the JVMs that were waiting connect. */
  heal(): void {
    this.connecting = true;
    for (const answer of this.held.splice(0)) answer();
  }
}

const OPTIONS = { sessionTimeoutMs: 5000, connectTimeoutMs: 3000, opTimeoutMs: 5000 };

describe('the Curator driver pool', () => {
  it('keeps one spare per client and starts a replacement for each open', async () => {
    const sidecar = new FakeSidecar();
    const pool = new DriverPool(sidecar, ['driver'], new MemoryLogger(), OPTIONS);
    await pool.start(['a', 'a', 'b']);
    expect(sidecar.spawned).toBe(3);
    await pool.open('a', 1000);
    await pool.open('a', 1000);
    await pool.open('b', 1000);
    // Each open took a connected JVM and started one to take its place.
    expect(sidecar.spawned).toBe(6);
    pool.close();
  });

  it('does not start a JVM for every open retried while none can connect', async () => {
    const sidecar = new FakeSidecar();
    const pool = new DriverPool(sidecar, ['driver'], new MemoryLogger(), OPTIONS);
    await pool.start(['a', 'a']);
    sidecar.connecting = false;
    // Both clients are retired by a fault and take the spares; their replacements cannot connect.
    await pool.open('a', 1000);
    await pool.open('a', 1000);
    // Retired again, the two clients retry their opens many times over while the fault lasts.
    for (let attempt = 0; attempt < 10; attempt++) await Promise.allSettled([pool.open('a', 5), pool.open('a', 5)]);
    // At most the clients waiting plus the spares are ever starting; it used to be one more per attempt (24).
    expect(pool.preparingFor('a')).toBeLessThanOrEqual(4);
    expect(sidecar.spawned).toBeLessThanOrEqual(2 + 4);
    // When the fault heals, the JVMs that were starting serve the clients.
    const opened = Promise.all([pool.open('a', 1000), pool.open('a', 1000)]);
    sidecar.heal();
    const [first, second] = await opened;
    expect(first.alive && second.alive).toBe(true);
    pool.close();
  });

  it('announces the JVMs it hands out in the sidecar roster (not the spares) until they close', async () => {
    const sidecar = new FakeSidecar();
    const pool = new DriverPool(sidecar, ['driver'], new MemoryLogger(), OPTIONS);
    await pool.start(['a', 'b']);
    expect(sidecar.roster.list()).toEqual([]);
    const a = await pool.open('a', 1000, 'a client of n1');
    const b = await pool.open('b', 1000);
    expect(sidecar.roster.list()).toEqual(
      [
        { pid: a.pid, serves: 'a client of n1' },
        { pid: b.pid, serves: 'b' },
      ].sort((x, y) => x.pid - y.pid),
    );
    await a.close();
    expect(sidecar.roster.list()).toEqual([{ pid: b.pid, serves: 'b' }]);
    pool.close();
  });
});

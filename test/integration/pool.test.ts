// Pooled trials start clean: a released ensemble runs no server (nothing writes into the finished run's directory);
// an iptables rule, a qdisc and stopped helper processes left on its containers are removed before the second run on
// them (its reuse.json lists what the reset removed and a passed check), and a leftover the reset cannot undo (an
// extra address) sends the third run to new containers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { executeTest } from '../../src/run/execute.js';
import { createEnsemblePool } from '../../src/run/pool.js';
import { MemoryLogger } from '../../src/log.js';
import { reuseRecordSchema, type ReuseRecord } from '../../src/store/reuse.js';
import { leftovers, shortTestConfig } from './helpers.js';

const docker = new Docker();

async function sh(container: string, script: string | string[]): Promise<string> {
  const exec = await docker.getContainer(container).exec({
    Cmd: typeof script === 'string' ? ['sh', '-c', script] : script,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((resolve) => stream.on('end', resolve));
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`${String(script)}: exit ${ExitCode}: ${Buffer.concat(chunks).toString()}`);
  return Buffer.concat(chunks).toString();
}

const reuseOf = (runDir: string): ReuseRecord =>
  reuseRecordSchema.parse(JSON.parse(readFileSync(join(runDir, 'reuse.json'), 'utf8')));

describe('ensemble pool', () => {
  const pool = createEnsemblePool();
  afterAll(() => pool.close());

  it('gives a second trial the same containers, reset to their state when new, and refuses a dirty one', async () => {
    const config = shortTestConfig({ name: 'pool', timeLimitS: 4, nemesis: ['none'], concurrency: 3, rate: 30 });
    const abort = new AbortController().signal;

    const first = await executeTest(config, new MemoryLogger(), abort, { pool });
    expect(first.outcome.valid).toBe(true);
    const one = reuseOf(first.runDir);
    expect(one).toMatchObject({ reused: false, trial: 1 });
    const ensemble = one.ensemble!;
    const [n1, n2, n3] = ['n1', 'n2', 'n3'].map((n) => `faultline-${ensemble}-${n}`) as [string, string, string];

    // Idle means stopped: no server runs on the pool's containers between trials, so none writes into the finished
    // trial's directory (the log grows no more).
    const log1 = join(first.runDir, 'nodes/n1/logs/zookeeper.log');
    const logSize = readFileSync(log1).length;
    for (const n of [n1, n2, n3])
      expect(
        await sh(n, 'if pgrep -f "[Q]uorumPeerMain" >/dev/null; then echo running; else echo stopped; fi'),
      ).toMatch(/stopped/);
    // Leftovers, as if the release's reset had missed them, for the next acquire's reset and check to find.
    await sh(n1, 'iptables -w -A INPUT -p tcp --dport 2888 -j DROP');
    await sh(n1, 'tc qdisc add dev eth0 root handle 1: htb');
    await sh(n2, 'sleep 700 >/dev/null 2>&1 & kill -STOP $!');
    await sh(n3, 'sleep 600 >/dev/null 2>&1 & kill -STOP $!; touch /tmp/left-by-trial-1');

    const second = await executeTest(config, new MemoryLogger(), abort, { pool });
    const two = reuseOf(second.runDir);
    expect(two).toMatchObject({ reused: true, ensemble, trial: 2, clean: { passed: true } });
    const removed = two.clean!.nodes;
    expect(removed.n1!.removed.join('\n')).toMatch(/iptables -A INPUT -p tcp .*--dport 2888 -j DROP/);
    expect(removed.n1!.removed.join('\n')).toMatch(/tc qdisc htb 1:/);
    // A planted process may be stopped before its fork has exec'd sleep (then ps shows the shell's command line).
    expect(removed.n2!.removed.join('\n')).toMatch(/process T (sh -c )?sleep 700/);
    expect(removed.n3!.removed.join('\n')).toMatch(/process T (sh -c )?sleep 600/);
    expect(removed.n3!.removed).toContain('file /tmp/left-by-trial-1');
    for (const node of Object.values(removed)) expect(node.differences).toEqual([]);
    // Every node served again (the DROP rule would have cut n1 off), each on the second trial's own new data.
    expect(second.outcome.valid).toBe(true);
    expect(second.outcome.error).toBeUndefined();
    expect(readFileSync(join(second.runDir, 'nodes/n1/data/myid'), 'utf8').trim()).toBe('1');
    expect(readFileSync(log1).length).toBe(logSize);

    // A leftover the reset does not undo: the check fails and the trial gets new containers.
    await sh(n2, 'ip addr add 10.99.0.2/32 dev eth0');
    const third = await executeTest(config, new MemoryLogger(), abort, { pool });
    const three = reuseOf(third.runDir);
    expect(three.reused).toBe(false);
    expect(three.ensemble).not.toBe(ensemble);
    expect(three.failedCheck?.nodes.n2?.differences.join('\n')).toMatch(/10\.99\.0\.2/);
    expect(await leftovers(ensemble)).toEqual([]);
    expect(third.outcome.valid).toBe(true);

    await pool.close();
    expect(await leftovers(three.ensemble!)).toEqual([]);
  }, 480_000);
});

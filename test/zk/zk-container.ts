// Starts a throwaway standalone ZooKeeper server in Docker for the client tests.

import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { DEFAULT_SERVER, imageName, recipeFor } from '../../docker/image.js';

/** Faultline's default server image (built by the suite's global setup); FAULTLINE_TEST_IMAGE overrides it. */
export const ZK_TEST_IMAGE = process.env.FAULTLINE_TEST_IMAGE ?? imageName(recipeFor(DEFAULT_SERVER));
export const ZK_TICK_MS = 500;

export interface ZkContainer {
  name: string;
  host: string;
  port: number;
  docker(...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

async function docker(...args: string[]): Promise<string> {
  // The cgroup freezer behind `docker pause` can fail to freeze a busy container in time ("unable to freeze") on
  // a loaded machine: a transient refusal, so a pause is tried again a few times before the test fails on it.
  for (let attempt = 1; ; attempt++) {
    const result = await execa('docker', args, { timeout: 120_000, reject: false });
    if (result.exitCode === 0) return result.stdout.trim();
    if (args[0] !== 'pause' || !/unable to freeze/.test(result.stderr) || attempt >= 5)
      throw new Error(`docker ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Sends a four-letter word (ruok, srvr, ...) and returns the answer, '' if the server is not up. */
function fourLetterWord(host: string, port: number, word: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = net.connect({ host, port });
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(answer));
  });
}

/** Resolves once `srvr` answers with `expected` (a mode once serving; `ruok` answers earlier than that). */
async function waitForSrvr(host: string, port: number, expected: string, deadline: number): Promise<void> {
  for (;;) {
    if ((await fourLetterWord(host, port, 'srvr')).includes(expected)) return;
    if (Date.now() > deadline)
      throw new Error(`ZooKeeper at ${host}:${port} did not answer srvr with "${expected}" in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * standalone: a serving single server. outsideQuorum: server 1 of a two-server ensemble whose peer
 * (an unused port on the container's own loopback) never comes up, so it never serves clients.
 */
export type ZkContainerKind = 'standalone' | 'outsideQuorum';

export async function startZkContainer(kind: ZkContainerKind = 'standalone'): Promise<ZkContainer> {
  const name = `zkclient-test-${randomBytes(4).toString('hex')}`;
  const confDir = await mkdtemp(path.join(os.tmpdir(), 'faultline-zkclient-'));
  const config = [`tickTime=${ZK_TICK_MS}`, 'dataDir=/tmp/zkdata', 'clientPort=2181', '4lw.commands.whitelist=*'];
  if (kind === 'outsideQuorum')
    config.push('initLimit=10', 'syncLimit=5', 'server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889');
  await writeFile(path.join(confDir, 'zoo.cfg'), config.join('\n') + '\n');
  await chmod(confDir, 0o755);
  const remove = async (): Promise<void> => {
    await execa('docker', ['rm', '-f', name], { reject: false, timeout: 60_000 });
    await rm(confDir, { recursive: true, force: true });
  };
  try {
    await docker(
      // --init: java is then not PID 1, so `pkill -9 java` inside the container can kill it.
      'run',
      '-d',
      '--init',
      '--rm',
      '--name',
      name,
      '--label',
      'faultline.test=zkclient',
      '-v',
      `${confDir}:/conf:ro`,
      ZK_TEST_IMAGE,
      'sh',
      '-c',
      'mkdir -p /tmp/zkdata && echo 1 > /tmp/zkdata/myid && exec /usr/share/zookeeper/bin/zkServer.sh start-foreground /conf/zoo.cfg',
    );
    const host = await docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`unexpected container IP ${JSON.stringify(host)}`);
    const expected = kind === 'standalone' ? 'Mode: standalone' : 'not currently serving requests';
    await waitForSrvr(host, 2181, expected, Date.now() + 90_000);
    return { name, host, port: 2181, docker: (...args) => docker(...args), remove };
  } catch (err) {
    const logs = await execa('docker', ['logs', '--tail', '40', name], { reject: false });
    await remove();
    throw new Error(
      `could not start ZooKeeper test container: ${(err as Error).message}\n${logs.stdout}\n${logs.stderr}`,
      { cause: err },
    );
  }
}

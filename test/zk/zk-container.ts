// Starts a throwaway standalone ZooKeeper server in Docker for the client tests.

import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

/** Image with ZooKeeper under /usr/share/zookeeper; to be replaced by Faultline's own test image. */
export const ZK_TEST_IMAGE = process.env.FAULTLINE_TEST_IMAGE ?? 'faultline-test:probe';
export const ZK_TICK_MS = 500;

export interface ZkContainer {
  name: string;
  host: string;
  port: number;
  docker(...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

async function docker(...args: string[]): Promise<string> {
  const result = await execa('docker', args, { timeout: 120_000 });
  return result.stdout.trim();
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

/** Resolves once the server says it serves: `srvr` reports a mode only then (`ruok` answers earlier). */
async function waitUntilServing(host: string, port: number, deadline: number): Promise<void> {
  for (;;) {
    if ((await fourLetterWord(host, port, 'srvr')).includes('Mode: standalone')) return;
    if (Date.now() > deadline) throw new Error(`ZooKeeper at ${host}:${port} did not start serving in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startZkContainer(): Promise<ZkContainer> {
  const name = `zkclient-test-${randomBytes(4).toString('hex')}`;
  const confDir = await mkdtemp(path.join(os.tmpdir(), 'faultline-zkclient-'));
  await writeFile(
    path.join(confDir, 'zoo.cfg'),
    [`tickTime=${ZK_TICK_MS}`, 'dataDir=/tmp/zkdata', 'clientPort=2181', '4lw.commands.whitelist=*', ''].join('\n'),
  );
  await chmod(confDir, 0o755);
  const remove = async (): Promise<void> => {
    await execa('docker', ['rm', '-f', name], { reject: false, timeout: 60_000 });
    await rm(confDir, { recursive: true, force: true });
  };
  try {
    await docker(
      // --init: java is then not PID 1, so `pkill -9 java` inside the container can kill it.
      'run', '-d', '--init', '--rm', '--name', name, '--label', 'faultline.test=zkclient',
      '-v', `${confDir}:/conf:ro`,
      ZK_TEST_IMAGE, '/usr/share/zookeeper/bin/zkServer.sh', 'start-foreground', '/conf/zoo.cfg',
    );
    const host = await docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`unexpected container IP ${JSON.stringify(host)}`);
    await waitUntilServing(host, 2181, Date.now() + 90_000);
    return { name, host, port: 2181, docker: (...args) => docker(...args), remove };
  } catch (err) {
    const logs = await execa('docker', ['logs', '--tail', '40', name], { reject: false });
    await remove();
    throw new Error(`could not start ZooKeeper test container: ${(err as Error).message}\n${logs.stdout}\n${logs.stderr}`);
  }
}

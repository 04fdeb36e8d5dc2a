// Finds a Docker engine, or (as root on Debian) installs Debian's docker.io and starts dockerd.
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import Docker from 'dockerode';
import { execa } from 'execa';
import { HarnessError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { sleep, withTimeout } from '../src/time.js';

const DOCKERD_LOG = '/var/log/faultline-dockerd.log';

async function answers(docker: Docker, timeoutMs: number): Promise<boolean> {
  try {
    await withTimeout(docker.ping(), timeoutMs, 'docker ping');
    return true;
  } catch {
    return false;
  }
}

function onDebianAsRoot(): boolean {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
}

async function commandExists(name: string): Promise<boolean> {
  const result = await execa('sh', ['-c', `command -v ${name}`], { reject: false });
  return result.exitCode === 0;
}

/**
 * Installs Debian packages when their command is missing (root on Debian only). `present` replaces the command
 * check for packages without a command (headers, libraries); `command` then names what is missing.
 */
export async function ensureDebianPackage(
  command: string,
  pkg: string,
  why: string,
  log: Logger,
  present: () => Promise<boolean> = () => commandExists(command),
): Promise<void> {
  if (await present()) return;
  if (!onDebianAsRoot()) {
    throw new HarnessError(
      `${command} is not installed; Faultline needs it ${why}.`,
      `Install the Debian package ${pkg} (apt-get install ${pkg}), or run faultline as root on Debian so it can.`,
    );
  }
  log.info(`Installing Debian's ${pkg} (needed ${why}): apt-get update && apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await execa('apt-get', ['update'], { env });
    await execa('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env });
  } catch (err) {
    throw new HarnessError(
      `installing ${pkg} failed: ${(err as Error).message.split('\n')[0]}`,
      `Install ${pkg} by hand (apt-get install ${pkg}) and run again.`,
      { cause: err },
    );
  }
}

/**
 * Returns a client of a running Docker engine. When none answers and we run as root on Debian,
 * installs docker.io if needed and starts dockerd in the background (its log: /var/log/faultline-dockerd.log).
 */
export async function ensureEngine(log: Logger): Promise<Docker> {
  const docker = new Docker();
  if (await answers(docker, 3000)) return docker;

  const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (!onDebianAsRoot()) {
    throw new HarnessError(
      `no Docker engine answers at ${where}.`,
      'Start Docker (or install it: on Debian `apt-get install docker.io`, then start `dockerd`), ' +
        'or run faultline as root on Debian so it can do this itself.',
    );
  }
  await ensureDebianPackage('dockerd', 'docker.io', 'to run ZooKeeper ensembles in containers', log);
  log.info(`No Docker engine answered at ${where}: starting dockerd in the background (log: ${DOCKERD_LOG}).`);
  const out = openSync(DOCKERD_LOG, 'a');
  const daemon = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  daemon.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) break;
    if (await answers(docker, 2000)) {
      log.info('Docker engine is up.');
      return docker;
    }
    await sleep(500);
  }
  throw new HarnessError(
    `dockerd did not come up within 60 s${daemon.exitCode !== null ? ` (it exited with code ${daemon.exitCode})` : ''}.`,
    `Read ${DOCKERD_LOG} for the reason, fix it, and run again.`,
  );
}

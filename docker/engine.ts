// Finds a Docker engine, or (as root on Debian) installs Debian's docker.io and starts dockerd.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import Docker from 'dockerode';
import { HarnessError } from '../src/errors.js';
import { ensureDebianPackage, onDebianAsRoot } from '../src/packages.js';
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

// Finds a Docker engine, or (as root on Debian) installs Debian's docker.io and starts dockerd.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { connect } from 'node:net';
import Docker from 'dockerode';
import { HarnessError } from '../src/errors.js';
import { ensureDebianPackage, onDebianAsRoot } from '../src/packages.js';
import type { Logger } from '../src/log.js';
import { AbortedError, sleep, withTimeout } from '../src/time.js';

const DOCKERD_LOG = '/var/log/faultline-dockerd.log';
/** How long a busy engine may take to answer a ping before the harness gives up on it (it never starts a second). */
const SLOW_ENGINE_MS = 60_000;

async function answers(docker: Docker, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await withTimeout(docker.ping(), timeoutMs, 'docker ping', signal);
    return true;
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    return false;
  }
}

/** The engine's Unix socket, when it is one (DOCKER_HOST unset or unix://). */
export function engineSocket(dockerHost = process.env.DOCKER_HOST): string | undefined {
  if (!dockerHost) return '/var/run/docker.sock';
  return dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined;
}

/**
 * Whether anything listens on the engine's socket: a slow engine accepts the connection and answers late; with no
 * engine at all the connect fails (ENOENT: no socket; ECONNREFUSED: a stale one). Not a Unix socket: a TCP engine
 * is someone else's to start, so it counts as present.
 */
export function engineListening(socket: string | undefined): Promise<boolean> {
  if (socket === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const conn = connect(socket);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}

/**
 * Returns a client of a running Docker engine. When none answers at all (nothing listens on its socket) and we run
 * as root on Debian, installs docker.io if needed and starts dockerd in the background (its log:
 * /var/log/faultline-dockerd.log). A slow engine is waited for, never doubled.
 */
export async function ensureEngine(log: Logger, signal?: AbortSignal): Promise<Docker> {
  const docker = new Docker();
  if (await answers(docker, 3000, signal)) return docker;

  const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (await engineListening(engineSocket())) {
    log.info(`The Docker engine at ${where} is slow to answer; waiting up to ${SLOW_ENGINE_MS / 1000} s...`);
    if (await answers(docker, SLOW_ENGINE_MS, signal)) return docker;
    throw new HarnessError(
      `the Docker engine at ${where} accepts connections but did not answer a ping within ${SLOW_ENGINE_MS / 1000} s.`,
      'The engine is hung or overloaded: check `docker info` and its log, restart it if needed, and run again.',
    );
  }
  // A dockerd started here listens on the default socket: it cannot be the engine DOCKER_HOST names elsewhere.
  if (process.env.DOCKER_HOST && engineSocket() !== '/var/run/docker.sock') {
    throw new HarnessError(
      `no Docker engine answers at DOCKER_HOST=${process.env.DOCKER_HOST}.`,
      'Start the engine there, or unset DOCKER_HOST to use (and if need be start) the local one.',
    );
  }
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
    if (await answers(docker, 2000, signal)) {
      log.info('Docker engine is up.');
      return docker;
    }
    if (!(await sleep(500, signal))) throw new AbortedError('starting dockerd');
  }
  throw new HarnessError(
    `dockerd did not come up within 60 s${daemon.exitCode !== null ? ` (it exited with code ${daemon.exitCode})` : ''}.`,
    `Read ${DOCKERD_LOG} for the reason, fix it, and run again.`,
  );
}

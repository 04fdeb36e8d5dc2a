// What every run needs before it starts: a Docker engine that answers and the server build's image.
import type Docker from 'dockerode';
import type { Logger } from '../src/log.js';
import { ensureEngine } from './engine.js';
import { checkTarball, ensureImage, isTarballServer, type ServerImage } from './image.js';

export interface Environment {
  docker: Docker;
  image: ServerImage;
}

/** Engine first, then the image: used by `setup`, every run, and the test suite's global setup. */
export async function prepareEnvironment(server: string, log: Logger, signal?: AbortSignal): Promise<Environment> {
  // A tarball that is not one is refused before any engine is started or asked.
  if (isTarballServer(server)) await checkTarball(server);
  const docker = await ensureEngine(log, signal);
  const image = await ensureImage(docker, server, log, signal);
  return { docker, image };
}

// What every run needs before it starts: a Docker engine that answers and the server build's image.
import type Docker from 'dockerode';
import type { Logger } from '../src/log.js';
import { ensureEngine } from './engine.js';
import { ensureImage, type ServerImage } from './image.js';

export interface Environment {
  docker: Docker;
  image: ServerImage;
}

/** Engine first, then the image: used by `setup`, every run, and the test suite's global setup. */
export async function prepareEnvironment(server: string, log: Logger, signal?: AbortSignal): Promise<Environment> {
  const docker = await ensureEngine(log, signal);
  const image = await ensureImage(docker, server, log, signal);
  return { docker, image };
}

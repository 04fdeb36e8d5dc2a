// `faultline setup`: make sure a Docker engine runs and the server image exists.
import type { Command } from 'commander';
import type Docker from 'dockerode';
import { ensureEngine } from '../../docker/engine.js';
import { DEFAULT_SERVER, ensureImage, type ServerImage } from '../../docker/image.js';
import { ConsoleLogger, type Logger } from '../log.js';

export interface Environment {
  docker: Docker;
  image: ServerImage;
}

/** Engine first, then the image: used by `setup`, `test` and the test suite's global setup. */
export async function prepareEnvironment(server: string, log: Logger): Promise<Environment> {
  const docker = await ensureEngine(log);
  const image = await ensureImage(docker, server, log);
  return { docker, image };
}

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('start a Docker engine (installing Debian\'s docker.io if needed) and build the ZooKeeper image')
    .option('--server <build>', 'server build to prepare', DEFAULT_SERVER)
    .action(async (opts: { server: string }) => {
      const log = new ConsoleLogger();
      const { image } = await prepareEnvironment(opts.server, log);
      log.info(`Ready: Docker engine answers; image ${image.name} (${image.server}).`);
    });
}

// `faultline setup`: make sure a Docker engine runs and the server image exists, and build the packet delayer.
import type { Command } from 'commander';
import type Docker from 'dockerode';
import { ensureEngine } from '../../docker/engine.js';
import { DEFAULT_SERVER, ensureImage, type ServerImage } from '../../docker/image.js';
import { ensureDriverImage } from '../../docker/driver.js';
import { delayerBinary } from '../../nemesis/delayer.js';
import { HarnessError } from '../errors.js';
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
    .description(
      "start a Docker engine (installing Debian's docker.io if needed), build the ZooKeeper image and the Curator driver's image",
    )
    .option('--server <build>', 'server build to prepare', DEFAULT_SERVER)
    .action(async (opts: { server: string }) => {
      const log = new ConsoleLogger();
      const { docker, image } = await prepareEnvironment(opts.server, log);
      // The lock and election workloads run Curator in a driver container built from Debian packages.
      const driver = await ensureDriverImage(docker, log);
      // Built now so a missing compiler shows here, not at the first delay fault; only kernels without netem need it.
      const delayer = await delayerBinary().then(
        (path) => `packet delayer ${path}`,
        (err: unknown) => {
          const fix = err instanceof HarnessError && err.fix ? ` Fix: ${err.fix}` : '';
          log.warn(`The packet delayer was not built: ${(err as Error).message}.${fix}`);
          return 'no packet delayer';
        },
      );
      log.info(
        `Ready: Docker engine answers; image ${image.name} (${image.server}); Curator driver ${driver.name}; ${delayer}.`,
      );
    });
}

// `faultline setup`: make sure a Docker engine runs and the server image exists, and build the packet delayer.
import type { Command } from 'commander';
import { prepareEnvironment } from '../../docker/environment.js';
import { ensureDriverImage } from '../../docker/driver.js';
import { DEFAULT_SERVER } from '../../docker/image.js';
import { delayerBinary } from '../../nemesis/delayer.js';
import { ensurePowerLossPackages, powerLossBinary } from '../../nemesis/power-loss/fs.js';
import { HarnessError } from '../errors.js';
import { ConsoleLogger } from '../log.js';
import { abortOnSignals } from './signals.js';

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description(
      "start a Docker engine (installing Debian's docker.io if needed), build the ZooKeeper image, the packet delayer and the power-loss filesystem",
    )
    .option('--server <build>', 'server build to prepare', DEFAULT_SERVER)
    .action(async (opts: { server: string }) => {
      const log = new ConsoleLogger();
      // Ctrl-C stops an image build within a few seconds and removes what it made (exit 130).
      const abort = abortOnSignals(log);
      const { image, driver } = await (async () => {
        const env = await prepareEnvironment(opts.server, log, abort.signal);
        // The lock and election workloads run Curator in a driver container built from Debian packages.
        return { ...env, driver: await ensureDriverImage(env.docker, log, abort.signal) };
      })().finally(() => abort.dispose());
      // Built now so a missing compiler shows here, not at the first delay fault; only kernels without netem need it.
      const delayer = await delayerBinary().then(
        (path) => `packet delayer ${path}`,
        (err: unknown) => {
          const fix = err instanceof HarnessError && err.fix ? ` Fix: ${err.fix}` : '';
          log.warn(`The packet delayer was not built: ${(err as Error).message}.${fix}`);
          return 'no packet delayer';
        },
      );
      // The power-loss filesystem (FUSE, libfuse3) for the power-loss faults: fuse3 and libfuse3-dev installed when missing.
      const powerLoss = await ensurePowerLossPackages(log)
        .then(() => powerLossBinary())
        .then(
          (path) => `power-loss filesystem ${path}`,
          (err: unknown) => {
            const fix = err instanceof HarnessError && err.fix ? ` Fix: ${err.fix}` : '';
            log.warn(`The power-loss filesystem was not built: ${(err as Error).message}.${fix}`);
            return 'no power-loss filesystem';
          },
        );
      log.info(
        `Ready: Docker engine answers; image ${image.name} (${image.server}); Curator driver ${driver.name}; ${delayer}; ${powerLoss}.`,
      );
    });
}

// `faultline clean`: removes what killed runs left behind, found by label.
import type { Command } from 'commander';
import { ensureEngine } from '../../docker/engine.js';
import { LABEL_RUN, removeByLabel } from '../cluster.js';
import { ConsoleLogger } from '../log.js';

export function registerCleanCommand(program: Command): void {
  program
    .command('clean')
    .description('remove every container and network that Faultline runs left behind (found by label)')
    .option('--run <id>', 'only the objects of this run id')
    .action(async (opts: { run?: string }) => {
      const log = new ConsoleLogger();
      const docker = await ensureEngine(log);
      const removed = await removeByLabel(docker, opts.run ? `${LABEL_RUN}=${opts.run}` : LABEL_RUN, log);
      // iptables rules and tc qdiscs live inside the containers, so they go with them.
      log.info(removed.containers.length + removed.networks.length === 0
        ? 'Nothing to clean.'
        : `Removed ${removed.containers.length} container(s) and ${removed.networks.length} network(s): ${[...removed.containers, ...removed.networks].join(', ')}`);
    });
}

// `faultline clean`: removes what killed runs left behind, found by label. Runs whose harness process
// is still alive are left alone unless --all is given, so cleaning never breaks a run in progress.
import type { Command } from 'commander';
import { ensureEngine } from '../../docker/engine.js';
import { LABEL_PID, LABEL_RUN, removeByLabel } from '../cluster.js';
import { ConsoleLogger } from '../log.js';
import { powerLossMounts, removeLeftoverMount } from '../../nemesis/power-loss/fs.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function registerCleanCommand(program: Command): void {
  program
    .command('clean')
    .description(
      'remove the containers, networks and power-loss mounts that killed Faultline runs left behind (found by label and by mount type)',
    )
    .option('--run <id>', 'only the objects of this run id')
    .option('--all', 'also remove runs whose harness is still running')
    .action(async (opts: { run?: string; all?: boolean }) => {
      const log = new ConsoleLogger();
      const docker = await ensureEngine(log);
      // Every run that owns a container or a network, with the pid of its harness.
      const owners = new Map<string, number>();
      const filters = { label: [opts.run ? `${LABEL_RUN}=${opts.run}` : LABEL_RUN] };
      const objects = [
        ...(await docker.listContainers({ all: true, filters })),
        ...(await docker.listNetworks({ filters })),
      ];
      for (const o of objects) {
        const run = o.Labels?.[LABEL_RUN];
        if (run) owners.set(run, Number(o.Labels?.[LABEL_PID]));
      }
      let containers = 0;
      let networks = 0;
      for (const [run, pid] of owners) {
        if (!opts.all && !opts.run && Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
          log.info(
            `Leaving run ${run}: its harness (pid ${pid}) is still running; use --all or --run ${run} to remove it.`,
          );
          continue;
        }
        // iptables rules and tc qdiscs live inside the containers, so they go with them.
        const removed = await removeByLabel(docker, `${LABEL_RUN}=${run}`, log);
        containers += removed.containers.length;
        networks += removed.networks.length;
        log.info(`Removed run ${run}: ${[...removed.containers, ...removed.networks].join(', ')}`);
      }
      // Power-loss filesystems (after the containers, which held copies of them), found in /proc/mounts.
      let mounts = 0;
      for (const mount of powerLossMounts()) {
        if (opts.run && mount.runId !== opts.run) continue;
        const pid = mount.harnessPid;
        if (!opts.all && !opts.run && pid !== undefined && pid !== process.pid && processAlive(pid)) {
          log.info(`Leaving the power-loss mount ${mount.target}: its harness (pid ${pid}) is still running.`);
          continue;
        }
        await removeLeftoverMount(mount);
        mounts++;
        log.info(`Unmounted the power-loss filesystem ${mount.fsname} from ${mount.target}`);
      }
      if (containers + networks + mounts === 0) log.info('Nothing to clean.');
    });
}

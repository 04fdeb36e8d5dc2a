// `faultline image list|build|rm`: the server images Faultline built (Debian suite builds, tarball layers, JDK bases).
import type { Command } from 'commander';
import { ensureEngine } from '../../docker/engine.js';
import { ensureImage } from '../../docker/image.js';
import { UsageError } from '../errors.js';
import { ConsoleLogger } from '../log.js';
import { abortOnSignals } from './signals.js';

export function registerImageCommand(program: Command): void {
  const image = program.command('image').description('list, build and remove server images');
  image
    .command('list')
    .description('images Faultline built, with the server build and version each holds')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }) => {
      const log = new ConsoleLogger();
      const docker = await ensureEngine(log);
      const images = await docker.listImages({ filters: { label: ['faultline.image'] } });
      const rows = images
        .flatMap((i) =>
          (i.RepoTags ?? ['<none>']).map((tag) => ({
            name: tag,
            kind: i.Labels?.['faultline.image'] ?? '',
            server: i.Labels?.['faultline.server'] ?? '',
            expected: i.Labels?.['faultline.zookeeper.expected'] ?? '',
            sizeMb: Math.round(i.Size / 2 ** 20),
            created: new Date(i.Created * 1000).toISOString(),
          })),
        )
        .sort((a, b) => a.name.localeCompare(b.name));
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      if (rows.length === 0) log.info('No Faultline images; `faultline image build debian:bookworm` makes one.');
      for (const r of rows)
        process.stdout.write(
          `${r.name.padEnd(52)} ${r.kind.padEnd(9)} ${r.server.padEnd(36)} ${(r.expected || '-').padEnd(8)} ${String(r.sizeMb).padStart(5)} MB  ${r.created}\n`,
        );
    });
  image
    .command('build')
    .description('build the image of a server build (debian:<suite> or an apache-zookeeper-X-bin.tar.gz)')
    .argument('<server>', 'debian:bookworm, debian:trixie, debian:sid, or a tarball path')
    .option('--force', 'remove the existing image first and build it again')
    .action(async (server: string, opts: { force?: boolean }) => {
      const log = new ConsoleLogger();
      // Ctrl-C stops the build within a few seconds and removes what it made (exit 130).
      const abort = abortOnSignals(log);
      try {
        const docker = await ensureEngine(log, abort.signal);
        if (opts.force) {
          const existing = await ensureImage(docker, server, log, abort.signal);
          if (existing.recipeHash === 'local')
            throw new UsageError(
              `${server} is a local image, not a build Faultline makes`,
              'Give debian:<suite> or a tarball path.',
            );
          await docker.getImage(existing.name).remove({ force: true });
        }
        const built = await ensureImage(docker, server, log, abort.signal);
        log.info(`Image ${built.name} (${built.server}).`);
      } finally {
        abort.dispose();
      }
    });
  image
    .command('runner')
    .description(
      "build the runner image: this checkout's Faultline, to run a shard where an engine is reachable (see README: Sharded gates)",
    )
    .action(async () => {
      const log = new ConsoleLogger();
      const docker = await ensureEngine(log);
      const { ensureRunnerImage } = await import('../../docker/runner.js');
      const built = await ensureRunnerImage(docker, log);
      log.info(`Runner image ${built.name}.`);
      process.stdout.write(`${built.name}\n`);
    });
  image
    .command('rm')
    .description('remove Faultline images by name or by server build')
    .argument('<which...>', 'image names or server builds (debian:sid, a tarball file name), or "all"')
    .action(async (which: string[]) => {
      const log = new ConsoleLogger();
      const docker = await ensureEngine(log);
      const images = await docker.listImages({ filters: { label: ['faultline.image'] } });
      const matches = images.filter(
        (i) =>
          which.includes('all') ||
          which.some(
            (w) =>
              (i.RepoTags ?? []).includes(w) ||
              i.Labels?.['faultline.server'] === w ||
              i.Labels?.['faultline.server'] === w.split('/').pop(),
          ),
      );
      if (matches.length === 0)
        throw new UsageError(
          `no Faultline image matches ${which.join(', ')}`,
          'Run `faultline image list` for the names.',
        );
      for (const i of matches) {
        await docker.getImage(i.Id).remove({ force: true });
        log.info(`Removed ${(i.RepoTags ?? [i.Id]).join(', ')}.`);
      }
    });
}

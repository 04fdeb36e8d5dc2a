// `faultline serve`: the results browser on 127.0.0.1.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { startResultsServer } from '../report/serve.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('browse the runs in results/ and their reports, on 127.0.0.1 only')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option('--results-dir <dir>', 'where runs are stored', 'results')
    .action(async (flags: { port: string; resultsDir: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(
          `--port must be a port number (0-65535), got "${flags.port}"`,
          'For example: --port 8080.',
        );
      }
      const running = await startResultsServer(flags.resultsDir, port).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE')
          throw new UsageError(`port ${port} is in use`, 'Pick another with --port, or --port 0 for any free one.');
        throw err;
      });
      process.stdout.write(`Serving ${flags.resultsDir}/ at ${running.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void running.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

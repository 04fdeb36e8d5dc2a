// `faultline check` and `faultline import` alone: the entry that esbuild bundles (dist/src/bundle/check.js,
// see scripts in package.json and docs/decisions.md), so checking a small file starts in a few tens of ms.
// bin/faultline.js runs it for those two commands (bin/faultline, the installed command, starts Node for them without
// NODE_EXTRA_CA_CERTS); every other command goes through src/cli.ts.
import { runCli } from './cli-run.js';

await runCli({
  check: async () => (await import('./commands/check.js')).registerCheckCommand,
  import: async () => (await import('./commands/import.js')).registerImportCommand,
});

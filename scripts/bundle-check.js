// Bundles `faultline check` and `faultline import` (dist/src/cli-check.js) into one file with esbuild, run by
// the build after tsc: loading ~150 small ESM files (zod's among them) took longer than checking a small
// history. The porcupine folder stays outside the bundle (imported from dist/src/porcupine/), because its worker
// threads load the models by their module URLs. See docs/decisions.md (start-up).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli-check.js'],
  outfile: 'dist/src/bundle/check.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['../porcupine/*'],
  // CommonJS dependencies bundled into ESM still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

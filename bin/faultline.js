#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm install` (the package's prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'faultline: the CLI is not built yet (dist/src/cli.js is missing).\n' +
      'Fix: run `npm install` (or `npm run build`) in the Faultline checkout.\n',
  );
  process.exit(3);
}
await import(entry.href);

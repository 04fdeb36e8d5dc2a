#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm install` (the package's prepare script). `check` and `import` start from
// their own bundle (dist/src/bundle/check.js, one file: start-up is most of a small check), the rest from
// dist/src/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const command = process.argv[2];
const bundle = new URL('../dist/src/bundle/check.js', import.meta.url);
const entry =
  (command === 'check' || command === 'import') && existsSync(fileURLToPath(bundle))
    ? bundle
    : new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'faultline: the CLI is not built yet (dist/src/cli.js is missing).\n' +
      'Fix: run `npm install` (or `npm run build`) in the Faultline checkout.\n',
  );
  process.exit(3);
}
await import(entry.href);

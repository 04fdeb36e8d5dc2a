// Architecture rules checked by `npm test` (dependency-cruiser): the core never imports the CLI, and no two
// folders import each other, directly or through others.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-cli',
      comment:
        'Only the CLI entries (src/cli.ts, src/cli-check.ts) and src/commands/ may import src/commands/: commands parse, call the core, print.',
      severity: 'error',
      from: { pathNot: '^src/(commands/|cli(-check)?\\.ts$)' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'folder-cycle',
      comment: 'Folders form layers: a cycle between folders means two concerns that cannot be understood apart.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

// Architecture rules checked by `npm test` (dependency-cruiser). The core never imports the CLI; folders form
// layers, each importing only the layers below it, so no two folders import each other, directly or through
// others; and no module imports itself through others.
/** The layers, lowest first; folders of one layer do not import each other. */
const LAYERS = [
  // Self-contained libraries: the ZooKeeper wire client and the linearizability checker.
  ['^src/zk/', '^src/porcupine/'],
  // The core's shared parts: config, history, checker and workload interfaces, cluster, database, runner.
  ['^src/(?!cli(-check)?\\.ts$)[^/]+\\.ts$'],
  // Readers of other tools' histories (Jepsen, Knossos, Porcupine).
  ['^src/formats/'],
  // Pure checkers (history in, verdict out) and the run store's formats.
  ['^src/checkers/', '^src/store/'],
  // What a run is assembled from: workloads, faults, images and engine, in-memory parts.
  ['^workloads/', '^nemesis/', '^docker/', '^src/fakes/'],
  ['^src/dr/'],
  ['^src/report/'],
  // Assembling and running tests, then many of them.
  ['^src/run/'],
  // Exploring, replaying and shrinking: many runs chosen, or one run's schedule cut down.
  ['^src/explore/'],
  ['^src/gate/'],
  // The command line.
  ['^src/commands/'],
  // The entries: the whole command line, and check + import alone (bundled for a fast start).
  ['^src/cli\\.ts$', '^src/cli-check\\.ts$'],
];

const layerRules = LAYERS.flatMap((layer, i) =>
  layer
    .map((from) => ({
      from,
      above: LAYERS.slice(i)
        .flat()
        .filter((p) => p !== from),
    }))
    .filter(({ above }) => above.length > 0)
    .map(({ from, above }) => ({
      name: 'layers',
      comment: `${from} may import only the layers below it`,
      severity: 'error',
      from: { path: from },
      to: { path: above, pathNot: from },
    })),
);

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
      name: 'checkers-are-pure',
      comment: 'A checker reads a history; it never reaches the servers, the engine or the nemesis.',
      severity: 'error',
      from: { path: '^src/checkers/' },
      to: {
        path: '^(src/(cluster|zookeeper|client|runner|recovery|roles|nemesis|schedule)\\.ts$|src/zk/|docker/|nemesis/|workloads/)',
      },
    },
    {
      name: 'no-circular',
      comment: 'No module imports itself through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'every-folder-has-a-layer',
      comment: 'A new folder of the core must be given its place in LAYERS, or the rules above do not see it.',
      severity: 'error',
      from: { path: '^(src|workloads|nemesis|docker)/', pathNot: LAYERS.flat() },
      to: { dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg'] },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

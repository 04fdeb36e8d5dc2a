// The `faultline` command line. Each command lives in src/commands/<name>.ts and registers itself here.
import { runCli, type Register } from './cli-run.js';

// Each command's module is loaded only when that command runs (all of them for help): `faultline check`
// must not pay for dockerode, the report assets and the rest at start-up (it even has its own bundled entry,
// src/cli-check.ts).
const COMMANDS: Record<string, () => Promise<Register>> = {
  test: async () => (await import('./commands/test.js')).registerTestCommand,
  setup: async () => (await import('./commands/setup.js')).registerSetupCommand,
  clean: async () => (await import('./commands/clean.js')).registerCleanCommand,
  analyze: async () => (await import('./commands/analyze.js')).registerAnalyzeCommand,
  check: async () => (await import('./commands/check.js')).registerCheckCommand,
  import: async () => (await import('./commands/import.js')).registerImportCommand,
  report: async () => (await import('./commands/report.js')).registerReportCommand,
  serve: async () => (await import('./commands/serve.js')).registerServeCommand,
  gate: async () => (await import('./commands/gate.js')).registerGateCommand,
  nemesis: async () => (await import('./commands/nemesis.js')).registerNemesisCommand,
  merge: async () => (await import('./commands/merge.js')).registerMergeCommand,
  compare: async () => (await import('./commands/compare.js')).registerCompareCommand,
  explore: async () => (await import('./commands/explore.js')).registerExploreCommand,
  replay: async () => (await import('./commands/replay.js')).registerReplayCommand,
  shrink: async () => (await import('./commands/shrink.js')).registerShrinkCommand,
  image: async () => (await import('./commands/image.js')).registerImageCommand,
};

await runCli(COMMANDS);

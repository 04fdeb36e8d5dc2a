// `faultline merge DIR...`: the shards of a gate (`gate --shard I/N`, run on N machines and copied together) as one
// gate: gate.json, junit.xml and gate.html, and the exit code of the whole. Missing shards leave their runs unknown.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { ConsoleLogger } from '../log.js';
import { createRunDir, writeJson } from '../store/index.js';
import { GATE_JSON, readGate } from '../store/gate.js';
import { mergeShards, missingShards, type FoundGate } from '../gate/merge.js';
import { GATE_HTML, GATE_JUNIT, gateExitCode, gateSummaryLine, renderGateHtml, renderJUnit } from '../gate/outputs.js';
import { renderExploreHtml } from '../explore/html.js';
import { mergeExploreShards } from '../gate/explore-merge.js';
import { EXPLORE_HTML, EXPLORE_JSON, readExploreRecord } from '../store/explore.js';
import { exploreExitCode } from '../explore/explore.js';

/**
 * Directories under `dir` (or `dir` itself) holding `file` (gate.json or explore.json): a tree copied from several
 * machines may hold many.
 */
export function findShardDirs(dir: string, file: string = GATE_JSON): string[] {
  if (!existsSync(dir))
    throw new UsageError(
      `${dir} does not exist`,
      'Give gate or explore directories, or results trees that hold shards.',
    );
  if (existsSync(join(dir, file))) return [dir];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // runs/ holds run dirs and mutants/ scenarios, never a gate or explore; `latest` links to one already found.
    if (!entry.isDirectory() || entry.name === 'runs' || entry.name === 'mutants') continue;
    found.push(...findShardDirs(join(dir, entry.name), file));
  }
  return found;
}

interface Collected<T> {
  found: T & { dir: string };
  shard: boolean;
  merged: boolean;
}

/**
 * The gates or explores (by `file`) under the given dirs, once each. In a results tree, whole ones and earlier
 * merges lie beside the shards: only given by name do they count (and the merge refuses them with a reason).
 */
function collectShards<T>(
  dirs: readonly string[],
  file: string,
  kind: 'gate' | 'explore',
  log: ConsoleLogger,
  read: (dir: string) => Collected<T>,
): (T & { dir: string })[] {
  const found: (T & { dir: string })[] = [];
  for (const d of dirs) {
    const shardDirs = findShardDirs(resolve(d), file);
    if (shardDirs.length === 0)
      throw new UsageError(`no ${file} under ${d}`, `Give the directories that \`faultline ${kind} --shard\` wrote.`);
    for (const dir of shardDirs) {
      const one = read(dir);
      if (shardDirs.length > 1 && !one.shard) {
        log.info(`Skipping ${dir}: ${one.merged ? `a merged ${kind}` : 'not a shard'}.`);
        continue;
      }
      if (!found.some((f) => f.dir === dir)) found.push(one.found);
    }
  }
  return found;
}

/** The shards of an explore as one explore.json and explore.html under results/explores/explore/. */
function mergeExplores(dirs: readonly string[], resultsDir: string, log: ConsoleLogger): void {
  const found = collectShards(dirs, EXPLORE_JSON, 'explore', log, (dir) => {
    const record = readExploreRecord(dir);
    return { found: { dir, record }, shard: record.shard !== undefined, merged: record.merged !== undefined };
  });
  const record = mergeExploreShards(found);
  const outDir = createRunDir(join(resultsDir, 'explores'), 'explore');
  writeJson(join(outDir, EXPLORE_JSON), record);
  writeFileSync(join(outDir, EXPLORE_HTML), renderExploreHtml(record, resolve(outDir)));
  for (const i of record.merged!.missing)
    log.warn(`shard ${i}/${record.merged!.count} is missing: its trials were not run or not given`);
  const c = record.counts;
  log.info(
    `Explore merged from ${found.length} of ${record.merged!.count} shards: ${c.trials} trials, ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown${record.merged!.missing.length ? `; ${record.merged!.missing.length} shards missing` : ''}`,
  );
  log.info(`Outputs: ${join(outDir, EXPLORE_JSON)}, ${EXPLORE_HTML}`);
  process.exitCode = exploreExitCode(record);
}

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description(
      'merge the shards of a gate (gate --shard I/N) or of an explore (explore --shard I/N) into one; exit 0 all valid, 1 any invalid, 2 unknown or missing runs, 3 shards that do not belong together',
    )
    .argument('<dirs...>', 'gate or explore directories of the shards, or results trees that hold them')
    .option('--results-dir <dir>', 'where the merged gate is written (under gates/<suite>/)', 'results')
    .action((dirs: string[], flags: { resultsDir: string }) => {
      const log = new ConsoleLogger();
      const gates = dirs.flatMap((d) => findShardDirs(resolve(d)));
      const explores = dirs.flatMap((d) => findShardDirs(resolve(d), EXPLORE_JSON));
      if (gates.length === 0 && explores.length > 0) return mergeExplores(dirs, flags.resultsDir, log);
      const found = collectShards(dirs, GATE_JSON, 'gate', log, (dir): Collected<FoundGate> => {
        const gate = readGate(dir);
        return { found: { dir, gate }, shard: gate.shard !== undefined, merged: gate.merged !== undefined };
      });
      const gate = mergeShards(found);
      const outDir = createRunDir(join(flags.resultsDir, 'gates'), gate.suite);
      writeJson(join(outDir, GATE_JSON), gate);
      writeFileSync(join(outDir, GATE_JUNIT), renderJUnit(gate));
      writeFileSync(join(outDir, GATE_HTML), renderGateHtml(gate, resolve(outDir)));
      for (const line of missingShards(gate)) log.warn(line);
      log.info(
        `Gate ${gate.suite} merged from ${found.length} of ${gate.merged!.count} shards: ${gateSummaryLine(gate)}`,
      );
      log.info(`Outputs: ${join(outDir, GATE_JSON)}, ${GATE_JUNIT}, ${GATE_HTML}`);
      process.exitCode = gateExitCode(gate);
    });
}

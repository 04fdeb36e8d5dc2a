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
import { GATE_HTML, GATE_JUNIT, gateExitCode, renderGateHtml, renderJUnit } from '../gate/outputs.js';

/** Gate directories under `dir` (or `dir` itself): a tree copied from several machines may hold many. */
export function findGateDirs(dir: string): string[] {
  if (!existsSync(dir))
    throw new UsageError(`${dir} does not exist`, 'Give gate directories or results trees that hold shards.');
  if (existsSync(join(dir, GATE_JSON))) return [dir];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // A gate's runs/ holds run dirs, never another gate; `latest` links to a gate already found.
    if (!entry.isDirectory() || entry.name === 'runs') continue;
    found.push(...findGateDirs(join(dir, entry.name)));
  }
  return found;
}

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description(
      'merge the shards of a gate (gate --shard I/N) into one gate; exit 0 all valid, 1 any invalid, 2 unknown or missing runs, 3 shards that do not belong together',
    )
    .argument('<dirs...>', 'gate directories of the shards, or results trees that hold them')
    .option('--results-dir <dir>', 'where the merged gate is written (under gates/<suite>/)', 'results')
    .action((dirs: string[], flags: { resultsDir: string }) => {
      const log = new ConsoleLogger();
      const found: FoundGate[] = [];
      for (const d of dirs) {
        const gateDirs = findGateDirs(resolve(d));
        if (gateDirs.length === 0)
          throw new UsageError(`no gate.json under ${d}`, 'Give the directories that `faultline gate --shard` wrote.');
        for (const dir of gateDirs) {
          const gate = readGate(dir);
          // In a results tree, whole gates and earlier merges lie beside the shards: only given by name do they count.
          if (gateDirs.length > 1 && gate.shard === undefined) {
            log.info(`Skipping ${dir}: ${gate.merged ? 'a merged gate' : 'not a shard'}.`);
            continue;
          }
          if (!found.some((f) => f.dir === dir)) found.push({ dir, gate });
        }
      }
      const gate = mergeShards(found);
      const outDir = createRunDir(join(flags.resultsDir, 'gates'), gate.suite);
      writeJson(join(outDir, GATE_JSON), gate);
      writeFileSync(join(outDir, GATE_JUNIT), renderJUnit(gate));
      writeFileSync(join(outDir, GATE_HTML), renderGateHtml(gate, resolve(outDir)));
      for (const line of missingShards(gate)) log.warn(line);
      const c = gate.counts;
      log.info(
        `Gate ${gate.suite} merged from ${found.length} of ${gate.merged!.count} shards: ${gate.verdict === true ? 'PASS' : gate.verdict === false ? 'FAIL' : 'UNDECIDED'}: ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown of ${c.runs} runs`,
      );
      log.info(`Outputs: ${join(outDir, GATE_JSON)}, ${GATE_JUNIT}, ${GATE_HTML}`);
      process.exitCode = gateExitCode(gate);
    });
}

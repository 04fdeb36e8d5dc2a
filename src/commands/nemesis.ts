// `faultline nemesis list`: every fault the nemesis knows, by family, with what it does.
import type { Command } from 'commander';
import { CATALOGUE, resolveFaults } from '../../nemesis/index.js';
import { TARGET_ROLES } from '../../nemesis/targets.js';
import { UsageError } from '../errors.js';
import { planRandomSchedule } from '../schedule.js';

export function describeCatalogue(): string {
  const families = [...new Set(CATALOGUE.map((f) => f.family))];
  const width = Math.max(...CATALOGUE.map((f) => f.name.length));
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`${family}:`);
    for (const fault of CATALOGUE.filter((f) => f.family === family))
      lines.push(`  ${fault.name.padEnd(width)}  ${fault.description}`);
  }
  lines.push(
    '',
    '--nemesis takes a comma list of fault names, families (partition, kill, crash, power-loss, pause, restart, disk, packet: every fault',
    'of that kind) or family:option (kill:follower = kill-follower), each optionally aimed with @TARGET (kill-one@n2,',
    'disk@follower), run on a random schedule seeded by --seed.',
    "Disk faults hit one random node (kill it, damage its data dir, start it); packet faults shape every node's",
    'traffic to its peers (params: peers: n2+n3 narrows that). The named settings (bytes, records, bits, by, delayMs,',
    'jitterMs, percent, rate) are set with params: in a scenario step; `powerLoss: true` makes any kill-* or crash-* a power',
    "cut too (the killed nodes' data dirs revert to what was last fsynced, as power-loss-* do; see --power-loss-entries).",
    `Scenario steps (--scenario FILE) may retarget a fault with target: ${TARGET_ROLES.join(', ')}, or node names (n1+n3).`,
  );
  return lines.join('\n');
}

/** The first `count` fault requests of the random schedule for a seed, with when each starts (seconds into the run, ignoring time spent healing). */
export function describePlan(names: readonly string[], seed: number, intervalS: number, count: number): string {
  const faults = resolveFaults(names).map((f) => f.name);
  if (faults.length === 0) return 'no faults';
  const lines: string[] = [];
  let at = 0;
  let i = 0;
  for (const planned of planRandomSchedule(faults, seed, intervalS)) {
    at += planned.waitS;
    lines.push(`${String(i + 1).padStart(3)}  t≈${at.toFixed(1).padStart(6)} s  ${planned.fault}`);
    at += intervalS;
    if (++i === count) break;
  }
  return lines.join('\n');
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`bad option: ${flag} must be a number above 0, not ${text}`, `For example ${flag} 10.`);
  return value;
}

export function registerNemesisCommand(program: Command): void {
  const nemesis = program.command('nemesis').description('the fault catalogue');
  nemesis
    .command('list')
    .description('list every fault by family, with what it does')
    .action(() => {
      process.stdout.write(describeCatalogue() + '\n');
    });
  nemesis
    .command('plan')
    .description('print the fault requests the random schedule makes for a seed (the same seed gives the same plan)')
    .requiredOption('--seed <n>', "the run's seed")
    .option('--nemesis <list>', 'faults, as `faultline test --nemesis` takes them', 'partition-leader,kill-leader')
    .option('--nemesis-interval <s>', 'seconds, as `faultline test --nemesis-interval`', '10')
    .option('--count <n>', 'how many requests', '10')
    .action((opts: { seed: string; nemesis: string; nemesisInterval: string; count: string }) => {
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new UsageError(
          `bad option: --seed must be a whole number ≥ 0, not ${opts.seed}`,
          'Use the seed recorded in test.json.',
        );
      const names = opts.nemesis
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      process.stdout.write(
        describePlan(
          names,
          seed,
          positiveNumber('--nemesis-interval', opts.nemesisInterval),
          Math.floor(positiveNumber('--count', opts.count)),
        ) + '\n',
      );
    });
}

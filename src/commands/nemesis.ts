// `faultline nemesis list`: every fault the nemesis knows, by family, with what it does.
import type { Command } from 'commander';
import { describeCatalogue, describePlan } from '../../nemesis/describe.js';
import { RUN_SETTINGS } from '../config.js';
import { UsageError } from '../errors.js';

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
    .option(
      '--nemesis <list>',
      'faults, as `faultline test --nemesis` takes them',
      RUN_SETTINGS.nemesis.default.join(','),
    )
    .option(
      '--nemesis-interval <s>',
      'seconds, as `faultline test --nemesis-interval`',
      String(RUN_SETTINGS.nemesisIntervalS.default),
    )
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

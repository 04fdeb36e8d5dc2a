// `faultline nemesis list`: every fault the nemesis knows, by family, with what it does.
import { Option, type Command } from 'commander';
import { composedFamilies } from '../../nemesis/index.js';
import { describeCatalogue, describeComposedPlan, describePlan } from '../../nemesis/describe.js';
import { FLAG_SETTINGS, layerFromFlags, resolveRunConfig, RUN_SETTINGS, type FlagSetting } from '../config.js';
import { composedPartsOf } from '../run/execute.js';
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
  const plan = nemesis
    .command('plan')
    .description(
      'print the fault requests the random schedule (or --nemesis composed) makes for a seed (the same seed gives the same plan)',
    )
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
    .option('--count <n>', 'how many requests (composed: the whole plan unless given)');
  // --nemesis composed: its plan depends on the ensemble size, the run's length and its own settings.
  const composedSettings = FLAG_SETTINGS.filter(
    (s) => s.key === 'nodes' || s.key === 'timeLimitS' || s.key.startsWith('composed'),
  );
  for (const setting of composedSettings)
    plan.addOption(new Option(setting.flag, `${setting.help} (default: ${setting.defaultText ?? 'see test --help'})`));
  plan.action((opts: { seed: string; nemesis: string; nemesisInterval: string; count?: string }) => {
    const seed = Number(opts.seed);
    if (!Number.isInteger(seed) || seed < 0)
      throw new UsageError(
        `bad option: --seed must be a whole number ≥ 0, not ${opts.seed}`,
        'Use the seed recorded in test.json.',
      );
    if (opts.nemesis === 'composed') {
      const values = new Map<FlagSetting, unknown>();
      const given = plan.opts<Record<string, unknown>>();
      for (const setting of composedSettings) {
        const value = given[new Option(setting.flag).attributeName()];
        if (value !== undefined) values.set(setting, value);
      }
      const config = resolveRunConfig({ ...layerFromFlags(values), seed, nemesis: ['composed'] });
      const count = opts.count === undefined ? undefined : Math.floor(positiveNumber('--count', opts.count));
      process.stdout.write(
        describeComposedPlan(composedPartsOf(config, composedFamilies(config.composedFamilies)), count) + '\n',
      );
      return;
    }
    const names = opts.nemesis
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    process.stdout.write(
      describePlan(
        names,
        seed,
        positiveNumber('--nemesis-interval', opts.nemesisInterval),
        Math.floor(positiveNumber('--count', opts.count ?? '10')),
      ) + '\n',
    );
  });
}

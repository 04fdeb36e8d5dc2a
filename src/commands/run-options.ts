// The run settings' flags, generated from the settings table (src/config.ts) for every command that runs tests,
// and read back as a layer holding only what the user gave on the command line.
import { Option, type Command } from 'commander';
import {
  FLAG_SETTINGS,
  layerFromFlags,
  layerFromSettingsList,
  mergeLayers,
  type FlagSetting,
  type RunLayer,
} from '../config.js';

/** Registers a flag for every setting that has one (except `except`), plus --zk for ZooKeeper settings as a list. */
export function addRunOptions(command: Command, except: readonly string[] = []): Command {
  for (const setting of FLAG_SETTINGS) {
    if (except.includes(setting.key)) continue;
    // No commander default: an absent flag must not override the layers below it (test file, suite).
    const help = setting.defaultText === undefined ? setting.help : `${setting.help} (default: ${setting.defaultText})`;
    command.addOption(new Option(setting.flag, help));
  }
  return command.option(
    '--zk <settings>',
    'more ZooKeeper settings as key=value,... (any of the above by its YAML name, e.g. forceSync=no, or extra.<zoo.cfg key>=value)',
  );
}

/** The settings given on the command line, as one layer (--zk's settings first, the named flags over them). */
export function runLayerFromCommand(command: Command, except: readonly string[] = []): RunLayer {
  const values = new Map<FlagSetting, unknown>();
  const opts = command.opts<Record<string, unknown>>();
  for (const setting of FLAG_SETTINGS) {
    if (except.includes(setting.key)) continue;
    const attribute = new Option(setting.flag).attributeName();
    if (opts[attribute] !== undefined) values.set(setting, opts[attribute]);
  }
  const zk = typeof opts.zk === 'string' ? layerFromSettingsList(opts.zk, '--zk', false) : undefined;
  return mergeLayers(zk, layerFromFlags(values));
}

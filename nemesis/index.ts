// The fault catalogue by name, as `--nemesis` takes it.
import { UsageError } from '../src/errors.js';
import type { Fault, TargetSpec } from '../src/nemesis.js';
import type { ComposedFamily } from '../src/composed.js';
import type { FaultCatalogue } from '../src/schedule.js';
import { CLIENT_FAMILY, clientFaults } from './client.js';
import { clockFaults } from './clock.js';
import { diskFaults } from './disk.js';
import { membershipFaults } from './membership.js';
import { packetFaults } from './packet.js';
import { partitionFaults } from './partition.js';
import { crashFaults, killFaults, pauseFaults, restartFaults } from './process.js';
import { powerLossFaults, withPowerLossOption } from './power-loss/faults.js';
import { describeTarget, parseTarget, TARGET_ROLES } from './targets.js';

/** Every fault, in the order `faultline nemesis list` shows them. */
export const CATALOGUE: readonly Fault[] = [
  ...partitionFaults,
  // Every kill takes the power-loss option (params powerLoss: true).
  ...killFaults.map(withPowerLossOption),
  ...crashFaults.map(withPowerLossOption),
  ...powerLossFaults,
  ...pauseFaults,
  ...restartFaults,
  ...diskFaults,
  ...packetFaults,
  ...clockFaults,
  ...membershipFaults,
  ...clientFaults,
];

export const FAULTS: Record<string, Fault> = Object.fromEntries(CATALOGUE.map((f) => [f.name, f]));

/** Family names as `--nemesis` accepts them (`kill`, `crash`, `power-loss`, `pause` and `restart` all belong to the process family). */
const FAMILY_PREFIXES = [
  'partition',
  'kill',
  'crash',
  'power-loss',
  'pause',
  'restart',
  'disk',
  'packet',
  'clock',
  'membership',
];

/**
 * One fault of every family, in heal order: the network first (so restarted nodes can reach their peers), clocks
 * back to true time before any server restarts, disk before process (the disk heal repairs nodes that would
 * otherwise refuse to start), membership last (it needs a serving ensemble to reconfigure). Clients resume after
 * the servers, as a paused client would find the ensemble after a fault (the final heal comes after the clients
 * closed anyway).
 */
export function familyHealers(): Fault[] {
  const order = ['partition', 'packet', 'clock', 'disk', 'process', CLIENT_FAMILY, 'membership'];
  const families = [...new Set(CATALOGUE.map((f) => f.family))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return families.map((family) => CATALOGUE.find((f) => f.family === family)!);
}

/** What scenario files may name: every fault, the target roles, the families in heal order. */
export const FAULT_CATALOGUE: FaultCatalogue = {
  faults: CATALOGUE,
  roles: TARGET_ROLES,
  families: familyHealers().map((f) => f.family),
};

/** The same fault aimed elsewhere by default (kill-one@n2, disk-truncate-log@follower). */
export function retarget(fault: Fault, target: TargetSpec): Fault {
  if (!fault.defaultTarget)
    throw new UsageError(
      `${fault.name} takes no target`,
      'Only faults that hit chosen nodes take @TARGET; partitions such as halves or rings cut the whole ensemble.',
    );
  return {
    ...fault,
    name: `${fault.name}@${describeTarget(target)}`,
    defaultTarget: target,
    start: (context, request) => fault.start(context, { ...request, target: request?.target ?? target }),
  };
}

/**
 * Resolves one `--nemesis` entry: a fault name (kill-leader), a family (kill: every kill fault),
 * or family:option (kill:leader, partition:leader), which names the fault family-option; any of them with
 * @TARGET (a role or node names: kill-one@n2, disk@follower) aims it there.
 */
export function resolveFaultEntry(entry: string): Fault[] {
  const at = entry.indexOf('@');
  if (at > 0) {
    const target = parseTarget(entry.slice(at + 1));
    return resolveFaultEntry(entry.slice(0, at)).map((fault) => retarget(fault, target));
  }
  const exact = FAULTS[entry];
  if (exact) return [exact];
  if (entry.includes(':')) {
    const [prefix, option] = entry.split(':', 2) as [string, string];
    // partition:isolate-leader is partition-leader.
    const fault = FAULTS[`${prefix}-${option}`] ?? FAULTS[`${prefix}-${option.replace(/^isolate-/, '')}`];
    if (fault) return [fault];
  } else if (FAMILY_PREFIXES.includes(entry)) {
    // The prefixes name server faults: `pause` is every server pause, not the client pause (asked for by name).
    const members = CATALOGUE.filter((f) => f.name.startsWith(`${entry}-`) && !f.targetsClients);
    if (members.length > 0) return members;
  }
  throw new UsageError(
    `unknown fault "${entry}" in --nemesis`,
    `Use a comma-separated list of fault names (run \`faultline nemesis list\`), families (${FAMILY_PREFIXES.join(', ')}), family:option such as kill:leader, any of them with @TARGET (kill-one@n2), or none.`,
  );
}

/** Parses a comma-separated fault list; "none" means no faults. Duplicates are dropped, order kept. */
export function resolveFaults(names: readonly string[]): Fault[] {
  if (names.length === 1 && names[0] === 'none') return [];
  const faults = names.flatMap(resolveFaultEntry);
  return faults.filter((f, i) => faults.indexOf(f) === i);
}

/**
 * The families of the composed schedule (`--nemesis composed`), by the names users give them, each with the faults
 * it draws from: single-node faults (the schedule picks the node), so every one can be healed node by node.
 */
export function composedFamilies(names: readonly string[]): ComposedFamily[] {
  const named = (...faults: string[]): string[] => faults.filter((f) => FAULTS[f] !== undefined);
  const prefixed = (prefix: string): string[] => CATALOGUE.filter((f) => f.name.startsWith(prefix)).map((f) => f.name);
  const table: Record<string, Omit<ComposedFamily, 'name'>> = {
    partition: { faults: named('partition-one'), lasting: true, healedBy: 'node' },
    kill: { faults: named('kill-one'), lasting: true, healedBy: 'node' },
    crash: { faults: named('crash-one'), lasting: true, healedBy: 'node' },
    pause: { faults: named('pause-one'), lasting: true, healedBy: 'node' },
    'power-loss': { faults: named('power-loss-one'), lasting: true, healedBy: 'node' },
    restart: { faults: named('restart-one'), lasting: false, healedBy: 'node' },
    packet: { faults: prefixed('packet-'), lasting: true, healedBy: 'node' },
    clock: { faults: prefixed('clock-').filter((f) => f !== 'clock-scramble'), lasting: true, healedBy: 'node' },
    disk: { faults: prefixed('disk-'), lasting: false, healedBy: 'node' },
    // Reconfigurations change the ensemble, not one node: they hold until the family's heal restores the members.
    membership: {
      faults: named('membership-remove-voter', 'membership-demote-voter'),
      lasting: true,
      healedBy: 'family',
      targets: ['default'],
    },
  };
  return names.map((name) => {
    const entry = table[name];
    if (!entry)
      throw new UsageError(`unknown composed family "${name}"`, `Use families among ${Object.keys(table).join(', ')}.`);
    return { name, ...entry };
  });
}

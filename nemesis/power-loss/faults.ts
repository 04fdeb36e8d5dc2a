// Power-loss faults (issue 14): the node loses power. Its traffic stops without a word (as crash-*), its server is
// killed, and its data dir goes back to what was durable (the power-loss filesystem's revert); the process family's
// heal restores its traffic and starts it. Every kill (kill-*, crash-*) takes the same as an option: `powerLoss: true`
// in its params (a scenario step's `params:`) reverts the killed nodes' data after the kill.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterNode } from '../../src/cluster.js';
import { HarnessError } from '../../src/errors.js';
import type { Fault, FaultRecord, FaultRequest, NemesisContext } from '../../src/nemesis.js';
import type { Scenario } from '../../src/schedule.js';
import { crashFaults, WHO } from '../process.js';
import { markDataDestroyed } from '../disk.js';
import { isPowerLossMounted, revertDataDir, type RevertRecord } from './fs.js';

export const POWER_LOSS_PREFIX = 'power-loss-';

/** What a power cut did to one node, in the fault's record: the revert, and whether the node fsynced its log. */
export interface NodePowerLoss extends RevertRecord {
  /** ZooKeeper's forceSync as the node's zoo.cfg set it: only "no" turns the log's fsync off. */
  forceSync: boolean;
}

/** The node's forceSync, read from the zoo.cfg it runs with (ZooKeeper syncs unless the value is exactly "no"). */
export function forceSyncOf(node: ClusterNode): boolean {
  try {
    const cfg = readFileSync(join(node.hostDir, 'conf', 'zoo.cfg'), 'utf8');
    return /^forceSync=(.*)$/m.exec(cfg)?.[1]?.trim() !== 'no';
  } catch {
    return true;
  }
}

/** Reverts the data dirs of stopped nodes to their durable state; the record names what went, per node. */
export async function cutPower(
  context: NemesisContext,
  nodes: readonly ClusterNode[],
): Promise<Record<string, NodePowerLoss>> {
  const done: Record<string, NodePowerLoss> = {};
  for (const node of nodes) {
    const dataDir = join(node.hostDir, 'data');
    if (!isPowerLossMounted(dataDir))
      throw new HarnessError(
        `${node.name}: its data dir is not on the power-loss filesystem, so its power cannot be cut`,
        'The filesystem is mounted before the containers start, for runs whose --nemesis or scenario names a power-loss fault or a kill with powerLoss: true; or force it with --power-loss-fs on.',
      );
    if (await context.db.isRunning(node))
      throw new HarnessError(`${node.name}: the server still runs; its power is cut only after it is stopped`);
    done[node.name] = { ...(await revertDataDir(dataDir)), forceSync: forceSyncOf(node) };
  }
  return done;
}

function wantsPowerLoss(fault: Fault, request?: FaultRequest): boolean {
  const value = request?.params?.powerLoss;
  if (value === undefined || value === false) return false;
  if (value !== true)
    throw new HarnessError(`${fault.name}: param powerLoss must be true or false, not ${String(value)}`);
  return true;
}

/** A kill fault that also cuts the killed nodes' power when its params say `powerLoss: true`. */
export function withPowerLossOption(fault: Fault): Fault {
  return {
    ...fault,
    params: {
      ...fault.params,
      powerLoss: { kind: 'flag', help: "also cut the power: revert the killed nodes' data dirs to what was fsynced" },
    },
    async start(context, request) {
      const cut = wantsPowerLoss(fault, request);
      const record: FaultRecord = await fault.start(context, request);
      if (!cut) return record;
      const names = Array.isArray(record.nodes) ? (record.nodes as string[]) : [];
      const nodes = context.cluster.nodes.filter((n) => names.includes(n.name));
      // A power cut destroys unsynced data on purpose: a node that then refuses to start may be repaired.
      for (const n of nodes) markDataDestroyed(context, n.name);
      return { ...record, powerLoss: await cutPower(context, nodes) };
    },
  };
}

export const powerLossFaults: Fault[] = crashFaults.map((crash) => {
  const target = crash.defaultTarget as keyof typeof WHO;
  const withOption = withPowerLossOption(crash);
  return {
    ...withOption,
    name: crash.name.replace(/^crash-/, POWER_LOSS_PREFIX),
    description: `cut the power of ${WHO[target]}: drop all traffic, kill -9, revert the data dir to what was last fsynced (unsynced bytes, creates, renames and unlinks undone); the heal restores traffic and restarts`,
    start: (context, request) =>
      withOption.start(context, { ...request, params: { ...request?.params, powerLoss: true } }),
  };
});

/** Whether a schedule can cut power: a power-loss fault, or a kill step with `powerLoss: true`. */
export function schedulesPowerLoss(faults: readonly Fault[], scenario?: Scenario): boolean {
  return (
    faults.some((f) => f.name.startsWith(POWER_LOSS_PREFIX)) ||
    (scenario?.steps ?? []).some(
      (s) => s.kind === 'fault' && (s.fault.name.startsWith(POWER_LOSS_PREFIX) || s.params?.powerLoss === true),
    )
  );
}

/** Whether a run mounts the filesystem under its data dirs. */
export function mountsPowerLoss(
  filesystem: 'auto' | 'on' | 'off',
  faults: readonly Fault[],
  scenario?: Scenario,
): boolean {
  return filesystem === 'on' || (filesystem === 'auto' && schedulesPowerLoss(faults, scenario));
}

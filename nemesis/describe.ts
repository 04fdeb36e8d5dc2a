// The fault catalogue and a seed's random schedule, described for people (`faultline nemesis list|plan`).
import { planComposedSchedule, type ComposedOptions } from '../src/composed.js';
import { planRandomSchedule } from '../src/schedule.js';
import { CATALOGUE, resolveFaults } from './index.js';
import { TARGET_ROLES } from './targets.js';

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
    '--nemesis takes a comma list of fault names, families (partition, kill, pause, restart, disk, packet, clock,',
    'membership: every fault of that kind) or family:option (kill:follower = kill-follower), each optionally aimed',
    'with @TARGET (kill-one@n2, disk@follower), run on a random schedule seeded by --seed.',
    "Disk faults hit one random node (kill it, damage its data dir, start it); packet faults shape every node's",
    'traffic to its peers (params: peers: n2+n3 narrows that). The named settings (bytes, records, bits, by, delayMs,',
    'jitterMs, percent, rate) are set with params: in a scenario step.',
    "Clock faults move the server JVM's clock only (libfaketime; --fake-clock wall or all), params byMs, offsetMs,",
    'deltaMs, periodMs, rate. Membership faults reconfigure a reconfig-enabled ensemble (--reconfig yes, turned on',
    'for them); params count, during: kill-leader | cut-joiner. Both heal at the end, on Ctrl-C and at teardown.',
    'pause-client stops a client, not a server: one Curator driver JVM of a lock or election workload, for durationMs',
    '(past the session timeout, so another client may take what it held; give --op-timeout above it to keep its op).',
    `Scenario steps (--scenario FILE) may retarget a fault with target: ${TARGET_ROLES.join(', ')}, or node names (n1+n3);`,
    'heal: FAMILY with target: heals only those nodes, start: n2 starts one killed or crashed node.',
    '--nemesis composed overlaps single-node faults of several families on a seeded plan, healing them node by node',
    '(`faultline nemesis plan --nemesis composed --seed N` prints it; README "Composed faults" gives its rules).',
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

/** The composed schedule's whole plan for its options: every request with its time, to the final heal. */
export function describeComposedPlan(options: ComposedOptions, count?: number): string {
  const lines: string[] = [
    `composed plan: seed ${options.seed}, ${options.nodeCount} nodes, ${options.durationS} s, families ${options.families
      .map((f) => f.name)
      .join(', ')}; at most ${options.maxFaulty} faulty${
      options.majoritySpellS > 0 ? `, majority spells of ${options.majoritySpellS} s` : ', no majority spells'
    }; hold ${options.holdS.join('-')} s, quiet ${options.quietS.join('-')} s, gap ${options.gapS.join('-')} s${options.earlyHeals === false ? ', no early heals' : ''}`,
  ];
  let i = 0;
  for (const step of planComposedSchedule(options)) {
    const at = `t≈${step.atS.toFixed(1).padStart(6)} s`;
    const what =
      step.kind === 'start'
        ? `start #${step.id} ${step.fault} → ${step.target}${step.holdS !== undefined ? ` (hold ${step.holdS.toFixed(1)} s)` : ''}${step.spell ? ' [majority spell]' : ''}`
        : `heal  #${step.id} ${step.fault} (${step.why})`;
    lines.push(`${String(++i).padStart(3)}  ${at}  ${what}`);
    if (count !== undefined && i >= count) break;
  }
  return lines.join('\n');
}

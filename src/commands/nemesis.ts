// `faultline nemesis list`: every fault the nemesis knows, by family, with what it does.
import type { Command } from 'commander';
import { CATALOGUE } from '../../nemesis/index.js';
import { TARGET_ROLES } from '../../nemesis/targets.js';

export function describeCatalogue(): string {
  const families = [...new Set(CATALOGUE.map((f) => f.family))];
  const width = Math.max(...CATALOGUE.map((f) => f.name.length));
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`${family}:`);
    for (const fault of CATALOGUE.filter((f) => f.family === family)) lines.push(`  ${fault.name.padEnd(width)}  ${fault.description}`);
  }
  lines.push(
    '',
    '--nemesis takes a comma list of fault names, families (partition, kill, pause, restart, disk, packet: every fault',
    'of that kind) or family:option (kill:follower = kill-follower), each optionally aimed with @TARGET (kill-one@n2,',
    'disk@follower), run on a random schedule seeded by --seed.',
    'Disk faults hit one random node (kill it, damage its data dir, start it); packet faults shape every node\'s',
    'traffic to its peers (params: peers: n2+n3 narrows that). The named settings (bytes, records, bits, by, delayMs,',
    'jitterMs, percent, rate) are set with params: in a scenario step.',
    `Scenario steps (--scenario FILE) may retarget a fault with target: ${TARGET_ROLES.join(', ')}, or node names (n1+n3).`,
  );
  return lines.join('\n');
}

export function registerNemesisCommand(program: Command): void {
  const nemesis = program.command('nemesis').description('the fault catalogue');
  nemesis
    .command('list')
    .description('list every fault by family, with what it does')
    .action(() => {
      process.stdout.write(describeCatalogue() + '\n');
    });
}

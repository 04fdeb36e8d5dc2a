// Network partitions with iptables inside the containers. Every rule lives in Faultline's own chain,
// so the heal removes exactly what Faultline added and nothing else.
import type { ClusterNode } from '../src/cluster.js';
import type { Fault, NemesisContext } from '../src/nemesis.js';
import { currentLeader } from './targets.js';

const CHAIN = 'FAULTLINE';

function iptables(args: string): string {
  // -w waits for the xtables lock instead of failing when another iptables call holds it.
  return `iptables -w ${args}`;
}

/** Cuts the cluster into groups: every node drops packets from every node outside its own group. */
export async function partition(context: NemesisContext, groups: readonly (readonly ClusterNode[])[]): Promise<void> {
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => g.forEach((n) => groupOf.set(n.name, i)));
  await Promise.all(context.cluster.nodes.map(async (node) => {
    const others = context.cluster.nodes.filter((o) => groupOf.get(o.name) !== groupOf.get(node.name));
    if (others.length === 0) return;
    const script = [
      `${iptables(`-N ${CHAIN}`)} 2>/dev/null || true`,
      `${iptables(`-C INPUT -j ${CHAIN}`)} 2>/dev/null || ${iptables(`-I INPUT -j ${CHAIN}`)}`,
      ...others.map((o) => iptables(`-A ${CHAIN} -s ${o.ip} -j DROP`)),
    ].join(' && ');
    await context.cluster.run(node, ['sh', '-c', script]);
  }));
}

/** Removes Faultline's chain and its jump on every node. */
export async function healPartitions(context: NemesisContext): Promise<string[]> {
  const healed: string[] = [];
  await Promise.all(context.cluster.nodes.map(async (node) => {
    const script = [
      `if ${iptables(`-L ${CHAIN} -n`)} >/dev/null 2>&1; then`,
      `  while ${iptables(`-D INPUT -j ${CHAIN}`)} 2>/dev/null; do :; done;`,
      `  ${iptables(`-F ${CHAIN}`)} && ${iptables(`-X ${CHAIN}`)} && echo healed;`,
      'fi',
    ].join(' ');
    const out = await context.cluster.run(node, ['sh', '-c', script]);
    if (out.includes('healed')) healed.push(node.name);
  }));
  return healed.sort();
}

/** Isolates the current leader from every other node (clients still reach it). */
export const partitionLeader: Fault = {
  name: 'partition-leader',
  family: 'partition',
  description: 'isolate the current leader from every other node',
  async start(context) {
    const leader = await currentLeader(context);
    const rest = context.cluster.nodes.filter((n) => n.name !== leader.name);
    await partition(context, [[leader], rest]);
    return { isolated: [leader.name], groups: [[leader.name], rest.map((n) => n.name)] };
  },
  async heal(context) {
    return { healed: await healPartitions(context) };
  },
};

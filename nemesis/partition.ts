// Network partitions with iptables inside the containers. Every rule lives in Faultline's own chain,
// so the heal removes exactly what Faultline added and nothing else.
import type { ClusterNode } from '../src/cluster.js';
import type { Fault, FaultRecord, NemesisContext, TargetSpec } from '../src/nemesis.js';
import { HarnessError } from '../src/errors.js';
import { iptables, removeChainScript } from './chains.js';
import { majoritySize, resolveTargets, shuffle } from './targets.js';

const CHAIN = 'FAULTLINE';
export const PARTITION_FAMILY = 'partition';

/** A grudge: for each node, the nodes whose packets it drops. Asymmetric grudges are allowed (majorities ring). */
export type Grudge = Record<string, string[]>;

/** The grudge of a clean cut into groups: every node drops every node outside its own group. */
export function completeGrudge(groups: readonly (readonly string[])[]): Grudge {
  const all = groups.flat();
  const grudge: Grudge = {};
  for (const group of groups) for (const node of group) grudge[node] = all.filter((o) => !group.includes(o));
  return grudge;
}

/** Two halves in the given order; the first is the smaller one when the count is odd. */
export function halves(nodes: readonly string[]): [string[], string[]] {
  const cut = Math.floor(nodes.length / 2);
  return [nodes.slice(0, cut), nodes.slice(cut)];
}

/**
 * Majorities ring (after Jepsen): nodes on a shuffled ring, each sees a majority made of itself and its ring
 * neighbours, and no two nodes see the same majority. With 3 nodes each node sees itself and its successor.
 */
export function majoritiesRingGrudge(ring: readonly string[]): Grudge {
  const n = ring.length;
  const seen = majoritySize(n);
  const back = Math.floor((seen - 1) / 2);
  const grudge: Grudge = {};
  ring.forEach((node, i) => {
    const visible = new Set(Array.from({ length: seen }, (_, k) => ring[(i - back + k + n) % n]!));
    grudge[node] = ring.filter((o) => !visible.has(o));
  });
  return grudge;
}

/** Bridge (after Jepsen): two halves that cannot see each other, and one node in the middle that sees both. */
export function bridgeGrudge(order: readonly string[]): { grudge: Grudge; bridge: string } {
  const mid = Math.floor(order.length / 2);
  const left = order.slice(0, mid);
  const right = order.slice(mid + 1);
  const grudge: Grudge = { [order[mid]!]: [] };
  for (const node of left) grudge[node] = [...right];
  for (const node of right) grudge[node] = [...left];
  return { grudge, bridge: order[mid]! };
}

/** Applies a grudge with DROP rules in Faultline's chain. Returns the rules added, per node. */
export async function applyGrudge(context: NemesisContext, grudge: Grudge): Promise<Record<string, string[]>> {
  const rules: Record<string, string[]> = {};
  await Promise.all(
    context.cluster.nodes.map(async (node) => {
      const dropped = (grudge[node.name] ?? []).map((name) => context.cluster.nodes.find((n) => n.name === name)!);
      if (dropped.length === 0) return;
      const nodeRules = dropped.map((o) => `-A ${CHAIN} -s ${o.ip} -j DROP`);
      const script = [
        `${iptables(`-N ${CHAIN}`)} 2>/dev/null || true`,
        `${iptables(`-C INPUT -j ${CHAIN}`)} 2>/dev/null || ${iptables(`-I INPUT -j ${CHAIN}`)}`,
        ...nodeRules.map(iptables),
      ].join(' && ');
      await context.cluster.run(node, ['sh', '-c', script]);
      rules[node.name] = nodeRules;
    }),
  );
  return rules;
}

/** Removes Faultline's chain and its jump on every node. */
export async function healPartitions(context: NemesisContext): Promise<string[]> {
  const healed: string[] = [];
  await Promise.all(
    context.cluster.nodes.map(async (node) => {
      const out = await context.cluster.run(node, ['sh', '-c', removeChainScript(CHAIN, ['INPUT'], 'healed')]);
      if (out.includes('healed')) healed.push(node.name);
    }),
  );
  return healed.sort();
}

async function healPartitionFamily(context: NemesisContext): Promise<FaultRecord> {
  return { healed: await healPartitions(context) };
}

/**
 * Reconnects one node: on it, every rule of Faultline's chain goes (it drops nothing); on every other node, the rules
 * that drop its packets go. Cuts between other nodes stay. Idempotent: a node without rules is left as it is.
 */
export async function healPartitionNode(context: NemesisContext, name: string): Promise<FaultRecord> {
  const target = nodeNamed(context, name);
  const removed: Record<string, number> = {};
  await Promise.all(
    context.cluster.nodes.map(async (node) => {
      // Counts the rules it deletes: on the node itself all of them, elsewhere the ones naming its address.
      const script =
        node === target
          ? `n=0; if ${iptables(`-L ${CHAIN} -n`)} >/dev/null 2>&1; then n=$(${iptables(`-S ${CHAIN}`)} | grep -c -- '^-A'); ${iptables(`-F ${CHAIN}`)}; fi; echo $n`
          : `n=0; while ${iptables(`-D ${CHAIN} -s ${target.ip}/32 -j DROP`)} 2>/dev/null; do n=$((n+1)); done; echo $n`;
      const count = Number((await context.cluster.run(node, ['sh', '-c', script])).trim().split('\n').pop());
      if (count > 0) removed[node.name] = count;
    }),
  );
  return { reconnected: name, nodes: [name], removedRules: removed };
}

function nodeNamed(context: NemesisContext, name: string): ClusterNode {
  const node = context.cluster.nodes.find((n) => n.name === name);
  if (!node)
    throw new HarnessError(`no node ${name} in this ensemble (${context.cluster.nodes.map((n) => n.name).join(', ')})`);
  return node;
}

/** The iptables rules now in Faultline's chain on one node (empty when the chain does not exist). */
export async function faultlineRules(context: NemesisContext, node: ClusterNode): Promise<string[]> {
  const result = await context.cluster.exec(node, ['sh', '-c', `${iptables('-S')} | grep -- ${CHAIN} || true`]);
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Cuts the targets off from every other node (the targets still see each other). */
function isolateFault(name: string, target: TargetSpec, what: string): Fault {
  return {
    name,
    family: PARTITION_FAMILY,
    defaultTarget: target,
    description: `isolate ${what} from every other node (clients still reach it)`,
    async start(context, request) {
      const { nodes, record } = await resolveTargets(context, request?.target ?? target);
      const rest = context.cluster.nodes.filter((n) => !nodes.includes(n));
      const groups = [nodes.map((n) => n.name), rest.map((n) => n.name)];
      const grudge = completeGrudge(groups);
      return { ...record, isolated: record.nodes, groups, grudge, rules: await applyGrudge(context, grudge) };
    },
    heal: healPartitionFamily,
    healNode: healPartitionNode,
  };
}

/** A grudge computed from the node names alone (halves, rings, bridges). */
function grudgeFault(
  name: string,
  description: string,
  make: (names: string[], context: NemesisContext) => { grudge: Grudge; [detail: string]: unknown },
): Fault {
  return {
    name,
    family: PARTITION_FAMILY,
    description,
    async start(context) {
      const { grudge, ...details } = make(
        context.cluster.nodes.map((n) => n.name),
        context,
      );
      const rules = await applyGrudge(context, grudge);
      // Every node a cut involves, as dropping or dropped.
      const involved = new Set(Object.entries(grudge).flatMap(([n, d]) => (d.length ? [n, ...d] : [])));
      return {
        ...details,
        grudge,
        rules,
        nodes: context.cluster.nodes.map((n) => n.name).filter((n) => involved.has(n)),
      };
    },
    heal: healPartitionFamily,
    healNode: healPartitionNode,
  };
}

/** Isolates the current leader from every other node (the walking skeleton's fault, kept by name). */
export const partitionLeader = isolateFault('partition-leader', 'leader', 'the current leader');

export const partitionFaults: Fault[] = [
  partitionLeader,
  isolateFault('partition-follower', 'follower', 'one follower'),
  isolateFault('partition-one', 'one', 'a random node'),
  grudgeFault('partition-halves', 'cut the nodes into two halves in node order (n1.. | ..nN)', (names) => {
    const groups = halves(names);
    return { groups, grudge: completeGrudge(groups) };
  }),
  grudgeFault('partition-random-halves', 'cut the nodes into two random halves', (names, context) => {
    const groups = halves(shuffle(names, context.random));
    return { groups, grudge: completeGrudge(groups) };
  }),
  grudgeFault(
    'partition-majorities-ring',
    'every node sees a majority, no two nodes the same one (a shuffled ring)',
    (names, context) => {
      const ring = shuffle(names, context.random);
      return { ring, grudge: majoritiesRingGrudge(ring) };
    },
  ),
  grudgeFault(
    'partition-bridge',
    'two halves cut apart, joined only through one bridge node that sees both',
    (names, context) => bridgeGrudge(shuffle(names, context.random)),
  ),
];

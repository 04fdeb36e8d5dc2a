// Network partitions with iptables inside the containers. Every rule lives in Faultline's own chain,
// so the heal removes exactly what Faultline added and nothing else.
import type { Cluster, ClusterNode } from '../src/cluster.js';
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

/**
 * The cuts in force on a cluster, each as its fault made it: an isolation of some nodes (reconnecting one node takes
 * it out of the isolated group) or a grudge of its own (halves, rings, bridges: reconnecting a node drops every
 * entry that names it). The rules on the nodes are always the union of these cuts, so healing one cut never
 * removes a rule another still needs.
 */
export interface Cut {
  isolated?: string[];
  grudge: Grudge;
}

const CUTS = new WeakMap<Cluster, Cut[]>();

function cutsOf(cluster: Cluster): Cut[] {
  let cuts = CUTS.get(cluster);
  if (!cuts) CUTS.set(cluster, (cuts = []));
  return cuts;
}

const dropRule = (ip: string): string => `-A ${CHAIN} -s ${ip}/32 -j DROP`;

/** The rules every node must have for the cuts: the union of their grudges, one rule per dropped peer. */
export function rulesForCuts(
  cuts: readonly { grudge: Grudge }[],
  nodes: readonly ClusterNode[],
): Record<string, string[]> {
  const rules: Record<string, string[]> = {};
  for (const node of nodes) {
    const dropped = new Set(cuts.flatMap((c) => c.grudge[node.name] ?? []));
    rules[node.name] = nodes.filter((o) => dropped.has(o.name)).map((o) => dropRule(o.ip));
  }
  return rules;
}

/** The cuts that stay when one node is reconnected. */
export function reconnectInCuts(cuts: readonly Cut[], node: string, all: readonly string[]): Cut[] {
  const out: Cut[] = [];
  for (const cut of cuts) {
    if (cut.isolated) {
      if (!cut.isolated.includes(node)) {
        out.push(cut);
        continue;
      }
      const isolated = cut.isolated.filter((n) => n !== node);
      if (isolated.length > 0)
        out.push({ isolated, grudge: completeGrudge([isolated, all.filter((n) => !isolated.includes(n))]) });
      continue;
    }
    const grudge: Grudge = {};
    for (const [dropper, dropped] of Object.entries(cut.grudge)) {
      if (dropper === node) continue;
      const rest = dropped.filter((d) => d !== node);
      if (rest.length > 0) grudge[dropper] = rest;
    }
    if (Object.keys(grudge).length > 0) out.push({ grudge });
  }
  return out;
}

/**
 * Brings every node's chain to the rules the cuts need: the rules no cut needs are deleted, the missing ones added,
 * the others left alone (so no packet slips through a rule that stays). Returns how many went and came, per node.
 */
async function syncRules(context: NemesisContext): Promise<Record<string, { added: number; removed: number }>> {
  const wanted = rulesForCuts(cutsOf(context.cluster), context.cluster.nodes);
  const changed: Record<string, { added: number; removed: number }> = {};
  await Promise.all(
    context.cluster.nodes.map(async (node) => {
      const want = wanted[node.name] ?? [];
      const have = (await faultlineRules(context, node)).filter((r) => r.startsWith(`-A ${CHAIN} `));
      const remove = have.filter((r) => !want.includes(r));
      const add = want.filter((r) => !have.includes(r));
      if (remove.length === 0 && add.length === 0) return;
      const script = [
        `${iptables(`-N ${CHAIN}`)} 2>/dev/null || true`,
        `${iptables(`-C INPUT -j ${CHAIN}`)} 2>/dev/null || ${iptables(`-I INPUT -j ${CHAIN}`)}`,
        // Additions first: a pair that moves from one cut to another is never open in between.
        ...add.map(iptables),
        ...remove.map((r) => `while ${iptables(r.replace(/^-A /, '-D '))} 2>/dev/null; do :; done`),
      ].join(' && ');
      await context.cluster.run(node, ['sh', '-c', script]);
      changed[node.name] = { added: add.length, removed: remove.length };
    }),
  );
  return changed;
}

/** Applies a grudge with DROP rules in Faultline's chain, beside the cuts in force. Returns the grudge's rules, per node. */
export async function applyGrudge(
  context: NemesisContext,
  grudge: Grudge,
  isolated?: readonly string[],
): Promise<Record<string, string[]>> {
  cutsOf(context.cluster).push({ ...(isolated ? { isolated: [...isolated] } : {}), grudge });
  await syncRules(context);
  const own = rulesForCuts([{ grudge }], context.cluster.nodes);
  return Object.fromEntries(Object.entries(own).filter(([, rules]) => rules.length > 0));
}

/** Removes Faultline's chain and its jump on every node. */
export async function healPartitions(context: NemesisContext): Promise<string[]> {
  cutsOf(context.cluster).splice(0);
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
 * Reconnects one node: it leaves every isolated group it is in (the group's other nodes stay cut off), and every
 * other grudge forgets it; the rules are then brought to what the remaining cuts need. Idempotent.
 */
export async function healPartitionNode(context: NemesisContext, name: string): Promise<FaultRecord> {
  nodeNamed(context, name);
  const names = context.cluster.nodes.map((n) => n.name);
  const cuts = cutsOf(context.cluster);
  const remaining = reconnectInCuts(cuts, name, names);
  cuts.splice(0, cuts.length, ...remaining);
  const changed = await syncRules(context);
  return { reconnected: name, nodes: [name], changedRules: changed, cutsInForce: remaining.length };
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
      const rules = await applyGrudge(context, grudge, record.nodes);
      return { ...record, isolated: record.nodes, groups, grudge, rules };
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

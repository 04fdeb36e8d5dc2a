// Packet faults with tc inside the containers, on the egress of the target nodes towards chosen peers:
// an HTB root (handle fa11:, Faultline's mark) with one class for the peers' traffic, a netem leaf under it
// for delay / loss / duplication / reordering, and u32 filters sending only the peers' addresses there.
// Client traffic and every other destination stay untouched. The heal deletes exactly that root qdisc.
// Kernels without sch_netem (CONFIG_NET_SCH_NETEM unset) still get rate limits (HTB) and loss (iptables
// statistic match, in Faultline's own OUTPUT chain); delay, duplication and reordering then fail and say why.
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { Fault, FaultRecord, FaultRequest, NemesisContext, TargetSpec } from '../src/nemesis.js';
import { parseTarget, resolveTargets } from './targets.js';

export const PACKET_FAMILY = 'packet';
/** Containers have one interface, on the run's network. */
const IFACE = 'eth0';
const ROOT_HANDLE = 'fa11:';
const PEER_CLASS = 'fa11:1';
const NETEM_HANDLE = 'fa12:';
const LOSS_CHAIN = 'FAULTLINE-LOSS';

export interface PacketSpec {
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  duplicatePercent?: number;
  reorderPercent?: number;
  /** tc rate, e.g. 256kbit. */
  rate?: string;
}

/** netem's arguments for a spec; empty when only a rate limit is asked. Reordering needs a delay to reorder against. */
export function netemArgs(spec: PacketSpec): string[] {
  const args: string[] = [];
  const delay = spec.delayMs ?? (spec.reorderPercent !== undefined ? 10 : undefined);
  if (delay !== undefined) args.push('delay', `${delay}ms`, ...(spec.jitterMs ? [`${spec.jitterMs}ms`, 'distribution', 'normal'] : []));
  if (spec.lossPercent !== undefined) args.push('loss', `${spec.lossPercent}%`);
  if (spec.duplicatePercent !== undefined) args.push('duplicate', `${spec.duplicatePercent}%`);
  if (spec.reorderPercent !== undefined) args.push('reorder', `${spec.reorderPercent}%`, '50%');
  return args;
}

/** The tc commands that shape one node's egress towards the peers. */
export function shapingCommands(spec: PacketSpec, peerIps: readonly string[], withNetem: boolean): string[] {
  const netem = netemArgs(spec);
  return [
    `tc qdisc add dev ${IFACE} root handle ${ROOT_HANDLE} htb`,
    // Without a rate limit the class is effectively unlimited; the netem leaf does the damage.
    `tc class add dev ${IFACE} parent ${ROOT_HANDLE} classid ${PEER_CLASS} htb rate ${spec.rate ?? '10gbit'}`,
    ...(withNetem && netem.length > 0 ? [`tc qdisc add dev ${IFACE} parent ${PEER_CLASS} handle ${NETEM_HANDLE} netem ${netem.join(' ')}`] : []),
    ...peerIps.map((ip) => `tc filter add dev ${IFACE} parent ${ROOT_HANDLE} protocol ip prio 1 u32 match ip dst ${ip}/32 flowid ${PEER_CLASS}`),
  ];
}

function lossRules(percent: number, peerIps: readonly string[]): string[] {
  return peerIps.map((ip) => `-A ${LOSS_CHAIN} -d ${ip} -m statistic --mode random --probability ${(percent / 100).toFixed(4)} -j DROP`);
}

const healScript = [
  `if tc qdisc show dev ${IFACE} | grep -q 'qdisc htb ${ROOT_HANDLE} root'; then tc qdisc del dev ${IFACE} root && echo qdisc; fi;`,
  `if iptables -w -L ${LOSS_CHAIN} -n >/dev/null 2>&1; then`,
  `  while iptables -w -D OUTPUT -j ${LOSS_CHAIN} 2>/dev/null; do :; done;`,
  `  iptables -w -F ${LOSS_CHAIN} && iptables -w -X ${LOSS_CHAIN} && echo loss;`,
  'fi',
].join(' ');

/** Removes Faultline's root qdisc and loss chain on every node; returns what was removed where. */
export async function healPackets(context: NemesisContext): Promise<FaultRecord> {
  const qdiscs: string[] = [];
  const lossChains: string[] = [];
  await Promise.all(context.cluster.nodes.map(async (node) => {
    const out = await context.cluster.run(node, ['sh', '-c', healScript]);
    if (out.includes('qdisc')) qdiscs.push(node.name);
    if (out.includes('loss')) lossChains.push(node.name);
  }));
  return { removedQdiscs: qdiscs.sort(), removedLossChains: lossChains.sort() };
}

/** Whether this node's kernel has netem: a no-op netem root, added and removed (the node has no root of ours now). */
async function hasNetem(context: NemesisContext, node: ClusterNode): Promise<boolean> {
  const probe = `tc qdisc add dev ${IFACE} root handle fa13: netem delay 0ms 2>&1 && tc qdisc del dev ${IFACE} root`;
  const result = await context.cluster.exec(node, ['sh', '-c', probe]);
  return result.exitCode === 0;
}

async function shapeNode(context: NemesisContext, node: ClusterNode, spec: PacketSpec, peers: readonly ClusterNode[]): Promise<FaultRecord> {
  const peerIps = peers.map((p) => p.ip);
  // One packet fault at a time per node: a new one replaces the old.
  await context.cluster.run(node, ['sh', '-c', healScript]);
  const netemWanted = netemArgs(spec).length > 0;
  const netem = netemWanted && (await hasNetem(context, node));
  const onlyLoss = spec.delayMs === undefined && spec.duplicatePercent === undefined && spec.reorderPercent === undefined;
  if (netemWanted && !netem && !onlyLoss) {
    throw new HarnessError(`${node.name}: the kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), so delay, duplication and reordering cannot be emulated here`);
  }
  const commands = shapingCommands(spec, peerIps, netem);
  const iptablesRules = !netem && spec.lossPercent !== undefined ? lossRules(spec.lossPercent, peerIps) : [];
  const script = [
    ...commands,
    ...(iptablesRules.length > 0 ? [`iptables -w -N ${LOSS_CHAIN}`, `iptables -w -I OUTPUT -j ${LOSS_CHAIN}`, ...iptablesRules.map((r) => `iptables -w ${r}`)] : []),
  ].join(' && ');
  const result = await context.cluster.exec(node, ['sh', '-c', script]);
  if (result.exitCode !== 0) {
    await context.cluster.exec(node, ['sh', '-c', healScript]);
    throw new HarnessError(`${node.name}: shaping failed (${result.stderr.trim() || result.stdout.trim()}); undone`);
  }
  return { peers: peers.map((p) => p.name), tc: commands, ...(netem ? { netem: netemArgs(spec).join(' ') } : {}), ...(iptablesRules.length ? { iptables: iptablesRules } : {}) };
}

function num(params: FaultRequest['params'], name: string, fallback: number): number {
  const value = params?.[name] ?? fallback;
  if (typeof value !== 'number' || !(value >= 0)) throw new HarnessError(`packet fault parameter ${name} must be a number ≥ 0, not ${String(value)}`);
  return value;
}

function rateParam(params: FaultRequest['params']): string {
  const rate = params?.['rate'] ?? '256kbit';
  // The rate goes into a shell command: accept tc's rate syntax only.
  if (typeof rate !== 'string' || !/^\d+(\.\d+)?[kmg]?(bit|bps)$/.test(rate)) throw new HarnessError(`packet fault parameter rate must look like 256kbit or 1mbit, not ${String(rate)}`);
  return rate;
}

/**
 * A packet fault on the egress of the target nodes (default: all) towards the peers
 * (param `peers`: node names joined by "+", default every other node).
 */
function packetFault(name: string, description: string, specOf: (params: FaultRequest['params']) => PacketSpec, target: TargetSpec = 'all'): Fault {
  return {
    name,
    family: PACKET_FAMILY,
    defaultTarget: target,
    description,
    async start(context, request) {
      const spec = specOf(request?.params);
      const { nodes, record } = await resolveTargets(context, request?.target ?? target);
      const peersParam = request?.params?.['peers'];
      const chosen = typeof peersParam === 'string' ? parseTarget(peersParam, context.cluster.nodes.map((n) => n.name)) : undefined;
      const peerNames = chosen && typeof chosen !== 'string' ? chosen.nodes : undefined;
      const shaped: Record<string, FaultRecord> = {};
      await Promise.all(nodes.map(async (node) => {
        const peers = context.cluster.nodes.filter((p) => p.name !== node.name && (peerNames === undefined || peerNames.includes(p.name)));
        shaped[node.name] = await shapeNode(context, node, spec, peers);
      }));
      return { ...record, spec, shaped };
    },
    heal: healPackets,
  };
}

export const packetFaults: Fault[] = [
  packetFault('packet-delay', 'delay packets to peers (delayMs, default 100; jitterMs, default 20)', (p) => ({ delayMs: num(p, 'delayMs', 100), jitterMs: num(p, 'jitterMs', 20) })),
  packetFault('packet-loss', 'drop a share of packets to peers (percent, default 20)', (p) => ({ lossPercent: num(p, 'percent', 20) })),
  packetFault('packet-duplicate', 'duplicate a share of packets to peers (percent, default 10)', (p) => ({ duplicatePercent: num(p, 'percent', 10) })),
  packetFault('packet-reorder', 'reorder a share of packets to peers (percent, default 25, against a 10 ms delay)', (p) => ({ reorderPercent: num(p, 'percent', 25), delayMs: num(p, 'delayMs', 10) })),
  packetFault('packet-rate', 'limit the bandwidth to peers (rate, default 256kbit)', (p) => ({ rate: rateParam(p) })),
];

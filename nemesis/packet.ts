// Packet faults inside the containers, on the egress of the target nodes towards chosen peers; client traffic and
// every other destination stay untouched.
// - netem where the kernel has it: an HTB root (handle fa11:, Faultline's mark) with one class for the peers'
//   traffic, a netem leaf under it for delay / loss / duplication / reordering, and u32 filters sending only the
//   peers' addresses there. Rate limits are HTB alone.
// - Kernels without sch_netem (CONFIG_NET_SCH_NETEM unset): loss is an iptables statistic match in Faultline's
//   own OUTPUT chain; delay, jitter, duplication and reordering send the peers' packets (iptables NFQUEUE, in
//   another chain of Faultline's own, with --queue-bypass so traffic flows if it dies) to a userspace delayer
//   (delayer.c) that holds each packet until its release time.
// The heal deletes exactly Faultline's root qdisc and chains and stops the delayer.
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { Fault, FaultRecord, FaultRequest, NemesisContext, TargetSpec, FaultParam } from '../src/nemesis.js';
import {
  DELAYER_MARK,
  DELAYER_QUEUE,
  parseDelayerCounters,
  startDelayer,
  stopDelayerScript,
  type DelayerCounters,
  type DelayerSettings,
} from './delayer.js';
import { iptables, removeChainScript } from './chains.js';
import { parseTarget, resolveTargets } from './targets.js';

export const PACKET_FAMILY = 'packet';
/** Containers have one interface, on the run's network. */
const IFACE = 'eth0';
const ROOT_HANDLE = 'fa11:';
const PEER_CLASS = 'fa11:1';
const NETEM_HANDLE = 'fa12:';
const LOSS_CHAIN = 'FAULTLINE-LOSS';
const QUEUE_CHAIN = 'FAULTLINE-QUEUE';

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
  if (delay !== undefined)
    args.push('delay', `${delay}ms`, ...(spec.jitterMs ? [`${spec.jitterMs}ms`, 'distribution', 'normal'] : []));
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
    ...(withNetem && netem.length > 0
      ? [`tc qdisc add dev ${IFACE} parent ${PEER_CLASS} handle ${NETEM_HANDLE} netem ${netem.join(' ')}`]
      : []),
    ...peerIps.map(
      (ip) =>
        `tc filter add dev ${IFACE} parent ${ROOT_HANDLE} protocol ip prio 1 u32 match ip dst ${ip}/32 flowid ${PEER_CLASS}`,
    ),
  ];
}

export function lossRules(percent: number, peerIps: readonly string[]): string[] {
  return peerIps.map(
    (ip) => `-A ${LOSS_CHAIN} -d ${ip} -m statistic --mode random --probability ${(percent / 100).toFixed(4)} -j DROP`,
  );
}

/** Whether a spec needs packets held or copied: what netem does and, without netem, the userspace delayer. */
export function needsDelayer(spec: PacketSpec): boolean {
  return spec.delayMs !== undefined || spec.duplicatePercent !== undefined || spec.reorderPercent !== undefined;
}

/** The delayer's settings for a spec, with netem's meaning: reordering is against a delay (10 ms unless given). */
export function delayerSettings(spec: PacketSpec, seed: number): DelayerSettings {
  const delayMs = spec.delayMs ?? (spec.reorderPercent !== undefined ? 10 : 0);
  return {
    delayMs,
    jitterMs: spec.jitterMs ?? 0,
    duplicatePercent: spec.duplicatePercent ?? 0,
    reorderPercent: spec.reorderPercent ?? 0,
    seed,
  };
}

/**
 * The rules that send the peers' packets to the delayer's queue. The delayer's own duplicates carry its mark and
 * pass; --queue-bypass lets packets through unharmed whenever no delayer serves the queue.
 */
export function queueRules(peerIps: readonly string[]): string[] {
  return [
    `-A ${QUEUE_CHAIN} -m mark --mark ${DELAYER_MARK} -j RETURN`,
    ...peerIps.map((ip) => `-A ${QUEUE_CHAIN} -d ${ip} -j NFQUEUE --queue-num ${DELAYER_QUEUE} --queue-bypass`),
  ];
}

/** Creates one of Faultline's chains, hooks it first in OUTPUT and fills it. */
function chainCommands(chain: string, rules: readonly string[]): string[] {
  return rules.length === 0 ? [] : [iptables(`-N ${chain}`), iptables(`-I OUTPUT -j ${chain}`), ...rules.map(iptables)];
}

// The queue chain goes before the delayer stops, so no packet is queued to a delayer that is gone.
const healScript = [
  `if tc qdisc show dev ${IFACE} | grep -q 'qdisc htb ${ROOT_HANDLE} root'; then tc qdisc del dev ${IFACE} root && echo qdisc; fi;`,
  removeChainScript(LOSS_CHAIN, ['OUTPUT'], 'loss'),
  removeChainScript(QUEUE_CHAIN, ['OUTPUT'], 'queue'),
  stopDelayerScript,
].join(' ');

/** Removes Faultline's root qdisc and chains and stops the delayer on every node; returns what was removed where. */
export async function healPackets(context: NemesisContext): Promise<FaultRecord> {
  const qdiscs: string[] = [];
  const lossChains: string[] = [];
  const queueChains: string[] = [];
  const delayers: Record<string, DelayerCounters | undefined> = {};
  await Promise.all(
    context.cluster.nodes.map(async (node) => {
      const lines = (await context.cluster.run(node, ['sh', '-c', healScript])).split('\n');
      if (lines.includes('qdisc')) qdiscs.push(node.name);
      if (lines.includes('loss')) lossChains.push(node.name);
      if (lines.includes('queue')) queueChains.push(node.name);
      const stopped = lines.find((l) => l.startsWith('delayer'));
      if (stopped !== undefined) delayers[node.name] = parseDelayerCounters(stopped.slice('delayer'.length));
    }),
  );
  const stoppedDelayers = Object.keys(delayers).sort();
  // A queue chain without a delayer: it had died, and --queue-bypass let its packets through unharmed since.
  const deadDelayers = queueChains.filter((n) => !stoppedDelayers.includes(n)).sort();
  return {
    removedQdiscs: qdiscs.sort(),
    removedLossChains: lossChains.sort(),
    removedQueueChains: queueChains.sort(),
    stoppedDelayers,
    // What each delayer did over its life: how many packets it held, duplicated, let overtake.
    ...(stoppedDelayers.length > 0
      ? { delayerCounters: Object.fromEntries(stoppedDelayers.map((n) => [n, delayers[n] ?? 'unreadable'])) }
      : {}),
    ...(deadDelayers.length > 0 ? { deadDelayers } : {}),
  };
}

/**
 * Restores one node's egress: its root qdisc, loss and queue chains and delayer go. Other nodes' shaping stays,
 * including theirs towards this node. Idempotent.
 */
export async function healPacketNode(context: NemesisContext, name: string): Promise<FaultRecord> {
  const node = context.cluster.nodes.find((n) => n.name === name);
  if (!node) throw new HarnessError(`no node ${name} in this ensemble`);
  const lines = (await context.cluster.run(node, ['sh', '-c', healScript])).split('\n');
  const stopped = lines.find((l) => l.startsWith('delayer'));
  return {
    nodes: [name],
    removedQdisc: lines.includes('qdisc'),
    removedLossChain: lines.includes('loss'),
    removedQueueChain: lines.includes('queue'),
    ...(stopped !== undefined
      ? { delayerCounters: parseDelayerCounters(stopped.slice('delayer'.length)) ?? 'unreadable' }
      : {}),
  };
}

/** Whether this node's kernel has netem: a no-op netem root, added and removed (the node has no root of ours now). */
async function hasNetem(context: NemesisContext, node: ClusterNode): Promise<boolean> {
  const probe = `tc qdisc add dev ${IFACE} root handle fa13: netem delay 0ms 2>&1 && tc qdisc del dev ${IFACE} root`;
  const result = await context.cluster.exec(node, ['sh', '-c', probe]);
  return result.exitCode === 0;
}

/** How a node's packets are damaged: netem, the userspace delayer, an iptables statistic (loss), or HTB alone (rate). */
export type PacketMechanism = 'netem' | 'nfqueue' | 'iptables' | 'htb';

/** The mechanism for a spec: netem when the kernel has it, else the delayer for holding or copying packets. */
export function packetMechanism(spec: PacketSpec, kernelHasNetem: boolean): PacketMechanism {
  if (netemArgs(spec).length === 0) return 'htb';
  if (kernelHasNetem) return 'netem';
  return needsDelayer(spec) ? 'nfqueue' : 'iptables';
}

async function shapeNode(
  context: NemesisContext,
  node: ClusterNode,
  spec: PacketSpec,
  peers: readonly ClusterNode[],
  seed: number,
): Promise<FaultRecord> {
  const peerIps = peers.map((p) => p.ip);
  // One packet fault at a time per node: a new one replaces the old.
  await context.cluster.run(node, ['sh', '-c', healScript]);
  const mechanism = packetMechanism(spec, netemArgs(spec).length > 0 && (await hasNetem(context, node)));
  const netem = mechanism === 'netem';
  // Without netem the HTB root serves rate limits only.
  const tc = netem || spec.rate !== undefined ? shapingCommands(spec, peerIps, netem) : [];
  const loss = !netem && spec.lossPercent !== undefined ? lossRules(spec.lossPercent, peerIps) : [];
  const queue = mechanism === 'nfqueue' ? queueRules(peerIps) : [];
  const settings = delayerSettings(spec, seed);
  try {
    // The delayer serves the queue before any rule sends packets there.
    const delayer = queue.length > 0 ? await startDelayer(context, node, settings) : undefined;
    const script = [...tc, ...chainCommands(LOSS_CHAIN, loss), ...chainCommands(QUEUE_CHAIN, queue)].join(' && ');
    const result = await context.cluster.exec(node, ['sh', '-c', script]);
    if (result.exitCode !== 0)
      throw new HarnessError(`${node.name}: shaping failed (${result.stderr.trim() || result.stdout.trim()})`);
    return {
      peers: peers.map((p) => p.name),
      mechanism,
      ...(tc.length ? { tc } : {}),
      ...(netem ? { netem: netemArgs(spec).join(' ') } : {}),
      ...(loss.length || queue.length ? { iptables: [...loss, ...queue] } : {}),
      ...(delayer
        ? {
            delayer: {
              delayMs: settings.delayMs,
              jitterMs: settings.jitterMs,
              duplicatePercent: settings.duplicatePercent,
              reorderPercent: settings.reorderPercent,
              command: delayer.join(' '),
            },
          }
        : {}),
    };
  } catch (err) {
    await context.cluster.exec(node, ['sh', '-c', healScript]);
    throw err instanceof HarnessError ? new HarnessError(`${err.message}; undone`, err.fix, { cause: err }) : err;
  }
}

/** The delayer's seed: from the run's seed, on a stream of its own so the schedule's draws do not shift. */
function delayerSeed(context: NemesisContext, node: ClusterNode): number {
  return context.random.fork(0xfa11 + node.id).int(1, 0x3fffffff);
}

function num(params: FaultRequest['params'], name: string, fallback: number): number {
  const value = params?.[name] ?? fallback;
  if (typeof value !== 'number' || !(value >= 0))
    throw new HarnessError(`packet fault parameter ${name} must be a number ≥ 0, not ${String(value)}`);
  return value;
}

function rateParam(params: FaultRequest['params']): string {
  const rate = params?.['rate'] ?? '256kbit';
  // The rate goes into a shell command: accept tc's rate syntax only.
  if (typeof rate !== 'string' || !/^\d+(\.\d+)?[kmg]?(bit|bps)$/.test(rate))
    throw new HarnessError(`packet fault parameter rate must look like 256kbit or 1mbit, not ${String(rate)}`);
  return rate;
}

/**
 * A packet fault on the egress of the target nodes (default: all) towards the peers
 * (param `peers`: node names joined by "+", default every other node).
 */
function packetFault(
  name: string,
  description: string,
  specOf: (params: FaultRequest['params']) => PacketSpec,
  params: Record<string, FaultParam>,
  target: TargetSpec = 'all',
): Fault {
  return {
    name,
    params: {
      ...params,
      peers: { kind: 'nodes', help: 'the peers whose traffic is shaped (default: every other node)' },
    },
    family: PACKET_FAMILY,
    defaultTarget: target,
    description,
    async start(context, request) {
      const spec = specOf(request?.params);
      const { nodes, record } = await resolveTargets(context, request?.target ?? target);
      const peersParam = request?.params?.['peers'];
      const chosen =
        typeof peersParam === 'string'
          ? parseTarget(
              peersParam,
              context.cluster.nodes.map((n) => n.name),
            )
          : undefined;
      const peerNames = chosen && typeof chosen !== 'string' ? chosen.nodes : undefined;
      const shaped: Record<string, FaultRecord> = {};
      await Promise.all(
        nodes.map(async (node) => {
          const peers = context.cluster.nodes.filter(
            (p) => p.name !== node.name && (peerNames === undefined || peerNames.includes(p.name)),
          );
          shaped[node.name] = await shapeNode(context, node, spec, peers, delayerSeed(context, node));
        }),
      );
      return { ...record, spec, shaped };
    },
    heal: healPackets,
    healNode: healPacketNode,
  };
}

export const packetFaults: Fault[] = [
  packetFault(
    'packet-delay',
    'delay packets to peers (delayMs, default 100; jitterMs, default 20)',
    (p) => ({ delayMs: num(p, 'delayMs', 100), jitterMs: num(p, 'jitterMs', 20) }),
    { delayMs: { kind: 'amount', help: 'delay, ms' }, jitterMs: { kind: 'amount', help: 'jitter, ms' } },
  ),
  packetFault(
    'packet-loss',
    'drop a share of packets to peers (percent, default 20)',
    (p) => ({ lossPercent: num(p, 'percent', 20) }),
    { percent: { kind: 'amount', help: 'share of packets dropped, %' } },
  ),
  packetFault(
    'packet-duplicate',
    'duplicate a share of packets to peers (percent, default 10)',
    (p) => ({ duplicatePercent: num(p, 'percent', 10) }),
    { percent: { kind: 'amount', help: 'share of packets duplicated, %' } },
  ),
  packetFault(
    'packet-reorder',
    'reorder a share of packets to peers (percent, default 25, against a 10 ms delay)',
    (p) => ({ reorderPercent: num(p, 'percent', 25), delayMs: num(p, 'delayMs', 10) }),
    {
      percent: { kind: 'amount', help: 'share of packets reordered, %' },
      delayMs: { kind: 'amount', help: 'delay, ms' },
    },
  ),
  packetFault('packet-rate', 'limit the bandwidth to peers (rate, default 256kbit)', (p) => ({ rate: rateParam(p) }), {
    rate: { kind: 'rate', help: 'bandwidth, as tc writes it (256kbit, 1mbit)' },
  }),
];

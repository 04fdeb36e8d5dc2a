// Resolving fault targets from the live ensemble at the moment of the fault.
import type { ClusterNode } from '../src/cluster.js';
import { NoTargetError, UsageError } from '../src/errors.js';
import type { NemesisContext, TargetSpec } from '../src/nemesis.js';
import type { Random } from '../src/random.js';
import { TimeoutError, waitFor } from '../src/time.js';
import type { ServerMode, ServerStatus } from '../src/zookeeper.js';

export const TARGET_ROLES = ['leader', 'follower', 'one', 'minority', 'majority', 'all'] as const;

/** The smallest number of nodes that forms a quorum. */
export function majoritySize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Parses a target as users write it: a role, or node names joined by "+" (n1+n3). */
export function parseTarget(text: string, nodeNames?: readonly string[]): TargetSpec {
  const role = TARGET_ROLES.find((r) => r === text);
  if (role) return role;
  const nodes = text
    .split('+')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = nodes.filter((n) => !/^n\d+$/.test(n) || (nodeNames !== undefined && !nodeNames.includes(n)));
  if (nodes.length === 0 || bad.length > 0) {
    throw new UsageError(
      `unknown target "${text}"`,
      `Use one of ${TARGET_ROLES.join(', ')}, or node names joined by "+" such as n1+n3.`,
    );
  }
  return { nodes };
}

export function describeTarget(spec: TargetSpec): string {
  return typeof spec === 'string' ? spec : spec.nodes.join('+');
}

/** Random k distinct items, in the order drawn. */
export function sample<T>(items: readonly T[], k: number, random: Random): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < k && pool.length > 0) out.push(pool.splice(random.int(0, pool.length - 1), 1)[0]!);
  return out;
}

export function shuffle<T>(items: readonly T[], random: Random): T[] {
  return sample(items, items.length, random);
}

/**
 * Pure target selection: which nodes a spec means, given the roles each node reports now.
 * Results are in cluster order so records read the same way every time.
 */
export function selectTargets(
  spec: TargetSpec,
  nodes: readonly ClusterNode[],
  roles: ReadonlyMap<string, ServerMode | undefined>,
  random: Random,
): ClusterNode[] {
  const inOrder = (chosen: readonly ClusterNode[]): ClusterNode[] => nodes.filter((n) => chosen.includes(n));
  if (typeof spec !== 'string') {
    const unknown = spec.nodes.filter((name) => !nodes.some((n) => n.name === name));
    if (unknown.length > 0) {
      throw new UsageError(
        `unknown node ${unknown.join(', ')} in a fault target`,
        `This ensemble has ${nodes.map((n) => n.name).join(', ')}.`,
      );
    }
    return nodes.filter((n) => spec.nodes.includes(n.name));
  }
  switch (spec) {
    case 'leader': {
      const leaders = nodes.filter((n) => roles.get(n.name) === 'leader');
      if (leaders.length !== 1)
        throw new NoTargetError(`no single leader to target (${leaders.length} nodes say they lead)`);
      return leaders;
    }
    case 'follower': {
      const followers = nodes.filter((n) => roles.get(n.name) === 'follower');
      if (followers.length === 0) throw new NoTargetError('no follower to target: no node reports the follower role');
      return [random.pick(followers)];
    }
    case 'one':
      return [random.pick(nodes)];
    case 'minority':
      return inOrder(sample(nodes, nodes.length - majoritySize(nodes.length), random));
    case 'majority':
      return inOrder(sample(nodes, majoritySize(nodes.length), random));
    case 'all':
      return [...nodes];
  }
}

/** Each node's `srvr` answer now (its mode, when it serves). */
async function liveStatuses(context: NemesisContext): Promise<ServerStatus[]> {
  return Promise.all(context.cluster.nodes.map((n) => context.db.status(n)));
}

/** What a fault record says about its targets: the spec, the nodes it resolved to, and the roles seen. */
export interface ResolvedTargets {
  nodes: ClusterNode[];
  record: { target: string; nodes: string[]; roles: Record<string, string> };
}

/**
 * Resolves a target against the live ensemble. Role targets that need an elected leader (leader, follower)
 * wait up to 15 s for an election to finish.
 */
export async function resolveTargets(context: NemesisContext, spec: TargetSpec): Promise<ResolvedTargets> {
  let statuses = await liveStatuses(context);
  if (spec === 'leader' || spec === 'follower') {
    try {
      statuses = await waitFor(`a ${spec} to target`, 15_000, 250, async () => {
        const now = await liveStatuses(context);
        const wanted = now.filter((s) => s.mode === spec).length;
        const leaders = now.filter((s) => s.mode === 'leader').length;
        return leaders === 1 && wanted >= 1 ? now : undefined;
      });
    } catch (err) {
      if (err instanceof TimeoutError)
        throw new NoTargetError(`no ${spec} found within 15 s, so there is no ${spec} to target`);
      throw err;
    }
  }
  const roles = new Map(statuses.map((s) => [s.node, s.mode]));
  const nodes = selectTargets(spec, context.cluster.nodes, roles, context.random);
  // A node that answers but does not serve is electing (looking), not down.
  const roleRecord: Record<string, string> = {};
  for (const s of statuses) roleRecord[s.node] = s.mode ?? (s.answered ? 'looking' : 'down');
  return { nodes, record: { target: describeTarget(spec), nodes: nodes.map((n) => n.name), roles: roleRecord } };
}

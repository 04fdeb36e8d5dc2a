// The role monitor: every node's role as `srvr` tells it, polled a few times a second through the run and its
// recovery, each change streamed to roles.jsonl on the history's clock. Leader changes and rejoins are then
// measured from what the nodes said, not guessed from the faults or from the first successful write.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ClusterNode } from './cluster.js';
import { sleep } from './time.js';
import type { ServerStatus } from './zookeeper.js';

export const ROLES_FILE = 'roles.jsonl';

/** A node's role: its srvr Mode, `not-serving` when it answers without one (electing, syncing), `down` when it does not answer. */
export type NodeRole = 'leader' | 'follower' | 'observer' | 'standalone' | 'not-serving' | 'down';

export interface RoleChange {
  /** Nanoseconds on the history's clock: when the poll that saw the new role was sent. */
  time: number;
  node: string;
  role: NodeRole;
  zxid?: string;
}

export const SERVING_ROLES: ReadonlySet<NodeRole> = new Set(['leader', 'follower', 'observer', 'standalone']);

/** What the monitor asks of each node: its srvr status, within a timeout (the Database does this). */
export type StatusProbe = (node: ClusterNode, timeoutMs: number) => Promise<ServerStatus>;

/** One probe of one node; a paused or cut-off node does not answer within the timeout and counts as down. */
export async function probeRole(
  probe: StatusProbe,
  node: ClusterNode,
  timeoutMs: number,
): Promise<{ role: NodeRole; zxid?: string }> {
  const status = await probe(node, timeoutMs);
  if (!status.answered) return { role: 'down' };
  return { role: status.mode ?? 'not-serving', ...(status.zxid ? { zxid: status.zxid } : {}) };
}

export interface RoleMonitor {
  /** Every change so far, in the order seen. */
  readonly changes: readonly RoleChange[];
  /** The node that alone says it leads now, if any. */
  currentLeader(): string | undefined;
  /** Stops polling and closes the file (once; later calls wait for the same stop). */
  stop(): Promise<void>;
}

/**
 * Starts polling every node each `intervalMs`; `now` is the history's clock. `nodes` is read live: a node that
 * joins later (membership faults) is polled from then on, one that leaves is recorded down once and dropped.
 */
export function startRoleMonitor(
  nodes: readonly ClusterNode[],
  probe: StatusProbe,
  path: string,
  now: () => number,
  intervalMs = 200,
): RoleMonitor {
  const out = createWriteStream(path, { flags: 'a' });
  const changes: RoleChange[] = [];
  const current = new Map<string, NodeRole>();
  const stopper = new AbortController();
  const record = (time: number, node: string, role: NodeRole, zxid?: string): void => {
    if (current.get(node) === role) return;
    current.set(node, role);
    const change: RoleChange = { time, node, role, ...(zxid ? { zxid } : {}) };
    changes.push(change);
    out.write(JSON.stringify(change) + '\n');
  };
  const poll = async (node: ClusterNode): Promise<void> => {
    do {
      if (!nodes.includes(node)) {
        record(now(), node.name, 'down');
        break;
      }
      const time = now();
      const { role, zxid } = await probeRole(probe, node, Math.max(500, intervalMs * 4));
      if (stopper.signal.aborted) break;
      record(time, node.name, role, zxid);
    } while (await sleep(intervalMs, stopper.signal));
  };
  const polled = new Set<ClusterNode>();
  const polls: Promise<void>[] = [];
  const watchJoiners = async (): Promise<void> => {
    do {
      for (const node of nodes)
        if (!polled.has(node)) {
          polled.add(node);
          polls.push(poll(node));
        }
    } while (await sleep(intervalMs, stopper.signal));
  };
  const loops = watchJoiners().then(() => Promise.all(polls));
  let stopped: Promise<void> | undefined;
  return {
    changes,
    currentLeader() {
      const leaders = [...current].filter(([, role]) => role === 'leader');
      return leaders.length === 1 ? leaders[0]![0] : undefined;
    },
    stop() {
      stopped ??= (async () => {
        stopper.abort();
        await loops;
        await new Promise<void>((resolve) => out.end(resolve));
      })();
      return stopped;
    },
  };
}

/** Reads roles.jsonl; a missing file (a run from before the monitor) is no changes. Torn last lines are skipped. */
export async function readRoleChanges(path: string): Promise<RoleChange[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const changes: RoleChange[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line) as RoleChange;
      if (typeof value.time === 'number' && typeof value.node === 'string' && typeof value.role === 'string')
        changes.push(value);
    } catch {
      // A crash mid-line leaves a torn last line; the lines before it stand.
    }
  }
  return changes.sort((a, b) => a.time - b.time);
}

/** Each node's role at a moment (the last change at or before it). */
export function rolesAt(changes: readonly RoleChange[], time: number): Map<string, NodeRole> {
  const roles = new Map<string, NodeRole>();
  for (const c of changes) {
    if (c.time > time) break;
    roles.set(c.node, c.role);
  }
  return roles;
}

/** After `from`: the first time a node other than `previous` said it leads, in ms after `from`. */
export function newLeaderAfter(
  changes: readonly RoleChange[],
  from: number,
  previous: string | undefined,
): { node: string; ms: number } | undefined {
  const c = changes.find((x) => x.time >= from && x.role === 'leader' && x.node !== previous);
  return c ? { node: c.node, ms: (c.time - from) / 1e6 } : undefined;
}

/** After `from`: the first time `node` served (any serving role), in ms after `from`. */
export function servingAfter(changes: readonly RoleChange[], from: number, node: string): number | undefined {
  const c = changes.find((x) => x.time >= from && x.node === node && SERVING_ROLES.has(x.role));
  return c ? (c.time - from) / 1e6 : undefined;
}

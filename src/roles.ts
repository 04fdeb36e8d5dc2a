// The role monitor: every node's role as `srvr` tells it, polled a few times a second through the run and its
// recovery, each change streamed to roles.jsonl on the history's clock. Leader changes and rejoins are then
// measured from what the nodes said, not guessed from the faults or from the first successful write.
import { createWriteStream } from 'node:fs';
import type { ClusterNode } from './cluster.js';
import { ROLES_FILE, type NodeRole, type RoleChange } from './role-changes.js';
import { sleep } from './time.js';
import type { ServerStatus } from './zookeeper.js';

export { ROLES_FILE };

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
  /** Every node's latest role (nodes not polled yet are absent); read without waiting. */
  current(): ReadonlyMap<string, NodeRole>;
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
    current() {
      return new Map(current);
    },
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

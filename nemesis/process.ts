// Process faults: kill -9 the ZooKeeper server and start it again.
import type { Fault } from '../src/nemesis.js';
import { waitUntilStopped } from '../src/zookeeper.js';
import { currentLeader } from './targets.js';

/** Starts the server on every node where it does not run; returns the nodes started. */
async function startStopped(context: Parameters<Fault['heal']>[0]): Promise<string[]> {
  const started: string[] = [];
  await Promise.all(context.cluster.nodes.map(async (node) => {
    if (await context.db.isRunning(node)) return;
    await context.db.start(node);
    started.push(node.name);
  }));
  return started.sort();
}

/** kill -9 the leader's server process; the heal restarts every stopped server. */
export const killLeader: Fault = {
  name: 'kill-leader',
  async start(context) {
    const leader = await currentLeader(context);
    const killed = await context.db.signal(leader, 'KILL');
    await waitUntilStopped(context.db, leader);
    return { killed: killed ? [leader.name] : [], signal: 'KILL' };
  },
  async heal(context) {
    // A paused process is not stopped; resume it first so it is not taken for running-and-well.
    await Promise.all(context.cluster.nodes.map((n) => context.db.signal(n, 'CONT')));
    return { started: await startStopped(context) };
  },
};

// The client side of a run: a ZooKeeper session bound to exactly one node (Jepsen style), and the rule that
// turns an op's error into its recorded outcome.
import type { ClusterNode } from './cluster.js';
import type { Completion } from './workload.js';
import { CLIENT_PORT } from './zookeeper.js';
import { isDefiniteFailure, ZkError, ZkClient, type AuthInfo } from './zk/client.js';

export interface ClientOptions {
  /** Requested session timeout; ZooKeeper clamps it to [2, 20] × tickTime. */
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
  /** Bound on each request; past it the op's outcome is unknown. */
  opTimeoutMs: number;
}

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = {
  sessionTimeoutMs: 5000,
  connectTimeoutMs: 3000,
  opTimeoutMs: 5000,
};

/** A session on `node`; `auth`: identities it adds before it is handed over (addAuth, in order). */
export function connectToNode(
  node: ClusterNode,
  options: ClientOptions,
  auth: readonly AuthInfo[] = [],
): Promise<ZkClient> {
  return ZkClient.connect({
    host: node.ip,
    port: CLIENT_PORT,
    sessionTimeoutMs: options.sessionTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    defaultOpTimeoutMs: options.opTimeoutMs,
    ...(auth.length ? { auth } : {}),
  });
}

/** The server said no: fail (the op did not happen). Anything else (connection loss, timeout...): info. */
export function completionForError(err: unknown, value: unknown): Completion {
  const error = err instanceof ZkError ? err.name : (err as Error).message;
  return { type: isDefiniteFailure(err) ? 'fail' : 'info', value, error: error.toLowerCase() };
}

export { ZkError, ZkClient };

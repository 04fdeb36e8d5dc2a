// What the ZooKeeper workloads share: znode setup, one-off sessions, and the client that turns each op's
// errors into its recorded outcome.
import { completionForError, connectToNode, ZkError, type ClientOptions } from '../src/client.js';
import type { ClusterNode } from '../src/cluster.js';
import { ZkErrorCode, type ZkClient } from '../src/zk/client.js';
import type { Completion, Invocation, WorkloadClient } from '../src/workload.js';

export const hexZxid = (zxid: bigint): string => zxid.toString(16);

/** Creates a persistent znode unless it exists. */
export async function ensureZnode(zk: ZkClient, path: string, data: Uint8Array = Buffer.alloc(0)): Promise<void> {
  try {
    await zk.create(path, data, 'persistent');
  } catch (err) {
    if (!(err instanceof ZkError && err.code === ZkErrorCode.NODEEXISTS)) throw err;
  }
}

/** Opens a session on `node`, runs `work`, closes the session whatever happened. */
export async function withSession<T>(
  node: ClusterNode,
  clientOptions: ClientOptions,
  work: (zk: ZkClient) => Promise<T>,
): Promise<T> {
  const zk = await connectToNode(node, clientOptions);
  try {
    return await work(zk);
  } finally {
    await zk.close();
  }
}

/**
 * A workload client over one session on `node`: `run` performs an op; a thrown error becomes fail (definite) or
 * info (unknown outcome), recorded with the value `valueOnError` gives (reads record null, writes their input).
 */
export async function sessionClient(
  node: ClusterNode,
  clientOptions: ClientOptions,
  run: (zk: ZkClient, op: Invocation) => Promise<Completion>,
  valueOnError: (op: Invocation) => unknown,
): Promise<WorkloadClient> {
  const zk = await connectToNode(node, clientOptions);
  return {
    async invoke(op) {
      try {
        return await run(zk, op);
      } catch (err) {
        return completionForError(err, valueOnError(op));
      }
    },
    close: () => zk.close(),
    isOpen: () => zk.state === 'connected',
  };
}

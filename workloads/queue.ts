// The queue workload: enqueue creates a persistent-sequential znode QUEUE_PATH/q-<seq> holding a unique token;
// dequeue claims the lowest child by deleting it (NONODE: someone else claimed it, try the next). Sequence
// numbers follow zxid order, so the claimed child is the head at the moment of its delete. A dequeue records
// the token with its sequence number and the delete's zxid: FIFO means sequence order = delete order.
import { ZkError, type ClientOptions } from '../src/client.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { queueChecker, type Dequeued } from '../src/checkers/queue.js';
import { ZkErrorCode, type ZkClient } from '../src/zk/client.js';
import type { Workload } from '../src/workload.js';
import { ensureZnode, hexZxid, sessionClient, withSession } from './common.js';

export const QUEUE_PATH = '/faultline-queue';

async function sortedChildren(zk: ZkClient): Promise<string[]> {
  await zk.sync(QUEUE_PATH);
  // Sequence suffixes are zero-padded to 10 digits, so text order is sequence order.
  return (await zk.getChildren(QUEUE_PATH)).children.sort();
}

/** Removes the head and returns its token, sequence number and the delete's zxid; null when the queue is empty. */
async function dequeue(zk: ZkClient): Promise<{ taken: Dequeued; zxid: string } | null> {
  for (const child of await sortedChildren(zk)) {
    const path = `${QUEUE_PATH}/${child}`;
    try {
      const { data } = await zk.getData(path);
      const { zxid } = await zk.delete(path, -1);
      return { taken: { token: Number(data.toString('utf8')), seq: Number(child.slice(2)) }, zxid: hexZxid(zxid) };
    } catch (err) {
      if (err instanceof ZkError && err.code === ZkErrorCode.NONODE) continue;
      throw err;
    }
  }
  return null;
}

export function queueWorkload(clientOptions: ClientOptions): Workload {
  let nextToken = 0;
  return {
    name: 'queue',
    setup: (node) => withSession(node, clientOptions, (zk) => ensureZnode(zk, QUEUE_PATH)),

    openClient: (node) =>
      sessionClient(
        node,
        clientOptions,
        async (zk, op) => {
          if (op.f === 'enqueue') {
            await zk.create(`${QUEUE_PATH}/q-`, Buffer.from(String(op.value)), 'persistent-sequential');
            return { type: 'ok', value: op.value };
          }
          const result = await dequeue(zk);
          return result ? { type: 'ok', value: result.taken, zxid: result.zxid } : { type: 'ok', value: null };
        },
        (op) => (op.f === 'enqueue' ? op.value : null),
      ),

    // Slightly more enqueues than dequeues, so the queue is rarely empty and the final reads have work.
    generator({ random }) {
      return random.int(0, 9) < 6 ? { f: 'enqueue', value: nextToken++ } : { f: 'dequeue', value: null };
    },

    finalRead: (node) =>
      withSession(node, clientOptions, async (zk) => {
        const tokens: number[] = [];
        for (const child of await sortedChildren(zk))
          tokens.push(Number((await zk.getData(`${QUEUE_PATH}/${child}`)).data.toString('utf8')));
        return tokens;
      }),

    checkers: { queue: queueChecker, ...RECOVERY_CHECKERS },
  };
}

// The session workload: each op opens a fresh session on the worker's node, creates an ephemeral znode in it,
// and ends the session: closed cleanly, or abandoned (socket dropped) so the leader must expire it. After
// recovery no node may hold any of these ephemerals.
import { completionForError, connectToNode, type ClientOptions } from '../src/client.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { sessionChecker } from '../src/checkers/session.js';
import { sleep } from '../src/time.js';
import type { ClusterNode } from '../src/cluster.js';
import type { ZkClient } from '../src/zk/client.js';
import type { Completion, Invocation, Workload } from '../src/workload.js';
import { ensureZnode, withSession } from './common.js';

export const SESSION_PATH = '/faultline-session';

export interface EphemeralOp {
  name: string;
  end: 'close' | 'abandon';
}

async function listEphemerals(zk: ZkClient): Promise<string[]> {
  await zk.sync(SESSION_PATH);
  return (await zk.getChildren(SESSION_PATH)).children.sort();
}

export function sessionWorkload(clientOptions: ClientOptions): Workload {
  let next = 0;
  // Expiry takes a session timeout, restarted by each leader election: wait up to a few of them at the end.
  const expiryWaitMs = clientOptions.sessionTimeoutMs * 3 + 5000;
  return {
    name: 'session',
    setup: (node) => withSession(node, clientOptions, (zk) => ensureZnode(zk, SESSION_PATH)),

    async openClient(node: ClusterNode) {
      return {
        async invoke(op: Invocation): Promise<Completion> {
          const { name, end } = op.value as EphemeralOp;
          let zk: ZkClient | undefined;
          try {
            zk = await connectToNode(node, clientOptions);
            await zk.create(`${SESSION_PATH}/${name}`, Buffer.alloc(0), 'ephemeral');
            return { type: 'ok', value: op.value };
          } catch (err) {
            return completionForError(err, op.value);
          } finally {
            // Either way the session ends now: the ephemeral (if created) must go with it.
            if (end === 'close') await zk?.close().catch(() => undefined);
            else zk?.destroy();
          }
        },
        close: async () => undefined,
      };
    },

    generator({ random }) {
      return {
        f: 'ephemeral',
        value: { name: `e-${next++}`, end: random.int(0, 3) === 0 ? 'abandon' : 'close' } satisfies EphemeralOp,
      };
    },

    // Polls until the node holds no ephemeral or the expiry wait is over; what is left then is a survivor.
    finalRead: (node) =>
      withSession(node, clientOptions, async (zk) => {
        const deadline = Date.now() + expiryWaitMs;
        let names = await listEphemerals(zk);
        while (names.length > 0 && Date.now() < deadline) {
          await sleep(500);
          names = await listEphemerals(zk);
        }
        return names;
      }),

    checkers: { session: sessionChecker, ...RECOVERY_CHECKERS },
  };
}

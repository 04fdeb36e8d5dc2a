// The session workload: each op opens a fresh session on the worker's node, creates an ephemeral znode in it,
// and ends the session: closed cleanly, or abandoned (socket dropped) so the leader must expire it. After
// recovery no node may hold any of these ephemerals. A third of the ops instead hold their session for most of
// the op timeout, talking to the server every second: if the session expires meanwhile, the op records how long
// the server had not heard from it (the session checker's expiry rule).
import { completionForError, connectToNode, ZkError, type ClientOptions } from '../src/client.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { sessionChecker } from '../src/checkers/session.js';
import { sleep } from '../src/time.js';
import type { ClusterNode } from '../src/cluster.js';
import { ZkClient, ZkErrorCode } from '../src/zk/client.js';
import { CLIENT_PORT } from '../src/zookeeper.js';
import type { Completion, Invocation, Workload } from '../src/workload.js';
import { ensureZnode, withSession } from './common.js';

export const SESSION_PATH = '/faultline-session';

export interface EphemeralOp {
  name: string;
  end: 'close' | 'abandon';
}

export interface HoldOp {
  name: string;
  holdMs: number;
}

/**
 * How a held session ended. `expired`: the server ended it while the client held it; `silentMs` is how long the
 * server had not heard from the client by then (from the last bytes the client received to the reconnect the
 * server refused, true time), `heardBeforeEndMs` how long before the op completed it was last heard.
 */
export interface HoldOutcome {
  name: string;
  outcome: 'held' | 'expired' | 'lost';
  sessionId: string;
  timeoutMs: number;
  silentMs?: number;
  heardBeforeEndMs?: number;
  reconnects?: number;
}

/** Holds a session for `holdMs`, re-attaching to it on the same node when the connection drops. */
async function holdSession(node: ClusterNode, clientOptions: ClientOptions, op: HoldOp): Promise<Completion> {
  let zk: ZkClient;
  try {
    zk = await connectToNode(node, clientOptions);
    await zk.create(`${SESSION_PATH}/${op.name}`, Buffer.alloc(0), 'ephemeral');
  } catch (err) {
    return completionForError(err, op);
  }
  const session = { id: zk.sessionId, passwd: Buffer.from(zk.sessionPassword) };
  const base = { name: op.name, sessionId: zk.sessionId.toString(16), timeoutMs: zk.sessionTimeoutMs };
  const deadline = Date.now() + op.holdMs;
  let reconnects = 0;
  const ended = (outcome: HoldOutcome['outcome'], lastHeard?: number, refusedAt?: number): Completion => {
    const end = Date.now();
    const value: HoldOutcome = {
      ...base,
      outcome,
      ...(refusedAt !== undefined && lastHeard !== undefined ? { silentMs: refusedAt - lastHeard } : {}),
      ...(lastHeard !== undefined ? { heardBeforeEndMs: end - lastHeard } : {}),
      ...(reconnects ? { reconnects } : {}),
    };
    return {
      type: outcome === 'lost' ? 'info' : 'ok',
      value,
      ...(outcome === 'lost' ? { error: 'connection lost' } : {}),
    };
  };
  try {
    while (Date.now() < deadline) {
      await Promise.race([sleep(1000), zk.closed]);
      if (zk.state === 'connected') {
        try {
          await zk.exists(SESSION_PATH, { timeoutMs: 2000 });
          continue;
        } catch (err) {
          if (!(err instanceof ZkError) || err.code !== ZkErrorCode.SESSIONEXPIRED) continue; // a slow reply: keep on
          return ended('expired', zk.lastReceived, Date.now());
        }
      }
      // The connection is gone: re-attach to the session on the same node, as the Java client would.
      const lastHeard = zk.lastReceived;
      for (;;) {
        const attemptAt = Date.now();
        try {
          zk = await ZkClient.connect({
            host: node.ip,
            port: CLIENT_PORT,
            sessionTimeoutMs: clientOptions.sessionTimeoutMs,
            connectTimeoutMs: Math.min(1500, clientOptions.connectTimeoutMs),
            session,
          });
          reconnects++;
          break;
        } catch (err) {
          if (err instanceof ZkError && err.code === ZkErrorCode.SESSIONEXPIRED)
            return ended('expired', lastHeard, attemptAt);
          if (Date.now() > deadline) return ended('lost', lastHeard);
          await sleep(250);
        }
      }
    }
    return ended('held');
  } finally {
    await zk.close().catch(() => undefined);
  }
}

async function listEphemerals(zk: ZkClient): Promise<string[]> {
  await zk.sync(SESSION_PATH);
  return (await zk.getChildren(SESSION_PATH)).children.sort();
}

export function sessionWorkload(clientOptions: ClientOptions): Workload {
  let next = 0;
  // A held session must end before the runner gives the op up (op timeout).
  const holdMs = Math.max(1000, clientOptions.opTimeoutMs - 1000);
  // Expiry takes a session timeout, restarted by each leader election: wait up to a few of them at the end.
  const expiryWaitMs = clientOptions.sessionTimeoutMs * 3 + 5000;
  return {
    name: 'session',
    setup: (node) => withSession(node, clientOptions, (zk) => ensureZnode(zk, SESSION_PATH)),

    async openClient(node: ClusterNode) {
      return {
        async invoke(op: Invocation): Promise<Completion> {
          if (op.f === 'hold') return holdSession(node, clientOptions, op.value as HoldOp);
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
      if (random.int(0, 2) === 0) return { f: 'hold', value: { name: `h-${next++}`, holdMs } satisfies HoldOp };
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

// The set workload: each add creates a distinct persistent znode SET_PATH/e-<element>; reads list the children.
// After recovery every node's children decide lost / recovered / unexpected elements.
import type { ClientOptions } from '../src/client.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { setChecker } from '../src/checkers/set.js';
import { ZkError } from '../src/client.js';
import { ZkErrorCode, type ZkClient } from '../src/zk/client.js';
import type { Workload } from '../src/workload.js';
import { ensureZnode, sessionClient, withSession } from './common.js';

export const SET_PATH = '/faultline-set';

async function readElements(zk: ZkClient): Promise<number[]> {
  await zk.sync(SET_PATH);
  const { children } = await zk.getChildren(SET_PATH);
  return children.map((c) => Number(c.slice(2))).sort((a, b) => a - b);
}

/**
 * The recovery read: a set whose parent znode is gone (created at setup, acknowledged, lost with everything under it,
 * as a power cut can do) holds nothing; the checker then counts every acknowledged add as lost.
 */
async function readFinalElements(zk: ZkClient): Promise<number[]> {
  try {
    return await readElements(zk);
  } catch (err) {
    if (err instanceof ZkError && err.code === ZkErrorCode.NONODE) return [];
    throw err;
  }
}

export function setWorkload(clientOptions: ClientOptions): Workload {
  // Elements are unique across the run: the generator is called by one worker at a time.
  let nextElement = 0;
  return {
    name: 'set',
    setup: (node) => withSession(node, clientOptions, (zk) => ensureZnode(zk, SET_PATH)),

    openClient: (node) =>
      sessionClient(
        node,
        clientOptions,
        async (zk, op) => {
          if (op.f === 'add') {
            await zk.create(`${SET_PATH}/e-${op.value as number}`, Buffer.from(String(op.value)), 'persistent');
            return { type: 'ok', value: op.value };
          }
          return { type: 'ok', value: await readElements(zk) };
        },
        (op) => (op.f === 'add' ? op.value : null),
      ),

    generator({ random }) {
      return random.int(0, 9) < 8 ? { f: 'add', value: nextElement++ } : { f: 'read', value: null };
    },

    finalRead: (node) => withSession(node, clientOptions, readFinalElements),

    checkers: { set: setChecker, ...RECOVERY_CHECKERS },
  };
}

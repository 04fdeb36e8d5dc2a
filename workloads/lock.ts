// The lock workload: processes take Curator's InterProcessMutex on LOCK_PATH/mutex, hold it for a few protected
// writes (each a persistent-sequential child of LOCK_PATH/log named after the hold), and release it. Fenced: each
// protected write is a multi that first checks the holder's own lock znode. Checked for real-time mutual exclusion
// and holder-ordered writes (src/checkers/holds.ts).
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { holdsChecker, LOCK_OPS } from '../src/checkers/holds.js';
import type { Workload } from '../src/workload.js';
import { DriverSidecar, driverClient, HoldTracker, readLog, setupLog, type RecipeOptions } from './recipes.js';

export const LOCK_PATH = '/faultline-lock';
const MUTEX = `${LOCK_PATH}/mutex`;
const LOG = `${LOCK_PATH}/log`;
const MAX_WRITES_PER_HOLD = 4;

export function lockWorkload(options: RecipeOptions): Workload {
  const driver = new DriverSidecar(options.client, options.connect, options.image);
  const tracker = new HoldTracker();
  // Wait for the lock less than an op may take, so a contended acquire fails cleanly instead of timing out.
  const acquireTimeoutMs = Math.max(500, options.client.opTimeoutMs - 1500);
  return {
    name: options.fenced ? 'lock-fenced' : 'lock',
    setup: (node) => setupLog(node, options.client, LOCK_PATH, LOG),
    start: (run) => driver.start(run),
    stop: () => driver.stop(),

    async openClient(node) {
      let lockNode: string | undefined;
      return driverClient(await driver.open(node, options), async (process, op) => {
        const token = (op.value as { token: string }).token;
        switch (op.f) {
          case 'acquire': {
            const reply = await process.request('acquire', { path: MUTEX, timeoutMs: acquireTimeoutMs });
            lockNode = reply.type === 'ok' ? (reply.value as { node: string }).node : undefined;
            tracker.set(token, reply.type === 'ok' ? 'held' : 'refused');
            return reply;
          }
          case 'write': {
            const reply = await process.request('write', {
              log: LOG,
              token,
              ...(options.fenced && lockNode ? { fence: lockNode } : {}),
            });
            if (reply.type === 'fail') tracker.set(token, 'lost');
            return reply;
          }
          case 'release':
            lockNode = undefined;
            return process.request('release');
          default:
            throw new Error(`lock: unknown op ${op.f}`);
        }
      });
    },

    // acquire, then 1-4 protected writes while holding, then release; a refused write (fenced) ends the hold.
    generator({ process, random }) {
      const state = tracker.perProcess.get(process);
      if (state?.phase === 'holding') {
        if (state.writesLeft > 0 && tracker.get(state.token) === 'held') {
          state.writesLeft--;
          return { f: 'write', value: { token: state.token } };
        }
        tracker.perProcess.delete(process);
        return { f: 'release', value: { token: state.token } };
      }
      if (state && tracker.get(state.token) === 'held') {
        state.phase = 'holding';
        state.writesLeft = random.int(1, MAX_WRITES_PER_HOLD) - 1;
        return { f: 'write', value: { token: state.token } };
      }
      const token = tracker.token(process);
      tracker.perProcess.set(process, { token, phase: 'starting', writesLeft: 0 });
      return { f: 'acquire', value: { token } };
    },

    finalRead: (node) => readLog(node, options.client, LOG),

    checkers: {
      lock: holdsChecker({ ops: LOCK_OPS, fenced: options.fenced }),
      ...RECOVERY_CHECKERS,
    },
  };
}

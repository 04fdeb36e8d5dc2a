// The election workload: every process takes part in Curator's LeaderLatch on ELECTION_PATH/latch. A process
// that leads writes its term to the protected log (ELECTION_PATH/log) a few times, checking LeaderLatch's
// hasLeadership first (as Curator users do), then resigns and takes part again. Fenced: each write is a multi that
// also checks the leader's own latch znode. Checked for at most one leader at a time, leader-ordered writes and a
// new leader within a bound derived from the session timeout (src/checkers/holds.ts).
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { ELECTION_OPS, holdsChecker } from '../src/checkers/holds.js';
import type { Workload } from '../src/workload.js';
import { DriverSidecar, driverClient, HoldTracker, readLog, setupLog, type RecipeOptions } from './recipes.js';

export const ELECTION_PATH = '/faultline-election';
const LATCH = `${ELECTION_PATH}/latch`;
const LOG = `${ELECTION_PATH}/log`;
const MAX_WRITES_PER_TERM = 4;

export function electionWorkload(options: RecipeOptions): Workload {
  const driver = new DriverSidecar(options.client, options.connect, options.image);
  const tracker = new HoldTracker();
  const awaitMs = Math.max(500, options.client.opTimeoutMs - 1500);
  return {
    name: options.fenced ? 'election-fenced' : 'election',
    setup: (node) => setupLog(node, options.client, ELECTION_PATH, LOG),
    start: (run) => driver.start(run),
    stop: () => driver.stop(),

    async openClient(node) {
      let latchNode: string | undefined;
      return driverClient(await driver.open(node, options), async (process, op) => {
        const token = (op.value as { token: string }).token;
        switch (op.f) {
          case 'campaign': {
            // The first campaign starts the process's latch; later ones wait on it again.
            const reply = await process.request('campaign', { path: LATCH, term: token, timeoutMs: awaitMs });
            latchNode = reply.type === 'ok' ? (reply.value as { node: string }).node : undefined;
            tracker.set(token, reply.type === 'ok' ? 'held' : 'refused');
            return reply;
          }
          case 'write': {
            const reply = await process.request('write', {
              log: LOG,
              token,
              leader: true,
              ...(options.fenced && latchNode ? { fence: latchNode } : {}),
            });
            if (reply.type === 'fail') tracker.set(token, 'lost');
            return reply;
          }
          case 'resign':
            latchNode = undefined;
            return process.request('resign');
          default:
            throw new Error(`election: unknown op ${op.f}`);
        }
      });
    },

    // campaign until leader, write the term 1-4 times, resign (then campaign again with a new latch).
    generator({ process, random }) {
      const state = tracker.perProcess.get(process);
      if (state?.phase === 'holding') {
        if (state.writesLeft > 0 && tracker.get(state.token) === 'held') {
          state.writesLeft--;
          return { f: 'write', value: { token: state.token } };
        }
        tracker.perProcess.delete(process);
        // A term lost without resigning goes on campaigning with the same latch.
        if (tracker.get(state.token) === 'lost') return campaign(process);
        return { f: 'resign', value: { token: state.token } };
      }
      if (state && tracker.get(state.token) === 'held') {
        state.phase = 'holding';
        state.writesLeft = random.int(1, MAX_WRITES_PER_TERM) - 1;
        return { f: 'write', value: { token: state.token } };
      }
      return campaign(process);
    },

    finalRead: (node) => readLog(node, options.client, LOG),

    checkers: {
      election: holdsChecker({
        ops: ELECTION_OPS,
        fenced: options.fenced,
        livenessSessionTimeoutMs: options.client.sessionTimeoutMs,
      }),
      ...RECOVERY_CHECKERS,
    },
  };

  function campaign(process: number): { f: string; value: { token: string } } {
    const token = tracker.token(process);
    tracker.perProcess.set(process, { token, phase: 'starting', writesLeft: 0 });
    return { f: 'campaign', value: { token } };
  }
}

// Resolving fault targets from the live ensemble at the moment of the fault.
import type { ClusterNode } from '../src/cluster.js';
import { HarnessError } from '../src/errors.js';
import type { NemesisContext } from '../src/nemesis.js';
import { TimeoutError, waitFor } from '../src/time.js';

/** The leader now; waits up to 15 s for an election to finish. */
export async function currentLeader(context: NemesisContext): Promise<ClusterNode> {
  try {
    return await waitFor('a leader', 15_000, 250, () => context.db.leader());
  } catch (err) {
    if (err instanceof TimeoutError) throw new HarnessError('no single leader found within 15 s, so there is no leader to target');
    throw err;
  }
}

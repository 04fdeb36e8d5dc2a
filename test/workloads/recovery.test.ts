// The recovery phase without Docker: final reads recorded per node (ok or info), the zxid snapshot recorded even
// when no node answers, and the checkers reading it all back from the written history.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConvergence } from '../../src/checkers/convergence.js';
import type { ClusterNode } from '../../src/cluster.js';
import { HistoryWriter, readHistory } from '../../src/history.js';
import { MemoryLogger } from '../../src/log.js';
import { finalReads } from '../../src/final-state.js';
import { recoveryPhase } from '../../src/recovery.js';
import type { Workload } from '../../src/workload.js';
import type { Database } from '../../src/zookeeper.js';

// A fake database whose nodes answer nothing: no zxid, no digests, no ensemble config.
const silentDb = {
  snapshot: async () => ({ zxid: null, digests: {} }),
  ensembleConfig: async () => null,
} as unknown as Database;
const nodes: ClusterNode[] = [1, 2].map((id) => ({
  name: `n${id}`,
  id,
  ip: `127.0.0.${10 + id}`,
  hostDir: '/nonexistent',
}));

const workload: Workload = {
  name: 'fake',
  setup: async () => undefined,
  generator: () => ({ f: 'read', value: null }),
  checkers: {},
  openClient: () => Promise.reject(new Error('not used')),
  finalRead: async (node) => {
    if (node.name === 'n2') throw new Error('connection refused');
    return { x: 1 };
  },
};

describe('recoveryPhase', () => {
  it('records each node\'s final read and a zxid snapshot as process "final" events', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'faultline-recovery-')), 'history.jsonl');
    const history = new HistoryWriter(path);
    await recoveryPhase(nodes, silentDb, workload, history, new MemoryLogger(), {
      readTimeoutMs: 1000,
      settleTimeoutMs: 300,
    });
    await history.close();
    const events = await readHistory(path);
    expect(events.every((e) => e.process === 'final')).toBe(true);
    expect(finalReads(events)).toEqual({
      states: [{ node: 'n1', state: { x: 1 }, index: expect.any(Number) as number }],
      unreadable: 1,
    });
    const snapshot = events.find((e) => e.f === 'final-zxids' && e.type === 'ok');
    expect(snapshot?.value).toEqual({
      settled: false,
      nodes: { n1: { zxid: null, digests: {} }, n2: { zxid: null, digests: {} } },
    });
    // Nodes that answer nothing prove no divergence: unknown, not invalid.
    expect(checkConvergence(events)).toMatchObject({
      valid: 'unknown',
      anomalies: [],
      counts: { unreadableNodes: 1, unansweredNodes: 2 },
    });
  });
});

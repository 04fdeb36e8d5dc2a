// The snapshot-heavy dimension: suites/snapshot-heavy.yaml plans every run with snapCount 100, and compare takes
// snapCount as a variant (pure: no engine).
import { describe, expect, it } from 'vitest';
import { parseVariant } from '../../src/gate/compare.js';
import { loadSuite, planSuite } from '../../src/gate/spec.js';

describe('snapshot-heavy settings', () => {
  it('every run of suites/snapshot-heavy.yaml takes snapshots every 100 transactions at most', () => {
    const runs = planSuite(loadSuite('suites/snapshot-heavy.yaml'), { resultsDir: '/tmp/unused' });
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const run of runs) expect(run.config.zookeeper.snapCount).toBe(100);
    expect(new Set(runs.map((r) => r.config.workload))).toEqual(new Set(['register', 'set', 'bank']));
  });

  it('compare takes snapCount as a variant; a snapCount below 2 is refused', () => {
    expect(parseVariant('snapCount=100').layer).toEqual({ zookeeper: { snapCount: 100 } });
    expect(() => parseVariant('snapCount=1')).toThrow(/snapCount/);
  });
});

// The coordination workloads by name in suites and compare variants (pure: no engine).
import { describe, expect, it } from 'vitest';
import { parseVariant } from '../../src/gate/compare.js';
import { loadSuite, planSuite } from '../../src/gate/spec.js';
import { resolveWorkload, WORKLOADS } from '../../workloads/index.js';
import { DEFAULT_CLIENT_OPTIONS } from '../../src/client.js';

describe('coordination workloads by name', () => {
  it('are in the catalogue, fenced and not', () => {
    for (const name of ['watch', 'lock', 'lock-fenced', 'election', 'election-fenced'])
      expect(resolveWorkload(name, { readMode: 'sync' }, DEFAULT_CLIENT_OPTIONS).name).toBe(name);
    expect(Object.keys(WORKLOADS)).toContain('election-fenced');
  });

  it('plan from suites/coordination.yaml, with the driver connect mode per test', () => {
    const runs = planSuite(loadSuite('suites/coordination.yaml'), { resultsDir: '/tmp/unused' });
    expect(runs.map((r) => [r.test, r.config.workload, r.config.driverConnect])).toEqual([
      ['watch', 'watch', 'node'],
      ['lock-fenced', 'lock-fenced', 'node'],
      ['election-fenced', 'election-fenced', 'node'],
      ['lock-fenced-ensemble', 'lock-fenced', 'ensemble'],
    ]);
  });

  it('compare driverConnect=node against ensemble; a bad mode is a usage error', () => {
    expect(parseVariant('driverConnect=ensemble').layer).toEqual({ driverConnect: 'ensemble' });
    expect(() => parseVariant('driverConnect=all')).toThrow(/driverConnect: must be node or ensemble/);
  });
});

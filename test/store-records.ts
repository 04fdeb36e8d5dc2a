// Schema-valid run-store records for tests that write a synthetic run directory by hand.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRunConfig, type RunLayer } from '../src/config.js';
import { resultsSchema, STORE_FORMAT, testRecordSchema, type Results, type TestRecord } from '../src/store/format.js';

/** A results.json of the current format; `partial` sets what a test cares about. */
export function resultsRecord(partial: Partial<Results> = {}): Results {
  return {
    format: STORE_FORMAT,
    valid: 'unknown',
    server: { build: 'debian:bookworm', image: 'img', version: null, versions: {} },
    checkers: {},
    stats: { ok: 0, fail: 0, info: 0, nemesis: 0 },
    leaders: [],
    leaderChanges: [],
    recovery: null,
    ...partial,
  };
}

/** A test.json of the current format for settings over the defaults. */
export function testRecord(layer: RunLayer, partial: Partial<Omit<TestRecord, 'config'>> = {}): TestRecord {
  return {
    format: STORE_FORMAT,
    config: resolveRunConfig(layer),
    runId: 'run-1',
    image: { name: 'img', server: 'debian:bookworm', recipeHash: 'h' },
    startedAt: '2026-01-01T00:00:00.000Z',
    command: [],
    ...partial,
  };
}

/** Writes both records into a run directory, checked against their schemas first. */
export function writeStoreRecords(dir: string, test: TestRecord, results: Results): void {
  writeFileSync(join(dir, 'test.json'), JSON.stringify(testRecordSchema.parse(test)));
  writeFileSync(join(dir, 'results.json'), JSON.stringify(resultsSchema.parse(results)));
}

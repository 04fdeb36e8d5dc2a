// Sharding a gate (`--shard I/N`) and merging the shards (`faultline merge`): the partition is deterministic,
// disjoint, covering and balanced; merged shards list what one unsharded gate would; mismatched shards are refused
// and missing ones are unknown; the JUnit XML of both passes the JUnit schema CI tools follow (checked by
// libxml2's validator, not by hand). The shard gates here are hand-made records: no engine.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { mergeShards, missingShards, ShardMismatchError, type FoundGate } from '../../src/gate/merge.js';
import { gateExitCode, gateSummaryLine, renderGateHtml, renderJUnit, summarizeGate } from '../../src/gate/outputs.js';
import {
  assignShards,
  expectedRunSeconds,
  parseShard,
  selectShard,
  shardGatePlan,
  type Shard,
} from '../../src/gate/shard.js';
import { loadSuite, planSuite, planSuiteExplores, type PlannedExplore, type PlannedRun } from '../../src/gate/spec.js';
import { listRuns } from '../../src/report/serve.js';
import type { GateResult, RunRecord } from '../../src/store/gate.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SEVEN = join(ROOT, 'test', 'fixtures', 'suites', 'seven.yaml');
const DEFAULT = join(ROOT, 'suites', 'default.yaml');
const BIN = join(ROOT, 'bin', 'faultline.js');
const XSD = readFileSync(join(ROOT, 'test', 'fixtures', 'junit', 'junit-10.xsd'), 'utf8');

async function junitErrors(xml: string): Promise<string[]> {
  const result = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [XSD] });
  return result.errors.map((e) => e.rawMessage);
}

const defaultRuns = (): PlannedRun[] => planSuite(loadSuite(SEVEN), { resultsDir: '/r' });

describe('--shard I/N', () => {
  it('reads I/N and refuses what is not one shard of N', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '1/65', '-1/2', '1.5/2'])
      expect(() => parseShard(bad), bad).toThrow(/--shard must be I\/N/);
  });

  it('gives every entry to exactly one shard, the same whatever order the entries come in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ key: fc.string({ maxLength: 6 }), weight: fc.integer({ min: 0, max: 500 }) }), {
          selector: (e) => e.key,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer(),
        (entries, count, seed) => {
          const assigned = assignShards(entries, count);
          expect(assigned.every((s) => s >= 1 && s <= count)).toBe(true);
          const shuffled = entries
            .map((e, i) => ({ e, k: (Math.imul(i + 1, 2654435761) ^ seed) >>> 0 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const again = assignShards(shuffled, count);
          const byKey = new Map(shuffled.map((e, i) => [e.key, again[i]]));
          expect(entries.map((e) => byKey.get(e.key))).toEqual(assigned);
          // Balanced: no shard's total exceeds another's by more than the longest entry.
          const load = new Array<number>(count).fill(0);
          entries.forEach((e, i) => (load[assigned[i]! - 1]! += e.weight));
          const longest = Math.max(0, ...entries.map((e) => e.weight));
          expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(longest);
        },
      ),
    );
  });

  it('cuts the default suite into disjoint shards that together hold every run, balanced by expected time', () => {
    const runs = defaultRuns();
    for (const count of [1, 2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, i) =>
        selectShard(runs, { index: i + 1, count }, (r) => ({
          key: `${r.test}#${r.repetition}`,
          weight: expectedRunSeconds(r.config),
        })),
      );
      const keys = shards.flat().map((r) => `${r.test}#${r.repetition}`);
      expect(new Set(keys).size).toBe(runs.length);
      expect(keys).toHaveLength(runs.length);
      const totals = shards.map((s) => s.reduce((t, r) => t + expectedRunSeconds(r.config), 0));
      const longest = Math.max(...runs.map((r) => expectedRunSeconds(r.config)));
      expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(longest);
    }
    // Two shards of the default suite: 7 runs of 40 s main phase, six of 52 s expected and one (5 nodes) of 56 s.
    // The best split is 160 s against 208 s: the 5-node run and two others, and four.
    const { planned } = shardGatePlan(runs, [], 2);
    expect(planned.filter((p) => p.shard === 1).map((p) => p.group)).toContain('register-five-nodes');
    expect(planned.filter((p) => p.shard === 1)).toHaveLength(3);
    expect(planned.filter((p) => p.shard === 2)).toHaveLength(4);
  });

  it("checks an explore entry's mixes when the gate is planned, before any run", () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-suite-'));
    const path = join(dir, 'suite.yaml');
    writeFileSync(path, 'name: typo\ntests:\n  - name: hunt\n    explore: { budget: 1m, mixes: kill+partiton }\n');
    expect(() => planSuiteExplores(loadSuite(path), { resultsDir: '/r' })).toThrow(
      /^suite entry hunt, explore: mixes: "kill\+partiton" .*unknown fault "partiton"/,
    );
  });

  it('deals explore entries with the runs, weighed by their budget, and never splits one', () => {
    const suite = loadSuite(DEFAULT);
    const runs = planSuite(suite, { resultsDir: '/r' });
    const explores = planSuiteExplores(suite, { resultsDir: '/r' });
    expect(explores.map((e) => e.spec.budget)).toEqual(['10m']);
    const { plannedExplores, planned, plan } = shardGatePlan(runs, explores, 2);
    // The 10-minute explore outweighs the nine runs' 580 s: it gets a shard of its own, the runs the other.
    expect(plannedExplores).toEqual([
      { test: 'explore', seed: explores[0]!.seed, server: 'debian:bookworm', shard: 1 },
    ]);
    expect(planned.every((p) => p.shard === 2)).toBe(true);
    // The explore is part of the plan: another budget is another plan.
    const longer = [{ ...explores[0]!, spec: { ...explores[0]!.spec, budget: '20m' } }];
    expect(shardGatePlan(runs, longer, 2).plan).not.toBe(plan);
    expect(shardGatePlan(runs, [], 2).plan).not.toBe(plan);
  });

  it('plans the same digest wherever the results go, and another one when a setting changes', () => {
    const suite = loadSuite(SEVEN);
    const a = shardGatePlan(planSuite(suite, { resultsDir: '/machine-a/results' }), [], 2);
    const b = shardGatePlan(planSuite(suite, { resultsDir: '/elsewhere' }), [], 2);
    expect(b.plan).toBe(a.plan);
    expect(b.planned).toEqual(a.planned);
    const sid = shardGatePlan(planSuite(suite, { resultsDir: '/r', overrides: { server: 'debian:sid' } }), [], 2);
    expect(sid.plan).not.toBe(a.plan);
  });
});

/** A shard's gate.json as `gate --shard` writes it, with hand-made verdicts (`verdict` per test name). */
function shardGate(
  runs: PlannedRun[],
  shard: Shard,
  over: {
    verdict?: (r: PlannedRun) => RunRecord['valid'];
    dir?: string;
    suite?: string;
    version?: string;
    /** The suite's explores, and the invalid trials each found (none by default). */
    explores?: PlannedExplore[];
    invalidTrials?: (e: PlannedExplore) => number;
  } = {},
): FoundGate {
  const plannedExplores = over.explores ?? [];
  const sharding = shardGatePlan(runs, plannedExplores, shard.count);
  const dir = over.dir ?? `/m${shard.index}/results/gates/default/T${shard.index}`;
  const records: RunRecord[] = runs
    .filter((r) => sharding.shardOf(r) === shard.index)
    .map((r) => ({
      group: r.test,
      repetition: r.repetition,
      seed: r.seed,
      server: r.config.server,
      valid: over.verdict?.(r) ?? true,
      runId: `${r.test}-1`,
      runDir: `${dir}/runs/default.${r.test}/20260102T000000Z`,
      durationMs: 50_000,
      serverVersion: over.version ?? '3.8.0-debian',
      anomalies: over.verdict?.(r) === false ? ['zk-order: stale-read: x'] : [],
      undecided: [],
      metrics: null,
    }));
  const explores: GateResult['explores'] = plannedExplores
    .filter((e) => sharding.shardOf(e) === shard.index)
    .map((e) => {
      const invalid = over.invalidTrials?.(e) ?? 0;
      const exploreDir = `${dir}/explores/${e.test}/explore/20260102T000000Z`;
      return {
        test: e.test,
        dir: exploreDir,
        record: {
          format: 2,
          seed: e.seed,
          server: e.config.server,
          startedAt: '2026-01-02T00:10:00.000Z',
          durationMs: 600_000,
          budget: { seconds: 600, trials: null, keepGoing: false },
          parallel: 2,
          counts: { trials: 12, valid: 12 - invalid, invalid, unknown: 0 },
          timeToFirstFailureMs: invalid ? 250_000 : null,
          trialsPerHour: 72,
          trials: [],
          findings: Array.from({ length: invalid }, (_, i) => ({
            trial: 4 + i,
            runDir: `${exploreDir}/runs/explore-set/T${i}`,
            anomalies: ['set: lost 166 acknowledged adds'],
            shrink: null,
          })),
        },
      };
    });
  const gate: GateResult = {
    ...summarizeGate(over.suite ?? 'default', null, new Date(Date.UTC(2026, 0, 2, 0, shard.index)), records, explores),
    durationMs: 300_000,
    shard: {
      ...shard,
      plan: sharding.plan,
      overrides: {},
      harness: { version: '0.1.0', commit: 'abc' },
      planned: sharding.planned,
      plannedExplores: sharding.plannedExplores,
      gateDir: dir,
    },
  };
  return { dir, gate };
}

describe('faultline merge', () => {
  const runs = defaultRuns();
  const verdict = (r: PlannedRun): RunRecord['valid'] =>
    r.test === 'bank' ? false : r.test === 'queue' ? 'unknown' : true;

  it('gives the same runs, seeds and verdicts, in the same order, as one unsharded gate', () => {
    const merged = mergeShards([
      shardGate(runs, { index: 2, count: 2 }, { verdict }),
      shardGate(runs, { index: 1, count: 2 }, { verdict }),
    ]);
    const whole = runs.map((r) => [r.test, r.repetition, r.seed, verdict(r)]);
    expect(merged.runs.map((r) => [r.group, r.repetition, r.seed, r.valid])).toEqual(whole);
    expect(merged.verdict).toBe(false);
    expect(merged.counts).toEqual({ runs: 7, valid: 5, invalid: 1, unknown: 1, errors: 0 });
    expect(merged.runs.every((r) => r.shard === 1 || r.shard === 2)).toBe(true);
    // Wall time from the first shard's start to the last one's end (shard 2 started a minute later).
    expect(merged.durationMs).toBe(360_000);
    expect(missingShards(merged)).toEqual([]);
  });

  it('finds run dirs again below where the shard gate was copied', () => {
    const copied = { ...shardGate(runs, { index: 1, count: 2 }), dir: '/ci/artifacts/shard-1' };
    const merged = mergeShards([copied, shardGate(runs, { index: 2, count: 2 })]);
    const run = merged.runs.find((r) => r.shard === 1)!;
    expect(run.runDir).toMatch(/^\/ci\/artifacts\/shard-1\/runs\/default\./);
    const html = renderGateHtml(merged, '/ci/merged');
    expect(html).toContain('href="../artifacts/shard-1/gate.html">1/2</a>');
    expect(html).toContain('Merged from 2 shards');
  });

  it('reports a missing shard as unknown runs and names it, never as passed', () => {
    const merged = mergeShards([shardGate(runs, { index: 1, count: 3 }), shardGate(runs, { index: 3, count: 3 })]);
    expect(merged.verdict).toBe('unknown');
    expect(gateExitCode(merged)).toBe(2);
    const lost = merged.runs.filter((r) => r.shard === 2);
    expect(lost.length).toBeGreaterThan(0);
    expect(
      lost.every((r) => r.valid === 'unknown' && r.error === 'shard 2/3 is missing: its runs were not merged'),
    ).toBe(true);
    expect(merged.counts.runs).toBe(7);
    expect(missingShards(merged)).toEqual([`shard 2/3 is missing (${lost.length} runs unknown)`]);
  });

  it('reports runs a shard did not get to (stopped early) as unknown', () => {
    const short = shardGate(runs, { index: 1, count: 2 });
    short.gate = { ...short.gate, runs: short.gate.runs.slice(0, 1) };
    const merged = mergeShards([short, shardGate(runs, { index: 2, count: 2 })]);
    // Shard 1 of 2 holds three runs and recorded one.
    expect(merged.counts.unknown).toBe(2);
    expect(
      merged.runs.filter((r) => r.error === 'shard 1/2 did not run it (stopped early or interrupted)'),
    ).toHaveLength(2);
    expect(missingShards(merged)).toEqual([`shard 1/2 recorded 1 of 3 runs (2 unknown): ${short.dir}`]);
  });

  it("keeps each shard's explores: an explore's finding fails the merged gate and its JUnit, a missing one is unknown", async () => {
    const explores = planSuiteExplores(loadSuite(DEFAULT), { resultsDir: '/r' });
    const one = shardGate(runs, { index: 1, count: 2 }, { explores, invalidTrials: () => 1 });
    const two = shardGate(runs, { index: 2, count: 2 }, { explores });
    const merged = mergeShards([two, one]);
    const holder = merged.explores.map((e) => e.shard);
    expect(merged.explores).toHaveLength(1);
    expect(merged.explores[0]!.record.counts.invalid).toBe(1);
    expect(merged.verdict).toBe(false);
    expect(merged.explores[0]!.dir).toMatch(/^\/m\d\/results\/gates\/default\/T\d\/explores\/explore\//);
    const xml = renderJUnit(merged);
    expect(xml).toMatch(
      /<testcase name="explore \(explore, seed \d+\)"[^>]*><failure message="1 invalid of 12 trials"/,
    );
    expect(xml).toContain(`shard=${holder[0]}/2`);
    expect(xml).toMatch(/<testsuites name="faultline" tests="\d+" failures="1"/);
    expect(await junitErrors(xml)).toEqual([]);
    expect(renderGateHtml(merged, '/merged')).toContain('Explore findings');
    expect(gateSummaryLine(merged)).toMatch(
      /^FAIL: \d+ valid, 0 invalid, 0 unknown of 7 runs; explore explore: 1 invalid, 0 unknown of 12 trials$/,
    );
    // The shard that held the explore is missing: the explore is unknown, counted as missing, never a pass.
    const without = mergeShards([one, two].filter((g) => g.gate.shard!.index !== holder[0]));
    expect(without.verdict).toBe('unknown');
    expect(without.explores[0]!.record.aborted).toBe(`shard ${holder[0]}/2 is missing: its explore was not merged`);
    expect(missingShards(without)[0]).toMatch(new RegExp(`shard ${holder[0]}/2 is missing \\(1 runs unknown\\)`));
    const withoutXml = renderJUnit(without);
    expect(withoutXml).toMatch(/<error message="shard \d\/2 is missing: its explore was not merged"/);
    expect(await junitErrors(withoutXml)).toEqual([]);
    // The shard ran its runs but not its explore (stopped early): unknown too.
    const holderGate = [one, two].find((g) => g.gate.shard!.index === holder[0])!;
    const stopped = { ...holderGate, gate: { ...holderGate.gate, explores: [] } };
    const short = mergeShards([stopped, ...[one, two].filter((g) => g !== holderGate)]);
    expect(short.verdict).toBe('unknown');
    expect(short.explores[0]!.record.aborted).toMatch(/did not run it/);
    // An explore where the plan does not put it is refused.
    const other = [one, two].find((g) => g !== holderGate)!;
    const stray = { ...other, gate: { ...other.gate, explores: holderGate.gate.explores } };
    expect(() => mergeShards([holderGate, stray])).toThrow(
      /holds explore explore, which its plan gives to another shard/,
    );
  });

  it('refuses shards of different suites, counts, settings, builds or Faultline commits, naming them', () => {
    const one = shardGate(runs, { index: 1, count: 2 });
    const two = shardGate(runs, { index: 2, count: 2 });
    const expectRefusal = (gates: FoundGate[], message: RegExp) => {
      try {
        mergeShards(gates);
        expect.unreachable('merged shards that do not belong together');
      } catch (err) {
        expect(err).toBeInstanceOf(ShardMismatchError);
        expect((err as Error).message).toMatch(message);
      }
    };
    expectRefusal(
      [one, shardGate(runs, { index: 2, count: 2 }, { suite: 'other' })],
      /suites differ\n {2}default: shard 1\/2/,
    );
    expectRefusal([one, shardGate(runs, { index: 2, count: 3 })], /shard counts differ/);
    const sid = { ...two, gate: { ...two.gate, shard: { ...two.gate.shard!, overrides: { server: 'debian:sid' } } } };
    expectRefusal([one, sid], /command-line settings differ\n.*\{\}: shard 1\/2[^\n]*\n.*debian:sid.*shard 2\/2/);
    const edited = { ...two, gate: { ...two.gate, shard: { ...two.gate.shard!, plan: 'ffff' } } };
    expectRefusal([one, edited], /plans .* differ/);
    const newer = {
      ...two,
      gate: { ...two.gate, shard: { ...two.gate.shard!, harness: { version: '0.1.0', commit: 'def' } } },
    };
    expectRefusal(
      [one, newer],
      /Faultline builds differ\n {2}0\.1\.0 at abc: shard 1\/2.*\n {2}0\.1\.0 at def: shard 2\/2/,
    );
    expectRefusal(
      [one, shardGate(runs, { index: 2, count: 2 }, { version: '3.8.1-debian' })],
      /different builds of debian:bookworm:\n {2}3\.8\.0-debian: shard 1\/2\n {2}3\.8\.1-debian: shard 2\/2/,
    );
    expectRefusal([one, { ...one, dir: '/retry' }], /shard 1\/2 is given twice: .* and \/retry/);
    const whole = { dir: '/w', gate: summarizeGate('default', null, new Date(), []) };
    expectRefusal([one, whole], /\/w\/gate\.json is a whole gate \(run without --shard\), not a shard/);
  });
});

describe('JUnit XML against the JUnit schema', () => {
  const runs = defaultRuns();
  const withEvery = (r: PlannedRun): RunRecord['valid'] =>
    r.test === 'bank' ? false : r.test === 'queue' ? 'unknown' : true;

  it('validates a gate with passed, failed, errored and skipped cases, and a merged gate with a missing shard', async () => {
    const gate = summarizeGate('default', 'debian:sid', new Date('2026-01-02T03:04:05Z'), [
      ...shardGate(runs, { index: 1, count: 1 }, { verdict: withEvery }).gate.runs,
      { ...shardGate(runs, { index: 1, count: 1 }).gate.runs[0]!, valid: 'unknown', error: 'no quorum <&>' },
    ]);
    const xml = renderJUnit(gate);
    expect(xml).toMatch(/<failure /);
    expect(xml).toMatch(/<skipped /);
    expect(xml).toMatch(/<error /);
    expect(await junitErrors(xml)).toEqual([]);
    const merged = mergeShards([shardGate(runs, { index: 1, count: 3 }, { verdict: withEvery })]);
    const mergedXml = renderJUnit(merged);
    expect(mergedXml).toContain('shard=2/3');
    expect(await junitErrors(mergedXml)).toEqual([]);
  });

  it('has teeth: a suite without its counts, or a count on <testsuites> the schema lacks, is rejected', async () => {
    const xml = renderJUnit(
      summarizeGate('default', null, new Date(), shardGate(runs, { index: 1, count: 1 }).gate.runs),
    );
    expect(await junitErrors(xml.replace(/(<testsuite [^>]*?) tests="\d+"/, '$1'))).not.toEqual([]);
    expect(
      await junitErrors(xml.replace('<testsuites name="faultline"', '<testsuites name="faultline" skipped="0"')),
    ).not.toEqual([]);
    expect(
      await junitErrors(xml.replace('<system-out>', '<stdout>').replace('</system-out>', '</stdout>')),
    ).not.toEqual([]);
  });
});

describe('the gate and merge commands (no engine)', () => {
  it('lists a shard of the default suite with --dry-run, the same shares on every call', async () => {
    const list = async (shard: string) =>
      (
        await execa('node', [BIN, 'gate', SEVEN, '--shard', shard, '--dry-run'], {
          all: true,
        })
      ).all;
    const one = await list('1/2');
    const two = await list('2/2');
    expect(one).toMatch(/Gate seven shard 1\/2: 3 of 7 runs/);
    expect(two).toMatch(/Gate seven shard 2\/2: 4 of 7 runs/);
    expect(one).toMatch(/expected seconds per shard: 1: 160, 2: 208/);
    const tests = (out: string) => [...out.matchAll(/^\s+(\S+ #\d+): seed (\d+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    const all = (await execa('node', [BIN, 'gate', SEVEN, '--dry-run'], { all: true })).all;
    expect([...tests(one), ...tests(two)].sort()).toEqual(tests(all).sort());
    expect(await list('1/2')).toBe(one);
    const bad = await execa('node', [BIN, 'gate', SEVEN, '--shard', '3/2', '--dry-run'], {
      reject: false,
      all: true,
    });
    expect(bad.exitCode).toBe(4);
    expect(bad.all).toMatch(/--shard must be I\/N/);
    const tooMany = await execa('node', [BIN, 'gate', SEVEN, '--shard', '1/8', '--dry-run'], {
      reject: false,
      all: true,
    });
    expect(tooMany.all).toMatch(/has only 7 runs/);
  });

  it('merges shard trees: exit 2 naming a missing shard, 3 for a mismatch, and writes the three outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-merge-'));
    const runs = defaultRuns();
    const write = (found: FoundGate, where: string) => {
      mkdirSync(where, { recursive: true });
      writeFileSync(join(where, 'gate.json'), JSON.stringify(found.gate));
    };
    write(shardGate(runs, { index: 1, count: 3 }), join(dir, 'a', 'gates', 'default', 'T1'));
    write(shardGate(runs, { index: 3, count: 3 }), join(dir, 'b', 'gates', 'default', 'T3'));
    const out = join(dir, 'merged');
    const missing = await execa('node', [BIN, 'merge', join(dir, 'a'), join(dir, 'b'), '--results-dir', out], {
      reject: false,
      all: true,
    });
    expect(missing.exitCode, missing.all).toBe(2);
    expect(missing.all).toMatch(/shard 2\/3 is missing \(\d+ runs unknown\)/);
    expect(missing.all).toMatch(/merged from 2 of 3 shards: UNDECIDED/);
    const gateDir = join(out, 'gates', 'latest');
    const merged = JSON.parse(readFileSync(join(gateDir, 'gate.json'), 'utf8')) as GateResult;
    expect(merged.merged?.shards.map((s) => s.gateDir === null)).toEqual([false, true, false]);
    expect(await junitErrors(readFileSync(join(gateDir, 'junit.xml'), 'utf8'))).toEqual([]);
    expect(readFileSync(join(gateDir, 'gate.html'), 'utf8')).toContain('2/3 missing');
    // serve's index names merged gates and shards as such.
    expect(listRuns(out).map((r) => r.name)).toEqual(['gate default (merged from 3 shards, 1 missing)']);
    expect(listRuns(join(dir, 'a')).map((r) => r.name)).toEqual(['gate default (shard 1/3)']);

    write(shardGate(runs, { index: 2, count: 3 }, { suite: 'coordination' }), join(dir, 'c'));
    const mismatch = await execa('node', [BIN, 'merge', join(dir, 'a'), join(dir, 'b'), join(dir, 'c')], {
      reject: false,
      all: true,
      cwd: dir,
    });
    expect(mismatch.exitCode).toBe(3);
    expect(mismatch.all).toMatch(
      /suites differ\n {2}default: shard 1\/3 .*shard 3\/3 .*\n {2}coordination: shard 2\/3/,
    );
  });
});

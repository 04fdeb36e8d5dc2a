// gate.json, JUnit XML, the HTML summary, the exit code, run metrics and the comparison's Markdown.
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/store/gate.js';
import { buildComparison, formatSpread, renderCompareMarkdown } from '../../src/gate/compare.js';
import { computeRunMetrics, spread } from '../../src/gate/metrics.js';
import { gateExitCode, renderGateHtml, renderJUnit, summarizeGate } from '../../src/gate/outputs.js';
import type { HistoryEvent } from '../../src/history.js';
import type { RoleChange } from '../../src/role-changes.js';

function record(over: Partial<RunRecord>): RunRecord {
  return {
    group: 'register',
    repetition: 0,
    seed: 1,
    server: 'debian:sid',
    valid: true,
    runId: 'r1',
    runDir: '/res/gates/g/t/runs/x/1',
    durationMs: 42_000,
    serverVersion: '3.9.6-debian',
    anomalies: [],
    undecided: [],
    metrics: null,
    ...over,
  };
}

describe('gate verdicts', () => {
  it('exits 0 when all are valid, 1 when any is invalid, 2 when some are unknown and none invalid', () => {
    const at = new Date();
    expect(gateExitCode(summarizeGate('s', null, at, [record({}), record({})]))).toBe(0);
    expect(
      gateExitCode(summarizeGate('s', null, at, [record({ valid: 'unknown' }), record({ valid: false }), record({})])),
    ).toBe(1);
    expect(gateExitCode(summarizeGate('s', null, at, [record({ valid: 'unknown' }), record({})]))).toBe(2);
    // No run at all decides nothing.
    expect(gateExitCode(summarizeGate('s', null, at, []))).toBe(2);
  });

  it('counts verdicts and harness errors in gate.json', () => {
    const gate = summarizeGate('s', 'debian:sid', new Date(), [
      record({}),
      record({ valid: false }),
      record({ valid: 'unknown', error: 'no quorum' }),
    ]);
    expect(gate.counts).toEqual({ runs: 3, valid: 1, invalid: 1, unknown: 1, errors: 1 });
    expect(JSON.parse(JSON.stringify(gate)).verdict).toBe(false);
  });
});

describe('JUnit XML', () => {
  const gate = summarizeGate('default', 'debian:sid', new Date('2026-01-02T03:04:05Z'), [
    record({}),
    record({
      group: 'queue',
      repetition: 1,
      seed: 7,
      valid: false,
      anomalies: ['durability: lost-write: n1: key <a> & "b" lost', 'zk-order: stale-read: x'],
    }),
    record({ group: 'bank', valid: 'unknown', error: 'no serving quorum after 90 s\ndetail' }),
    record({ group: 'set', valid: 'unknown', undecided: ['linearizable: timed out'] }),
  ]);
  const xml = renderJUnit(gate);

  it('has one test case per run and the suite totals', () => {
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toContain('<testsuite name="default" tests="4" failures="1" errors="1" skipped="1"');
    expect(xml).toContain('name="queue #2 (seed 7)" classname="faultline.default.queue"');
  });

  it('puts the anomalies, escaped, in the failure text', () => {
    expect(xml).toContain(
      '<failure message="2 anomalies" type="invalid">durability: lost-write: n1: key &lt;a&gt; &amp; &quot;b&quot; lost\nzk-order: stale-read: x</failure>',
    );
  });

  it('reports harness errors as errors and undecided checkers as skipped', () => {
    expect(xml).toContain('<error message="no serving quorum after 90 s" type="harness">');
    expect(xml).toContain('<skipped message="verdict unknown: linearizable: timed out"/>');
  });

  it('links each run report relative to the summary page', () => {
    const html = renderGateHtml(gate, '/res/gates/g/t');
    expect(html).toContain('href="runs/x/1/report.html"');
    expect(html).toContain('lost-write: n1: key &lt;a&gt;');
  });
});

function ev(
  index: number,
  ms: number,
  process: HistoryEvent['process'],
  type: HistoryEvent['type'],
  f: string,
  value: unknown,
): HistoryEvent {
  return { index, time: ms * 1e6, process, type, f, value };
}

describe('run metrics', () => {
  // A write at 0-10 ms, a kill at 100 ms, a write failing during the fault, the first ok write at 400 ms,
  // the heal at 600 ms and a write right after it. The family heal before the main phase ends no fault.
  const history: HistoryEvent[] = [
    ev(100, 0, 'nemesis', 'info', 'heal', 'process'),
    ev(101, 1, 'nemesis', 'info', 'heal', { fault: 'process', started: [] }),
    ev(0, 0, 0, 'invoke', 'write', 1),
    ev(1, 10, 0, 'ok', 'write', 1),
    ev(2, 90, 'nemesis', 'info', 'start', 'kill-leader'),
    ev(3, 100, 'nemesis', 'info', 'start', { fault: 'kill-leader', killed: ['n1'] }),
    ev(4, 150, 1, 'invoke', 'write', 2),
    ev(5, 200, 1, 'info', 'write', 2),
    ev(6, 300, 2, 'invoke', 'write', 3),
    ev(7, 400, 2, 'ok', 'write', 3),
    ev(8, 590, 'nemesis', 'info', 'heal', 'kill-leader'),
    ev(9, 600, 'nemesis', 'info', 'heal', { fault: 'kill-leader', started: ['n1'] }),
    ev(10, 610, 0, 'invoke', 'read', null),
    ev(11, 615, 0, 'ok', 'read', 3),
    ev(12, 620, 0, 'invoke', 'cas', [3, 4]),
    ev(13, 650, 0, 'ok', 'cas', [3, 4]),
  ];
  it('measures availability in faults, time to elect and to first write after the heal', () => {
    const m = computeRunMetrics(
      history,
      { d: { valid: false, anomalies: [{ type: 'lost-write', ops: [1], description: '' }] } },
      { quorumMs: 1234 },
    );
    expect(m.availabilityDuringFaults).toBeCloseTo(0.5);
    expect(m.timeToElectMs).toEqual([300]);
    expect(m.timeToFirstWriteAfterHealMs).toEqual([50]);
    expect(m.timeUntilAllServeMs).toBe(1234);
    expect(m.lostWrites).toBe(1);
    expect(m.ops).toEqual({ ok: 4, fail: 0, info: 1 });
    expect(m.latencyMs?.max).toBe(100);
  });

  it('measures leader changes and rejoins from what the nodes said (roles.jsonl)', () => {
    const ms = 1e6;
    const roles: RoleChange[] = [
      { time: 5 * ms, node: 'n1', role: 'leader' },
      { time: 5 * ms, node: 'n2', role: 'follower' },
      { time: 5 * ms, node: 'n3', role: 'follower' },
      // The kill (requested at 90 ms): n1 goes quiet, the followers elect, n2 reports leading at 250 ms.
      { time: 95 * ms, node: 'n1', role: 'down' },
      { time: 120 * ms, node: 'n3', role: 'not-serving' },
      { time: 120 * ms, node: 'n2', role: 'not-serving' },
      { time: 250 * ms, node: 'n2', role: 'leader' },
      { time: 260 * ms, node: 'n3', role: 'follower' },
      // The heal (done at 600 ms) restarts n1, which answers unready, then follows at 1400 ms.
      { time: 1000 * ms, node: 'n1', role: 'not-serving' },
      { time: 1400 * ms, node: 'n1', role: 'follower' },
    ];
    const m = computeRunMetrics(history, {}, null, roles);
    expect(m.timeToNewLeaderMs).toEqual([160]);
    // n3's election spell held no heal: an election, not a rejoin.
    expect(m.rejoinMs).toEqual([800]);
    // Without roles (runs from before the monitor) there is nothing to measure, not zero.
    expect(computeRunMetrics(history, {}, null).timeToNewLeaderMs).toEqual([]);
  });

  it('summarises spreads and renders them side by side', () => {
    expect(spread([3, 1, 2])).toMatchObject({ n: 3, min: 1, median: 2, max: 3, mean: 2 });
    expect(formatSpread(spread([1000, 2000, 30_000]), 'ms')).toBe('2000 ms [1000 ms–30.0 s] ±13.4 s (n=3)');
    const metrics = computeRunMetrics(history, {}, { quorumMs: 900 });
    const c = buildComparison(
      {
        name: 'tt',
        startedAt: '',
        startedAtMs: Date.now(),
        repetitions: 1,
        seeds: [5],
        schedule: { nemesis: ['kill-leader'], nemesisIntervalS: 6, timeLimitS: 30, workload: 'register' },
      },
      new Map([
        ['tickTime=500', [record({ group: 'tickTime=500', metrics })]],
        ['tickTime=2000', [record({ group: 'tickTime=2000', metrics: { ...metrics, timeToElectMs: [4000, 5000] } })]],
      ]),
    );
    const md = renderCompareMarkdown(c);
    expect(md).toContain('| measure | `tickTime=500` | `tickTime=2000` |');
    expect(md).toContain(
      '| time to first write after a fault, per fault | 300 ms | 4000 ms [4000 ms–5000 ms] ±500 ms (n=2) |',
    );
    expect(md).toContain('| verdicts | 1 valid, 0 invalid, 0 unknown |');
  });
});

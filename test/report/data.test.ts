// Pure report logic: lanes, fault bands, leader marks, counterexample rows, plots data, config diff, escaping.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/history.js';
import { pairOperations } from '../../src/history.js';
import {
  buildCounterexamples,
  buildFaultBands,
  buildLanes,
  buildLatency,
  buildLeaderMarks,
  buildLogExcerpts,
  buildOpColumns,
  buildReportData,
  buildRoleSpans,
  buildThroughput,
  diffConfig,
  quantile,
  reproduceCommand,
} from '../../src/report/data.js';
import { escapeHtml, renderValue, scriptSafeJson } from '../../src/report/html.js';
import { hostAllowed, listRuns, renderRunIndex, resolveRunFile } from '../../src/report/serve.js';
import type { RunLayer } from '../../src/config.js';
import { parseVariant, planComparison } from '../../src/gate/compare.js';
import type { Results, TestRecord } from '../../src/store/format.js';
import { resultsRecord, testRecord } from '../store-records.js';

const MS = 1_000_000;

function history(): HistoryEvent[] {
  let index = 0;
  const e = (
    time: number,
    process: HistoryEvent['process'],
    type: HistoryEvent['type'],
    f: string,
    value: unknown,
    extra: Partial<HistoryEvent> = {},
  ): HistoryEvent => ({ index: index++, time: time * MS, process, type, f, value, ...extra });
  return [
    e(0, 1, 'invoke', 'write', 1, { node: 'n2' }),
    e(1, 0, 'invoke', 'read', null, { node: 'n10' }),
    e(2, 1, 'ok', 'write', 1, { node: 'n2' }),
    e(3, 'nemesis', 'info', 'start', 'partition-leader'),
    e(4, 'nemesis', 'info', 'start', { fault: 'partition-leader', isolated: ['n1'] }),
    e(5, 0, 'ok', 'read', 1, { node: 'n10' }),
    e(6, 2, 'invoke', 'cas', [1, 2], { node: 'n2' }),
    e(8, 'nemesis', 'info', 'heal', 'partition-leader'),
    e(9, 'nemesis', 'info', 'heal', { fault: 'partition-leader', healed: ['n1', 'n2', 'n10'] }),
    e(10, 2, 'info', 'cas', [1, 2], { node: 'n2', error: 'timeout' }),
    e(11, 3, 'invoke', 'read', null, { node: 'n2' }),
  ];
}

const results = resultsRecord;
const record = (layer: RunLayer): TestRecord => testRecord(layer);

describe('report data', () => {
  it('puts one lane per process, grouped by node in natural order', () => {
    const lanes = buildLanes(pairOperations(history()));
    expect(lanes).toEqual([
      { process: 1, node: 'n2' },
      { process: 2, node: 'n2' },
      { process: 3, node: 'n2' },
      { process: 0, node: 'n10' },
    ]);
  });

  it('stores ops in columns with ms times, -1 for never completed, and their history indexes', () => {
    const ops = pairOperations(history());
    const cols = buildOpColumns(ops, buildLanes(ops));
    expect(cols.fNames).toEqual(['write', 'read', 'cas']);
    expect(cols.start).toEqual([0, 1, 6, 11]);
    expect(cols.end).toEqual([2, 5, 10, -1]);
    expect(cols.outcome).toEqual([0, 0, 2, 2]);
    expect(cols.index).toEqual([0, 1, 6, 10]);
    expect(cols.input[2]).toBe('[1,2]');
    expect(cols.error[2]).toBe('timeout');
  });

  it('turns nemesis start/heal pairs into bands from the start invocation to the heal completion', () => {
    const bands = buildFaultBands(history(), 11);
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({ name: 'partition-leader', start: 3, end: 9, targets: ['n1'] });
    expect(bands[0]!.detail).toContain('"isolated":["n1"]');
  });

  it('leaves an unhealed fault open to the end of the history', () => {
    const events = history().slice(0, 6);
    expect(buildFaultBands(events, 42)[0]).toMatchObject({ start: 3, end: 42 });
  });

  it('places untimed leader changes at the fault that hit the old leader, timed ones where observed', () => {
    const bands = buildFaultBands(history(), 11);
    expect(buildLeaderMarks(results({ leaders: ['n1', 'n3'] }), bands)).toEqual([
      { time: 3, from: 'n1', to: 'n3', inferred: true },
    ]);
    expect(
      buildLeaderMarks(
        results({
          leaderChanges: [
            { time: 0, leader: 'n1' },
            { time: 7 * MS, leader: 'n3' },
          ],
        }),
        bands,
      ),
    ).toEqual([{ time: 7, from: 'n1', to: 'n3', inferred: false }]);
  });

  it('maps counterexample ops (history indexes) to op rows', () => {
    const ops = pairOperations(history());
    const cols = buildOpColumns(ops, buildLanes(ops));
    const [view] = buildCounterexamples(
      [
        {
          key: null,
          prefixLength: 2,
          longestPrefix: [0, 1],
          stateBefore: '1',
          unplaced: [{ index: 6, process: 2, f: 'cas', value: [1, 2], type: 'info', description: 'cas 1→2' }],
        },
      ],
      cols,
    );
    expect(view).toEqual({
      key: '',
      prefixLength: 2,
      stateBefore: '1',
      prefix: [0, 1],
      unplaced: [{ row: 2, description: 'cas 1→2' }],
    });
  });

  it('computes nearest-rank quantiles, latency per f and outcome, and throughput per second', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    const ops = pairOperations(history());
    const cols = buildOpColumns(ops, buildLanes(ops));
    const { series, quantiles } = buildLatency(cols, 11);
    expect(series.map((s) => s.label)).toEqual(['cas info', 'read ok', 'write ok']);
    expect(quantiles.find((q) => q.f === 'read')).toMatchObject({ count: 1, p50: 4, max: 4 });
    const tp = buildThroughput(cols, 2500);
    expect(tp.x).toEqual([0, 1, 2]);
    expect(tp.ok).toEqual([2, 0, 0]);
    expect(tp.info).toEqual([1, 0, 0]);
  });

  it('thins long latency series to the slowest op per bucket', () => {
    const n = 10_000;
    const cols = {
      lane: [],
      start: [],
      end: [],
      outcome: [],
      f: [],
      fNames: ['read'],
      index: [],
      input: [],
      output: [],
      error: [],
      key: [],
    } as ReturnType<typeof buildOpColumns>;
    for (let i = 0; i < n; i++) {
      cols.start.push(i);
      cols.end.push(i + (i === 5000 ? 900 : 1));
      cols.outcome.push(0);
      cols.f.push(0);
    }
    const [s] = buildLatency(cols, n).series;
    expect(s!.x.length).toBeLessThanOrEqual(4001);
    expect(Math.max(...s!.y)).toBe(900);
  });

  it('keeps WARN/ERROR log lines within each fault window, aligned by startedAt', () => {
    const bands = buildFaultBands(history(), 11);
    const started = Date.parse('2026-01-01T00:00:00.000Z');
    const text = [
      '2026-01-01 00:00:00,005 [myid:1] - WARN  [QuorumPeer] - inside the window',
      '2026-01-01 00:00:00,006 [myid:1] - INFO  [QuorumPeer] - not a warning',
      '2026-01-01 00:01:00,000 [myid:1] - ERROR [QuorumPeer] - long after',
    ].join('\n');
    const excerpts = buildLogExcerpts([{ node: 'n1', path: 'nodes/n1/logs/zookeeper.log', text }], bands, started);
    expect(excerpts).toEqual([
      {
        fault: 0,
        node: 'n1',
        path: 'nodes/n1/logs/zookeeper.log',
        lines: [expect.stringContaining('inside the window')],
      },
    ]);
  });

  it('diffs config against defaults, ignoring bookkeeping, and builds a reproducible command', () => {
    const diff = diffConfig(
      { name: 'x', rate: 100, zookeeper: { tickTime: 500, syncLimit: 2 } },
      { name: 'y', rate: 50, zookeeper: { tickTime: 500, syncLimit: 5 } },
      new Set(['name']),
    );
    expect(diff).toEqual([
      ['rate', '50', '100'],
      ['zookeeper.syncLimit', '5', '2'],
    ]);
    expect(diffConfig({ rate: 50 }, { rate: 50, nodes: 3 }, new Set())).toEqual([]);
    // Only what differs from the defaults, by its flag; ZooKeeper settings by their YAML names through --zk.
    expect(reproduceCommand(record({ seed: 7 }))).toBe('npx faultline test --seed 7');
    expect(
      reproduceCommand(
        record({
          name: 'it',
          nodes: 5,
          nemesis: ['kill-leader', 'partition-leader'],
          opTimeoutS: 3,
          scenario: '/tmp/my scenarios/a.yaml',
          zookeeper: { tickTime: 700, forceSync: false, autopurgeInterval: 1, extra: { maxSessionTimeout: '40000' } },
          seed: 7,
        }),
      ),
    ).toBe(
      "npx faultline test --name it --nodes 5 --nemesis kill-leader,partition-leader --scenario '/tmp/my scenarios/a.yaml' --op-timeout 3 --zk tickTime=700,forceSync=no,autopurge.purgeInterval=1,extra.maxSessionTimeout=40000 --seed 7",
    );
    // A disaster-recovery run keeps its --dr (and the damaged copies) in the command.
    expect(
      reproduceCommand(
        record({ workload: 'set', dr: { damage: ['truncate-log', 'flip-log'], seedOne: true }, seed: 2 }),
      ),
    ).toBe('npx faultline test --workload set --dr truncate-log,flip-log --seed 2');
    expect(reproduceCommand(record({ workload: 'set', dr: { damage: [], seedOne: true }, seed: 2 }))).toBe(
      'npx faultline test --workload set --dr --seed 2',
    );
  });

  it("gives a compare run's report the command that reruns its variant (forceSync=no included)", () => {
    const runs = planComparison(
      'cmp',
      { nemesis: ['kill-leader'] },
      ['forceSync=yes', 'forceSync=no'].map(parseVariant),
      [11],
      '/tmp/r',
    );
    const second = reproduceCommand(record(runs[1]!.config));
    expect(second).toContain('--zk forceSync=no');
    expect(second).toContain('--nemesis kill-leader');
    expect(second).toContain('--seed 11');
    expect(reproduceCommand(record(runs[0]!.config))).toContain('--zk forceSync=yes');
  });

  it('turns role changes into per-node spans, the last one running to the end of the run', () => {
    const ms = 1e6;
    const spans = buildRoleSpans(
      [
        { time: 100 * ms, node: 'n10', role: 'follower' },
        { time: 0, node: 'n2', role: 'leader' },
        { time: 0, node: 'n10', role: 'leader' },
        { time: 300 * ms, node: 'n2', role: 'down' },
      ],
      1000,
    );
    expect(spans).toEqual([
      {
        node: 'n2',
        spans: [
          [0, 300, 'leader'],
          [300, 1000, 'down'],
        ],
      },
      {
        node: 'n10',
        spans: [
          [0, 100, 'leader'],
          [100, 1000, 'follower'],
        ],
      },
    ]);
    expect(buildRoleSpans([], 1000)).toEqual([]);
  });

  it('finds data-loss fields anywhere in results and notes silent server logs', () => {
    const data = buildReportData({
      events: history(),
      test: undefined,
      defaults: undefined,
      results: {
        ...results({ valid: false, checkers: { durability: { valid: false, unexpected: [9] } } }),
        lost: [{ value: 3 }],
      } as Results,
      nodeLogs: [
        {
          node: 'n1',
          path: 'nodes/n1/logs/zookeeper.log',
          text: 'SLF4J: Defaulting to no-operation (NOP) logger implementation\n',
        },
      ],
    });
    expect(data.dataLoss.map((d) => d.title)).toEqual(['lost', 'durability: unexpected']);
    expect(data.logNote).toContain('no-operation logger');
    expect(data.verdict).toBe(false);
  });
});

describe('report html', () => {
  it('escapes text and keeps embedded JSON from closing its script', () => {
    expect(escapeHtml('<a href="x">&\'')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    const json = scriptSafeJson({ s: '</script><!--' });
    expect(json).not.toContain('</script');
    expect(JSON.parse(json)).toEqual({ s: '</script><!--' });
  });

  it('renders arrays of objects as tables', () => {
    const html = renderValue([
      { value: 1, node: 'n1' },
      { value: 2, node: '<n2>' },
    ]);
    expect(html).toContain('<th>value</th><th>node</th>');
    expect(html).toContain('&lt;n2&gt;');
  });
});

describe('serve', () => {
  function resultsTree(): string {
    const root = mkdtempSync(join(tmpdir(), 'faultline-serve-'));
    const run = join(root, 'reg', '20260101T000000Z');
    mkdirSync(run, { recursive: true });
    writeFileSync(
      join(run, 'test.json'),
      JSON.stringify({
        name: 'reg',
        startedAt: '2026-01-01T00:00:00.000Z',
        server: 'debian:bookworm',
        workload: 'register',
        nemesis: ['kill-leader'],
      }),
    );
    writeFileSync(join(run, 'results.json'), JSON.stringify({ valid: false }));
    writeFileSync(
      join(run, 'history.jsonl'),
      '{"index":0,"time":1500000000,"process":0,"type":"invoke","f":"read","value":null}\n{"index":1,"ti',
    );
    symlinkSync('reg/20260101T000000Z', join(root, 'latest'));
    symlinkSync('/etc', join(run, 'escape'));
    return root;
  }

  it('lists runs with verdict and duration from the history tail', () => {
    const runs = listRuns(resultsTree());
    expect(runs).toEqual([
      {
        kind: 'run',
        path: 'reg/20260101T000000Z',
        page: 'report.html',
        name: 'reg',
        startedAt: '2026-01-01T00:00:00.000Z',
        server: 'debian:bookworm',
        workload: 'register',
        nemesis: 'kill-leader',
        verdict: false,
        durationS: 1.5,
        hasReport: false,
      },
    ]);
    const html = renderRunIndex(runs, '');
    expect(html).toContain('href="/runs/reg/20260101T000000Z/report.html"');
    expect(html).toContain('INVALID');
  });

  it('lists gates and comparisons with their runs, and survives broken entries', () => {
    const root = resultsTree();
    const gate = join(root, 'gates', 'default', '20260102T000000Z');
    mkdirSync(join(gate, 'runs', 'default.a', '20260102T000001Z'), { recursive: true });
    writeFileSync(
      join(gate, 'gate.json'),
      JSON.stringify({
        suite: 'default',
        startedAt: '2026-01-02T00:00:00.000Z',
        verdict: true,
        durationMs: 60000,
        counts: { runs: 1 },
      }),
    );
    writeFileSync(join(gate, 'runs', 'default.a', '20260102T000001Z', 'history.jsonl'), '');
    const compare = join(root, 'compares', 'fs', '20260103T000000Z');
    mkdirSync(compare, { recursive: true });
    writeFileSync(
      join(compare, 'compare.json'),
      JSON.stringify({
        name: 'fs',
        startedAt: '2026-01-03T00:00:00.000Z',
        variants: [{ variant: 'forceSync=yes' }, { variant: 'forceSync=no' }],
      }),
    );
    symlinkSync('nowhere', join(root, 'dangling'));
    symlinkSync('nowhere', join(gate, 'runs', 'latest'));
    writeFileSync(join(root, 'torn'), '{');
    const runs = listRuns(root);
    expect(runs.map((r) => [r.kind, r.path, r.page])).toEqual([
      ['compare', 'compares/fs/20260103T000000Z', 'compare.html'],
      ['run', 'gates/default/20260102T000000Z/runs/default.a/20260102T000001Z', 'report.html'],
      ['gate', 'gates/default/20260102T000000Z', 'gate.html'],
      ['run', 'reg/20260101T000000Z', 'report.html'],
    ]);
    expect(runs[2]).toMatchObject({ name: 'gate default', verdict: true, durationS: 60 });
    expect(renderRunIndex(runs, '')).toContain('href="/runs/compares/fs/20260103T000000Z/compare.html"');
  });

  it('answers only to loopback host names (no DNS rebinding)', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:9', 'localhost', '[::1]:80']) expect(hostAllowed(host)).toBe(true);
    for (const host of [undefined, 'evil.example:8080', '127.0.0.1.evil.example', '10.0.0.1:80', 'localhost.evil'])
      expect(hostAllowed(host)).toBe(false);
  });

  it('never resolves a path outside the results directory', () => {
    const root = resultsTree();
    expect(resolveRunFile(root, '/reg/20260101T000000Z/test.json')).toMatch(/test\.json$/);
    expect(resolveRunFile(root, '/../../etc/passwd')).toBeUndefined();
    expect(resolveRunFile(root, '/%2e%2e/%2e%2e/etc/passwd')).toBeUndefined();
    expect(resolveRunFile(root, '/reg/20260101T000000Z/escape/passwd')).toBeUndefined();
    expect(resolveRunFile(root, '/reg/%00')).toBeUndefined();
  });
});

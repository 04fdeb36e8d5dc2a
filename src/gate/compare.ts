// A comparison: the same seeded runs (repetition i has the same seed, so the same fault schedule, in every
// variant) against several configs or builds, summarised side by side as JSON, Markdown and HTML with charts.
import { layerFromSettingsList, resolveRunConfig, type RunLayer } from '../config.js';
import { escapeHtml, scriptSafeJson } from '../report/html.js';
import { loadReportAssets } from '../report/index.js';
import { STORE_FORMAT } from '../store/format.js';
import type { Comparison, RunRecord, VariantSummary } from '../store/gate.js';
import type { BatchRun } from './batch.js';
import { spread, type RunMetrics, type Spread } from './metrics.js';
import { htmlPage, reportLink, verdictSpan } from './outputs.js';

export { COMPARE_HTML, COMPARE_JSON, COMPARE_MD } from '../store/gate.js';

/** A measure as compared: how to get it from one run (one value, or one per fault), its unit and direction. */
interface Measure {
  key: string;
  label: string;
  unit: 'ms' | '%' | 'count';
  values(m: RunMetrics): number[];
}

/** Where the role-based measures come from, and so how fine they are. */
const ROLE_NOTE =
  "Times to a new leader and to rejoin come from each node's own srvr, polled every 200 ms (roles.jsonl).";

const MEASURES: Measure[] = [
  { key: 'lostWrites', label: 'lost writes', unit: 'count', values: (m) => [m.lostWrites] },
  {
    key: 'documentedLostWrites',
    label: 'lost writes the mode does not promise to keep (documented)',
    unit: 'count',
    values: (m) => [m.documentedLostWrites],
  },
  {
    key: 'availability',
    label: 'availability during faults (ok share)',
    unit: '%',
    values: (m) => (m.availabilityDuringFaults === null ? [] : [m.availabilityDuringFaults * 100]),
  },
  {
    key: 'timeToNewLeader',
    label: 'time to a new leader (fault → it reports leading), per leader change',
    unit: 'ms',
    values: (m) => m.timeToNewLeaderMs,
  },
  {
    key: 'timeToElect',
    label: 'time to first write after a fault, per fault',
    unit: 'ms',
    values: (m) => m.timeToElectMs,
  },
  {
    key: 'rejoin',
    label: 'time for a restarted or reconnected node to serve (heal → serving), per node',
    unit: 'ms',
    values: (m) => m.rejoinMs,
  },
  {
    key: 'timeToFirstWriteAfterHeal',
    label: 'time to first write after heal, per heal',
    unit: 'ms',
    values: (m) => m.timeToFirstWriteAfterHealMs,
  },
  {
    key: 'timeUntilAllServe',
    label: 'time until every node serves (final heal)',
    unit: 'ms',
    values: (m) => (m.timeUntilAllServeMs === null ? [] : [m.timeUntilAllServeMs]),
  },
  { key: 'latencyP50', label: 'latency p50', unit: 'ms', values: (m) => (m.latencyMs ? [m.latencyMs.p50] : []) },
  { key: 'latencyP95', label: 'latency p95', unit: 'ms', values: (m) => (m.latencyMs ? [m.latencyMs.p95] : []) },
  { key: 'latencyP99', label: 'latency p99', unit: 'ms', values: (m) => (m.latencyMs ? [m.latencyMs.p99] : []) },
];

/** A variant of a comparison: its label (the text the user wrote) and its settings. */
export interface Variant {
  label: string;
  layer: RunLayer;
}

/** `forceSync=no,tickTime=2000` or `server=debian:sid`: any setting by its YAML name; the label is the text itself. */
export function parseVariant(text: string): Variant {
  return { label: text, layer: layerFromSettingsList(text, `--variant ${text}`, true) };
}

/**
 * Every run of a comparison: each repetition has one seed in every variant (so one fault schedule), and the
 * variants are interleaved within a repetition, so a slow patch of the machine hits every variant alike.
 */
export function planComparison(
  name: string,
  base: RunLayer,
  variants: readonly Variant[],
  seeds: readonly number[],
  resultsDir: string,
): BatchRun[] {
  const runs: BatchRun[] = [];
  for (const [repetition, seed] of seeds.entries())
    for (const [i, v] of variants.entries()) {
      const config = resolveRunConfig(base, v.layer, { seed, name: `${name}.v${i + 1}`, resultsDir });
      runs.push({ group: v.label, repetition, seed, config });
    }
  return runs;
}

export function summarizeVariant(variant: string, runs: RunRecord[]): VariantSummary {
  const measured = runs.filter((r) => r.metrics !== null);
  const values: Record<string, number[][]> = {};
  const measures: Record<string, Spread | null> = {};
  for (const m of MEASURES) {
    values[m.key] = measured.map((r) => m.values(r.metrics!));
    measures[m.key] = spread(values[m.key]!.flat());
  }
  return {
    variant,
    server: runs[0]?.server ?? 'unknown',
    serverVersions: [...new Set(runs.map((r) => r.serverVersion).filter((v): v is string => v !== null))],
    verdicts: {
      valid: runs.filter((r) => r.valid === true).length,
      invalid: runs.filter((r) => r.valid === false).length,
      unknown: runs.filter((r) => r.valid === 'unknown').length,
    },
    measures,
    values,
    runs,
  };
}

export function buildComparison(
  base: Omit<Comparison, 'format' | 'measures' | 'variants' | 'durationMs'> & { startedAtMs: number },
  byVariant: Map<string, RunRecord[]>,
): Comparison {
  const { startedAtMs, ...rest } = base;
  return {
    format: STORE_FORMAT,
    ...rest,
    durationMs: Date.now() - startedAtMs,
    measures: MEASURES.map(({ key, label, unit }) => ({ key, label, unit })),
    variants: [...byVariant].map(([variant, runs]) => summarizeVariant(variant, runs)),
  };
}

function formatValue(v: number, unit: string): string {
  if (unit === '%') return `${v.toFixed(1)}%`;
  if (unit === 'count') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

/** "median [min–max] ±sd (n)": the middle, the range and the spread over repetitions or faults. */
export function formatSpread(s: Spread | null, unit: string): string {
  if (!s) return '–';
  if (s.n === 1) return formatValue(s.median, unit);
  return `${formatValue(s.median, unit)} [${formatValue(s.min, unit)}–${formatValue(s.max, unit)}] ±${formatValue(s.sd, unit)} (n=${s.n})`;
}

function verdictCell(v: VariantSummary): string {
  return `${v.verdicts.valid} valid, ${v.verdicts.invalid} invalid, ${v.verdicts.unknown} unknown`;
}

export function renderCompareMarkdown(c: Comparison): string {
  const head = `| measure | ${c.variants.map((v) => `\`${v.variant}\``).join(' | ')} |`;
  const sep = `|---|${c.variants.map(() => '---').join('|')}|`;
  const rows = [
    `| server | ${c.variants.map((v) => `${v.server} (${v.serverVersions.join(', ') || '?'})`).join(' | ')} |`,
    `| verdicts | ${c.variants.map(verdictCell).join(' | ')} |`,
    ...c.measures.map(
      (m) => `| ${m.label} | ${c.variants.map((v) => formatSpread(v.measures[m.key] ?? null, m.unit)).join(' | ')} |`,
    ),
  ];
  return [
    `# Comparison ${c.name}`,
    '',
    `${c.repetitions} repetitions (seeds ${c.seeds.join(', ')}; the same seed gives the same fault schedule in every variant); ` +
      `${c.schedule.workload}, nemesis ${c.schedule.nemesis.join(', ')} every ${c.schedule.nemesisIntervalS} s for ${c.schedule.timeLimitS} s. ` +
      `Cells: median [min–max] ±standard deviation (n values). ${ROLE_NOTE}`,
    '',
    head,
    sep,
    ...rows,
    '',
  ].join('\n');
}

// Dot plots: x is the variant (with a little jitter per repetition), y the value; one uPlot series per variant.
const CHART_SCRIPT = `
const data = JSON.parse(document.getElementById('compare-data').textContent);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
for (const m of data.measures) {
  const el = document.getElementById('chart-' + m.key);
  const points = [];
  data.variants.forEach((v, vi) => (v.values[m.key] || []).forEach((run, ri) => run.forEach((y) => points.push([vi + 0.15 * (ri - (v.values[m.key].length - 1) / 2) / Math.max(1, v.values[m.key].length), y, vi]))));
  if (!points.length) { el.textContent = 'no values'; continue; }
  points.sort((a, b) => a[0] - b[0]);
  const xs = points.map((p) => p[0]);
  const series = data.variants.map((v, vi) => points.map((p) => (p[2] === vi ? p[1] : null)));
  new uPlot({
    width: 560, height: 240, title: m.label + ' (' + m.unit + ')',
    scales: { x: { time: false, range: [-0.5, data.variants.length - 0.5] } },
    axes: [{ values: (u, splits) => splits.map((s) => (Number.isInteger(s) && data.variants[s] ? data.variants[s].variant : '')), splits: () => data.variants.map((_, i) => i) }, {}],
    series: [{}, ...data.variants.map((v, vi) => ({ label: v.variant, stroke: colors[vi % colors.length], paths: () => null, points: { show: true, size: 8, fill: colors[vi % colors.length] } }))],
  }, [xs, ...series], el);
}`;

export function renderCompareHtml(c: Comparison, pageDir: string): string {
  const assets = loadReportAssets();
  const th = c.variants.map((v) => `<th>${escapeHtml(v.variant)}</th>`).join('');
  const rows = [
    `<tr><td>server</td>${c.variants.map((v) => `<td>${escapeHtml(v.server)}<br><span class="muted">${escapeHtml(v.serverVersions.join(', ') || 'version unknown')}</span></td>`).join('')}</tr>`,
    `<tr><td>verdicts</td>${c.variants.map((v) => `<td>${escapeHtml(verdictCell(v))}</td>`).join('')}</tr>`,
    ...c.measures.map(
      (m) =>
        `<tr><td>${escapeHtml(m.label)}</td>${c.variants.map((v) => `<td>${escapeHtml(formatSpread(v.measures[m.key] ?? null, m.unit))}</td>`).join('')}</tr>`,
    ),
    `<tr><td>runs</td>${c.variants.map((v) => `<td>${v.runs.map((r) => `#${r.repetition + 1} ${verdictSpan(r.valid)} ${reportLink(r, pageDir)}`).join('<br>')}</td>`).join('')}</tr>`,
  ].join('\n');
  const chartData = {
    measures: c.measures,
    variants: c.variants.map((v) => ({ variant: v.variant, values: v.values })),
  };
  return htmlPage(
    `compare ${c.name}`,
    `
<h1>Comparison ${escapeHtml(c.name)}</h1>
<p>${c.repetitions} repetitions (seeds ${c.seeds.join(', ')}; a seed gives the same fault schedule in every variant); ${escapeHtml(c.schedule.workload)},
nemesis ${escapeHtml(c.schedule.nemesis.join(', '))} every ${c.schedule.nemesisIntervalS} s for ${c.schedule.timeLimitS} s. Cells: median [min–max] ±sd (n values). ${escapeHtml(ROLE_NOTE)}</p>
<table><thead><tr><th>measure</th>${th}</tr></thead><tbody>${rows}</tbody></table>
<h2>Distributions</h2>
<div style="display:flex;flex-wrap:wrap;gap:12px">${c.measures.map((m) => `<div id="chart-${m.key}"></div>`).join('')}</div>
<script type="application/json" id="compare-data">${scriptSafeJson(chartData)}</script>
<script>${assets.uplotJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${CHART_SCRIPT}</script>`,
    `<style>${assets.uplotCss}</style>`,
  );
}

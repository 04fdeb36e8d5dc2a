// Renders report data into one self-contained HTML page: the text sections are rendered here, the canvas
// history graph and the plots by the inlined client script (src/report/assets/report-client.js) from the
// inlined JSON data. Nothing is fetched at view time.
import type { ReportData } from './data.js';

export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
  clientJs: string;
  css: string;
  /** Draws the coordination view (holds, terms, watch notifications). */
  coordinationJs?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON that can sit inside a <script> element: no "</script>", no "<!--". */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline script/style text must not close its own element. */
function inlineSafe(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
}

export function verdictText(valid: ReportData['verdict']): string {
  return valid === true ? 'VALID' : valid === false ? 'INVALID' : 'UNKNOWN';
}

function verdictClass(valid: ReportData['verdict']): string {
  return valid === true ? 'valid' : valid === false ? 'invalid' : 'unknown';
}

function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

const MAX_GENERIC_ROWS = 500;

/** Renders any JSON value readably: arrays of objects as tables, objects as key/value lists. */
export function renderValue(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return '<span class="muted">none</span>';
  if (typeof value !== 'object') return escapeHtml(String(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return '<span class="muted">none</span>';
    const shown = value.slice(0, MAX_GENERIC_ROWS);
    const more = value.length > shown.length ? `<p class="muted">… ${value.length - shown.length} more</p>` : '';
    const objects = shown.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
    if (objects && depth < 3) {
      const columns = [...new Set(shown.flatMap((v) => Object.keys(v as object)))];
      return (
        `<p class="muted">${value.length} item${value.length === 1 ? '' : 's'}</p>` +
        table(
          columns,
          shown.map((v) => columns.map((c) => renderValue((v as Record<string, unknown>)[c], depth + 1))),
          'data',
        ) +
        more
      );
    }
    return `<code>${escapeHtml(shown.map((v) => JSON.stringify(v)).join(', '))}</code>${more}`;
  }
  if (depth >= 3) return `<code>${escapeHtml(JSON.stringify(value))}</code>`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `<dl class="kv">${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${renderValue(v, depth + 1)}</dd>`).join('')}</dl>`;
}

function summarySection(data: ReportData): string {
  const checkers = data.checkers.map((c) => [
    escapeHtml(c.name),
    `<span class="badge ${verdictClass(c.valid)}">${verdictText(c.valid)}</span>`,
    escapeHtml(c.details),
  ]);
  const stats = Object.entries(data.stats)
    .map(([k, v]) => `<span class="stat"><b>${v}</b> ${escapeHtml(k)}</span>`)
    .join('');
  const diff =
    data.configDiff.length === 0
      ? '<p class="muted">Every setting is the default.</p>'
      : table(
          ['setting', 'default', 'this run'],
          data.configDiff.map((r) => r.map((c) => `<code>${escapeHtml(c)}</code>`)),
        );
  const leaders =
    data.leaderSequence.length > 0 ? escapeHtml(data.leaderSequence.join(' → ')) : '<span class="muted">unknown</span>';
  return `<section id="summary">
  <h1><span class="badge big ${verdictClass(data.verdict)}" id="verdict">${verdictText(data.verdict)}</span> ${escapeHtml(data.title)}</h1>
  <div class="stats">${stats}</div>
  <div class="columns">
    <div>${table(
      ['', ''],
      data.summary.map(([k, v]) => [escapeHtml(k), escapeHtml(v)]),
      'summary',
    )}
      <p>Leaders: ${leaders}</p></div>
    <div><h3>Checkers</h3>${checkers.length ? table(['checker', 'verdict', 'details'], checkers, 'checkers') : '<p class="muted">No checker ran (the run was aborted or crashed).</p>'}
      <h3>Configuration that differs from the defaults</h3>${diff}</div>
  </div>
  <h3>Reproduce</h3><pre class="command" id="reproduce">${escapeHtml(data.reproduce)}</pre>${
    data.shrunk
      ? `<p id="shrunk">Shrunk scenario: <a href="${escapeHtml(data.shrunk.href)}">${escapeHtml(data.shrunk.href)}</a> (${escapeHtml(data.shrunk.summary)})</p>`
      : ''
  }
</section>`;
}

function historySection(data: ReportData): string {
  const faults = data.faults.map((b, i) => [
    String(i + 1),
    escapeHtml(b.name),
    `${(b.start / 1000).toFixed(2)} s`,
    `${(b.end / 1000).toFixed(2)} s`,
    `<code>${escapeHtml(b.detail)}</code>`,
  ]);
  return `<section id="history">
  <h2>History</h2>
  <p class="muted">${data.ops.start.length} operations by ${data.lanes.length} processes; one lane per process, grouped by node.
  Scroll to zoom, drag to pan, double-click to reset; hover an operation for details.
  <span class="legend"><i class="ok"></i>ok <i class="fail"></i>fail <i class="info"></i>info (unknown outcome) <i class="fault"></i>fault <i class="leader"></i>leader change;
  role strip above each node's lanes: <i class="role-leader"></i>leader <i class="role-follower"></i>follower <i class="role-not-serving"></i>not serving <i class="role-down"></i>down (no answer)</span></p>
  <div class="timeline" id="timeline"><canvas></canvas><div class="tooltip" hidden></div></div>
  <h3>Faults</h3>${faults.length ? table(['#', 'fault', 'from', 'to', 'what the nemesis did'], faults, 'faults') : '<p class="muted">No faults were injected.</p>'}
</section>`;
}

function counterexampleSection(data: ReportData): string {
  if (data.counterexamples.length === 0) return '';
  const parts = data.counterexamples.map((c, i) => {
    const rows = c.unplaced.map((u) => {
      const row = u.row;
      return [
        `#${data.ops.index[row]}`,
        String(data.lanes[data.ops.lane[row]!]?.process ?? ''),
        escapeHtml(u.description),
        `${(data.ops.start[row]! / 1000).toFixed(3)} s`,
        data.ops.end[row]! < 0 ? 'never' : `${(data.ops.end[row]! / 1000).toFixed(3)} s`,
      ];
    });
    return `<div class="counterexample" data-index="${i}">
    <h3>${c.key ? `Key <code>${escapeHtml(c.key)}</code>: ` : ''}not linearizable</h3>
    ${
      c.reason
        ? `<p><b>${escapeHtml(c.reason)}</b></p>
    <p>${
      c.prefixLength === 0
        ? `ZooKeeper's zxid order puts no operation before these; the register starts out holding`
        : `ZooKeeper's zxid order puts <b>${c.prefixLength}</b> operations before these (the last ${c.prefix.length} are drawn, numbered in that order);
    after them the register holds`
    } <code class="state">${escapeHtml(c.stateBefore)}</code>, and these operations contradict that order:</p>`
        : `<p>${
            c.prefixLength === 0
              ? `No operation can be linearized first: the model starts in state`
              : `The longest linearizable prefix has <b>${c.prefixLength}</b> operations (the last ${c.prefix.length} are drawn, numbered in linearization order).
    After it the model state is`
          } <code class="state">${escapeHtml(c.stateBefore)}</code>, and none of these operations can come ${c.prefixLength === 0 ? 'first' : 'next'}:</p>`
    }
    ${table(['op', 'process', 'operation', 'invoked', 'completed'], rows, 'unplaced')}
    <div class="timeline cx" id="cx-${i}"><canvas></canvas><div class="tooltip" hidden></div></div>
    <button type="button" class="show-in-history" data-index="${i}">Show in the history graph</button>
  </div>`;
  });
  return `<section id="counterexample"><h2>Counterexample</h2>${parts.join('')}</section>`;
}

function plotsSection(data: ReportData): string {
  const q = data.quantiles.map((r) => [
    escapeHtml(r.f),
    escapeHtml(r.outcome),
    String(r.count),
    ...[r.p50, r.p90, r.p99, r.max].map((v) => `${v.toFixed(1)}`),
  ]);
  const recovery = data.recovery.length
    ? table(
        ['measure', 'time'],
        data.recovery.map(([k, v]) => [escapeHtml(k), escapeHtml(v)]),
      )
    : '<p class="muted">No recovery was measured.</p>';
  return `<section id="plots">
  <h2>Latency and throughput</h2>
  <div class="plot" id="latency-plot"></div>
  <div class="plot" id="throughput-plot"></div>
  <div class="columns"><div><h3>Latency quantiles (ms)</h3>${q.length ? table(['f', 'outcome', 'count', 'p50', 'p90', 'p99', 'max'], q, 'quantiles') : '<p class="muted">No completed operations.</p>'}</div>
  <div><h3>Recovery after the final heal</h3>${recovery}</div></div>
</section>`;
}

/** Clock offsets read back from the nodes, and each node's membership as bands (issue 16); absent when unused. */
function clocksAndMembershipSection(data: ReportData): string {
  if (data.clocks.length === 0 && data.membership.length === 0) return '';
  const clocks = data.clocks.length
    ? `<h3>Clocks</h3><p class="muted">Each node's server clock minus true time, as the node's JVM reported it (wall clock:
  solid; monotonic clock, System.nanoTime: dashed), read at every clock fault and heal.</p><div class="plot" id="clock-plot"></div>`
    : '';
  const versions = [...new Set(data.membership.flatMap((m) => m.spans.map((s) => s[3])))];
  const membership = data.membership.length
    ? `<h3>Membership</h3><p class="muted">Each node's place in the ensemble's configuration over time, from the configurations
  the membership faults read before and after each reconfig: <span class="legend"><i class="member-participant"></i>voter (participant)
  <i class="member-observer"></i>observer</span>; a label marks each new configuration version (${versions.length} in all). Fault bands behind.</p>
  <div class="membership" id="membership-chart"><canvas></canvas></div>`
    : '';
  return `<section id="clocks-membership"><h2>Clocks and membership</h2>${clocks}${membership}</section>`;
}

function dataLossSection(data: ReportData): string {
  if (data.dataLoss.length === 0) return '';
  return `<section id="data-loss"><h2>Data loss</h2>${data.dataLoss.map((d) => `<h3>${escapeHtml(d.title)}</h3>${renderValue(d.value)}`).join('')}</section>`;
}

function logsSection(data: ReportData, logFiles: { node: string; path: string }[]): string {
  const links = logFiles
    .map((l) => `<a href="${escapeHtml(l.path)}">${escapeHtml(l.node)}: ${escapeHtml(l.path)}</a>`)
    .join(' · ');
  const excerpts = data.logs
    .map((x) => {
      const band = data.faults[x.fault];
      return `<details open><summary>fault ${x.fault + 1} (${escapeHtml(band?.name ?? '')}) on ${escapeHtml(x.node)}: ${x.lines.length} line${x.lines.length === 1 ? '' : 's'} — <a href="${escapeHtml(x.path)}">full log</a></summary><pre class="log">${escapeHtml(x.lines.join('\n'))}</pre></details>`;
    })
    .join('');
  const findings = data.logFindings.length
    ? `<table class="log-findings"><tr><th>time</th><th>node</th><th>pattern</th><th>line</th><th>what the server said</th></tr>${data.logFindings
        .map(
          (f) =>
            `<tr class="${f.documented ? 'documented' : 'finding'}"><td>${f.time === null ? '—' : `${(f.time / 1000).toFixed(1)} s`}</td><td>${escapeHtml(f.node)}</td><td>${escapeHtml(f.pattern)}${f.documented ? ' (documented)' : ''}</td><td>${f.line}</td><td><code>${escapeHtml(f.text)}</code></td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">The log oracle found none of ZooKeeper\'s signs of trouble in any server log.</p>';
  const unrecovered = data.unrecovered
    .map(
      (u) =>
        `<p class="${u.documented ? 'documented' : 'finding'}"><b>node-did-not-recover${u.documented ? ' (documented)' : ''}</b>: ${escapeHtml(u.description)}</p>`,
    )
    .join('');
  return `<section id="logs"><h2>Node logs</h2>
  <h3>Log oracle</h3>${unrecovered}${findings}
  <p class="muted">WARN and ERROR lines from 2 s before each fault to 5 s after it healed.${data.logNote ? ` ${escapeHtml(data.logNote)}` : ''}</p>
  ${excerpts}<p>Full logs: ${links || '<span class="muted">none found</span>'} · <a href="harness.log">harness.log</a> · <a href="history.jsonl">history.jsonl</a> · <a href="results.json">results.json</a> · <a href="test.json">test.json</a></p></section>`;
}

/** Holds and terms as bands per process, or watch notifications as ticks per session (drawn by coordination-client.js). */
function coordinationSection(data: ReportData): string {
  const view = data.coordination;
  if (!view) return '';
  const title = view.kind === 'watch' ? 'Watch notifications' : view.kind === 'lock' ? 'Lock holds' : 'Leadership';
  return `<section id="coordination">
  <h2>${title}</h2>
  <p class="note" id="coordination-caption">${escapeHtml(view.caption)}</p>
  <div class="timeline" id="coordination-view"><canvas></canvas></div>
  <p class="note" id="coordination-legend"></p>
</section>`;
}

export function renderReportHtml(
  data: ReportData,
  assets: ReportAssets,
  logFiles: { node: string; path: string }[],
): string {
  const nav = [
    ['summary', 'Summary'],
    ['history', 'History'],
    ...(data.counterexamples.length ? [['counterexample', 'Counterexample']] : []),
    ...(data.coordination ? [['coordination', data.coordination.kind === 'watch' ? 'Watches' : 'Holds']] : []),
    ['plots', 'Plots'],
    ...(data.clocks.length || data.membership.length ? [['clocks-membership', 'Clocks & membership']] : []),
    ...(data.dataLoss.length ? [['data-loss', 'Data loss']] : []),
    ['logs', 'Logs'],
  ]
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'">
<title>${verdictText(data.verdict)} · ${escapeHtml(data.title)} · Faultline</title>
<style>${inlineSafe(assets.uplotCss, 'style')}</style>
<style>${inlineSafe(assets.css, 'style')}</style>
</head><body>
<nav><b>Faultline</b>${nav}</nav>
<main>
${summarySection(data)}
${historySection(data)}
${counterexampleSection(data)}
${coordinationSection(data)}
${plotsSection(data)}
${clocksAndMembershipSection(data)}
${dataLossSection(data)}
${logsSection(data, logFiles)}
</main>
<script type="application/json" id="report-data">${scriptSafeJson(data)}</script>
<script>${inlineSafe(assets.uplotJs, 'script')}</script>
<script>${inlineSafe(assets.clientJs, 'script')}</script>
${assets.coordinationJs && data.coordination ? `<script>${inlineSafe(assets.coordinationJs, 'script')}</script>` : ''}
</body></html>
`;
}

// explore.html: the counts, rates and every finding with its run and shrunk scenario, as one static page.
import { relative } from 'node:path';
import type { ExploreRecord, Finding } from '../store/explore.js';

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Findings as HTML list items; links are made relative to `from` (the page's directory). Shared with gate.html. */
export function renderFindings(findings: readonly Finding[], from: string): string {
  if (findings.length === 0) return '<p>No invalid trial.</p>';
  const link = (path: string, text: string): string => `<a href="${esc(relative(from, path))}">${esc(text)}</a>`;
  return `<ol>${findings
    .map((f) => {
      const s = f.shrink;
      const shrunk = s
        ? `<p>Shrunk: ${link(s.scenario, s.recordedReproduces === false ? `not shrunk: did not fail on every replay (${s.steps} steps as recorded)` : `${s.steps} steps on ${s.nodes} nodes`)}; reproduces ${s.reproduction ? `${s.reproduction.failed}/${s.reproduction.of} on ${esc(s.reproduction.server)}` : 'not measured'}${s.against ? `, ${s.against.failed}/${s.against.of} on ${esc(s.against.server)}` : ''}</p>`
        : `<p>Not shrunk${f.shrinkError ? `: ${esc(f.shrinkError)}` : ''}.</p>`;
      return `<li><p>Trial ${f.trial}: ${f.runDir ? link(`${f.runDir}/report.html`, f.runDir) : 'no run dir'}</p><ul>${f.anomalies
        .slice(0, 10)
        .map((a) => `<li>${esc(a)}</li>`)
        .join('')}${f.anomalies.length > 10 ? `<li>… ${f.anomalies.length - 10} more</li>` : ''}</ul>${shrunk}</li>`;
    })
    .join('')}</ol>`;
}

export function renderExploreHtml(record: ExploreRecord, from: string): string {
  const c = record.counts;
  const ttf =
    record.timeToFirstFailureMs === null ? 'none' : `${(record.timeToFirstFailureMs / 60_000).toFixed(1)} min`;
  const rows = record.trials
    .map(
      (t) =>
        `<tr><td>${t.index}</td><td>${t.seed}</td><td>${esc(t.workload)}</td><td>${esc(t.mix)}</td><td>${t.nodes}</td><td>${t.valid === true ? 'valid' : t.valid === false ? '<b>INVALID</b>' : 'unknown'}</td><td>${Math.round(t.durationMs / 1000)} s</td><td>${t.runDir ? `<a href="${esc(relative(from, `${t.runDir}/report.html`))}">report</a>` : esc(t.error ?? '')}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>explore ${esc(record.server)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}</style></head>
<body><h1>Explore: ${esc(record.server)}, seed ${record.seed}</h1>
<p>${c.trials} trials: ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown in ${(record.durationMs / 60_000).toFixed(1)} min; ${record.trialsPerHour} trials per hour; time to first failure: ${ttf}${record.aborted ? `; stopped early (${esc(record.aborted)})` : ''}.</p>
<h2>Findings</h2>${renderFindings(record.findings, from)}
<h2>Trials</h2><table><tr><th>#</th><th>seed</th><th>workload</th><th>faults</th><th>nodes</th><th>verdict</th><th>time</th><th>run</th></tr>${rows}</table>
</body></html>`;
}

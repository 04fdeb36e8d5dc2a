// What a gate writes: gate.json (every run and the verdict), JUnit XML (one test case per run, for CI) and an
// HTML summary linking each run's report.html. The exit code follows the verdicts.
import { relative } from 'node:path';
import { ExitCode, mergeValidity, type Validity } from '../errors.js';
import { escapeHtml, verdictText } from '../report/html.js';
import { REPORT_FILE } from '../report/index.js';
import { renderFindings } from '../explore/html.js';
import { STORE_FORMAT } from '../store/format.js';
import { GATE_HTML } from '../store/gate.js';
import type { GateResult, RunRecord } from '../store/gate.js';

export { GATE_HTML, GATE_JSON, GATE_JUNIT } from '../store/gate.js';

export function summarizeGate(
  suite: string,
  server: string | null,
  startedAt: Date,
  runs: RunRecord[],
  explores: GateResult['explores'] = [],
): GateResult {
  // An explore counts as invalid with an invalid trial, unknown with unknown trials only (or none at all).
  const exploreVerdicts = explores.map((e): GateResult['verdict'] =>
    e.record.counts.invalid > 0
      ? false
      : e.record.counts.unknown > 0 || e.record.counts.trials === 0
        ? 'unknown'
        : true,
  );
  const verdicts = [...runs.map((r) => r.valid), ...exploreVerdicts];
  return {
    format: STORE_FORMAT,
    suite,
    server,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    verdict: verdicts.length ? mergeValidity(verdicts) : 'unknown',
    counts: {
      runs: runs.length,
      valid: runs.filter((r) => r.valid === true).length,
      invalid: runs.filter((r) => r.valid === false).length,
      unknown: runs.filter((r) => r.valid === 'unknown').length,
      errors: runs.filter((r) => r.error !== undefined).length,
    },
    runs,
    explores,
  };
}

/** A gate's verdict and counts in one line: PASS/FAIL/UNDECIDED, its runs, and each explore's trials. */
export function gateSummaryLine(gate: GateResult): string {
  const c = gate.counts;
  const verdict = gate.verdict === true ? 'PASS' : gate.verdict === false ? 'FAIL' : 'UNDECIDED';
  const explores = gate.explores.map((e) => {
    const t = e.record.counts;
    return `explore ${e.test}: ${t.invalid} invalid, ${t.unknown} unknown of ${t.trials} trials${e.record.aborted ? ` (${e.record.aborted})` : ''}`;
  });
  return [
    `${verdict}: ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown of ${c.runs} runs`,
    ...explores,
  ].join('; ');
}

/** 0 when every run is valid, 1 when any is invalid, 2 when none is invalid but some are unknown. */
export function gateExitCode(gate: Pick<GateResult, 'verdict'>): number {
  return gate.verdict === true ? ExitCode.valid : gate.verdict === false ? ExitCode.invalid : ExitCode.unknown;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** XML text: escaped, and without the control characters XML 1.0 forbids. */
export function xmlText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

export function runCaseName(run: RunRecord): string {
  return `${run.group} #${run.repetition + 1} (seed ${run.seed})`;
}

/**
 * JUnit XML as CI systems read it: one testsuite, one testcase per run. An invalid run is a <failure> whose
 * text lists the anomalies; an unknown one is an <error> (harness error) or <skipped> (undecided checkers),
 * so it neither passes nor counts as a server bug.
 */
export function renderJUnit(gate: GateResult): string {
  const cases = gate.runs.map((run) => {
    const attrs = `name="${xmlText(runCaseName(run))}" classname="${xmlText(`faultline.${gate.suite}.${run.group}`)}" time="${(run.durationMs / 1000).toFixed(3)}"`;
    const props = [
      `server=${run.server}`,
      `version=${run.serverVersion ?? 'unknown'}`,
      `run=${run.runDir ?? 'none'}`,
      ...(run.shard !== undefined ? [`shard=${run.shard}/${gate.merged?.count ?? gate.shard?.count ?? '?'}`] : []),
    ].join('\n');
    let body = '';
    if (run.valid === false) {
      const text = run.anomalies.length ? run.anomalies.join('\n') : 'invalid (no anomaly detail)';
      body = `<failure message="${xmlText(`${run.anomalies.length} anomal${run.anomalies.length === 1 ? 'y' : 'ies'}`)}" type="invalid">${xmlText(text)}</failure>`;
    } else if (run.valid === 'unknown') {
      body =
        run.error !== undefined
          ? `<error message="${xmlText(run.error.split('\n')[0]!)}" type="harness">${xmlText(run.error)}</error>`
          : `<skipped message="${xmlText(`verdict unknown: ${run.undecided.join('; ') || 'checkers undecided'}`)}"/>`;
    }
    return `    <testcase ${attrs}>${body}<system-out>${xmlText(props)}</system-out></testcase>`;
  });
  // Each explore is a test case too, so a CI tool reading only junit.xml sees a failing explore fail the gate.
  const exploreCases = gate.explores.map((e) => {
    const c = e.record.counts;
    const attrs = `name="${xmlText(`${e.test} (explore, seed ${e.record.seed})`)}" classname="${xmlText(`faultline.${gate.suite}.${e.test}`)}" time="${(e.record.durationMs / 1000).toFixed(3)}"`;
    const props = [
      `server=${e.record.server}`,
      `trials=${c.trials} valid=${c.valid} invalid=${c.invalid} unknown=${c.unknown}`,
      `explore=${e.dir || 'none'}`,
      ...(e.shard !== undefined ? [`shard=${e.shard}/${gate.merged?.count ?? '?'}`] : []),
    ].join('\n');
    let body = '';
    let kind: 'passed' | 'failure' | 'error' | 'skipped' = 'passed';
    if (c.invalid > 0) {
      kind = 'failure';
      const text = e.record.findings
        .map(
          (f) =>
            `trial ${f.trial + 1}: ${f.runDir ?? 'no run dir'}\n${f.anomalies.join('\n')}${f.shrink ? `\nshrunk to ${f.shrink.steps} steps: ${f.shrink.scenario}` : ''}`,
        )
        .join('\n\n');
      body = `<failure message="${xmlText(`${c.invalid} invalid of ${c.trials} trials`)}" type="invalid">${xmlText(text)}</failure>`;
    } else if (c.trials === 0 || e.record.aborted !== undefined) {
      kind = 'error';
      const why = e.record.aborted ?? 'no trial ran';
      body = `<error message="${xmlText(why.split('\n')[0]!)}" type="harness">${xmlText(why)}</error>`;
    } else if (c.unknown > 0) {
      kind = 'skipped';
      body = `<skipped message="${xmlText(`${c.unknown} of ${c.trials} trials undecided`)}"/>`;
    }
    return { kind, xml: `    <testcase ${attrs}>${body}<system-out>${xmlText(props)}</system-out></testcase>` };
  });
  const c = gate.counts;
  const explored = (kind: string): number => exploreCases.filter((e) => e.kind === kind).length;
  const runErrors = gate.runs.filter((r) => r.valid === 'unknown' && r.error !== undefined).length;
  const tests = c.runs + exploreCases.length;
  const failures = c.invalid + explored('failure');
  const errors = runErrors + explored('error');
  const skipped = c.unknown - runErrors + explored('skipped');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // (The schema CI tools follow has no skipped count on <testsuites>: only on each <testsuite>.)
    `<testsuites name="faultline" tests="${tests}" failures="${failures}" errors="${errors}" time="${(gate.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${xmlText(gate.suite)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(gate.durationMs / 1000).toFixed(3)}" timestamp="${gate.startedAt.replace(/\.\d+Z$/, '')}">`,
    ...cases,
    ...exploreCases.map((e) => e.xml),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const PAGE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.valid{color:#17702a;font-weight:600}.invalid{color:#b00020;font-weight:600}.unknown{color:#a05a00;font-weight:600}.muted{color:#777}ul{margin:0;padding-left:1.2em}`;

export function verdictSpan(valid: Validity): string {
  const cls = valid === true ? 'valid' : valid === false ? 'invalid' : 'unknown';
  return `<span class="${cls}">${verdictText(valid)}</span>`;
}

/** Where each run's report.html is, relative to the page, so the summary works when the tree is moved. */
export function reportLink(run: RunRecord, pageDir: string): string {
  if (!run.runDir) return '<span class="muted">no run dir</span>';
  const href = relative(pageDir, `${run.runDir}/${REPORT_FILE}`).split('\\').join('/');
  return `<a href="${escapeHtml(href)}">report</a>`;
}

export function htmlPage(title: string, body: string, head = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PAGE_CSS}</style>${head}</head><body>${body}</body></html>\n`;
}

/** Where a merged run's shard gate.html is, relative to the page; the shard's number when it has none. */
function shardLink(gate: GateResult, run: RunRecord, pageDir: string): string {
  if (run.shard === undefined) return '';
  const label = `${run.shard}/${gate.merged?.count ?? '?'}`;
  const dir = gate.merged?.shards.find((s) => s.index === run.shard)?.gateDir;
  if (!dir) return `<span class="unknown">${escapeHtml(label)} missing</span>`;
  const href = relative(pageDir, `${dir}/${GATE_HTML}`).split('\\').join('/');
  return `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
}

function shardsLine(gate: GateResult): string {
  if (gate.shard)
    return `<p>Shard ${gate.shard.index} of ${gate.shard.count} (plan ${escapeHtml(gate.shard.plan)}).</p>`;
  if (!gate.merged) return '';
  const m = gate.merged;
  const parts = m.shards.map(
    (s) =>
      `${s.index}/${m.count}: ${s.gateDir === null ? '<span class="unknown">missing</span>' : `${verdictSpan(s.verdict)}, ${s.runs} runs${s.missing ? `, <span class="unknown">${s.missing} not run</span>` : ''}, ${((s.durationMs ?? 0) / 60_000).toFixed(1)} min`}`,
  );
  return `<p>Merged from ${m.count} shards (plan ${escapeHtml(m.plan)}, Faultline ${escapeHtml(m.harness.version)} at ${escapeHtml(m.harness.commit ?? 'unknown commit')}): ${parts.join('; ')}.</p>`;
}

export function renderGateHtml(gate: GateResult, pageDir: string): string {
  const c = gate.counts;
  const sharded = gate.merged !== undefined;
  const rows = gate.runs
    .map((run) => {
      const notes = [
        ...run.anomalies,
        ...(run.valid === 'unknown' ? run.undecided : []),
        ...(run.error ? [`error: ${run.error}`] : []),
      ];
      return (
        `<tr><td>${escapeHtml(run.group)}</td><td>${run.repetition + 1}</td><td>${run.seed}</td><td>${verdictSpan(run.valid)}</td>` +
        `<td>${escapeHtml(run.server)}<br><span class="muted">${escapeHtml(run.serverVersion ?? 'version unknown')}</span></td>` +
        `<td>${(run.durationMs / 1000).toFixed(0)} s</td><td>${reportLink(run, pageDir)}</td>` +
        (sharded ? `<td>${shardLink(gate, run, pageDir)}</td>` : '') +
        `<td>${
          notes.length
            ? `<ul>${notes
                .slice(0, 20)
                .map((n) => `<li>${escapeHtml(n)}</li>`)
                .join(
                  '',
                )}${notes.length > 20 ? `<li class="muted">${notes.length - 20} more in gate.json</li>` : ''}</ul>`
            : ''
        }</td></tr>`
      );
    })
    .join('\n');
  return htmlPage(
    `gate ${gate.suite}: ${verdictText(gate.verdict)}`,
    `
<h1>Gate ${escapeHtml(gate.suite)}: ${verdictSpan(gate.verdict)}</h1>
<p>${c.runs} runs: ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown${c.errors ? ` (${c.errors} harness errors)` : ''}; server ${escapeHtml(gate.server ?? 'per test')};
started ${escapeHtml(gate.startedAt)}, took ${(gate.durationMs / 60_000).toFixed(1)} min.</p>
${shardsLine(gate)}
<table><thead><tr><th>test</th><th>rep</th><th>seed</th><th>verdict</th><th>server</th><th>time</th><th>run</th>${sharded ? '<th>shard</th>' : ''}<th>anomalies / notes</th></tr></thead><tbody>
${rows}
</tbody></table>${exploreSection(gate, pageDir)}`,
  );
}

/** The suite's explores: counts, and every finding with its run and shrunk scenario. */
function exploreSection(gate: GateResult, pageDir: string): string {
  if (gate.explores.length === 0) return '';
  return `<h2>Explore findings</h2>${gate.explores
    .map((e) => {
      const c = e.record.counts;
      return `<h3>${escapeHtml(e.test)}</h3><p>${c.trials} trials: ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown in ${(e.record.durationMs / 60_000).toFixed(1)} min (<a href="${escapeHtml(relative(pageDir, `${e.dir}/explore.html`))}">explore.html</a>)</p>${renderFindings(e.record.findings, pageDir)}`;
    })
    .join('')}`;
}

// The results browser behind `faultline serve`: an index of every run under results/ and read-only access to
// the run directories' files, on loopback only. A run without report.html gets one rendered in memory.
import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { COMPARE_HTML, COMPARE_JSON, GATE_HTML, GATE_JSON } from '../store/gate.js';
import { HISTORY_FILE, LATEST_LINK, RESULTS_FILE, TEST_FILE } from '../store/index.js';
import { escapeHtml, renderReportHtml, verdictText } from './html.js';
import { loadReportAssets, loadReportData, nodeLogFiles, REPORT_FILE } from './index.js';

/** One row of the index: a run, a gate or a comparison. */
export interface RunSummary {
  kind: 'run' | 'gate' | 'compare';
  /** Path of its directory relative to the results root, with "/" separators. */
  path: string;
  /** The page the row links to, inside that directory. */
  page: string;
  name: string;
  startedAt: string;
  server: string;
  workload: string;
  nemesis: string;
  verdict: true | false | 'unknown';
  /** Seconds covered by the history (a run) or the whole gate; null when not known. */
  durationS: number | null;
  hasReport: boolean;
}

function readJsonQuiet(path: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown): string => (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : '');
const verdictOf = (v: unknown): RunSummary['verdict'] => (v === true || v === false ? v : 'unknown');

/** A run directory's name (20260102T000001Z) as an ISO time, so runs without test.json sort among the others. */
function stampTime(stamp: string): string {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(stamp);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : stamp;
}

/** A shard's place, or what a merged gate was merged from, for the gate's name in the index. */
function gateShards(gate: Record<string, unknown>): string {
  const shard = gate.shard as { index?: unknown; count?: unknown } | undefined;
  const num = (v: unknown): string => (typeof v === 'number' ? String(v) : '?');
  if (shard) return ` (shard ${num(shard.index)}/${num(shard.count)})`;
  const merged = gate.merged as { count?: unknown; shards?: { gateDir?: unknown }[] } | undefined;
  if (!merged) return '';
  const missing = Array.isArray(merged.shards) ? merged.shards.filter((s) => s.gateDir === null).length : 0;
  return ` (merged from ${num(merged.count)} shards${missing ? `, ${missing} missing` : ''})`;
}

/** What the index says of one directory, if it is a run, a gate or a comparison (any format: rows, not verdicts). */
function summarize(dir: string, path: string): RunSummary | undefined {
  const gate = readJsonQuiet(join(dir, GATE_JSON));
  if (gate) {
    const counts = (gate.counts ?? {}) as Record<string, unknown>;
    return {
      kind: 'gate',
      path,
      page: GATE_HTML,
      name: `gate ${text(gate.suite)}${gateShards(gate)}`,
      startedAt: text(gate.startedAt),
      server: text(gate.server) || 'as the suite says',
      workload: `${typeof counts.runs === 'number' ? counts.runs : '?'} runs`,
      nemesis: '',
      verdict: verdictOf(gate.verdict),
      durationS: typeof gate.durationMs === 'number' ? Math.round(gate.durationMs / 100) / 10 : null,
      hasReport: existsSync(join(dir, GATE_HTML)),
    };
  }
  const comparison = readJsonQuiet(join(dir, COMPARE_JSON));
  if (comparison) {
    const variants = Array.isArray(comparison.variants) ? (comparison.variants as { variant?: unknown }[]) : [];
    const schedule = (comparison.schedule ?? {}) as Record<string, unknown>;
    return {
      kind: 'compare',
      path,
      page: COMPARE_HTML,
      name: `compare ${text(comparison.name)}`,
      startedAt: text(comparison.startedAt),
      server: variants.map((v) => text(v.variant)).join(' vs '),
      workload: text(schedule.workload),
      nemesis: text(schedule.nemesis),
      verdict: 'unknown',
      durationS: typeof comparison.durationMs === 'number' ? Math.round(comparison.durationMs / 100) / 10 : null,
      hasReport: existsSync(join(dir, COMPARE_HTML)),
    };
  }
  if (!existsSync(join(dir, TEST_FILE)) && !existsSync(join(dir, HISTORY_FILE))) return undefined;
  // Format 2 keeps the settings under `config`; older runs had them at the top.
  const record = readJsonQuiet(join(dir, TEST_FILE));
  const config = (record?.config ?? record) as Record<string, unknown> | undefined;
  const results = readJsonQuiet(join(dir, RESULTS_FILE));
  return {
    kind: 'run',
    path,
    page: REPORT_FILE,
    name: text(config?.name) || path.split('/')[0]!,
    startedAt: text(record?.startedAt) || stampTime(path.split('/').at(-1)!),
    server: text(config?.server),
    workload: `${text(config?.workload)}${typeof config?.readMode === 'string' ? ` (${config.readMode} reads)` : ''}`,
    nemesis: text(config?.nemesis),
    verdict: verdictOf(results?.valid),
    durationS: historyDurationS(join(dir, HISTORY_FILE)),
    hasReport: existsSync(join(dir, REPORT_FILE)),
  };
}

/** The time of the last complete event in a history, read from the file's tail only (histories can be large). */
export function historyDurationS(path: string): number | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 8192);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n').reverse();
    for (const line of lines) {
      try {
        const event = JSON.parse(line) as { time?: unknown };
        if (typeof event.time === 'number') return Math.round(event.time / 1e7) / 100;
      } catch {
        /* a cut first line or a truncated last one */
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Every run, gate and comparison under the results root (runs of gates and comparisons too), newest first. A
 * broken entry (a dangling link, an unreadable directory, a torn file) is passed over, never the whole index.
 */
export function listRuns(resultsRoot: string): RunSummary[] {
  const root = resolve(resultsRoot);
  const found: RunSummary[] = [];
  const visit = (dir: string, rel: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      // results/latest (and the latest of gates and compares) point at entries listed anyway.
      if (name === LATEST_LINK || name.startsWith('.')) continue;
      const child = join(dir, name);
      try {
        if (!lstatSync(child).isDirectory()) continue;
      } catch {
        continue;
      }
      const path = rel ? `${rel}/${name}` : name;
      const summary = summarize(child, path);
      if (summary) found.push(summary);
      // A run's own folders (nodes/, backups/) hold no runs; a gate's and a comparison's runs/ do.
      if (depth < 6 && summary?.kind !== 'run') visit(child, path, depth + 1);
    }
  };
  if (existsSync(root)) visit(root, '', 0);
  return found.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Only loopback names may reach the server: a page elsewhere cannot read results through DNS rebinding. */
export function hostAllowed(host: string | undefined): boolean {
  if (host === undefined) return false;
  return /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i.test(host);
}

/** Client script of the index: sort by a clicked column, filter by text and verdict. */
const INDEX_SCRIPT = `(function () {
  var table = document.querySelector('table.runs'), body = table.tBodies[0];
  var text = document.getElementById('filter-text'), verdict = document.getElementById('filter-verdict');
  function apply() {
    var q = text.value.trim().toLowerCase(), v = verdict.value, shown = 0;
    Array.prototype.forEach.call(body.rows, function (tr) {
      var ok = (!q || tr.textContent.toLowerCase().indexOf(q) >= 0) && (!v || tr.getAttribute('data-verdict') === v);
      tr.hidden = !ok; if (ok) shown++;
    });
    document.getElementById('shown').textContent = shown;
  }
  text.addEventListener('input', apply); verdict.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort') || a.cells[col].textContent;
        var y = b.cells[col].getAttribute('data-sort') || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return asc ? cmp : -cmp;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
})();`;

export function renderRunIndex(runs: readonly RunSummary[], css: string): string {
  const verdictClass = (v: RunSummary['verdict']): string =>
    v === true ? 'valid' : v === false ? 'invalid' : 'unknown';
  const rows = runs
    .map((r) => {
      const href = `/runs/${r.path.split('/').map(encodeURIComponent).join('/')}/${r.page}`;
      return (
        `<tr data-verdict="${verdictClass(r.verdict)}" data-kind="${r.kind}"><td><a href="${escapeHtml(href)}">${escapeHtml(r.name)}</a></td>` +
        `<td data-sort="${escapeHtml(r.startedAt)}">${escapeHtml(r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</td>` +
        `<td>${escapeHtml(r.server)}</td><td>${escapeHtml(r.workload)}</td><td>${escapeHtml(r.nemesis)}</td>` +
        `<td data-sort="${verdictClass(r.verdict)}"><span class="badge ${verdictClass(r.verdict)}">${verdictText(r.verdict)}</span></td>` +
        `<td data-sort="${r.durationS ?? -1}">${r.durationS === null ? '—' : `${r.durationS.toFixed(1)} s`}</td></tr>`
      );
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faultline runs</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<style>${css}</style></head><body><nav><b>Faultline</b><span>runs in results/</span></nav><main>
<h1>Runs</h1>
<div class="filters"><input id="filter-text" type="search" placeholder="filter: name, server, workload, nemesis…" size="40">
<select id="filter-verdict"><option value="">any verdict</option><option value="valid">valid</option><option value="invalid">invalid</option><option value="unknown">unknown</option></select>
<span class="muted"><span id="shown">${runs.length}</span> of ${runs.length} runs</span></div>
<table class="runs"><thead><tr><th>name</th><th aria-sort="descending">date</th><th>server build</th><th>workload</th><th>nemesis</th><th>verdict</th><th>duration</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${runs.length === 0 ? '<p class="muted">No runs yet: run <code>npx faultline test</code>.</p>' : ''}
</main><script>${INDEX_SCRIPT}</script></body></html>`;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.cfg': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Resolves a URL path under /runs/ to a file inside the results root, or undefined when it would leave it
 * (via "..", an encoded separator, or a symlink pointing elsewhere).
 */
export function resolveRunFile(resultsRoot: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  const root = realpathSync(resolve(resultsRoot));
  const target = resolve(root, '.' + (rel.startsWith('/') ? rel : `/${rel}`));
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);
  if (!inside(target)) return undefined;
  if (!existsSync(target)) return target; // a missing report.html is rendered; anything else is a 404
  const real = realpathSync(target);
  return inside(real) ? real : undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'x-content-type-options': 'nosniff' });
  res.end(body);
}

async function handle(resultsRoot: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(res, 405, 'text/plain', 'read-only: GET and HEAD only\n');
  if (!hostAllowed(req.headers.host))
    return send(res, 403, 'text/plain', 'faultline serve answers only to 127.0.0.1, localhost and [::1]\n');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/' || url.pathname === '/index.html') {
    return send(res, 200, 'text/html; charset=utf-8', renderRunIndex(listRuns(resultsRoot), loadReportAssets().css));
  }
  if (!url.pathname.startsWith('/runs/')) return send(res, 404, 'text/plain', 'not found\n');
  const file = resolveRunFile(resultsRoot, url.pathname.slice('/runs'.length));
  if (!file) return send(res, 403, 'text/plain', 'outside the results directory\n');
  if (!existsSync(file)) {
    const runDir = resolve(file, '..');
    if (file.endsWith(`${sep}${REPORT_FILE}`) && existsSync(join(runDir, HISTORY_FILE))) {
      // Rendered in memory: the server never writes into results/.
      const data = await loadReportData(runDir);
      return send(
        res,
        200,
        'text/html; charset=utf-8',
        renderReportHtml(data, loadReportAssets(), nodeLogFiles(runDir)),
      );
    }
    return send(res, 404, 'text/plain', 'not found\n');
  }
  const stat = statSync(file);
  if (stat.isDirectory()) {
    const rel = relative(realpathSync(resolve(resultsRoot)), file)
      .split(sep)
      .join('/');
    res.writeHead(302, { location: `/runs/${rel}/${REPORT_FILE}` });
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': stat.size,
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the results browser on 127.0.0.1 (never another interface); port 0 picks a free port. */
export function startResultsServer(resultsRoot: string, port: number): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handle(resultsRoot, req, res).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `could not serve this: ${err.message}\n`);
      else res.destroy();
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolvePromise({
        url: `http://127.0.0.1:${bound}/`,
        server,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

// writeReport(runDir): reads a run directory and writes its self-contained report.html.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { readHistory } from '../history.js';
import { readRoleChanges, ROLES_FILE } from '../role-changes.js';
import { resolveRunConfig } from '../config.js';
import { readShrinkRecord, SHRINK_DIR, SHRINK_JSON, SHRUNK_SCENARIO } from '../store/explore.js';
import { readResults, readTestRecord } from '../store/format.js';
import { HISTORY_FILE, RESULTS_FILE, TEST_FILE } from '../store/index.js';
import { buildReportData, type ReportData, type ShrunkLink } from './data.js';
import { renderReportHtml, type ReportAssets } from './html.js';

export const REPORT_FILE = 'report.html';

const require = createRequire(import.meta.url);

/**
 * The client script and CSS live in src/report/assets. Run from source (tests) they sit beside this module;
 * run from dist/src/report they are found back in the checkout's src/report/assets.
 */
function ownAsset(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'assets', name), join(here, '..', '..', '..', 'src', 'report', 'assets', name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`report asset ${name} not found (looked in ${candidates.join(', ')})`);
  return readFileSync(found, 'utf8');
}

let cachedAssets: ReportAssets | undefined;

export function loadReportAssets(): ReportAssets {
  cachedAssets ??= {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    clientJs: ownAsset('report-client.js'),
    css: ownAsset('report.css'),
    coordinationJs: ownAsset('coordination-client.js'),
  };
  return cachedAssets;
}

/** Each node's log files, as paths relative to the run directory. */
export function nodeLogFiles(runDir: string): { node: string; path: string }[] {
  const nodesDir = join(runDir, 'nodes');
  if (!existsSync(nodesDir)) return [];
  const collator = new Intl.Collator('en', { numeric: true });
  return readdirSync(nodesDir)
    .sort(collator.compare)
    .flatMap((node) => {
      const logsDir = join(nodesDir, node, 'logs');
      if (!existsSync(logsDir)) return [];
      return readdirSync(logsDir)
        .filter((f) => statSync(join(logsDir, f)).isFile())
        .sort()
        .map((f) => ({ node, path: `nodes/${node}/logs/${f}` }));
    });
}

/** Node logs larger than this are read from their end only: recent lines are where the faults are. */
const MAX_LOG_BYTES = 32 * 1024 * 1024;

function readLogText(path: string): string {
  const text = readFileSync(path);
  return (text.length > MAX_LOG_BYTES ? text.subarray(text.length - MAX_LOG_BYTES) : text).toString('utf8');
}

export async function loadReportData(runDir: string, warn: (msg: string) => void = () => {}): Promise<ReportData> {
  const historyPath = join(runDir, HISTORY_FILE);
  if (!existsSync(historyPath)) {
    throw new UsageError(
      `${runDir} has no ${HISTORY_FILE}`,
      'Give a run directory written by `faultline test` (results/<test>/<timestamp>).',
    );
  }
  const events = await readHistory(historyPath, warn);
  const results = existsSync(join(runDir, RESULTS_FILE)) ? readResults(runDir) : undefined;
  const test = existsSync(join(runDir, TEST_FILE)) ? readTestRecord(runDir) : undefined;
  if (!results)
    warn(`${runDir} has no ${RESULTS_FILE} (the run did not finish): the report shows the history without verdicts`);
  const logs = nodeLogFiles(runDir);
  const shrunk = shrunkLink(runDir);
  const data = buildReportData({
    events,
    results,
    test,
    defaults: resolveRunConfig({ seed: 0 }),
    nodeLogs: logs.map((l) => ({ ...l, text: readLogText(join(runDir, l.path)) })),
    roles: await readRoleChanges(join(runDir, ROLES_FILE)),
  });
  return shrunk ? { ...data, shrunk } : data;
}

/** A link to shrink/shrunk.yaml when `faultline shrink` wrote one for this run (with its reproduction rate). */
function shrunkLink(runDir: string): ShrunkLink | undefined {
  const scenario = join(runDir, SHRINK_DIR, SHRUNK_SCENARIO);
  if (!existsSync(scenario)) return undefined;
  const href = `${SHRINK_DIR}/${SHRUNK_SCENARIO}`;
  try {
    const r = readShrinkRecord(join(runDir, SHRINK_DIR, SHRINK_JSON));
    const rate = r.reproduction
      ? `, fails in ${r.reproduction.failed} of ${r.reproduction.of} replays on ${r.reproduction.server}`
      : '';
    const against = r.against ? `, ${r.against.failed} of ${r.against.of} on ${r.against.server}` : '';
    const what =
      r.recordedReproduces === false
        ? `not shrunk (did not fail on every replay), ${r.steps} steps as recorded`
        : `${r.steps} steps on ${r.nodes} nodes`;
    return { href, summary: `${what}${rate}${against}` };
  } catch {
    return { href, summary: 'minimal failing scenario' };
  }
}

/** Writes <runDir>/report.html and returns its path. */
export async function writeReport(runDir: string, warn: (msg: string) => void = () => {}): Promise<string> {
  const data = await loadReportData(runDir, warn);
  const path = join(runDir, REPORT_FILE);
  writeFileSync(path, renderReportHtml(data, loadReportAssets(), nodeLogFiles(runDir)));
  return path;
}

/// <reference lib="dom" />
// Reports and the run index in headless chromium: a real valid run and a real stale-read run (plain reads on a
// follower cut off from the leader: linearizability is broken, as ZooKeeper documents for plain reads), both made
// here on Docker, and a synthetic 200k-op history for speed.
import { existsSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failingCheckers } from '../../src/checker.js';
import { executeTest } from '../../src/run/execute.js';
import { ConsoleLogger } from '../../src/log.js';
import { REPORT_FILE, writeReport } from '../../src/report/index.js';
import { readResults } from '../../src/store/format.js';
import { startResultsServer, type RunningServer } from '../../src/report/serve.js';
import { shortTestConfig } from '../integration/helpers.js';
import {
  canvasPixels,
  type PageCanvas,
  launchChromium,
  screenshot,
  watchExternalRequests,
  watchPageErrors,
  writeSyntheticRun,
} from './browser.js';

let browser: Browser;
let resultsDir: string;
let validRun: string;
let invalidRun: string;
let syntheticRun: string;

beforeAll(async () => {
  browser = await launchChromium();
  // A run ZooKeeper is expected to keep: writes and compare-and-sets only (a sync+read may still be stale,
  // ZOOKEEPER-1675), and faults of followers only. Under leader kills and partitions, two clean-clone CI runs saw
  // this run lose an acknowledged write on every node (21 runs of it here did not, and with their logs gone the
  // cause is not proven); the report of a valid run should not hang on that.
  const config = shortTestConfig({
    name: 'report-valid',
    readMode: 'none',
    timeLimitS: 20,
    nemesis: ['partition-follower', 'kill-follower'],
    nemesisIntervalS: 5,
  });
  resultsDir = config.resultsDir;
  const { runDir } = await executeTest(config, new ConsoleLogger(true), new AbortController().signal);
  validRun = runDir;

  // The same settings as the workload test that shows stale plain reads: a long syncLimit keeps the cut-off
  // follower serving its stale reads for the whole partition.
  const stale = shortTestConfig({
    name: 'report-stale-read',
    readMode: 'plain',
    nemesis: ['partition-follower'],
    nemesisIntervalS: 3,
    timeLimitS: 20,
    rate: 100,
    concurrency: 15,
    zookeeper: { syncLimit: 20 },
  });
  invalidRun = (await executeTest({ ...stale, resultsDir }, new ConsoleLogger(true), new AbortController().signal))
    .runDir;

  syntheticRun = join(mkdtempSync(join(tmpdir(), 'faultline-200k-')), 'synthetic', '20260101T000000Z');
  writeSyntheticRun(syntheticRun, 200_000);
  const started = performance.now();
  await writeReport(syntheticRun);
  console.log(`report.html of 200k ops written in ${(performance.now() - started).toFixed(0)} ms`);
}, 240_000);

afterAll(async () => {
  await browser?.close();
});

async function openReport(
  runDir: string,
  viewport = { width: 1400, height: 900 },
): Promise<{ page: Page; external: string[]; errors: string[]; loadMs: number }> {
  const page = await browser.newPage({ viewport });
  const external = watchExternalRequests(page, 'file://');
  const errors = watchPageErrors(page);
  const started = performance.now();
  await page.goto(pathToFileURL(join(runDir, REPORT_FILE)).href);
  await page.waitForSelector('body[data-report-ready]', { timeout: 10_000 });
  const loadMs = performance.now() - started;
  await page.waitForSelector('body[data-plots-ready]', { timeout: 10_000 });
  return { page, external, errors, loadMs };
}

const OK_GREEN: [number, number, number] = [0x3b, 0x9a, 0x52];

/** Why a run meant to be valid is not, for the assertion's message: its failing checkers' first anomalies and
 * what the servers' logs said, so a CI log alone tells a ZooKeeper loss from a harness fault. */
function whyInvalid(runDir: string): string {
  const { checkers } = readResults(runDir);
  const lines = [runDir];
  for (const [name, result] of Object.entries(checkers)) {
    if (result.valid === true && name !== 'server-log') continue;
    for (const anomaly of (result.anomalies ?? []).slice(0, 3)) lines.push(`${name}: ${anomaly.description}`);
  }
  return lines.join('\n');
}

/** The width of a timeline's shown range, from its data-view attribute ("start,end" in ms). */
function viewSpan(view: string | null): number {
  const [a, b] = (view ?? '').split(',').map(Number);
  expect(Number.isFinite(a) && Number.isFinite(b), `data-view "${view}"`).toBe(true);
  return b! - a!;
}

/** Where on a canvas (CSS pixels) an ok op's green is drawn, or null. */
function greenPixel(page: Page, selector: string): Promise<{ x: number; y: number } | null> {
  return page.$eval(
    selector,
    (canvas, rgb) => {
      const c = canvas as unknown as PageCanvas;
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      // A green pixel with green above and below it: inside a bar, not on its anti-aliased edge. Bars of quick ops
      // are one pixel wide (a 20 s run on 1400 px), so no horizontal run is required; the hover has 2 px of slack.
      const green = (k: number): boolean =>
        Math.abs(data[k]! - rgb[0]) < 6 && Math.abs(data[k + 1]! - rgb[1]) < 6 && Math.abs(data[k + 2]! - rgb[2]) < 6;
      const row = c.width * 4;
      for (let y = 50; y + 1 < c.height; y++)
        for (let x = 100; x < c.width; x++) {
          const i = (y * c.width + x) * 4;
          if (green(i) && green(i - row) && green(i + row))
            return { x: ((x + 0.5) * c.clientWidth) / c.width, y: ((y + 0.5) * c.clientHeight) / c.height };
        }
      return null;
    },
    OK_GREEN,
  );
}

interface LinearizableFailure {
  prefixLength: number;
  longestPrefix: unknown[];
  unplaced: { index: number }[];
  stateBefore: string;
}

/** The linearizability checker's first failure, as results.json records it. */
function linearizableFailure(runDir: string): LinearizableFailure {
  const checker = readResults(runDir).checkers['linearizable'] as { failures?: LinearizableFailure[] } | undefined;
  expect(checker?.failures?.length, 'linearizable failures in results.json').toBeGreaterThan(0);
  return checker!.failures![0]!;
}

/** The fault band's orange at 13% over white. */
const FAULT_TINT: [number, number, number] = [255, 239, 222];

describe('report of a real valid run', () => {
  it('is written by faultline test and shows the verdict, the history graph and the fault bands', async () => {
    expect(existsSync(join(validRun, REPORT_FILE))).toBe(true);
    expect(failingCheckers(readResults(validRun).checkers), whyInvalid(validRun)).toEqual([]);
    const { page, external, errors } = await openReport(validRun);
    expect(await page.textContent('#verdict')).toBe('VALID');
    expect(await page.textContent('#reproduce')).toContain('npx faultline');
    expect(await canvasPixels(page, '#timeline canvas', OK_GREEN)).toBeGreaterThan(500);
    expect(await canvasPixels(page, '#timeline canvas', FAULT_TINT)).toBeGreaterThan(1000);
    expect(await page.$$eval('table.faults tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
    expect(await page.$$eval('#plots .uplot', (plots) => plots.length)).toBe(2);
    expect(await page.$('#counterexample')).toBeNull();
    // Hovering an op bar shows it.
    const box = (await page.$('#timeline canvas'))!;
    const opCount = await page.$eval(
      '#report-data',
      (el) => (JSON.parse(el.textContent ?? '{}') as { ops: { start: number[] } }).ops.start.length,
    );
    expect(opCount).toBeGreaterThan(50);
    await screenshot(page, 'report-valid.png');
    // Hover where an ok op is drawn: the tooltip appears and describes an op.
    const at = await greenPixel(page, '#timeline canvas');
    expect(at, 'an ok op bar on the graph').not.toBeNull();
    await box.hover({ position: at! });
    await page.waitForSelector('#timeline .tooltip:not([hidden])', { timeout: 2000 });
    expect(await page.textContent('#timeline .tooltip')).toMatch(/(read|write|cas)/);
    // Leaving the graph hides it again.
    await page.mouse.move(2, 2);
    expect(await page.isHidden('#timeline .tooltip')).toBe(true);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('report of a real stale-read run', () => {
  it('shows the linearizability checker INVALID and its counterexample: prefix, unplaceable ops, the state before them', async () => {
    const { page, external, errors } = await openReport(invalidRun);
    const linearizableRow = (await page.$$eval('#summary tr', (rows) => rows.map((r) => r.textContent ?? ''))).find(
      (t) => t.startsWith('linearizable'),
    );
    expect(linearizableRow).toContain('INVALID');
    expect(linearizableRow).toContain('stale-read');
    // Plain reads are not promised to be linearizable, so the run itself stands (the checker is advisory).
    expect(linearizableRow).toContain('advisory');
    expect(await page.textContent('#verdict')).toBe('VALID');
    expect(await page.isVisible('#counterexample')).toBe(true);
    const text = (await page.textContent('#counterexample'))!;
    // Decided by the zxid checker (register runs record zxids): the contradiction named, the ops before it in
    // ZooKeeper's zxid order as the prefix (none when the first stale read came before any write was applied
    // where it read, as plain reads on a lagging follower at the start do), and the register's value then.
    const failure = linearizableFailure(invalidRun);
    expect(failure.unplaced.length).toBeGreaterThan(0);
    if (failure.prefixLength === 0) {
      expect(text).toContain("ZooKeeper's zxid order puts no operation before these; the register starts out holding");
    } else {
      expect(text).toContain(`ZooKeeper's zxid order puts ${failure.prefixLength} operations before these`);
      expect(text).toContain('after them the register holds');
    }
    expect(text).toContain(failure.stateBefore);
    expect(await page.$$eval('table.unplaced tbody tr', (rows) => rows.length)).toBe(failure.unplaced.length);
    expect(await page.textContent('table.unplaced tbody')).toContain(`#${failure.unplaced[0]!.index}`);
    // The counterexample timeline draws the unplaceable ops (red), in view, and the prefix's tail (blue) if any.
    expect(await canvasPixels(page, '#cx-0 canvas', [0xb0, 0x12, 0x2b])).toBeGreaterThan(4);
    const blue = await canvasPixels(page, '#cx-0 canvas', [0x4a, 0x78, 0xc2]);
    if (failure.longestPrefix.length > 0) expect(blue).toBeGreaterThan(4);
    else expect(blue).toBe(0);
    expect(await canvasPixels(page, '#timeline canvas', FAULT_TINT)).toBeGreaterThan(1000);
    await screenshot(page, 'report-invalid.png');
    // "Show in the history graph" zooms the main graph to the counterexample's range.
    const before = viewSpan(await page.getAttribute('#timeline', 'data-view'));
    await page.click('.show-in-history');
    const after = viewSpan(await page.getAttribute('#timeline', 'data-view'));
    expect(after).toBeLessThan(before);
    expect(await page.getAttribute('#timeline', 'data-view')).toBe(await page.getAttribute('#cx-0', 'data-view'));
    await screenshot(page, 'report-invalid-zoomed.png', false);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('report of a 200k-op history', () => {
  it('draws its first screen, zooms with the wheel and back with a double click', async () => {
    const { page, external, errors, loadMs } = await openReport(syntheticRun);
    const readyMs = Number(await page.getAttribute('body', 'data-ready-ms'));
    console.log(
      `200k-op report: first screen drawn ${readyMs} ms after navigation start (${loadMs.toFixed(0)} ms as seen by the test)`,
    );
    // Speed is the bench's to measure (a timed assertion fails whenever the machine is busy): here, that it draws.
    expect(readyMs).toBeGreaterThan(0);
    expect(await canvasPixels(page, '#timeline canvas', OK_GREEN)).toBeGreaterThan(1000);
    // Zooming stays quick: 20 wheel steps.
    const canvas = (await page.$('#timeline canvas'))!;
    await canvas.hover({ position: { x: 600, y: 100 } });
    const zoomStarted = performance.now();
    const home = viewSpan(await page.getAttribute('#timeline', 'data-view'));
    for (let i = 0; i < 20; i++) await page.mouse.wheel(0, -120);
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
    console.log(`200k-op report: 20 zoom steps in ${(performance.now() - zoomStarted).toFixed(0)} ms`);
    // Each wheel step of -120 narrows the view by e^(-0.18): 20 of them to about 3% of the span.
    const zoomed = viewSpan(await page.getAttribute('#timeline', 'data-view'));
    expect(zoomed / home).toBeGreaterThan(0.01);
    expect(zoomed / home).toBeLessThan(0.06);
    // A double click goes back to the whole run.
    await canvas.dblclick({ position: { x: 600, y: 100 } });
    expect(viewSpan(await page.getAttribute('#timeline', 'data-view'))).toBeCloseTo(home, 0);
    await screenshot(page, 'report-200k.png', false);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('faultline serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startResultsServer(resultsDir, 0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists the runs, filters and sorts them, and links to each report', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 600 } });
    const external = watchExternalRequests(page, server.url);
    const errors = watchPageErrors(page);
    await page.goto(server.url);
    expect(await page.$$eval('table.runs tbody tr', (rows) => rows.length)).toBe(2);
    // Both runs stand: the stale reads of the second are documented behaviour of plain reads.
    expect(await page.textContent('table.runs')).toContain('VALID');
    await screenshot(page, 'serve-index.png');
    await page.selectOption('#filter-verdict', 'invalid');
    expect(await page.$$eval('table.runs tbody tr:not([hidden])', (rows) => rows.length)).toBe(0);
    await page.selectOption('#filter-verdict', 'valid');
    expect(await page.$$eval('table.runs tbody tr:not([hidden])', (rows) => rows.length)).toBe(2);
    await page.selectOption('#filter-verdict', '');
    await page.click('table.runs th:nth-child(1)');
    expect(await page.$$eval('table.runs tbody tr td:first-child', (cells) => cells.map((c) => c.textContent))).toEqual(
      ['report-stale-read', 'report-valid'].sort(),
    );
    await page.click('text=report-stale-read');
    await page.waitForSelector('body[data-report-ready]');
    expect(await page.textContent('#verdict')).toBe('VALID');
    expect(await page.isVisible('#counterexample')).toBe(true);
    // The report's links to the node logs are served too.
    const logHref = await page.getAttribute('#logs a[href^="nodes/"]', 'href');
    expect(logHref).toBeTruthy();
    const log = await page.request.get(new URL(logHref!, page.url()).href);
    expect(log.status()).toBe(200);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses paths outside results/ and anything but GET/HEAD', async () => {
    const status = (path: string, method = 'GET'): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(`${server.url.replace(/\/$/, '')}${path}`, { method }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    // Dot segments are normalized away (404: not under /runs/) or caught after decoding (403).
    expect([403, 404]).toContain(await status('/runs/%2e%2e/%2e%2e/etc/passwd'));
    expect(await status('/runs/..%2f..%2fetc/passwd')).toBe(403);
    expect(await status('/runs/x/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd')).toBe(403);
    expect(await status('/runs/report-valid', 'DELETE')).toBe(405);
  });
});

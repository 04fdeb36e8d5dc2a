// The report's clock plot and membership bands in a real browser, on a small synthetic run (a fake: its nemesis
// records have the shape the clock and membership faults write, see nemesis/clock.ts and nemesis/membership.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/history.js';
import { REPORT_FILE, writeReport } from '../../src/report/index.js';
import { resultsRecord, testRecord, writeStoreRecords } from '../store-records.js';
import {
  canvasPixels,
  launchChromium,
  screenshot,
  watchExternalRequests,
  watchPageErrors,
  writeEvents,
} from './browser.js';

let browser: Browser;
let runDir: string;
const STARTED = Date.parse('2026-01-01T00:00:00.000Z');
const three = { n1: 'participant', n2: 'participant', n3: 'participant' };
const five = { ...three, n4: 'participant', n5: 'participant' };

function syntheticRun(dir: string): void {
  const events: Omit<HistoryEvent, 'index'>[] = [];
  const at = (s: number): number => s * 1e9;
  for (let p = 0; p < 3; p++)
    for (let t = 1; t < 58; t += 2) {
      events.push({ time: at(t) + p, process: p, type: 'invoke', f: 'write', value: t, node: `n${p + 1}` });
      events.push({ time: at(t) + p + 5e6, process: p, type: 'ok', f: 'write', value: t, node: `n${p + 1}` });
    }
  const nemesis = (s: number, f: string, value: unknown): void => {
    events.push({ time: at(s), process: 'nemesis', type: 'info', f, value });
  };
  const reading = (s: number, node: string, wallMs: number, monotonicMs: number) => ({
    at: STARTED + s * 1000,
    node,
    wallMs,
    monotonicMs,
    source: 'jvm',
  });
  nemesis(5, 'start', 'clock-jump-forward');
  nemesis(5.5, 'start', {
    fault: 'clock-jump-forward',
    nodes: ['n3'],
    clocks: [reading(6, 'n1', 3, -2), reading(6, 'n2', 5, -1), reading(6, 'n3', 30_004, 29_990)],
  });
  nemesis(15, 'heal', 'clock');
  nemesis(16, 'heal', {
    fault: 'clock',
    reset: ['n3'],
    clocks: [reading(16, 'n1', 2, 0), reading(16, 'n2', 4, -3), reading(16, 'n3', 6, -5)],
  });
  nemesis(20, 'start', 'membership-grow');
  nemesis(28, 'start', {
    fault: 'membership-grow',
    configBefore: { version: '100000000', members: three },
    configAfter: { version: '100000004', members: five },
  });
  nemesis(40, 'start', 'membership-demote-voter');
  nemesis(41, 'start', {
    fault: 'membership-demote-voter',
    nodes: ['n2'],
    configBefore: { version: '100000004', members: five },
    configAfter: { version: '100000009', members: { ...five, n2: 'observer' } },
  });
  nemesis(50, 'heal', 'membership');
  nemesis(52, 'heal', {
    fault: 'membership',
    configBefore: { version: '100000009', members: { ...five, n2: 'observer' } },
    configAfter: { version: '100000012', members: three },
  });
  events.sort((a, b) => a.time - b.time);
  writeEvents(
    join(dir, 'history.jsonl'),
    events.map((e, index) => ({ index, ...e })),
  );
  writeStoreRecords(
    dir,
    testRecord(
      { name: 'synthetic-clocks-membership', nodes: 3, workload: 'register', seed: 1 },
      { startedAt: new Date(STARTED).toISOString() },
    ),
    resultsRecord({ valid: true, stats: { ok: 87, fail: 0, info: 0, nemesis: 0 } }),
  );
}

beforeAll(async () => {
  browser = await launchChromium();
  runDir = mkdtempSync(join(tmpdir(), 'faultline-clocks-membership-'));
  syntheticRun(runDir);
  await writeReport(runDir);
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('report of clock and membership faults', () => {
  it('plots the offsets read back from the nodes and draws each node’s membership as bands', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const external = watchExternalRequests(page, 'file://');
    const errors = watchPageErrors(page);
    await page.goto(pathToFileURL(join(runDir, REPORT_FILE)).href);
    await page.waitForSelector('body[data-plots-ready]', { timeout: 10_000 });
    expect(await page.isVisible('#clocks-membership')).toBe(true);
    expect(await page.$$eval('#clock-plot .uplot', (p) => p.length)).toBe(1);
    // Series: one wall and one monotonic line per node that was read.
    expect(await page.$$eval('#clock-plot .u-legend .u-series', (s) => s.length)).toBe(1 + 3 * 2);
    // Voters in blue across five rows at the widest; n2's observer span in light blue.
    expect(await canvasPixels(page, '#membership-chart canvas', [0x4a, 0x78, 0xc2])).toBeGreaterThan(5000);
    expect(await canvasPixels(page, '#membership-chart canvas', [0xa8, 0xc4, 0xe0])).toBeGreaterThan(300);
    await screenshot(page, 'report-clocks-membership.png');
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

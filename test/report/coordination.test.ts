/// <reference lib="dom" />
// The report's coordination view in headless chromium, on real runs made here: a lock run through Curator (holds
// as bands per process) and a watch run (notifications as ticks per session).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunLayer } from '../../src/config.js';
import { executeTest } from '../../src/run/execute.js';
import { ConsoleLogger } from '../../src/log.js';
import type { CoordinationView } from '../../src/report/coordination.js';
import { REPORT_FILE } from '../../src/report/index.js';
import { leftovers, shortTestConfig } from '../integration/helpers.js';
import { canvasPixels, launchChromium, screenshot, watchExternalRequests, watchPageErrors } from './browser.js';

let browser: Browser;
let lockRun: string;
let watchRun: string;

beforeAll(async () => {
  browser = await launchChromium();
  const run = async (overrides: RunLayer): Promise<string> => {
    const result = await executeTest(shortTestConfig(overrides), new ConsoleLogger(true), new AbortController().signal);
    expect(await leftovers(result.runId)).toEqual([]);
    return result.runDir;
  };
  lockRun = await run({
    name: 'report-lock',
    workload: 'lock-fenced',
    timeLimitS: 15,
    concurrency: 4,
    rate: 40,
    nemesis: ['kill-leader'],
    nemesisIntervalS: 4,
  });
  watchRun = await run({ name: 'report-watch', workload: 'watch', timeLimitS: 12, nemesis: ['partition-leader'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

async function open(
  runDir: string,
): Promise<{ page: Page; view: CoordinationView; external: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const external = watchExternalRequests(page, 'file://');
  const errors = watchPageErrors(page);
  await page.goto(pathToFileURL(join(runDir, REPORT_FILE)).href);
  await page.waitForSelector('body[data-coordination-ready]', { timeout: 10_000 });
  const view = await page.$eval(
    '#report-data',
    (el) => (JSON.parse(el.textContent ?? '{}') as { coordination: CoordinationView }).coordination,
  );
  return { page, view, external, errors };
}

describe('coordination view', () => {
  it('draws the lock holds of a real Curator run as bands per process', async () => {
    const { page, view, external, errors } = await open(lockRun);
    expect(view.kind).toBe('lock');
    expect(view.bands.length).toBeGreaterThan(3);
    for (const b of view.bands) expect(b.end).toBeGreaterThanOrEqual(b.start);
    expect(await page.textContent('#coordination h2')).toBe('Lock holds');
    expect(await page.textContent('#coordination-caption')).toContain(`${view.bands.length} lock holds`);
    expect(await page.textContent('nav')).toContain('Holds');
    expect(await canvasPixels(page, '#coordination-view canvas', [0x3b, 0x9a, 0x52])).toBeGreaterThan(50);
    await screenshot(page, 'report-lock-holds.png');
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the watch notifications of a real run as ticks per session', async () => {
    const { page, view, external, errors } = await open(watchRun);
    expect(view.kind).toBe('watch');
    expect(view.ticks.length).toBeGreaterThan(20);
    expect(await page.textContent('#coordination h2')).toBe('Watch notifications');
    // NodeDataChanged ticks (setData on d0/d1 is the commonest change).
    expect(await canvasPixels(page, '#coordination-view canvas', [0x00, 0x89, 0x7b])).toBeGreaterThan(50);
    expect(await page.textContent('#coordination-legend')).toContain('NodeChildrenChanged');
    await screenshot(page, 'report-watch-ticks.png');
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

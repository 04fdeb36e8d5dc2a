// Shared by the report browser tests: headless Debian chromium through playwright-core (never a downloaded
// browser), screenshots in .vitest-artifacts/, a guard against any request leaving the page's own origin,
// and synthetic and doctored run directories.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureDebianPackage } from '../../src/packages.js';
import type { HistoryEvent } from '../../src/history.js';
import { ConsoleLogger } from '../../src/log.js';
import { resultsRecord, testRecord, writeStoreRecords } from '../store-records.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), '.vitest-artifacts');

/** Installs Debian's chromium when missing (as root on Debian, saying so), then starts it headless. */
export async function launchChromium(): Promise<Browser> {
  await ensureDebianPackage('chromium', 'chromium', 'for the report browser tests (headless)', new ConsoleLogger());
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Records every request a page makes that is not under `allowedPrefix` (file:// for reports from disk). */
export function watchExternalRequests(page: Page, allowedPrefix: string): string[] {
  const external: string[] = [];
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(allowedPrefix) && !url.startsWith('data:')) external.push(url);
  });
  return external;
}

/** Collects uncaught page errors and console errors, which would mean the report's script broke. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return errors;
}

/** What a page function reads of a canvas element (the tests' TypeScript has no DOM types). */
export interface PageCanvas {
  width: number;
  height: number;
  clientWidth: number;
  clientHeight: number;
  getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** Counts the pixels of a canvas that are of one colour (each channel within 5 of `rgb`). */
export function canvasPixels(page: Page, selector: string, rgb: [number, number, number]): Promise<number> {
  return page.$eval(
    selector,
    (canvas, target) => {
      const c = canvas as unknown as PageCanvas;
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (
          Math.abs(data[i]! - target[0]) < 6 &&
          Math.abs(data[i + 1]! - target[1]) < 6 &&
          Math.abs(data[i + 2]! - target[2]) < 6
        )
          n++;
      return n;
    },
    rgb,
  );
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage });
  return path;
}

export function writeEvents(path: string, events: readonly HistoryEvent[]): void {
  writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

/**
 * A synthetic run of `opCount` register ops by 50 processes on 5 nodes, 12 per second per process, with a
 * partition every 20 s. Deterministic (a linear congruential generator), so runs compare.
 */
export function writeSyntheticRun(dir: string, opCount: number): void {
  mkdirSync(dir, { recursive: true });
  let seed = 42;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const processes = 50;
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const timeline: Omit<HistoryEvent, 'index'>[] = [];
  const perProcess = Math.ceil(opCount / processes);
  let endMs = 0;
  for (let p = 0; p < processes; p++) {
    let t = random() * 50;
    for (let k = 0; k < perProcess && p * perProcess + k < opCount; k++) {
      const r = random();
      const f = r < 0.5 ? 'read' : r < 0.8 ? 'write' : 'cas';
      const latency = 0.5 + random() * random() * 60;
      const outcome = random() < 0.9 ? 'ok' : random() < 0.7 ? 'fail' : 'info';
      const value =
        f === 'read'
          ? null
          : f === 'write'
            ? Math.floor(random() * 5)
            : [Math.floor(random() * 5), Math.floor(random() * 5)];
      timeline.push({ time: t * 1e6, process: p, type: 'invoke', f, value, node: nodes[p % nodes.length] });
      timeline.push({
        time: (t + latency) * 1e6,
        process: p,
        type: outcome,
        f,
        value: f === 'read' && outcome === 'ok' ? Math.floor(random() * 5) : value,
        node: nodes[p % nodes.length],
      });
      t += latency + 80 * random();
    }
    endMs = Math.max(endMs, t);
  }
  for (let s = 10_000; s + 10_000 < endMs; s += 20_000) {
    const fault = { fault: 'partition-leader', isolated: ['n1'], groups: [['n1'], ['n2', 'n3', 'n4', 'n5']] };
    timeline.push({ time: s * 1e6, process: 'nemesis', type: 'info', f: 'start', value: 'partition-leader' });
    timeline.push({ time: (s + 60) * 1e6, process: 'nemesis', type: 'info', f: 'start', value: fault });
    timeline.push({ time: (s + 10_000) * 1e6, process: 'nemesis', type: 'info', f: 'heal', value: 'partition-leader' });
    timeline.push({
      time: (s + 10_100) * 1e6,
      process: 'nemesis',
      type: 'info',
      f: 'heal',
      value: { fault: 'partition-leader', healed: nodes },
    });
  }
  timeline.sort((a, b) => a.time - b.time);
  writeEvents(
    join(dir, 'history.jsonl'),
    timeline.map((e, index) => ({ index, ...e, time: Math.round(e.time) })),
  );
  // Not checked: the synthetic values are random. The report must still open fast.
  writeStoreRecords(
    dir,
    testRecord(
      {
        name: 'synthetic-200k',
        server: 'debian:bookworm',
        nodes: 5,
        workload: 'register',
        nemesis: ['partition-leader'],
        seed: 42,
      },
      { command: ['test', '--nodes', '5'] },
    ),
    resultsRecord({ leaders: ['n1', 'n2'] }),
  );
}

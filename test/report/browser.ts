// Shared by the report browser tests: headless Debian chromium through playwright-core (never a downloaded
// browser), screenshots in .vitest-artifacts/, a guard against any request leaving the page's own origin,
// and synthetic and doctored run directories.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureDebianPackage } from '../../docker/engine.js';
import type { HistoryEvent } from '../../src/history.js';
import { ConsoleLogger } from '../../src/log.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), '.vitest-artifacts');

/** Installs Debian's chromium when missing (as root on Debian, saying so), then starts it headless. */
export async function launchChromium(): Promise<Browser> {
  await ensureDebianPackage('chromium', 'chromium', 'for the report browser tests (headless)', new ConsoleLogger());
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
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
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  return errors;
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
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
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
      const value = f === 'read' ? null : f === 'write' ? Math.floor(random() * 5) : [Math.floor(random() * 5), Math.floor(random() * 5)];
      timeline.push({ time: t * 1e6, process: p, type: 'invoke', f, value, node: nodes[p % nodes.length] });
      timeline.push({ time: (t + latency) * 1e6, process: p, type: outcome, f, value: f === 'read' && outcome === 'ok' ? Math.floor(random() * 5) : value, node: nodes[p % nodes.length] });
      t += latency + 80 * random();
    }
    endMs = Math.max(endMs, t);
  }
  for (let s = 10_000; s + 10_000 < endMs; s += 20_000) {
    const fault = { fault: 'partition-leader', isolated: ['n1'], groups: [['n1'], ['n2', 'n3', 'n4', 'n5']] };
    timeline.push({ time: s * 1e6, process: 'nemesis', type: 'info', f: 'start', value: 'partition-leader' });
    timeline.push({ time: (s + 60) * 1e6, process: 'nemesis', type: 'info', f: 'start', value: fault });
    timeline.push({ time: (s + 10_000) * 1e6, process: 'nemesis', type: 'info', f: 'heal', value: 'partition-leader' });
    timeline.push({ time: (s + 10_100) * 1e6, process: 'nemesis', type: 'info', f: 'heal', value: { fault: 'partition-leader', healed: nodes } });
  }
  timeline.sort((a, b) => a.time - b.time);
  writeEvents(join(dir, 'history.jsonl'), timeline.map((e, index) => ({ index, ...e, time: Math.round(e.time) })));
  writeFileSync(join(dir, 'test.json'), JSON.stringify({
    name: 'synthetic-200k', server: 'debian:bookworm', nodes: 5, workload: 'register', nemesis: ['partition-leader'], seed: 42,
    startedAt: '2026-01-01T00:00:00.000Z', command: ['test', '--nodes', '5'],
  }));
  // Not checked: the synthetic values are random. The report must still open fast.
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ valid: 'unknown', checkers: {}, stats: { ok: 0 }, leaders: ['n1', 'n2'] }));
}

/**
 * Injects one stale read into a real valid history: a read, invoked just after an ok write (or cas) of w
 * completed, that returns a value v != w whose every write (of any outcome) invoked before the read had
 * completed before that write of w was invoked. Every linearization puts all writes of v before the write of
 * w, so no linearization can place the read. Returns the events with indexes renumbered, or undefined when the
 * history offers no such moment.
 */
export function injectStaleRead(events: readonly HistoryEvent[]): { events: HistoryEvent[]; staleValue: unknown } | undefined {
  interface Write { value: string; raw: unknown; invoke: number; complete: number; ok: boolean; node: string }
  const open = new Map<number, HistoryEvent>();
  const writes: Write[] = [];
  const writtenBy = (e: HistoryEvent): unknown => (e.f === 'write' ? e.value : e.f === 'cas' && Array.isArray(e.value) ? e.value[1] : undefined);
  for (const e of events) {
    if (typeof e.process !== 'number') continue;
    if (e.type === 'invoke') {
      open.set(e.process, e);
      continue;
    }
    const invoke = open.get(e.process);
    open.delete(e.process);
    const raw = invoke ? writtenBy(invoke) : undefined;
    if (invoke && raw !== undefined) writes.push({ value: JSON.stringify(raw), raw, invoke: invoke.time, complete: e.time, ok: e.type === 'ok', node: invoke.node ?? 'n1' });
  }
  // Writes that never completed may take effect at any time.
  for (const invoke of open.values()) {
    const raw = writtenBy(invoke);
    if (raw !== undefined) writes.push({ value: JSON.stringify(raw), raw, invoke: invoke.time, complete: Infinity, ok: false, node: invoke.node ?? 'n1' });
  }
  const okWrites = writes.filter((w) => w.ok);
  for (const later of okWrites) {
    const readAt = later.complete + 1_000_000;
    const stale = okWrites.find((v) => v.value !== later.value && v.complete < later.invoke &&
      writes.every((w) => w.value !== v.value || w.invoke >= readAt || w.complete < later.invoke));
    if (!stale) continue;
    const read: Omit<HistoryEvent, 'index'>[] = [
      { time: readAt, process: 999_999, type: 'invoke', f: 'read', value: null, node: stale.node },
      { time: readAt + 1_000_000, process: 999_999, type: 'ok', f: 'read', value: stale.raw, node: stale.node },
    ];
    const merged = [...events.map(({ index: _index, ...rest }) => rest), ...read].sort((a, b) => a.time - b.time);
    return { events: merged.map((e, index) => ({ index, ...e }) as HistoryEvent), staleValue: stale.raw };
  }
  return undefined;
}

// The restart oracle on a real ensemble: a follower is killed, its snapshots are removed behind the harness's back
// (no fault of Faultline's did it, so nothing excuses it), and it is started again. ZooKeeper refuses to start a
// server whose data dir holds txn logs but no snapshot; the run must say so: `node-did-not-recover` with the
// node's last log lines, the run invalid (not unknown), and the database-not-loaded finding of the log oracle.
import { readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/log.js';
import { executeTest } from '../../src/run/execute.js';
import { REPORT_FILE } from '../../src/report/index.js';
import { readResults } from '../../src/store/format.js';
import { canvasPixels, launchChromium, watchPageErrors } from '../report/browser.js';
import { leftovers, shortTestConfig } from './helpers.js';

/** The run directory under a results dir, once the run has made one. */
function runDirUnder(resultsDir: string): string | undefined {
  for (const entry of readdirSync(resultsDir, { withFileTypes: true, recursive: true }))
    if (entry.name === 'history.jsonl') return entry.parentPath;
  return undefined;
}

/** Whether the history records the kill of `node` as done. */
function killed(runDir: string, node: string): boolean {
  return readFileSync(join(runDir, 'history.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .some((line) => {
      const e = JSON.parse(line) as { process?: string; type?: string; f?: string; value?: { nodes?: string[] } };
      return e.process === 'nemesis' && e.type !== 'invoke' && e.f === 'start' && !!e.value?.nodes?.includes(node);
    });
}

describe('restart oracle on a real ensemble', () => {
  it('names a node whose data was destroyed outside the harness: node-did-not-recover, invalid, with its log tail', async () => {
    const config = shortTestConfig({ name: 'restart-oracle', workload: 'set', timeLimitS: 25, recoveryTimeoutS: 20 });
    const scenario = join(config.resultsDir, 'kill-n2.yaml');
    writeFileSync(
      scenario,
      [
        'name: kill-n2',
        'steps:',
        '  - wait: 6',
        '  - fault: kill-one',
        '    target: n2',
        '  - wait: 8',
        '  - start: n2',
      ].join('\n') + '\n',
    );
    const run = executeTest({ ...config, scenario }, new MemoryLogger(), new AbortController().signal);
    // While n2 is down: its snapshots go, its txn logs stay.
    let removed: string[] = [];
    const deadline = Date.now() + 60_000;
    while (removed.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const runDir = runDirUnder(config.resultsDir);
      if (!runDir || !existsSync(join(runDir, 'history.jsonl')) || !killed(runDir, 'n2')) continue;
      const data = join(runDir, 'nodes', 'n2', 'data', 'version-2');
      const files = readdirSync(data);
      expect(
        files.some((f) => f.startsWith('log.')),
        `txn logs in ${data}: ${files.join(' ')}`,
      ).toBe(true);
      removed = files.filter((f) => f.startsWith('snapshot.'));
      for (const f of removed) rmSync(join(data, f));
    }
    expect(removed.length, 'snapshots removed while n2 was down').toBeGreaterThan(0);
    const { outcome, runDir, runId } = await run;

    expect(outcome.valid).toBe(false);
    const results = readResults(runDir);
    expect(results.valid).toBe(false);
    const recovery = results.checkers['recovery']!;
    expect(recovery.valid).toBe(false);
    const anomaly = recovery.anomalies!.find((a) => a.type === 'node-did-not-recover')!;
    expect(anomaly, JSON.stringify(recovery.anomalies)).toBeDefined();
    expect(anomaly.documented).toBeFalsy();
    expect(anomaly.description).toContain('n2');
    // Its last words name why: ZooKeeper would not load a database of logs without a snapshot.
    expect(anomaly.description).toMatch(/snapshot|load/i);
    expect(results.checkers['server-log']?.anomalies?.map((a) => a.type)).toContain('log-database-not-loaded');
    expect(await leftovers(runId)).toEqual([]);

    // The report shows both: the finding in the log table and as a red line on the history graph, and the node
    // that did not recover with its last words.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors = watchPageErrors(page);
      await page.goto(pathToFileURL(join(runDir, REPORT_FILE)).href);
      await page.waitForSelector('body[data-report-ready]', { timeout: 10_000 });
      const rows = await page.$$eval('table.log-findings tr.finding', (trs) => trs.map((tr) => tr.textContent ?? ''));
      expect(
        rows.some((r) => r.includes('n2') && r.includes('database-not-loaded')),
        rows.join('\n'),
      ).toBe(true);
      expect(await page.textContent('body')).toContain('node-did-not-recover');
      expect(await canvasPixels(page, '#timeline canvas', [0xc0, 0x39, 0x2b])).toBeGreaterThan(20);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 240_000);
});

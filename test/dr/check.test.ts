// The restore checker on hand-made histories: consistent cuts, the loss a damaged backup may cause, and the
// restores that must never pass (holes, elements never added, diverging nodes, an intact backup that loses data).
import { describe, expect, it } from 'vitest';
import { checkRestores, RESTORE_READ, type RestoreResult } from '../../src/dr/checker.js';
import type { HistoryEvent } from '../../src/history.js';
import { HistoryBuilder } from '../workloads/history-builder.js';

function append(b: HistoryBuilder, event: Omit<HistoryEvent, 'index' | 'time'>): void {
  b.events.push({ index: b.events.length, time: b.events.length * 1_000_000, ...event });
}

function drAction(b: HistoryBuilder, f: string, name: string, done: Record<string, unknown>, error?: string): void {
  append(b, { process: 'nemesis', type: 'info', f, value: name });
  append(b, { process: 'nemesis', type: 'info', f, value: { fault: name, ...done }, ...(error ? { error } : {}) });
}

/** Adds 0..3 acknowledged, then the backup starts, then adds 4..5 acknowledged; one restore read per node. */
function history(
  reads: Record<string, number[]>,
  restore: Record<string, unknown> = {},
  error?: string,
  backup: Record<string, unknown> = {},
): HistoryEvent[] {
  const b = new HistoryBuilder();
  for (const e of [0, 1, 2, 3]) b.op(e, 'add', e, 'ok', e);
  drAction(b, 'backup', 'backup-live', {
    backup: 'live',
    node: 'n2',
    lastZxid: '100000004',
    committedAtStart: '100000004',
    ...backup,
  });
  for (const e of [4, 5]) b.op(e, 'add', e, 'ok', e);
  drAction(b, 'disaster', 'disaster', {});
  drAction(
    b,
    'restore',
    'restore-live',
    { backup: 'live', damage: 'none', mode: 'all', recoveryMs: 5000, ...restore },
    error,
  );
  for (const [node, state] of Object.entries(reads)) {
    append(b, { process: 'final', type: 'invoke', f: RESTORE_READ, key: 'restore-live', value: null, node });
    append(b, { process: 'final', type: 'ok', f: RESTORE_READ, key: 'restore-live', value: state, node });
  }
  return b.events;
}

const result = (events: HistoryEvent[]): RestoreResult =>
  (checkRestores(events).restores as Record<string, RestoreResult>)['restore-live']!;

describe('restore checker', () => {
  it('a restore holding everything up to the backup is complete; adds after it are the recovery point', () => {
    const events = history({ n1: [0, 1, 2, 3, 4], n2: [0, 1, 2, 3, 4], n3: [0, 1, 2, 3, 4] });
    expect(checkRestores(events).valid).toBe(true);
    expect(result(events)).toMatchObject({
      status: 'complete',
      lostBeforeBackup: 0,
      missingAfterBackupStart: 1,
      converged: true,
      recoveryTimeS: 5,
    });
    expect(result(events).recoveryPointS).toBeGreaterThan(0);
  });

  it('an intact backup that lost acknowledged adds from before it started is invalid', () => {
    const events = history({ n1: [0, 1], n2: [0, 1], n3: [0, 1] });
    const checked = checkRestores(events);
    expect(checked.valid).toBe(false);
    expect(result(events)).toMatchObject({ status: 'data-loss', lostBeforeBackup: 2 });
    expect(checked.anomalies!.map((a) => a.type)).toEqual(Array(3).fill('lost-write')); // one per node
    expect(checked.anomalies![0]!.description).toMatch(
      /2 adds acknowledged before the backup started are missing \(2, 3\)/,
    );
  });

  it("a copy of a lagging replica (its last zxid below the leader's at the start) may miss adds: documented", () => {
    const events = history({ n1: [0, 1], n2: [0, 1], n3: [0, 1] }, {}, undefined, { lastZxid: '100000002' });
    const checked = checkRestores(events);
    expect(checked.valid).toBe(true);
    expect(result(events)).toMatchObject({ status: 'data-loss', lostBeforeBackup: 2, laggingReplica: true });
    expect(checked.anomalies!.every((a) => a.type === 'lagging-backup' && a.documented)).toBe(true);
  });

  it('a damaged backup that lost the same adds is reported as documented loss, not failed', () => {
    const events = history({ n1: [0, 1], n2: [0, 1], n3: [0, 1] }, { damage: 'truncate-log' });
    const checked = checkRestores(events);
    expect(checked.valid).toBe(true);
    expect(result(events)).toMatchObject({ status: 'data-loss', lostBeforeBackup: 2 });
    expect(checked.anomalies!.every((a) => a.type === 'backup-data-loss' && a.documented)).toBe(true);
  });

  it('a hole (an earlier acknowledged add missing, a later one present) is inconsistent, damaged or not', () => {
    for (const damage of ['none', 'flip-log']) {
      const events = history({ n1: [0, 2, 3], n2: [0, 2, 3], n3: [0, 2, 3] }, { damage });
      expect(checkRestores(events).valid).toBe(false);
      expect(result(events).status).toBe('inconsistent');
      expect(checkRestores(events).anomalies!.some((a) => a.type === 'cut-violation')).toBe(true);
    }
  });

  it('an element never added, or nodes that disagree, make the restore inconsistent', () => {
    const phantom = history({ n1: [0, 1, 2, 3, 99], n2: [0, 1, 2, 3, 99], n3: [0, 1, 2, 3, 99] });
    expect(result(phantom).status).toBe('inconsistent');
    expect(checkRestores(phantom).anomalies!.map((a) => a.type)).toContain('unexpected-element');
    const diverged = history({ n1: [0, 1, 2, 3, 4], n2: [0, 1, 2, 3], n3: [0, 1, 2, 3] });
    expect(result(diverged)).toMatchObject({ status: 'inconsistent', converged: false });
    expect(checkRestores(diverged).valid).toBe(false);
  });

  it("a damaged backup may fail to start with the server's message; an intact one may not", () => {
    const message = 'the restored ensemble did not serve: only 0 of 3 servers still run; server log: CRC check failed';
    const damaged = history({}, { damage: 'flip-log' }, message);
    expect(checkRestores(damaged).valid).toBe(true);
    expect(result(damaged)).toMatchObject({ status: 'failed-to-start', message });
    expect(checkRestores(history({}, {}, message)).valid).toBe(false);
  });
});

// runTest with the in-memory (FAKE) cluster, database, workload and fault of src/fakes: every phase, and every way a
// run can end (valid, invalid, aborted in each phase, a failing heal, a throwing checker, an incomplete schedule, a
// history that cannot be written, extreme rates and intervals), in milliseconds and without Docker.
import { describe, expect, it } from 'vitest';
import { NoTargetError } from '../src/errors.js';
import { fakeRun } from '../src/fakes/memory.js';
import { readHistory } from '../src/history.js';
import { FileLogger, MemoryLogger } from '../src/log.js';
import type { Fault } from '../src/nemesis.js';
import { runTest } from '../src/runner.js';
import { randomSchedule } from '../src/schedule.js';
import { sleep } from '../src/time.js';
import type { Checker } from '../src/checker.js';

const never = new AbortController().signal;

describe('runTest with in-memory parts', () => {
  it('runs every phase: start, main phase with faults, final heal, recovery, final reads, checking', async () => {
    const { test, register } = fakeRun({ timeLimitS: 1 });
    const outcome = await runTest(test, new MemoryLogger(), never);
    expect(outcome.valid).toBe(true);
    expect(outcome.checkers.linearizable?.valid).toBe(true);
    expect(outcome.nemesis.done).toBeGreaterThan(0);
    expect(outcome.nemesis.failed).toEqual([]);
    expect(outcome.recovery).toMatchObject({ leaderMs: expect.any(Number), quorumMs: expect.any(Number) });
    expect(outcome.leaders).toEqual(['n1']);
    expect(register.down.size).toBe(0);
    const history = await readHistory(test.historyPath);
    expect(history.filter((e) => typeof e.process === 'number' && e.type === 'ok').length).toBeGreaterThan(10);
    expect(history.filter((e) => e.process === 'final' && e.f === 'final-read' && e.type === 'ok')).toHaveLength(3);
    // Healed before the run, after each fault, and at the end.
    expect(history.filter((e) => e.f === 'heal' && typeof e.value !== 'string').length).toBeGreaterThan(2);
  });

  it('finds a bug the fake was given: a node that serves a stale value is not linearizable', async () => {
    const { test, register } = fakeRun({ timeLimitS: 0.3 });
    register.staleReadsFrom.set('n2', 4);
    const outcome = await runTest(test, new MemoryLogger(), never);
    expect(outcome.checkers.linearizable?.valid).toBe(false);
    expect(outcome.valid).toBe(false);
  });

  it('stops the main phase within moments of an abort, heals at teardown and keeps the history', async () => {
    const { test, register } = fakeRun({ timeLimitS: 60 });
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => {
      register.down.add('n3');
      abort.abort('SIGINT');
    }, 200);
    const outcome = await runTest(test, new MemoryLogger(), abort.signal);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcome).toMatchObject({ valid: 'unknown', aborted: 'SIGINT', checkers: {} });
    expect(register.down.size).toBe(0);
    const history = await readHistory(test.historyPath);
    expect(history.at(-1)).toMatchObject({ process: 'nemesis', f: 'heal' });
  });

  it('stops a start-up that never serves within moments of an abort', async () => {
    const { test } = fakeRun();
    test.db.waitForQuorum = () => new Promise(() => {});
    const abort = new AbortController();
    setTimeout(() => abort.abort('SIGTERM'), 100);
    const started = Date.now();
    const outcome = await runTest(test, new MemoryLogger(), abort.signal);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(outcome).toMatchObject({ valid: 'unknown', aborted: 'SIGTERM' });
  });

  it('ends a run whose heal fails as unknown, with the cause, instead of throwing', async () => {
    const { test } = fakeRun({ fault: { healError: 'iptables: the chain is busy' } });
    const outcome = await runTest(test, new MemoryLogger(), never);
    expect(outcome.valid).toBe('unknown');
    expect(outcome.error).toContain('iptables: the chain is busy');
    expect(outcome.aborted).toBeUndefined();
    expect((await readHistory(test.historyPath)).length).toBeGreaterThan(0);
  });

  it('reports a checker that throws as unknown, with its error, and the run as unknown', async () => {
    const broken: Checker = {
      check: async () => {
        throw new Error('checker bug');
      },
    };
    const { test } = fakeRun({ checkers: { broken } });
    const outcome = await runTest(test, new MemoryLogger(), never);
    expect(outcome.checkers.broken).toEqual({ valid: 'unknown', error: 'checker bug' });
    expect(outcome.checkers.linearizable?.valid).toBe(true);
    expect(outcome.valid).toBe('unknown');
  });

  it('never passes a run whose requested faults failed or never took effect', async () => {
    const failing: Fault = {
      name: 'exec-fails',
      family: 'memory',
      description: 'FAKE: always fails',
      start: async () => {
        throw new Error('docker exec failed');
      },
      heal: async () => ({}),
    };
    const failed = await runTest(fakeRun({ fault: failing }).test, new MemoryLogger(), never);
    expect(failed.valid).toBe('unknown');
    expect(failed.incomplete).toMatch(/requested faults failed \(exec-fails: docker exec failed/);
    const noTarget: Fault = {
      ...failing,
      name: 'no-target',
      start: async () => {
        throw new NoTargetError('no single leader to target');
      },
    };
    const skipped = await runTest(fakeRun({ fault: noTarget }).test, new MemoryLogger(), never);
    expect(skipped.valid).toBe('unknown');
    expect(skipped.incomplete).toMatch(/none of the \d+ requested faults took effect/);
    // An interval longer than the run: the schedule asked for nothing, which is no pass either.
    const { test } = fakeRun({ nemesisIntervalS: 1000 });
    test.schedule = randomSchedule(test.faults, 1, 1000);
    expect((await runTest(test, new MemoryLogger(), never)).incomplete).toContain('requested no fault');
  });

  it('ends on time at extreme rates and intervals (waits past Node timer limit are split, not fired at once)', async () => {
    const { test } = fakeRun({ rate: 1e-9, timeLimitS: 0.5 });
    test.schedule = randomSchedule(test.faults, 1, 3_000_000);
    const started = Date.now();
    const outcome = await runTest(test, new MemoryLogger(), never);
    expect(Date.now() - started).toBeLessThan(3000);
    // One op per process at most (the first), and no fault: 3 million seconds did not fire after 1 ms.
    expect(outcome.stats.ok + outcome.stats.fail).toBeLessThanOrEqual(3);
    expect(outcome.nemesis.requested).toBe(0);
  });

  it('keeps its rate when each op takes most of its gap: the gap runs from one op start to the next', async () => {
    // 3 processes at 150 ops/s: a 20 ms gap on average per process, each op taking 15 ms. Pacing from the end of
    // each op would give 3 / 35 ms = 86 ops/s.
    const { test } = fakeRun({ rate: 150, timeLimitS: 2, nemesisIntervalS: 1000 });
    const fast = test.workload;
    test.workload = {
      ...fast,
      openClient: async (node) => {
        const client = await fast.openClient(node);
        return { ...client, invoke: async (op) => (await sleep(15), client.invoke(op)) };
      },
    };
    const outcome = await runTest(test, new MemoryLogger(), never);
    const rate = (outcome.stats.ok + outcome.stats.fail + outcome.stats.info) / test.timeLimitS;
    expect(rate).toBeGreaterThan(120);
    expect(rate).toBeLessThan(170);
  });

  it('names a history that cannot be written (a full disk) and still returns a verdict', async () => {
    const { test } = fakeRun({ historyPath: '/dev/full' });
    const outcome = await runTest(test, new MemoryLogger(), never);
    expect(outcome.valid).toBe('unknown');
    expect(outcome.error).toMatch(/the disk is full \(ENOSPC/);
  });

  it('a harness.log that cannot be written stops the file, not the run: lines still reach the terminal', () => {
    const terminal = new MemoryLogger();
    const log = new FileLogger(terminal, '/dev/full');
    log.info('one');
    log.warn('two');
    expect(log.failure?.message).toMatch(/ENOSPC/);
    expect(terminal.lines).toEqual(['one', 'warning: two']);
  });
});

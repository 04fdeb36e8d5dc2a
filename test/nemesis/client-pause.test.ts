// The client pause on a FAKE sidecar (no Docker): which JVM it picks, the signals it sends, its record, its heal,
// its params, and the runs that must refuse it before they start.
import { describe, expect, it } from 'vitest';
import { SidecarRoster, type AttachedProcess, type ExecResult, type Sidecar } from '../../src/cluster.js';
import { resolveRunConfig } from '../../src/config.js';
import { NoTargetError, UsageError } from '../../src/errors.js';
import { fakeNemesisContext } from '../../src/fakes/memory.js';
import { paramProblems, type NemesisContext } from '../../src/nemesis.js';
import { Random } from '../../src/random.js';
import { planRun } from '../../src/run/execute.js';
import { DEFAULT_CLIENT_PAUSE_MS, pauseClient, pauseDurationMs, stoppedJvms } from '../../nemesis/client.js';
import { FAULTS, familyHealers, resolveFaults } from '../../nemesis/index.js';

/** A FAKE sidecar: it runs nothing, records each exec, answers ps with `ps`, and kill for the pids in `alive`. */
class FakeSidecar implements Sidecar {
  readonly ip = '10.0.0.200';
  readonly roster = new SidecarRoster();
  readonly commands: string[] = [];
  ps = '';
  alive = new Set<number>();

  constructor(readonly name = 'driver') {}

  exec(cmd: string[]): Promise<ExecResult> {
    this.commands.push(cmd.join(' '));
    if (cmd[0] === 'ps') return Promise.resolve({ exitCode: 0, stdout: this.ps, stderr: '' });
    const pid = Number(cmd[2]);
    return Promise.resolve({ exitCode: this.alive.has(pid) ? 0 : 1, stdout: '', stderr: '' });
  }

  spawn(): Promise<AttachedProcess> {
    throw new Error('the fake sidecar spawns nothing');
  }
}

function contextWith(sidecars: Sidecar[], seed = 3): NemesisContext {
  const context = fakeNemesisContext();
  return {
    ...context,
    cluster: Object.assign(context.cluster, { sidecars: () => sidecars }),
    random: new Random(seed),
  };
}

function driverWith(pids: number[]): FakeSidecar {
  const sidecar = new FakeSidecar();
  for (const pid of pids) {
    sidecar.roster.announce({ pid, serves: `a client of n${pid % 3}` });
    sidecar.alive.add(pid);
  }
  return sidecar;
}

describe('pause-client', () => {
  it('stops one JVM that serves a client, resumes it after durationMs, and records whom it hit', async () => {
    const sidecar = driverWith([301, 302, 303]);
    const started = Date.now();
    const record = await pauseClient.start(contextWith([sidecar]), { params: { durationMs: 40 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(39);
    const pid = record.pid as number;
    expect([301, 302, 303]).toContain(pid);
    expect(sidecar.commands).toEqual([`kill -STOP ${pid}`, `kill -CONT ${pid}`]);
    expect(record).toMatchObject({
      signal: 'STOP',
      sidecar: 'driver',
      serves: `a client of n${pid % 3}`,
      durationMs: 40,
      resumed: true,
      nodes: [],
    });
    expect(record.pausedMs as number).toBeGreaterThanOrEqual(39);
  });

  it('chooses with the seeded random: the same seed picks the same JVM, other seeds reach the others', async () => {
    const pick = async (seed: number): Promise<unknown> =>
      (await pauseClient.start(contextWith([driverWith([11, 12, 13, 14])], seed), { params: { durationMs: 1 } })).pid;
    expect(await pick(5)).toBe(await pick(5));
    const seen = new Set<unknown>();
    for (let seed = 0; seed < 40; seed++) seen.add(await pick(seed));
    expect([...seen].sort()).toEqual([11, 12, 13, 14]);
  });

  it('aims only at JVMs announced as serving a client; with none it has no target (skipped, not failed)', async () => {
    const sidecar = driverWith([]);
    await expect(pauseClient.start(contextWith([sidecar]))).rejects.toBeInstanceOf(NoTargetError);
    await expect(pauseClient.start(fakeNemesisContext())).rejects.toBeInstanceOf(NoTargetError);
    expect(sidecar.commands).toEqual([]);
  });

  it('says when the JVM it stopped ended before the resume', async () => {
    const sidecar = driverWith([7]);
    const pausing = pauseClient.start(contextWith([sidecar]), { params: { durationMs: 30 } });
    sidecar.alive.delete(7);
    expect(await pausing).toMatchObject({ pid: 7, resumed: false });
  });

  it('heals by resuming every stopped JVM of every sidecar, and only those', async () => {
    const a = driverWith([]);
    a.ps = ['  1 Ss   docker-init', ' 40 Tl   java', ' 41 Sl   java', ' 42 T    sleep'].join('\n');
    a.alive = new Set([40, 41, 42]);
    const b = new FakeSidecar('driver-2');
    b.ps = ' 9 Tl java\n';
    b.alive.add(9);
    const record = await pauseClient.heal(contextWith([a, b]));
    expect(record).toEqual({ resumed: ['driver:40', 'driver-2:9'], nodes: [] });
    expect(a.commands).toEqual(['ps -eo pid=,stat=,comm=', 'kill -CONT 40']);
    // No sidecar (a run without recipe workloads, or before the driver starts): nothing to do.
    expect(await pauseClient.heal(fakeNemesisContext())).toEqual({ resumed: [], nodes: [] });
  });

  it('reads stopped JVMs from ps', () => {
    expect(stoppedJvms(' 12 Tl java\n 3 T+ java\n 5 Sl java\n 6 T bash\n\n')).toEqual([3, 12]);
  });

  it('declares durationMs, a whole number of ms above 0; a misspelled param is a problem', () => {
    expect(paramProblems(pauseClient, { durationMs: 4500 })).toEqual([]);
    expect(paramProblems(pauseClient, { duration: 4500 })).toEqual([
      'pause-client has no param "duration" (it takes durationMs)',
    ]);
    expect(paramProblems(pauseClient, { durationMs: 0 })).toHaveLength(1);
    expect(paramProblems(pauseClient, { durationMs: 2.5 })).toHaveLength(1);
    expect(pauseDurationMs(undefined)).toBe(DEFAULT_CLIENT_PAUSE_MS);
    expect(pauseDurationMs({ durationMs: 4500 })).toBe(4500);
  });

  it('is its own family, healed with the others, and not among the server pauses', () => {
    expect(FAULTS['pause-client']?.family).toBe('client');
    expect(familyHealers().map((f) => f.family)).toContain('client');
    expect(resolveFaults(['pause']).map((f) => f.name)).not.toContain('pause-client');
    expect(resolveFaults(['pause:client']).map((f) => f.name)).toEqual(['pause-client']);
  });

  it('is refused before the run by a workload without driver JVMs, accepted by the recipe workloads', () => {
    const plan = (workload: string): unknown =>
      planRun(resolveRunConfig({ seed: 1, workload, nemesis: ['pause-client', 'kill-leader'] }));
    expect(() => plan('register')).toThrow(UsageError);
    expect(() => plan('register')).toThrow(/pause-client pauses a Curator driver JVM/);
    expect(() => plan('lock')).not.toThrow();
    expect(() => plan('election-fenced')).not.toThrow();
    expect(() => resolveFaults(['pause-client@n2'])).toThrow(/takes no target/);
  });
});

// Client faults: a pause of one client process, as a long GC pause of a lock holder. SIGSTOP one Curator driver
// JVM in its sidecar (chosen with the run's seeded random among those serving a client), SIGCONT it after
// `durationMs`. A holder paused past its session timeout comes back believing it still holds while ZooKeeper has
// expired its session and handed the lock to another client: the hazard fencing exists for. Server pauses
// (pause-*) cannot show it: the client of a paused server notices first (its op times out and it is retired).
import type { Sidecar, SidecarProcess } from '../src/cluster.js';
import { HarnessError, NoTargetError } from '../src/errors.js';
import type { Fault, FaultRecord, FaultRequest, NemesisContext } from '../src/nemesis.js';
import { sleep } from '../src/time.js';

export const CLIENT_FAMILY = 'client';

/**
 * How long a client pause lasts unless a scenario says (`params: { durationMs }`): longer than the default session
 * timeout (5 s), so the session of the paused client expires during the pause. Its op in flight is kept only when
 * the op timeout (--op-timeout, 5 s by default) is longer than the pause; otherwise the harness retires the client
 * first and its hold ends then, as with a server pause.
 */
export const DEFAULT_CLIENT_PAUSE_MS = 8000;

/** A driver JVM and the sidecar it runs in. */
export interface ClientProcess {
  sidecar: Sidecar;
  process: SidecarProcess;
}

/** Every process serving a client now, over every sidecar, in sidecar then pid order (a seeded pick is stable). */
export function clientProcesses(context: NemesisContext): ClientProcess[] {
  return (context.cluster.sidecars?.() ?? []).flatMap((sidecar) =>
    (sidecar.roster?.list() ?? []).map((process) => ({ sidecar, process })),
  );
}

/** The pause's length from a request's params (checked before the run: a whole number of ms above 0). */
export function pauseDurationMs(params: FaultRequest['params']): number {
  const value = params?.['durationMs'];
  return typeof value === 'number' ? value : DEFAULT_CLIENT_PAUSE_MS;
}

/** The pids of the JVMs `ps -eo pid=,stat=,comm=` shows stopped by a signal (state T). */
export function stoppedJvms(psOutput: string): number[] {
  const pids: number[] = [];
  for (const line of psOutput.split('\n')) {
    const [pid, stat, comm] = line.trim().split(/\s+/);
    if (pid && stat?.startsWith('T') && comm === 'java') pids.push(Number(pid));
  }
  return pids.sort((a, b) => a - b);
}

async function signal(sidecar: Sidecar, name: 'STOP' | 'CONT', pid: number): Promise<boolean> {
  const result = await sidecar.exec(['kill', `-${name}`, String(pid)], { timeoutMs: 10_000 });
  return result.exitCode === 0;
}

/**
 * What a pause did: the sidecar, the JVM's pid and whom it served, how long it was stopped, whether it resumed.
 * pausedMs runs from the STOP's return to the CONT's, so the completion's time minus pausedMs is when the JVM
 * stopped: the invoke comes earlier by the record's role probe and the exec of the STOP (up to a few hundred ms on a
 * busy machine), time in which the client may still answer.
 */
export function pauseRecord(hit: ClientProcess, requestedMs: number, pausedMs: number, resumed: boolean): FaultRecord {
  return {
    signal: 'STOP',
    sidecar: hit.sidecar.name,
    pid: hit.process.pid,
    serves: hit.process.serves,
    durationMs: requestedMs,
    pausedMs,
    resumed,
    // No server was touched.
    nodes: [],
  };
}

/** Resumes every stopped JVM of every sidecar; the record names each as sidecar:pid. */
async function healClients(context: NemesisContext): Promise<FaultRecord> {
  const resumed: string[] = [];
  for (const sidecar of context.cluster.sidecars?.() ?? []) {
    const ps = await sidecar.exec(['ps', '-eo', 'pid=,stat=,comm='], { timeoutMs: 10_000 });
    if (ps.exitCode !== 0) throw new HarnessError(`${sidecar.name}: ps exited ${ps.exitCode}: ${ps.stderr.trim()}`);
    for (const pid of stoppedJvms(ps.stdout))
      if (await signal(sidecar, 'CONT', pid)) resumed.push(`${sidecar.name}:${pid}`);
  }
  return { resumed, nodes: [] };
}

export const pauseClient: Fault = {
  name: 'pause-client',
  family: CLIENT_FAMILY,
  description: `SIGSTOP one random Curator driver JVM (a client process of a lock or election workload), SIGCONT it after durationMs (default ${DEFAULT_CLIENT_PAUSE_MS} ms, past the default session timeout); the heal resumes every stopped one`,
  targetsClients: true,
  params: {
    durationMs: { kind: 'count', help: `how long the JVM stays stopped, ms (default ${DEFAULT_CLIENT_PAUSE_MS})` },
  },
  // The start returns when the JVM resumes, so the fault's record spans the pause (its invoke and completion).
  async start(context, request) {
    const candidates = clientProcesses(context);
    if (candidates.length === 0) throw new NoTargetError('no client driver process serves a client now');
    const hit = context.random.pick(candidates);
    const requestedMs = pauseDurationMs(request?.params);
    if (!(await signal(hit.sidecar, 'STOP', hit.process.pid)))
      throw new NoTargetError(`driver JVM ${hit.process.pid} in ${hit.sidecar.name} is gone`);
    const stoppedAt = Date.now();
    // Cut short when the main phase ends (time limit, Ctrl-C): the JVM resumes at once.
    await sleep(requestedMs, context.signal);
    // A JVM that ended while stopped (killed by its client's close) has nothing left to resume.
    const resumed = await signal(hit.sidecar, 'CONT', hit.process.pid);
    return pauseRecord(hit, requestedMs, Date.now() - stoppedAt, resumed);
  },
  heal: healClients,
};

export const clientFaults: Fault[] = [pauseClient];

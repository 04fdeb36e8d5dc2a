// The harness's side of the Curator driver (docker/driver/FaultlineDriver.java): JVM processes in the run's
// driver sidecar, one per client process, spoken to in JSON lines. A JVM takes seconds to start and connect on a
// busy machine, longer than an op may wait, so a pool keeps connected spares per connect string.
import { createInterface } from 'node:readline';
import type { ClientOptions } from './client.js';
import type { AttachedProcess, Sidecar } from './cluster.js';
import { HarnessError } from './errors.js';
import type { Logger } from './log.js';
import { withTimeout } from './time.js';

/** A connection-state change (Curator's CONNECTED, SUSPENDED, RECONNECTED, LOST) or a leadership change. */
export interface DriverEvent {
  event: 'connection' | 'leader';
  state: string;
  /** How long before the answer that carried it the event happened, in ns (the answer's time minus this). */
  agoNs: number;
}

export interface DriverReply {
  type: 'ok' | 'fail' | 'info';
  value?: unknown;
  error?: string;
  events?: DriverEvent[];
}

interface DriverLine extends Partial<DriverReply> {
  id?: number;
  spare?: boolean;
  pid?: number;
  curator?: string;
  zookeeper?: string;
}

const CLOSE_WAIT_MS = 2000;

/** The launcher inside the driver image (docker/driver.ts puts it there): starts one spare JVM. */
export const DRIVER_COMMAND = '/usr/local/bin/faultline-driver';

/** One driver JVM bound to a connect string: one Curator client, one session at a time. */
export class DriverProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: DriverReply) => void>();
  private endedValue = false;
  private closing: Promise<void> | undefined;
  /** Curator and ZooKeeper client versions the JVM reported. */
  versions: { curator?: string; zookeeper?: string } = {};

  constructor(
    private readonly sidecar: Sidecar,
    private readonly attached: AttachedProcess,
    readonly pid: number,
    private readonly log: Logger,
    onLine: (listener: (line: DriverLine) => void) => void,
  ) {
    onLine((line) => {
      if (line.id === undefined) return;
      const resolve = this.pending.get(line.id);
      this.pending.delete(line.id);
      resolve?.({
        type: line.type ?? 'info',
        ...(line.value !== undefined ? { value: line.value } : {}),
        ...(line.error !== undefined ? { error: line.error } : {}),
        ...(line.events ? { events: line.events } : {}),
      });
    });
    void attached.ended.then(() => {
      this.endedValue = true;
      sidecar.roster?.forget(pid);
      // Requests in flight when the JVM ended: their outcome is unknown.
      for (const resolve of this.pending.values()) resolve({ type: 'info', error: 'driver process ended' });
      this.pending.clear();
    });
  }

  get alive(): boolean {
    return !this.endedValue && this.closing === undefined;
  }

  /** Sends one request; resolves with its answer (info when the process ends first). */
  request(op: string, body: Record<string, unknown> = {}): Promise<DriverReply> {
    if (!this.alive) return Promise.resolve({ type: 'fail', error: 'driver process closed' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.attached.stdin.write(JSON.stringify({ id, op, ...body }) + '\n');
    });
  }

  /** Closes the Curator client (its session ends, its ephemerals go), then the JVM; kill -9 if it lingers. */
  close(): Promise<void> {
    // A closing client serves nobody: client faults no longer aim at it.
    this.sidecar.roster?.forget(this.pid);
    this.closing ??= (async () => {
      if (!this.endedValue) {
        this.attached.stdin.write(JSON.stringify({ id: 0, op: 'close' }) + '\n');
        const ended = await withTimeout(this.attached.ended, CLOSE_WAIT_MS, 'driver close').then(
          () => true,
          () => false,
        );
        if (!ended) await this.kill();
      }
      this.attached.detach();
    })();
    return this.closing;
  }

  /** Like a crashed client process: the session is left to expire. */
  async kill(): Promise<void> {
    await this.sidecar.exec(['kill', '-9', String(this.pid)], { timeoutMs: 10_000 }).catch((err: Error) => {
      this.log.debug(`kill -9 driver ${this.pid}: ${err.message}`);
    });
    this.attached.detach();
  }
}

/** How long a JVM may take to start and connect in the background (a busy 2-core machine takes seconds). */
const PREPARE_TIMEOUT_MS = 60_000;

/**
 * Connected driver JVMs in one sidecar, ready per connect string. Opening a client hands over one that is already
 * connected (instant), and a replacement starts in the background; so neither the JVM's start nor Curator's first
 * connect, both seconds long on a busy machine, count against an op's timeout.
 */
export class DriverPool {
  private readonly ready = new Map<string, DriverProcess[]>();
  private readonly waiting = new Map<string, ((process: DriverProcess) => void)[]>();
  private readonly preparing = new Map<string, number>();
  /** Spares to keep per connect string: as many as clients were started on it. */
  private readonly spares = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly sidecar: Sidecar,
    private readonly command: string[],
    private readonly log: Logger,
    private readonly options: ClientOptions,
  ) {}

  /** Connects one JVM per entry (one per client that opens at once); rejects when none could be made ready. */
  async start(connects: readonly string[]): Promise<void> {
    for (const c of connects) this.spares.set(c, (this.spares.get(c) ?? 0) + 1);
    const results = await Promise.allSettled(connects.map((c) => this.prepare(c)));
    const failed = results.find((r) => r.status === 'rejected');
    if (results.every((r) => r.status === 'rejected')) throw (failed as PromiseRejectedResult).reason as Error;
    if (failed) this.log.warn(`a Curator driver JVM did not start: ${(failed.reason as Error).message}`);
  }

  /**
   * A connected client for `connect` within `deadlineMs`; a replacement is prepared meanwhile. The JVM handed out
   * is announced in the sidecar's roster as serving `serves` until it ends or closes.
   */
  async open(connect: string, deadlineMs: number, serves: string = connect): Promise<DriverProcess> {
    if (this.closed) throw new Error('driver pool closed');
    const taken = this.take(connect, deadlineMs);
    this.replenish(connect);
    const process = await taken;
    if (process.alive) this.sidecar.roster?.announce({ pid: process.pid, serves });
    return process;
  }

  /** JVMs started and not yet connected, per connect string (for tests). */
  preparingFor(connect: string): number {
    return this.preparing.get(connect) ?? 0;
  }

  /**
   * Starts JVMs until those ready and those starting cover the clients waiting plus the spares (one per client
   * `start` was given for this connect string, at least one), and no more. A client that gives up waiting and opens
   * again must not start another JVM each time: while a fault keeps JVMs from connecting, that piled up dozens of
   * starting JVMs on a 2-core machine, which then starved the ensemble and every client of CPU.
   */
  private replenish(connect: string): void {
    const wanted = (this.waiting.get(connect)?.length ?? 0) + Math.max(1, this.spares.get(connect) ?? 0);
    const have = (): number =>
      (this.ready.get(connect) ?? []).filter((p) => p.alive).length + this.preparingFor(connect);
    while (!this.closed && have() < wanted)
      void this.prepare(connect).catch((err: Error) => {
        if (!this.closed) this.log.warn(`a Curator driver JVM did not start: ${err.message}`);
      });
  }

  /** Stops preparing and ends the JVMs nobody took (their container goes with the cluster anyway). */
  close(): void {
    this.closed = true;
    for (const list of this.ready.values()) for (const p of list.splice(0)) void p.close();
  }

  private take(connect: string, deadlineMs: number): Promise<DriverProcess> {
    const list = this.ready.get(connect) ?? [];
    let process: DriverProcess | undefined;
    while ((process = list.shift())) if (process.alive) return Promise.resolve(process);
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(connect) ?? [];
      this.waiting.set(connect, waiters);
      const waiter = (p: DriverProcess): void => {
        clearTimeout(timer);
        resolve(p);
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no connected Curator driver for ${connect} within ${deadlineMs} ms`));
      }, deadlineMs);
      waiters.push(waiter);
    });
  }

  private offer(connect: string, process: DriverProcess): void {
    if (this.closed) {
      void process.close();
      return;
    }
    const waiter = this.waiting.get(connect)?.shift();
    if (waiter) waiter(process);
    else this.ready.set(connect, [...(this.ready.get(connect) ?? []), process]);
  }

  /** Starts a JVM and connects it to `connect`, then offers it. Counted in `preparing` until it is offered or fails. */
  private async prepare(connect: string): Promise<void> {
    this.preparing.set(connect, this.preparingFor(connect) + 1);
    let process: DriverProcess;
    try {
      process = await this.connectSpare(connect);
    } finally {
      this.preparing.set(connect, this.preparingFor(connect) - 1);
    }
    this.offer(connect, process);
  }

  private async connectSpare(connect: string): Promise<DriverProcess> {
    const spare = await this.spawn();
    const process = new DriverProcess(this.sidecar, spare.attached, spare.pid, this.log, spare.listen);
    const reply = await withTimeout(
      process.request('connect', {
        connect,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
        waitMs: PREPARE_TIMEOUT_MS,
      }),
      PREPARE_TIMEOUT_MS + 5000,
      `driver connect to ${connect}`,
    ).catch((err: Error): DriverReply => ({ type: 'info', error: err.message }));
    if (reply.type !== 'ok') {
      await process.kill();
      throw new Error(`Curator client could not connect to ${connect}: ${reply.error ?? reply.type}`);
    }
    process.versions = {
      ...(spare.line.curator ? { curator: spare.line.curator } : {}),
      ...(spare.line.zookeeper ? { zookeeper: spare.line.zookeeper } : {}),
    };
    return process;
  }

  private async spawn(): Promise<Spare> {
    const attached = await this.sidecar.spawn(this.command);
    const listeners: ((line: DriverLine) => void)[] = [];
    const stderrTail: string[] = [];
    createInterface({ input: attached.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      this.log.debug(`driver: ${line}`);
    });
    const first = new Promise<DriverLine>((resolve, reject) => {
      createInterface({ input: attached.stdout }).on('line', (text) => {
        let line: DriverLine;
        try {
          line = JSON.parse(text) as DriverLine;
        } catch {
          this.log.debug(`driver said (not JSON): ${text}`);
          return;
        }
        if (line.spare) resolve(line);
        for (const listener of listeners) listener(line);
      });
      void attached.ended.then(() =>
        reject(
          new Error(`the driver JVM ended before it was ready: ${stderrTail.slice(-5).join(' | ') || 'no output'}`),
        ),
      );
    });
    const line = await withTimeout(first, PREPARE_TIMEOUT_MS, 'driver JVM start');
    if (line.pid === undefined) throw new HarnessError('the driver JVM did not say its pid');
    return { attached, pid: line.pid, line, listen: (listener) => listeners.push(listener) };
  }
}

interface Spare {
  attached: AttachedProcess;
  pid: number;
  line: DriverLine;
  listen: (listener: (line: DriverLine) => void) => void;
}

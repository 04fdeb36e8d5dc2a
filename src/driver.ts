// The harness's side of the Curator driver (docker/driver/FaultlineDriver.java): JVM processes in the run's
// driver sidecar, one per client process, spoken to in JSON lines. A JVM takes seconds to start on a busy
// machine, longer than an op may wait, so a pool keeps warm spares; opening a client binds a spare to a connect
// string (a connect, not a JVM start).
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

interface Spare {
  attached: AttachedProcess;
  pid: number;
  line: DriverLine;
  listen: (listener: (line: DriverLine) => void) => void;
}

/** Warm driver JVMs in one sidecar. */
export class DriverPool {
  private readonly warm: Spare[] = [];
  private readonly waiting: ((spare: Spare) => void)[] = [];
  private starting = 0;
  private closed = false;

  constructor(
    private readonly sidecar: Sidecar,
    private readonly command: string[],
    private readonly log: Logger,
    private readonly spares = 2,
  ) {}

  /**
   * Starts `initial` JVMs (one per client that opens at once) and resolves when they are warm, or rejects with
   * why the first one could not start. From then on `spares` are kept warm.
   */
  async start(initial: number): Promise<void> {
    const starting = Array.from({ length: Math.max(1, initial) }, () => this.spawn());
    const spares = await Promise.allSettled(starting);
    for (const s of spares) if (s.status === 'fulfilled') this.offer(s.value);
    const failed = spares.find((s) => s.status === 'rejected');
    if (this.warm.length === 0 && failed) throw failed.reason as Error;
    this.refill();
  }

  /**
   * Binds a warm JVM to `connect` and returns it connected, within `deadlineMs`; rejects when no JVM was warm in
   * time or it could not connect (that JVM is killed: nothing is left holding a session nobody uses).
   */
  async open(connect: string, options: ClientOptions, deadlineMs: number): Promise<DriverProcess> {
    const startedAt = Date.now();
    const spare = await this.take(deadlineMs);
    this.refill();
    const process = new DriverProcess(this.sidecar, spare.attached, spare.pid, this.log, spare.listen);
    const reply = await withTimeout(
      process.request('connect', {
        connect,
        sessionTimeoutMs: options.sessionTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
      }),
      Math.max(100, deadlineMs - (Date.now() - startedAt)),
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

  /** Stops handing out spares and ends the warm ones (their container goes with the cluster anyway). */
  close(): void {
    this.closed = true;
    for (const spare of this.warm.splice(0)) spare.attached.detach();
  }

  private take(deadlineMs: number): Promise<Spare> {
    const spare = this.warm.shift();
    if (spare) return Promise.resolve(spare);
    if (this.closed) return Promise.reject(new Error('driver pool closed'));
    return new Promise((resolve, reject) => {
      const waiter = (s: Spare): void => {
        clearTimeout(timer);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new Error(`no warm Curator driver JVM within ${deadlineMs} ms`));
      }, deadlineMs);
      this.waiting.push(waiter);
    });
  }

  private offer(spare: Spare): void {
    if (this.closed) {
      spare.attached.detach();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter(spare);
    else this.warm.push(spare);
  }

  private refill(): void {
    while (!this.closed && this.warm.length + this.starting < this.spares + this.waiting.length) {
      this.spawn().then(
        (spare) => this.offer(spare),
        (err: Error) => {
          if (!this.closed) this.log.warn(`a Curator driver JVM did not start: ${err.message}`);
        },
      );
    }
  }

  private async spawn(): Promise<Spare> {
    this.starting++;
    try {
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
      const line = await withTimeout(first, 60_000, 'driver JVM start');
      if (line.pid === undefined) throw new HarnessError('the driver JVM did not say its pid');
      return { attached, pid: line.pid, line, listen: (listener) => listeners.push(listener) };
    } finally {
      this.starting--;
    }
  }
}

// What the Curator recipe workloads (lock, election) share: the driver sidecar and its warm JVMs, a workload
// client per process (one Curator client, bound to its node's connect string or to the whole ensemble), the
// protected log every hold writes to, and the log's recovery read (through our own client, after a sync).
import type { ClientOptions } from '../src/client.js';
import type { ClusterNode } from '../src/cluster.js';
import { DRIVER_COMMAND, DriverPool, type DriverProcess, type DriverReply } from '../src/driver.js';
import { HarnessError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import type { Completion, Invocation, WorkloadClient, WorkloadRun } from '../src/workload.js';
import { CLIENT_PORT } from '../src/zookeeper.js';
import { ensureZnode, withSession } from './common.js';

/** node: each client on its worker's node only, as Faultline's own clients; ensemble: every node, as Curator users run it. */
export type DriverConnect = 'node' | 'ensemble';
export const DRIVER_CONNECT_MODES: readonly DriverConnect[] = ['node', 'ensemble'];

export interface RecipeOptions {
  client: ClientOptions;
  connect: DriverConnect;
  fenced: boolean;
  /** The driver image (docker/driver.ts names it); only runs need it, re-checking a history does not. */
  image?: string;
}

/** The driver sidecar of one run and its pool of warm JVMs. */
export class DriverSidecar {
  private pool: DriverPool | undefined;

  constructor(
    private readonly client: ClientOptions,
    private readonly mode: DriverConnect,
    private readonly image: string | undefined,
  ) {}

  private nodes: readonly ClusterNode[] = [];
  private log: Logger | undefined;
  versions: { curator?: string; zookeeper?: string } = {};

  async start(run: WorkloadRun): Promise<void> {
    if (!run.cluster.startSidecar)
      throw new HarnessError('this cluster cannot start a driver sidecar', 'Run recipe workloads on Docker.');
    const image = this.image;
    if (!image)
      throw new HarnessError('no Curator driver image was given to this run', 'Run it with `faultline test`.');
    const sidecar = await run.cluster.startSidecar('driver', image).catch((err: Error) => {
      throw new HarnessError(
        `the Curator driver container did not start (${image}): ${err.message}`,
        'Run `faultline setup` to build the driver image.',
        { cause: err },
      );
    });
    this.nodes = run.cluster.nodes;
    this.log = run.log;
    this.pool = new DriverPool(sidecar, [DRIVER_COMMAND], run.log, this.client);
    const started = Date.now();
    // One connected JVM per worker (worker w is bound to node w mod n, as the runner assigns them).
    const connects = Array.from({ length: run.concurrency }, (_, w) =>
      this.connectString(this.nodes[w % this.nodes.length]!, this.mode),
    );
    await this.pool.start(connects);
    run.log.info(
      `${run.concurrency} Curator clients (driver JVMs) connected in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
  }

  stop(): Promise<void> {
    this.pool?.close();
    return Promise.resolve();
  }

  connectString(node: ClusterNode, mode: DriverConnect): string {
    const address = (n: ClusterNode): string => `${n.ip}:${CLIENT_PORT}`;
    // The worker's own node first: Curator's client shuffles the list, but the order still shows intent in logs.
    return mode === 'node' ? address(node) : [node, ...this.nodes.filter((n) => n !== node)].map(address).join(',');
  }

  async open(node: ClusterNode, options: RecipeOptions): Promise<DriverProcess> {
    if (!this.pool) throw new HarnessError('the driver sidecar was not started', 'Call workload.start first.');
    // Give up before the runner does (its bound is the op timeout); a JVM that comes later waits for the next open.
    const process = await this.pool.open(
      this.connectString(node, options.connect),
      Math.max(500, options.client.opTimeoutMs - 500),
      `a client of ${node.name}`,
    );
    if (!this.versions.curator) {
      this.versions = process.versions;
      this.log?.info(
        `Curator ${process.versions.curator ?? '?'} on ZooKeeper's Java client ${process.versions.zookeeper ?? '?'}.`,
      );
    }
    return process;
  }
}

/** A driver answer as a history completion: the op's input, the answer's value and its events. */
export function completionOf(op: Invocation, reply: DriverReply): Completion {
  const input = (op.value ?? {}) as Record<string, unknown>;
  const value = {
    ...input,
    ...((reply.value as Record<string, unknown> | undefined) ?? {}),
    ...(reply.events ? { events: reply.events } : {}),
  };
  return { type: reply.type, value, ...(reply.error !== undefined ? { error: reply.error } : {}) };
}

/** A workload client over one driver process; `run` maps an op to a driver request. */
export function driverClient(
  process: DriverProcess,
  run: (process: DriverProcess, op: Invocation) => Promise<DriverReply>,
): WorkloadClient {
  return {
    async invoke(op) {
      return completionOf(op, await run(process, op));
    },
    close: () => process.close(),
    isOpen: () => process.alive,
  };
}

/** The protected log: one persistent-sequential child per protected write, named after its hold's token. */
export function setupLog(node: ClusterNode, client: ClientOptions, root: string, log: string): Promise<void> {
  return withSession(node, client, async (zk) => {
    await ensureZnode(zk, root);
    await ensureZnode(zk, log);
  });
}

/** The log's children as one node has them, after a sync. */
export function readLog(node: ClusterNode, client: ClientOptions, log: string): Promise<{ log: string[] }> {
  return withSession(node, client, async (zk) => {
    await zk.sync(log);
    return { log: (await zk.getChildren(log)).children };
  });
}

/** Per-process generator state, fed back by the client: which tokens got their hold, and which lost it. */
export class HoldTracker {
  private next = 0;
  private readonly outcome = new Map<string, 'held' | 'lost' | 'refused'>();
  readonly perProcess = new Map<number, { token: string; phase: 'starting' | 'holding'; writesLeft: number }>();

  token(process: number): string {
    return `${process}.${this.next++}`;
  }

  set(token: string, outcome: 'held' | 'lost' | 'refused'): void {
    this.outcome.set(token, outcome);
  }

  get(token: string): 'held' | 'lost' | 'refused' | undefined {
    return this.outcome.get(token);
  }
}

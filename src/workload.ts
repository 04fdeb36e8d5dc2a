// A workload: what clients do (generator + client ops) and what must hold afterwards (checkers).
import type { Checker } from './checker.js';
import type { Cluster, ClusterNode } from './cluster.js';
import type { Logger } from './log.js';
import type { Random } from './random.js';

/** An operation about to be invoked. */
export interface Invocation {
  f: string;
  value: unknown;
  key?: string | number;
}

/** How an operation ended. info: unknown outcome (it may or may not have taken effect). */
export interface Completion {
  type: 'ok' | 'fail' | 'info';
  value: unknown;
  error?: string;
  /** Hex zxid of the write this op made, or of the data it read (Stat.mzxid): lets checkers order ops as ZooKeeper did. */
  zxid?: string;
}

/** A client bound to one node, used by one process at a time. */
export interface WorkloadClient {
  invoke(op: Invocation): Promise<Completion>;
  close(): Promise<void>;
  /** False once the client's session is gone for good; the runner then continues with a new client and process. */
  isOpen?(): boolean;
}

export interface GeneratorContext {
  process: number;
  random: Random;
}

/** Produces the next operation of a process. */
export type Generator = (context: GeneratorContext) => Invocation;

/** What a workload may use beside its clients' nodes: the cluster (e.g. to start a client driver's sidecar). */
export interface WorkloadRun {
  cluster: Cluster;
  log: Logger;
  /** Client processes that run at once (the test's concurrency). */
  concurrency: number;
}

export interface Workload {
  name: string;
  /**
   * Starts what the workload's clients need beside the ensemble (the Curator driver's container), once, after
   * setup and before the main phase. Whatever it starts in the cluster goes with the cluster's teardown.
   */
  start?(run: WorkloadRun): Promise<void>;
  /** Stops what `start` started, once the clients are done (after the main phase, also when it was aborted). */
  stop?(): Promise<void>;
  /** Prepares the data the workload works on (e.g. creates its znodes), through a client of the given node. */
  setup(node: ClusterNode): Promise<void>;
  openClient(node: ClusterNode): Promise<WorkloadClient>;
  generator: Generator;
  checkers: Record<string, Checker>;
  /**
   * Recovery phase: reads the workload's whole state from one node (after a sync, through a session on that node
   * only). Called once per node after the final heal; recorded as process 'final', f 'final-read', with `node`.
   */
  finalRead?(node: ClusterNode): Promise<unknown>;
}

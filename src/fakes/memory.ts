// In-memory parts, as Jepsen's atom-db and noop test: a FAKE cluster, database, workload and fault that run no
// server and no container, so the orchestrator (runTest) and everything above it are tested in milliseconds,
// failure paths included. Nothing here says anything about ZooKeeper.
//
// The fake register is one JavaScript variable: every operation is atomic by construction (one thread), so a
// history of it is linearizable unless a test injects a fault that breaks it on purpose (`staleReadsFrom`).
import type { Checker } from '../checker.js';
import { checkLinearizable } from '../checkers/linearizable.js';
import type { Cluster, ClusterNode, ExecResult } from '../cluster.js';
import { HarnessError } from '../errors.js';
import type { NodeConfig, NodeSnapshot } from '../final-state.js';
import type { Fault, FaultRecord, NemesisContext } from '../nemesis.js';
import type { Completion, Invocation, Workload, WorkloadClient } from '../workload.js';
import type { Database, ServerStatus } from '../zookeeper.js';

/** A FAKE cluster: node names and addresses only; it runs no commands. */
export class MemoryCluster implements Cluster {
  readonly runId: string;
  readonly subnet = '127.0.0.0/8';
  readonly nodes: ClusterNode[];
  torn = false;

  constructor(nodeCount = 3, runId = 'memory') {
    this.runId = runId;
    this.nodes = Array.from({ length: nodeCount }, (_, i) => ({
      name: `n${i + 1}`,
      id: i + 1,
      ip: '127.0.0.1',
      hostDir: '/nonexistent',
    }));
  }

  async setup(): Promise<void> {}

  async exec(node: ClusterNode, cmd: string[]): Promise<ExecResult> {
    throw new HarnessError(`the memory cluster runs no commands (asked ${node.name}: ${cmd.join(' ')})`);
  }

  async run(node: ClusterNode, cmd: string[]): Promise<string> {
    return (await this.exec(node, cmd)).stdout;
  }

  async teardown(): Promise<void> {
    this.torn = true;
  }
}

/** The fake register's state, shared by the database (which nodes are up) and the workload (the value). */
export class MemoryRegister {
  value: number | null = null;
  /** Bumped by every write, as a zxid would be. */
  version = 0;
  readonly down = new Set<string>();
  /** While set, reads through these nodes return this value instead of the register's (a broken replica). */
  staleReadsFrom = new Map<string, number | null>();

  majorityUp(nodes: readonly ClusterNode[]): boolean {
    return nodes.length - this.down.size > nodes.length / 2;
  }
}

/** A FAKE database: n1 leads while a majority is up; a node that is down does not answer. */
export class MemoryDatabase implements Database {
  readonly started = new Set<string>();

  constructor(
    private readonly cluster: MemoryCluster,
    readonly register: MemoryRegister,
  ) {}

  async setup(): Promise<void> {
    for (const n of this.cluster.nodes) this.started.add(n.name);
  }

  async start(node: ClusterNode): Promise<void> {
    this.started.add(node.name);
    this.register.down.delete(node.name);
  }

  async signal(node: ClusterNode, signal: 'KILL' | 'STOP' | 'CONT' | 'TERM'): Promise<boolean> {
    if (signal === 'KILL' || signal === 'TERM' || signal === 'STOP') this.register.down.add(node.name);
    else this.register.down.delete(node.name);
    return true;
  }

  async isRunning(node: ClusterNode): Promise<boolean> {
    return this.started.has(node.name) && !this.register.down.has(node.name);
  }

  private leaderName(): string | undefined {
    if (!this.register.majorityUp(this.cluster.nodes)) return undefined;
    return this.cluster.nodes.find((n) => !this.register.down.has(n.name))?.name;
  }

  async status(node: ClusterNode): Promise<ServerStatus> {
    if (this.register.down.has(node.name)) return { node: node.name, answered: false, serving: false };
    const leader = this.leaderName();
    if (!leader) return { node: node.name, answered: true, serving: false };
    return {
      node: node.name,
      answered: true,
      serving: true,
      mode: node.name === leader ? 'leader' : 'follower',
      zxid: `0x${this.register.version.toString(16)}`,
      version: '0.0.0',
      versionText: '0.0.0-memory',
    };
  }

  async snapshot(node: ClusterNode): Promise<NodeSnapshot> {
    const up = !this.register.down.has(node.name);
    return { zxid: up ? this.register.version.toString(16) : null, digests: {} };
  }

  async ensembleConfig(): Promise<NodeConfig | null> {
    return null;
  }

  async probeWrite(): Promise<boolean> {
    return this.leaderName() !== undefined;
  }

  async leader(): Promise<ClusterNode | undefined> {
    const name = this.leaderName();
    return this.cluster.nodes.find((n) => n.name === name);
  }

  async waitForQuorum(): Promise<ServerStatus[]> {
    if (!this.leaderName()) throw new HarnessError('no serving quorum in the memory database');
    return Promise.all(this.cluster.nodes.map((n) => this.status(n)));
  }
}

/** The fake register workload: read, write and compare-and-set on the shared variable, checked as a cas-register. */
export function memoryRegisterWorkload(
  register: MemoryRegister,
  extraCheckers: Record<string, Checker> = {},
): Workload {
  const client = (node: ClusterNode): WorkloadClient => ({
    async invoke(op: Invocation): Promise<Completion> {
      // A node that is down gives a definite failure (the fake never leaves an outcome unknown).
      if (register.down.has(node.name)) return { type: 'fail', value: op.value, error: 'connection refused' };
      switch (op.f) {
        case 'read': {
          const stale = register.staleReadsFrom.get(node.name);
          return { type: 'ok', value: stale !== undefined ? stale : register.value };
        }
        case 'write':
          register.value = op.value as number;
          register.version++;
          return { type: 'ok', value: op.value };
        default: {
          const [from, to] = op.value as [number, number];
          if (register.value !== from) return { type: 'fail', value: op.value, error: 'value-mismatch' };
          register.value = to;
          register.version++;
          return { type: 'ok', value: op.value };
        }
      }
    },
    close: async () => undefined,
  });
  return {
    name: 'memory-register',
    setup: async () => undefined,
    openClient: async (node) => client(node),
    generator: ({ random }) => {
      const f = random.pick(['read', 'write', 'cas'] as const);
      if (f === 'read') return { f, value: null };
      if (f === 'write') return { f, value: random.int(0, 4) };
      return { f, value: [random.int(0, 4), random.int(0, 4)] };
    },
    checkers: {
      linearizable: {
        check: async (history, context) => ({
          ...(await checkLinearizable(history, { model: 'cas-register', timeoutMs: context.timeoutMs })),
        }),
      },
      ...extraCheckers,
    },
    finalRead: async (node) => (register.down.has(node.name) ? Promise.reject(new Error('down')) : register.value),
  };
}

export interface MemoryFaultOptions {
  name?: string;
  /** Make the heal throw this message (to exercise the runner's heal-failure path). */
  healError?: string;
}

/** A FAKE fault: takes one node down (the last one, so the leader stays); its heal brings every node back. */
export function memoryFault(register: MemoryRegister, options: MemoryFaultOptions = {}): Fault {
  const name = options.name ?? 'memory-down-one';
  return {
    name,
    family: 'memory',
    description: 'FAKE: take the last node of the memory cluster down; the heal brings every node back',
    defaultTarget: 'one',
    async start(context: NemesisContext): Promise<FaultRecord> {
      const node = context.cluster.nodes.at(-1)!;
      register.down.add(node.name);
      return { nodes: [node.name] };
    },
    async heal(): Promise<FaultRecord> {
      if (options.healError) throw new HarnessError(options.healError);
      const healed = [...register.down].sort();
      register.down.clear();
      return { healed };
    },
  };
}

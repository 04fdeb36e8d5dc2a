// In-memory parts, as Jepsen's atom-db and noop test: a FAKE cluster, database, workload and fault that run no
// server and no container, so the orchestrator (runTest) and everything above it are tested in milliseconds,
// failure paths included. Nothing here says anything about ZooKeeper.
//
// The fake register is one JavaScript variable: every operation is atomic by construction (one thread), so a
// history of it is linearizable unless a test injects a fault that breaks it on purpose (`staleReadsFrom`).
//
// Also here, so that no test file keeps a copy of its own: a whole fake run (`fakeRun`: a Test of these parts), and
// for schedules at run time a fake nemesis context (`fakeNemesisContext`) and a fault that only records what it was
// asked (`fakeFault`).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checker } from '../checker.js';
import { checkLinearizable } from '../checkers/linearizable.js';
import type { Cluster, ClusterNode, ExecResult } from '../cluster.js';
import { HarnessError } from '../errors.js';
import type { NodeConfig, NodeSnapshot } from '../final-state.js';
import { MemoryLogger } from '../log.js';
import type { Fault, FaultRecord, FaultRequest, NemesisContext } from '../nemesis.js';
import { Random } from '../random.js';
import type { Test } from '../runner.js';
import { randomSchedule } from '../schedule.js';
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

/** A FAKE run and the parts a test reaches into (the register to break or inspect, the cluster's nodes). */
export interface FakeRun {
  test: Test;
  register: MemoryRegister;
  cluster: MemoryCluster;
}

export type FakeRunOptions = {
  /** The fault of the run: a memory fault with these options (the default), or any fault. */
  fault?: MemoryFaultOptions | Fault;
  /** Checkers besides the workload's linearizable one. */
  checkers?: Record<string, Checker>;
  /** Parts to use instead of new ones (a fault or database of the test's own that acts on them). */
  register?: MemoryRegister;
  cluster?: MemoryCluster;
  db?: MemoryDatabase;
} & Partial<Test>;

/**
 * A FAKE run: a Test of the memory parts (three nodes, the register workload, one fault on a random schedule), short
 * and quick (0.4 s, 300 ops/s, a fault every 0.05 s), its history in a new temporary folder. Any Test field may be
 * given instead. One setup for every test of runTest on fakes, so they differ only in what they say they change.
 */
export function fakeRun(options: FakeRunOptions = {}): FakeRun {
  const runDir = mkdtempSync(join(tmpdir(), 'faultline-memory-'));
  const {
    fault: faultOption,
    checkers,
    register = new MemoryRegister(),
    cluster = new MemoryCluster(3),
    db,
    ...overrides
  } = options;
  const fault = faultOption && 'start' in faultOption ? faultOption : memoryFault(register, faultOption);
  const test: Test = {
    name: 'memory',
    seed: 1,
    timeLimitS: 0.4,
    concurrency: 3,
    rate: 300,
    nemesisIntervalS: 0.05,
    opTimeoutMs: 1000,
    recoveryTimeoutS: 5,
    cluster,
    db: db ?? new MemoryDatabase(cluster, register),
    workload: memoryRegisterWorkload(register, checkers),
    faults: [fault],
    schedule: randomSchedule([fault], 1, 0.05),
    historyPath: join(runDir, 'history.jsonl'),
    runDir,
    ...overrides,
  };
  return { test, register, cluster };
}

/** The state of the fake ensemble of `fakeNemesisContext`: the epoch of every node's zxid, which a test moves on. */
export interface FakeEnsembleState {
  epoch: number;
}

/**
 * A FAKE nemesis context, for schedules at run time without an ensemble: the memory cluster's three nodes and a
 * database that only answers srvr (n1 leads, the others follow) and names its leader. With a state, every node's
 * zxid is in the state's epoch at each srvr, so a test makes a new epoch by setting it; without, srvr gives no zxid.
 */
export function fakeNemesisContext(state?: FakeEnsembleState): NemesisContext {
  const cluster = new MemoryCluster(3);
  const status = async (node: ClusterNode): Promise<ServerStatus> => ({
    node: node.name,
    answered: true,
    serving: true,
    mode: node.name === 'n1' ? 'leader' : 'follower',
    ...(state ? { zxid: `0x${(BigInt(state.epoch) << 32n).toString(16)}` } : {}),
  });
  const db = { status, leader: async () => cluster.nodes[0] } as unknown as Database;
  return { cluster, db, log: new MemoryLogger(), random: new Random(3) };
}

export interface FakeFaultOptions {
  /**
   * Give it a per-node heal (`healNode`, as the process and partition families have), recorded as
   * `heal <family>@<node>`. Off by default: a schedule heals a fault that has one node by node, not by family.
   */
  healsNodes?: boolean;
}

/**
 * A FAKE fault of a family, for schedules at run time: it touches nothing and records in `requests` each start
 * (`<name>`, or `<name>@<target>` when a target was requested: the role or alias, or the nodes joined by +) and each
 * heal (`heal <family>`), so a test reads what a schedule asked for and in which order. It says it hit the requested
 * nodes, or n2 when none were named.
 */
export function fakeFault(name: string, family: string, requests: string[], options: FakeFaultOptions = {}): Fault {
  const fault: Fault = {
    name,
    family,
    description: name,
    defaultTarget: 'one',
    async start(_context, request?: FaultRequest) {
      const target = request?.target;
      requests.push(`${name}${target ? `@${typeof target === 'string' ? target : target.nodes.join('+')}` : ''}`);
      return { nodes: typeof target === 'object' ? target.nodes : ['n2'] };
    },
    async heal() {
      requests.push(`heal ${family}`);
      return {};
    },
  };
  if (options.healsNodes)
    fault.healNode = async (_context, node) => {
      requests.push(`heal ${family}@${node}`);
      return { nodes: [node] };
    };
  return fault;
}

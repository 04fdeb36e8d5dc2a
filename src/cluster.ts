// The cluster: one Docker network with an explicit subnet per run, one long-lived container per node.
// The container outlives the ZooKeeper process in it, so a killed server keeps its network namespace,
// its iptables rules and its address, as a real machine would.
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type Docker from 'dockerode';
import { HarnessError } from './errors.js';
import type { Logger } from './log.js';
import { withTimeout } from './time.js';

/** Labels tie every Docker object to its run, so `faultline clean` finds what a killed harness left. */
export const LABEL_RUN = 'faultline.run';
export const LABEL_TEST = 'faultline.test';
export const LABEL_PID = 'faultline.pid';
export const LABEL_DIR = 'faultline.dir';
/** The node a container runs (n1, n2...). */
export const LABEL_NODE = 'faultline.node';
export const LABEL_SIDECAR = 'faultline.sidecar';
/** The run a sidecar belongs to (on a pooled ensemble, faultline.run names the ensemble, not the run). */
export const LABEL_TRIAL = 'faultline.trial';

export interface ClusterNode {
  /** n1, n2, ... */
  name: string;
  /** ZooKeeper's myid. */
  id: number;
  ip: string;
  /** Host directory bind-mounted at /faultline in the container (conf/, data/, logs/). */
  hostDir: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A process started in a sidecar with its standard streams attached. */
export interface AttachedProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the attachment ends (the process exited or the stream was closed). */
  ended: Promise<void>;
  /** Ends the attachment: the process sees end of input. */
  detach(): void;
}

/** A process in a sidecar that serves a client, as its starter announced it (a Curator driver JVM). */
export interface SidecarProcess {
  /** Its pid inside the sidecar. */
  readonly pid: number;
  /** Whom it serves, in its starter's words (the driver: the node its client is bound to). */
  readonly serves: string;
}

/**
 * The processes of a sidecar that serve clients now, announced by whoever hands them out (the driver pool), so a
 * client fault can aim at one and say whom it hit. Spares that serve nobody yet are not listed.
 */
export class SidecarRoster {
  private readonly byPid = new Map<number, SidecarProcess>();

  announce(process: SidecarProcess): void {
    this.byPid.set(process.pid, process);
  }

  forget(pid: number): void {
    this.byPid.delete(pid);
  }

  /** In pid order, so a seeded choice among them does not depend on the order they were announced in. */
  list(): SidecarProcess[] {
    return [...this.byPid.values()].sort((a, b) => a.pid - b.pid);
  }
}

/** An extra container on the run's network (a client driver), labelled with the run, removed with the cluster. */
export interface Sidecar {
  readonly name: string;
  readonly ip: string;
  exec(cmd: string[], options?: { timeoutMs?: number }): Promise<ExecResult>;
  spawn(cmd: string[]): Promise<AttachedProcess>;
  /** The processes in it that serve clients; absent where nobody announces them. */
  readonly roster?: SidecarRoster;
}

/** Containers and network of one run. */
export interface Cluster {
  readonly runId: string;
  readonly nodes: readonly ClusterNode[];
  readonly subnet: string;
  setup(): Promise<void>;
  /** Runs a command in a node's container and waits for it; detach starts it and returns at once. */
  exec(
    node: ClusterNode,
    cmd: string[],
    options?: { timeoutMs?: number; detach?: boolean; env?: Record<string, string> },
  ): Promise<ExecResult>;
  /** Like exec, but a non-zero exit is an error; returns stdout. */
  run(
    node: ClusterNode,
    cmd: string[],
    options?: { timeoutMs?: number; env?: Record<string, string> },
  ): Promise<string>;
  /**
   * Membership changes: starts the container of a joining node (id given, or the next free one; a node that left
   * comes back with its name, address and host directory) and adds it to `nodes`.
   */
  addNode?(id?: number): Promise<ClusterNode>;
  /** Stops and removes a leaving node's container and drops it from `nodes`; its host directory stays. */
  removeNode?(node: ClusterNode): Promise<void>;
  /** Starts a sidecar container from `image` on the run's network; teardown removes it with the nodes. */
  startSidecar?(name: string, image: string): Promise<Sidecar>;
  /** The sidecars started and not yet torn down (client faults reach the driver's JVMs through them). */
  sidecars?(): readonly Sidecar[];
  teardown(): Promise<void>;
  /** What is wrong with the cluster itself, if anything (a container stopped or removed from outside). */
  health?(): Promise<string | undefined>;
}

/**
 * A filesystem mounted on the host over each node's data dir (the power-loss filesystem). It is mounted before the
 * node's container is created: the container's bind mount copies the mounts under the node dir at creation and is
 * private afterwards, so a mount made later would not be seen inside. Unmounted after the containers are gone.
 */
export interface DataDirMount {
  mount(node: ClusterNode, dataDir: string): Promise<void>;
  /** Idempotent; runs at every teardown. */
  unmountAll(): Promise<void>;
}

export interface DockerClusterOptions {
  runId: string;
  testName: string;
  runDir: string;
  image: string;
  nodeCount: number;
  dataDirMount?: DataDirMount;
  /**
   * Run on a pooled ensemble's containers (src/run/pool.ts) instead of creating a network and containers: setup
   * points each container's /faultline at this run's node directory, teardown removes only this run's sidecars.
   */
  pooled?: PooledEnsemble;
}

/** What a run needs to know of a pooled ensemble: its containers' name stem, its network, and the store mount. */
export interface PooledEnsemble {
  /** The ensemble's id: its containers are faultline-<id>-n<i>, labelled faultline.run=<id>. */
  readonly id: string;
  readonly network: string;
  readonly subnet: string;
  /** The subnet's first three octets. */
  readonly prefix: string;
  /** The host directory bind-mounted at STORE_MOUNT: every run directory the ensemble serves lies under it. */
  readonly storeRoot: string;
}

export const NODE_MOUNT = '/faultline';
/**
 * Pooled containers bind-mount the results directory here (a bind mount is fixed at creation), and /faultline is a
 * symlink to the current run's node directory under it, re-pointed at each run.
 */
export const STORE_MOUNT = '/faultline-store';
/** Labels a pooled ensemble's objects with the pool's id (`faultline clean` finds them by faultline.run too). */
export const LABEL_POOL = 'faultline.pool';

/** A Docker network + containers implementation of Cluster. */
export class DockerCluster implements Cluster {
  readonly runId: string;
  nodes: ClusterNode[] = [];
  subnet = '';
  private networkName: string;
  private readonly labels: Record<string, string>;
  private prefix = '';
  private readonly started: Sidecar[] = [];
  /** The stem of container names and the faultline.run label: the run's id, or the pooled ensemble's. */
  private readonly owner: string;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerClusterOptions,
    private readonly log: Logger,
  ) {
    this.runId = options.runId;
    this.owner = options.pooled?.id ?? options.runId;
    this.networkName = options.pooled?.network ?? `faultline-${options.runId}`;
    this.labels = {
      [LABEL_RUN]: this.owner,
      [LABEL_TEST]: options.testName,
      [LABEL_PID]: String(process.pid),
      [LABEL_DIR]: options.runDir,
    };
  }

  async setup(): Promise<void> {
    const pooled = this.options.pooled;
    if (pooled) {
      this.prefix = pooled.prefix;
      this.subnet = pooled.subnet;
      for (let i = 1; i <= this.options.nodeCount; i++) this.nodes.push(this.describeNode(i));
      await Promise.all(this.nodes.map((node) => this.linkNodeDir(node, pooled)));
      this.log.info(
        `Cluster ${this.runId}: pooled ensemble ${pooled.id} (${this.subnet}), nodes ${this.nodes.map((n) => `${n.name}=${n.ip}`).join(' ')}`,
      );
      return;
    }
    this.prefix = await this.createNetwork();
    for (let i = 1; i <= this.options.nodeCount; i++) this.nodes.push(this.describeNode(i));
    const mount = this.options.dataDirMount;
    if (mount) for (const node of this.nodes) await mount.mount(node, join(node.hostDir, 'data'));
    await Promise.all(this.nodes.map((node) => this.createContainer(node)));
    this.log.info(
      `Cluster ${this.runId}: network ${this.networkName} (${this.subnet}), nodes ${this.nodes.map((n) => `${n.name}=${n.ip}`).join(' ')}`,
    );
  }

  /** Points a pooled container's /faultline at this run's node directory (it lies under the store mount). */
  private async linkNodeDir(node: ClusterNode, pooled: PooledEnsemble): Promise<void> {
    const rel = relative(pooled.storeRoot, node.hostDir);
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new HarnessError(
        `run directory ${node.hostDir} is outside the pooled ensemble's store ${pooled.storeRoot}`,
        'Give the pool the results directory the runs write to.',
      );
    await this.run(node, [
      'sh',
      '-c',
      `ln -sfn '${STORE_MOUNT}/${rel}' ${NODE_MOUNT}.new && mv -Tf ${NODE_MOUNT}.new ${NODE_MOUNT}`,
    ]);
  }

  /** Node i: name n<i>, myid i, address .<10+i> of the run's subnet, host directory nodes/n<i> (created). */
  private describeNode(i: number): ClusterNode {
    const hostDir = join(this.options.runDir, 'nodes', `n${i}`);
    for (const sub of ['conf', 'data', 'logs']) mkdirSync(join(hostDir, sub), { recursive: true });
    return { name: `n${i}`, id: i, ip: `${this.prefix}.${10 + i}`, hostDir };
  }

  async addNode(id?: number): Promise<ClusterNode> {
    if (this.options.pooled)
      throw new HarnessError(
        'a pooled ensemble has a fixed set of containers: no node can join',
        'Run without a pool.',
      );
    const next = id ?? Math.max(0, ...this.nodes.map((n) => n.id)) + 1;
    if (this.nodes.some((n) => n.id === next)) throw new HarnessError(`node n${next} is already in the cluster`);
    // Sidecars (the Curator driver) take the addresses from .200 up.
    if (next > 180) throw new HarnessError(`no address left for node n${next} in ${this.subnet}`);
    const node = this.describeNode(next);
    await this.options.dataDirMount?.mount(node, join(node.hostDir, 'data'));
    await this.createContainer(node);
    // In place and in id order: whoever holds `nodes` sees the members as they are now.
    this.nodes.push(node);
    this.nodes.sort((a, b) => a.id - b.id);
    this.log.info(`Cluster ${this.runId}: ${node.name}=${node.ip} joined`);
    return node;
  }

  async removeNode(node: ClusterNode): Promise<void> {
    if (this.options.pooled)
      throw new HarnessError(
        'a pooled ensemble has a fixed set of containers: no node can leave',
        'Run without a pool.',
      );
    await this.docker
      .getContainer(this.containerName(node))
      .remove({ force: true, v: true })
      .catch((err: Error) => {
        if (!/no such container|already in progress/i.test(err.message)) throw err;
      });
    const at = this.nodes.findIndex((n) => n.name === node.name);
    if (at >= 0) this.nodes.splice(at, 1);
    this.log.info(`Cluster ${this.runId}: ${node.name} left (container removed, ${node.hostDir} kept)`);
  }

  /** Creates the run's network; returns the first three octets of its subnet. */
  private async createNetwork(): Promise<string> {
    const { subnet, prefix } = await createRunNetwork(this.docker, this.networkName, this.labels);
    this.subnet = subnet;
    return prefix;
  }

  private containerName(node: ClusterNode): string {
    return `faultline-${this.owner}-${node.name}`;
  }

  private async createContainer(node: ClusterNode): Promise<void> {
    await createNodeContainer(this.docker, {
      name: this.containerName(node),
      node: node.name,
      ip: node.ip,
      image: this.options.image,
      network: this.networkName,
      labels: this.labels,
      bind: `${node.hostDir}:${NODE_MOUNT}`,
    });
  }

  async exec(
    node: ClusterNode,
    cmd: string[],
    options: { timeoutMs?: number; detach?: boolean; env?: Record<string, string> } = {},
  ): Promise<ExecResult> {
    const container = this.docker.getContainer(this.containerName(node));
    const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const exec = await container.exec({
      Cmd: cmd,
      AttachStdout: !options.detach,
      AttachStderr: !options.detach,
      Env: env,
    });
    if (options.detach) {
      // The answer is a stream that Docker keeps open; nothing comes on it, and left open it keeps Node alive.
      const stream: unknown = await exec.start({ Detach: true });
      (stream as { destroy?: () => void } | undefined)?.destroy?.();
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    return withTimeout(collectExec(this.docker, exec), options.timeoutMs ?? 30_000, `${node.name}: ${cmd.join(' ')}`);
  }

  /** Sidecars take addresses from .200 up, clear of the nodes (.11 up). */
  async startSidecar(name: string, image: string): Promise<Sidecar> {
    if (!this.prefix) throw new HarnessError('startSidecar before setup', 'Call cluster.setup() first.');
    const ip = `${this.prefix}.${200 + this.started.length}`;
    const containerName = `faultline-${this.owner}-${name}`;
    const container = await this.docker.createContainer({
      name: containerName,
      Hostname: name,
      Image: image,
      Cmd: ['sleep', 'infinity'],
      Labels: { ...this.labels, [LABEL_SIDECAR]: name, [LABEL_TRIAL]: this.runId },
      HostConfig: { Init: true, NetworkMode: this.networkName },
      NetworkingConfig: { EndpointsConfig: { [this.networkName]: { IPAMConfig: { IPv4Address: ip } } } },
    });
    await container.start();
    this.log.info(`Sidecar ${containerName} (${image}) at ${ip}.`);
    const docker = this.docker;
    const execIn = async (cmd: string[], timeoutMs = 30_000): Promise<ExecResult> => {
      const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      return withTimeout(collectExec(docker, exec), timeoutMs, `${name}: ${cmd.join(' ')}`);
    };
    const sidecar: Sidecar = {
      name,
      ip,
      roster: new SidecarRoster(),
      exec: (cmd, options) => execIn(cmd, options?.timeoutMs),
      async spawn(cmd) {
        const exec = await container.exec({ Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true });
        const stream = await exec.start({ hijack: true, stdin: true });
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        docker.modem.demuxStream(stream, stdout, stderr);
        const ended = new Promise<void>((resolve) => {
          const done = (): void => {
            stdout.end();
            stderr.end();
            resolve();
          };
          stream.on('end', done);
          stream.on('close', done);
          stream.on('error', done);
        });
        return {
          stdin: stream,
          stdout,
          stderr,
          ended,
          detach: () => stream.destroy(),
        };
      },
    };
    this.started.push(sidecar);
    return sidecar;
  }

  sidecars(): readonly Sidecar[] {
    return this.started;
  }

  async run(
    node: ClusterNode,
    cmd: string[],
    options: { timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<string> {
    const result = await this.exec(node, cmd, options);
    if (result.exitCode !== 0) {
      throw new HarnessError(
        `${node.name}: \`${cmd.join(' ')}\` exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    }
    return result.stdout;
  }

  async teardown(): Promise<void> {
    // Gone with the containers below; a client fault healing after this finds nothing to resume.
    this.started.splice(0);
    if (this.options.pooled) {
      // The pool owns the nodes and the network; this run's sidecars go now.
      await removeByLabel(this.docker, `${LABEL_TRIAL}=${this.runId}`, this.log);
      return;
    }
    try {
      await removeByLabel(this.docker, `${LABEL_RUN}=${this.owner}`, this.log);
    } finally {
      await this.options.dataDirMount?.unmountAll();
    }
  }

  async health(): Promise<string | undefined> {
    const problems: string[] = [];
    for (const node of this.nodes) {
      try {
        const info = await this.docker.getContainer(this.containerName(node)).inspect();
        if (!info.State.Running) problems.push(`${node.name}'s container is ${info.State.Status}`);
      } catch {
        problems.push(`${node.name}'s container is gone`);
      }
    }
    return problems.length ? `${problems.join(', ')} (stopped or removed from outside the harness)` : undefined;
  }
}

/** Picks a free /24 in 172.29.0.0/16 (the run's own subnet) and creates the network there. */
export async function createRunNetwork(
  docker: Docker,
  name: string,
  labels: Record<string, string>,
): Promise<{ subnet: string; prefix: string }> {
  const networks = await docker.listNetworks();
  const used = new Set<string>();
  for (const n of networks) for (const c of n.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  for (let third = 0; third < 256; third++) {
    const subnet = `172.29.${third}.0/24`;
    if (used.has(subnet)) continue;
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: `172.29.${third}.1` }] },
      });
      return { subnet, prefix: `172.29.${third}` };
    } catch (err) {
      // Another run may have taken the subnet between list and create: try the next one.
      if (/overlap/i.test((err as Error).message)) continue;
      throw new HarnessError(
        `creating Docker network ${name} failed: ${(err as Error).message}`,
        'Run `faultline clean` and try again.',
        { cause: err },
      );
    }
  }
  throw new HarnessError(
    'no free /24 subnet left in 172.29.0.0/16 for a run network',
    'Run `faultline clean` to remove networks of old runs.',
  );
}

/** A node's container: PID 1 only waits, ZooKeeper runs as a child the harness can kill and restart. */
export async function createNodeContainer(
  docker: Docker,
  spec: {
    name: string;
    node: string;
    ip: string;
    image: string;
    network: string;
    labels: Record<string, string>;
    /** host:container bind of the node's directory (or, pooled, of the whole store). */
    bind: string;
  },
): Promise<void> {
  const container = await docker.createContainer({
    name: spec.name,
    Hostname: spec.node,
    Image: spec.image,
    // docker's init reaps the server when it is killed.
    Cmd: ['sleep', 'infinity'],
    Labels: { ...spec.labels, [LABEL_NODE]: spec.node },
    HostConfig: {
      Init: true,
      CapAdd: ['NET_ADMIN'],
      Binds: [spec.bind],
      NetworkMode: spec.network,
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: spec.ip } } } },
  });
  await container.start();
}

/** Runs a created exec to its end and collects its output and exit code. */
export async function collectExec(docker: Docker, exec: Docker.Exec): Promise<ExecResult> {
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (b: Buffer) => out.push(b));
  const stderr = new PassThrough().on('data', (b: Buffer) => err.push(b));
  await new Promise<void>((resolve, reject) => {
    docker.modem.demuxStream(stream, stdout, stderr);
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  stream.destroy();
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** Removes containers, then networks, that carry a label filter (`key=value` or just `key`). Returns what was removed. */
export async function removeByLabel(
  docker: Docker,
  label: string,
  log: Logger,
): Promise<{ containers: string[]; networks: string[] }> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map(async (c) => {
      try {
        await docker.getContainer(c.Id).remove({ force: true, v: true });
      } catch (err) {
        if (!/no such container|already in progress/i.test((err as Error).message)) throw err;
      }
    }),
  );
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  for (const n of networks) {
    try {
      await docker.getNetwork(n.Id).remove();
    } catch (err) {
      if (!/not found|no such network/i.test((err as Error).message)) throw err;
    }
  }
  const removed = {
    containers: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')),
    networks: networks.map((n) => n.Name),
  };
  if (removed.containers.length + removed.networks.length > 0) {
    log.debug(
      `removed containers [${removed.containers.join(', ')}] and networks [${removed.networks.join(', ')}] (${label})`,
    );
  }
  return removed;
}

// The database: ZooKeeper's lifecycle on the cluster's nodes, its config, its roles and its logs.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { NODE_MOUNT, type Cluster, type ClusterNode } from './cluster.js';
import { HarnessError } from './errors.js';
import type { Logger } from './log.js';
import { sleep, TimeoutError, waitFor } from './time.js';

export const CLIENT_PORT = 2181;
const ZK_SERVER = '/usr/share/zookeeper/bin/zkServer.sh';
// Matches the JVM of the server and nothing else (pkill -f).
const SERVER_PROCESS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

export interface ZooKeeperConfig {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** JVM heap, MiB. */
  heapMb: number;
  /** Further zoo.cfg lines (key → value). */
  extra: Record<string, string>;
}

export const DEFAULT_ZOOKEEPER_CONFIG: ZooKeeperConfig = { tickTime: 500, initLimit: 10, syncLimit: 5, heapMb: 256, extra: {} };

export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone';

/** What `srvr` says of one node. */
export interface ServerStatus {
  node: string;
  serving: boolean;
  mode?: ServerMode;
  zxid?: string;
  version?: string;
}

/** ZooKeeper's lifecycle on one cluster. */
export interface Database {
  setup(): Promise<void>;
  start(node: ClusterNode): Promise<void>;
  /** Sends a signal to the server process (KILL, STOP, CONT, TERM); returns whether a process was signalled. */
  signal(node: ClusterNode, signal: 'KILL' | 'STOP' | 'CONT' | 'TERM'): Promise<boolean>;
  isRunning(node: ClusterNode): Promise<boolean>;
  status(node: ClusterNode): Promise<ServerStatus>;
  /** The node that says it leads now, if exactly one does. */
  leader(): Promise<ClusterNode | undefined>;
  /** Waits until a leader and enough followers to form a quorum serve; `all` waits for every node. */
  waitForQuorum(timeoutMs: number, options?: { all?: boolean }): Promise<ServerStatus[]>;
}

export function renderZooCfg(config: ZooKeeperConfig, nodes: readonly ClusterNode[]): string {
  const lines = [
    '# Rendered by Faultline for this run.',
    `tickTime=${config.tickTime}`,
    `initLimit=${config.initLimit}`,
    `syncLimit=${config.syncLimit}`,
    `dataDir=${NODE_MOUNT}/data`,
    `clientPort=${CLIENT_PORT}`,
    'maxClientCnxns=0',
    '4lw.commands.whitelist=*',
    // The AdminServer's port 8080 is of no use to the harness yet.
    'admin.enableServer=false',
    ...nodes.map((n) => `server.${n.id}=${n.ip}:2888:3888`),
    ...Object.entries(config.extra).map(([k, v]) => `${k}=${v}`),
  ];
  return lines.join('\n') + '\n';
}

/** Sends a four-letter-word command to a node's client port and returns the answer. */
export function fourLetterWord(ip: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port: CLIENT_PORT });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`${command} to ${ip}`, timeoutMs));
    }, timeoutMs);
    socket.on('connect', () => socket.end(command));
    socket.on('data', (b) => chunks.push(b));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export function parseSrvr(node: string, text: string): ServerStatus {
  const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim();
  const mode = field('Mode') as ServerMode | undefined;
  const zxid = field('Zxid');
  const version = field('Zookeeper version')?.split(/[-,]/)[0];
  return { node, serving: mode !== undefined, ...(mode ? { mode } : {}), ...(zxid ? { zxid } : {}), ...(version ? { version } : {}) };
}

export class ZooKeeperDb implements Database {
  constructor(private readonly cluster: Cluster, private readonly config: ZooKeeperConfig, private readonly log: Logger) {}

  async setup(): Promise<void> {
    const cfg = renderZooCfg(this.config, this.cluster.nodes);
    for (const node of this.cluster.nodes) {
      writeFileSync(join(node.hostDir, 'conf', 'zoo.cfg'), cfg);
      writeFileSync(join(node.hostDir, 'data', 'myid'), `${node.id}\n`);
    }
    await Promise.all(this.cluster.nodes.map((n) => this.start(n)));
  }

  async start(node: ClusterNode): Promise<void> {
    if (await this.isRunning(node)) return;
    // start-foreground keeps the log on stdout, which we append to the node's log file on the host.
    const command = `exec ${ZK_SERVER} start-foreground ${NODE_MOUNT}/conf/zoo.cfg >> ${NODE_MOUNT}/logs/zookeeper.log 2>&1`;
    await this.cluster.exec(node, ['sh', '-c', command], {
      detach: true,
      env: { JVMFLAGS: `-Xms${this.config.heapMb}m -Xmx${this.config.heapMb}m`, ZOO_LOG_DIR: `${NODE_MOUNT}/logs` },
    });
    // Wait for the process, not for the quorum.
    try {
      await waitFor(`ZooKeeper process on ${node.name}`, 10_000, 100, async () => ((await this.isRunning(node)) ? true : undefined));
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new HarnessError(`ZooKeeper did not start on ${node.name}`, `Read ${join(node.hostDir, 'logs', 'zookeeper.log')}.`);
      }
      throw err;
    }
  }

  async signal(node: ClusterNode, signal: 'KILL' | 'STOP' | 'CONT' | 'TERM'): Promise<boolean> {
    const result = await this.cluster.exec(node, ['pkill', `-${signal}`, '-f', SERVER_PROCESS]);
    return result.exitCode === 0;
  }

  async isRunning(node: ClusterNode): Promise<boolean> {
    const result = await this.cluster.exec(node, ['pgrep', '-f', SERVER_PROCESS]);
    return result.exitCode === 0;
  }

  async status(node: ClusterNode): Promise<ServerStatus> {
    try {
      return parseSrvr(node.name, await fourLetterWord(node.ip, 'srvr'));
    } catch {
      return { node: node.name, serving: false };
    }
  }

  async leader(): Promise<ClusterNode | undefined> {
    const statuses = await Promise.all(this.cluster.nodes.map((n) => this.status(n)));
    const leaders = statuses.filter((s) => s.mode === 'leader');
    // Two nodes claiming leadership (an old leader not yet aware of its isolation) is no answer.
    if (leaders.length !== 1) return undefined;
    return this.cluster.nodes.find((n) => n.name === leaders[0]!.node);
  }

  async waitForQuorum(timeoutMs: number, options: { all?: boolean } = {}): Promise<ServerStatus[]> {
    const majority = Math.floor(this.cluster.nodes.length / 2) + 1;
    let last: ServerStatus[] = [];
    try {
      return await waitFor('a serving quorum', timeoutMs, 250, async () => {
        last = await Promise.all(this.cluster.nodes.map((n) => this.status(n)));
        const leaders = last.filter((s) => s.mode === 'leader').length;
        const serving = last.filter((s) => s.mode === 'leader' || s.mode === 'follower').length;
        const enough = options.all ? serving === this.cluster.nodes.length : serving >= majority;
        return leaders === 1 && enough ? last : undefined;
      });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      const seen = last.map((s) => `${s.node}: ${s.mode ?? 'not serving'}`).join(', ');
      throw new HarnessError(`no serving quorum after ${Math.round(timeoutMs / 1000)} s (${seen || 'no answers'})`,
        `Read the node logs in ${join(this.cluster.nodes[0]?.hostDir ?? '.', '..')}/*/logs/zookeeper.log.`);
    }
  }
}

/** Waits briefly for every signalled process to be gone (a kill -9 is not instant). */
export async function waitUntilStopped(db: Database, node: ClusterNode, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await db.isRunning(node))) await sleep(100);
}

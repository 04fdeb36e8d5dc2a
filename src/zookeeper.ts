// The database: ZooKeeper's lifecycle on the cluster's nodes, its config, its roles and its logs.
import { closeSync, fsyncSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { NODE_MOUNT, type Cluster, type ClusterNode } from './cluster.js';
import { HarnessError } from './errors.js';
import type { Logger } from './log.js';
import { sleep, TimeoutError, waitFor } from './time.js';

export const CLIENT_PORT = 2181;
const ZK_SERVER = '/usr/share/zookeeper/bin/zkServer.sh';
// Matches the JVM of the server and nothing else (pkill -f).
const SERVER_PROCESS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
const SERVER_LOG_BINDING = '/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar';
// Lines like `2026-11-22T04:30:00.123 [QuorumPeer[myid=1]...] WARN org.apache.zookeeper.server.quorum.Learner - ...`.
// NIOServerCnxn's INFO lines are only "Processing srvr command from ...": the harness's own four-letter words
// (the role monitor asks every node five times a second), which would be a third of the log. Its WARNs stay.
const SERVER_LOG_FLAGS =
  "-Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS" +
  ' -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn=warn';

export interface ZooKeeperConfig {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** JVM heap, MiB. */
  heapMb: number;
  /** Further zoo.cfg lines (key → value). */
  extra: Record<string, string>;
  /** How many nodes (the highest ids) are observers: they serve but do not vote. */
  observers?: number;
  /** JVM system properties for settings ZooKeeper reads only from the JVM (zookeeper.db.autocreate, ...). */
  jvmProperties?: Record<string, string>;
}

export const DEFAULT_ZOOKEEPER_CONFIG: ZooKeeperConfig = {
  tickTime: 500,
  initLimit: 10,
  syncLimit: 5,
  heapMb: 256,
  extra: {},
};

export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone';

/** What `srvr` says of one node. */
export interface ServerStatus {
  node: string;
  serving: boolean;
  mode?: ServerMode;
  zxid?: string;
  version?: string;
  /** The whole version as srvr says it, up to ", built on" (e.g. 3.8.0-debian--1 or 3.9.3-<git id>). */
  versionText?: string;
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

/** Observers are the last `observers` nodes, so the voters keep the low ids. */
export function isObserver(config: ZooKeeperConfig, nodes: readonly ClusterNode[], node: ClusterNode): boolean {
  return node.id > nodes.length - (config.observers ?? 0);
}

/** zoo.cfg as `self` reads it (an observer's own file says peerType=observer); without `self`, a voter's. */
export function renderZooCfg(config: ZooKeeperConfig, nodes: readonly ClusterNode[], self?: ClusterNode): string {
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
    ...nodes.map((n) => `server.${n.id}=${n.ip}:2888:3888${isObserver(config, nodes, n) ? ':observer' : ''}`),
    ...(self && isObserver(config, nodes, self) ? ['peerType=observer'] : []),
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
  const versionText = field('Zookeeper version')?.split(',')[0]?.trim();
  const version = versionText?.split('-')[0];
  return {
    node,
    serving: mode !== undefined,
    ...(mode ? { mode } : {}),
    ...(zxid ? { zxid } : {}),
    ...(version ? { version, versionText } : {}),
  };
}

/** JVMFLAGS for the server: heap, then system properties (zkServer.sh passes JVMFLAGS to the server's JVM). */
export function serverJvmFlags(config: ZooKeeperConfig): string {
  const properties = Object.entries(config.jvmProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  return [`-Xms${config.heapMb}m`, `-Xmx${config.heapMb}m`, ...properties].join(' ');
}

export class ZooKeeperDb implements Database {
  constructor(
    private readonly cluster: Cluster,
    private readonly config: ZooKeeperConfig,
    private readonly log: Logger,
  ) {}

  async setup(): Promise<void> {
    for (const node of this.cluster.nodes) {
      writeFileSync(join(node.hostDir, 'conf', 'zoo.cfg'), renderZooCfg(this.config, this.cluster.nodes, node));
      writeFileDurably(join(node.hostDir, 'data', 'myid'), `${node.id}\n`);
    }
    await Promise.all(this.cluster.nodes.map((n) => this.start(n)));
  }

  async start(node: ClusterNode): Promise<void> {
    if (await this.isRunning(node)) return;
    // start-foreground keeps the log on stdout, which we append to the node's log file on the host.
    // Debian's zkServer.sh puts no SLF4J binding on the classpath, so the server would log nothing at all:
    // a second -cp in JVMFLAGS (java takes the last) adds slf4j-simple, which logs to stderr.
    // Only on Debian builds: a tarball image has no environment file (sh exits on a failed `.`) and its own classpath.
    const command = [
      `if [ -f /etc/zookeeper/conf/environment ]; then . /etc/zookeeper/conf/environment; JVMFLAGS="-cp $CLASSPATH:${SERVER_LOG_BINDING} $JVMFLAGS ${SERVER_LOG_FLAGS}"; fi;`,
      `exec ${ZK_SERVER} start-foreground ${NODE_MOUNT}/conf/zoo.cfg >> ${NODE_MOUNT}/logs/zookeeper.log 2>&1`,
    ].join(' ');
    await this.cluster.exec(node, ['sh', '-c', command], {
      detach: true,
      env: { JVMFLAGS: serverJvmFlags(this.config), ZOO_LOG_DIR: `${NODE_MOUNT}/logs` },
    });
    // Wait for the process, not for the quorum.
    try {
      await waitFor(`ZooKeeper process on ${node.name}`, 10_000, 100, async () =>
        (await this.isRunning(node)) ? true : undefined,
      );
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new HarnessError(
          `ZooKeeper did not start on ${node.name}`,
          `Read ${join(node.hostDir, 'logs', 'zookeeper.log')}.`,
        );
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
    // Only voters count towards the quorum; with `all`, observers must serve too.
    const majority = Math.floor((this.cluster.nodes.length - (this.config.observers ?? 0)) / 2) + 1;
    let last: ServerStatus[] = [];
    try {
      return await waitFor('a serving quorum', timeoutMs, 250, async () => {
        last = await Promise.all(this.cluster.nodes.map((n) => this.status(n)));
        const leaders = last.filter((s) => s.mode === 'leader').length;
        const voting = last.filter((s) => s.mode === 'leader' || s.mode === 'follower').length;
        const serving = voting + last.filter((s) => s.mode === 'observer').length;
        const enough = options.all ? serving === this.cluster.nodes.length : voting >= majority;
        return leaders === 1 && enough ? last : undefined;
      });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      const seen = last.map((s) => `${s.node}: ${s.mode ?? 'not serving'}`).join(', ');
      throw new HarnessError(
        `no serving quorum after ${Math.round(timeoutMs / 1000)} s (${seen || 'no answers'})`,
        `Read the node logs in ${join(this.cluster.nodes[0]?.hostDir ?? '.', '..')}/*/logs/zookeeper.log.`,
      );
    }
  }
}

/**
 * Writes a file as a careful installer does: the bytes fsynced, then the directory holding the new entry. Data files
 * the harness provides (myid) then survive a power loss on the power-loss filesystem, as on a real disk.
 */
export function writeFileDurably(path: string, data: string): void {
  writeFileSync(path, data);
  for (const [target, flags] of [
    [path, 'r+'],
    [dirname(path), 'r'],
  ] as const) {
    const fd = openSync(target, flags);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Waits briefly for every signalled process to be gone (a kill -9 is not instant). */
export async function waitUntilStopped(db: Database, node: ClusterNode, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await db.isRunning(node))) await sleep(100);
}

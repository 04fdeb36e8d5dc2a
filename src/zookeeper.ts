// The database: ZooKeeper's lifecycle on the cluster's nodes, its config, its roles and its logs.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { NODE_MOUNT, type Cluster, type ClusterNode } from './cluster.js';
import { resolveRunConfig, serverSettingsOf, type ZooKeeperSettings } from './config.js';
import type { NodeConfig, NodeSnapshot } from './final-state.js';
import { ZkClient, ZkError } from './zk/client.js';
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

  // ---- Run settings of issue 16 (clock and membership faults). One place, to move into src/config.ts's table. ----
  /**
   * Preload libfaketime into the server JVM, steered through a timestamp file per node (nemesis/clock.ts):
   * `wall` fakes System.currentTimeMillis only (FAKETIME_DONT_FAKE_MONOTONIC=1); `all` also System.nanoTime and the
   * JVM's timed waits. Absent: no preload, clock faults refuse to start. Fixed for a server process's lifetime.
   */
  fakeClock?: FakeClockMode;
  /**
   * reconfigEnabled=true with the members in a dynamic config file (standaloneEnabled=false), and a super digest the
   * harness authenticates with to call reconfig (nemesis/membership.ts). Absent or false: a static zoo.cfg.
   */
  reconfig?: boolean;
}

export type FakeClockMode = 'wall' | 'all';

/** A member of the ensemble's configuration, as /zookeeper/config lists it. */
export interface EnsembleMember {
  id: number;
  role: 'participant' | 'observer';
  /** The server's address as the config gives it (this harness: the node's IP). */
  host: string;
}

/** The configuration a server reports in /zookeeper/config: members and the version (hex, the zxid that made it). */
export interface EnsembleConfig {
  version: string;
  members: EnsembleMember[];
}

/**
 * What ZooKeeper is given for a run's settings: zoo.cfg lines for what zoo.cfg accepts, JVM properties for what
 * ZooKeeper reads only from the JVM. Settings left unset are left to ZooKeeper's own defaults.
 */
export function zooKeeperConfigOf(settings: ZooKeeperSettings): ZooKeeperConfig {
  const { zooCfg: extra, jvm: jvmProperties } = serverSettingsOf(settings);
  return {
    tickTime: settings.tickTime,
    initLimit: settings.initLimit,
    syncLimit: settings.syncLimit,
    heapMb: settings.heapMb,
    extra,
    observers: settings.observers,
    jvmProperties,
    ...(settings.fakeClock ? { fakeClock: settings.fakeClock } : {}),
    ...(settings.reconfig !== undefined ? { reconfig: settings.reconfig } : {}),
  };
}

/** ZooKeeper as a run gets it when no setting is given (the defaults of src/config.ts). */
export const DEFAULT_ZOOKEEPER_CONFIG: ZooKeeperConfig = zooKeeperConfigOf(resolveRunConfig().zookeeper);

export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone';

/** What `srvr` says of one node. */
export interface ServerStatus {
  node: string;
  /** False when the node did not answer at all (down, paused, cut off); true when it answered, serving or not. */
  answered: boolean;
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
  /** What `srvr` says now; a node that does not answer within the timeout (default 2 s) is not serving. */
  status(node: ClusterNode, timeoutMs?: number): Promise<ServerStatus>;
  /** The node's last zxid and recent tree digests, for the recovery phase's convergence snapshot. */
  snapshot(node: ClusterNode): Promise<NodeSnapshot>;
  /** One write through one node (to Faultline's probe znode, outside every workload); false on any error. */
  probeWrite(node: ClusterNode): Promise<boolean>;
  /** The node's /zookeeper/config after a sync, through its own session; null when it does not serve. */
  ensembleConfig(node: ClusterNode): Promise<NodeConfig | null>;
  /** The node that says it leads now, if exactly one does. */
  leader(): Promise<ClusterNode | undefined>;
  /** Waits until a leader and enough followers to form a quorum serve; `all` waits for every node; `signal` stops it. */
  waitForQuorum(timeoutMs: number, options?: { all?: boolean; signal?: AbortSignal }): Promise<ServerStatus[]>;
  /** How the server JVMs' clocks are faked (absent: they are not; clock faults need it). */
  readonly fakeClock?: FakeClockMode;
  /** Membership changes (reconfig-enabled ensembles only). */
  readonly membership?: MembershipControl;
}

/** What the membership faults need of the database: an authorised session, and a joining node's config. */
export interface MembershipControl {
  /** The members the ensemble started with: the membership heal restores them. */
  readonly initial: readonly EnsembleMember[];
  /** A session on `node` authenticated as the harness's super user, the one reconfig accepts. */
  adminSession(node: ClusterNode): Promise<ZkClient>;
  /** Writes a joining node's zoo.cfg, dynamic config (the current `members`, itself among them) and myid. */
  prepareJoiner(node: ClusterNode, members: readonly EnsembleMember[]): void;
}

/** Observers are the last `observers` nodes, so the voters keep the low ids. */
export function isObserver(config: ZooKeeperConfig, nodes: readonly ClusterNode[], node: ClusterNode): boolean {
  return node.id > nodes.length - (config.observers ?? 0);
}

/** The server line of a member, as a dynamic config and reconfig's joining list write it. */
export function memberLine(member: EnsembleMember): string {
  return `server.${member.id}=${member.host}:2888:3888:${member.role};${CLIENT_PORT}`;
}

/** Parses /zookeeper/config (server.N=host:2888:3888:role;clientPort lines and version=hex). */
export function parseEnsembleConfig(text: string): EnsembleConfig {
  const members: EnsembleMember[] = [];
  let version = '0';
  for (const line of text.split('\n').map((l) => l.trim())) {
    const server = /^server\.(\d+)=([^:;]+):\d+:\d+(?::(participant|observer))?/.exec(line);
    if (server)
      members.push({
        id: Number(server[1]),
        host: server[2]!,
        role: server[3] === 'observer' ? 'observer' : 'participant',
      });
    const v = /^version=([0-9a-fA-F]+)$/.exec(line);
    if (v) version = v[1]!.toLowerCase();
  }
  return { version, members: members.sort((a, b) => a.id - b.id) };
}

/** The initial members of a reconfig-enabled ensemble: every node, the last `observers` as observers. */
export function initialMembers(config: ZooKeeperConfig, nodes: readonly ClusterNode[]): EnsembleMember[] {
  return nodes.map((n) => ({ id: n.id, host: n.ip, role: isObserver(config, nodes, n) ? 'observer' : 'participant' }));
}

export const DYNAMIC_CONFIG_FILE = 'zoo.cfg.dynamic';

/** The dynamic config file of a reconfig-enabled ensemble: one server line per member. */
export function renderDynamicConfig(members: readonly EnsembleMember[]): string {
  return members.map(memberLine).join('\n') + '\n';
}

/** zoo.cfg as `self` reads it (an observer's own file says peerType=observer); without `self`, a voter's. */
export function renderZooCfg(config: ZooKeeperConfig, nodes: readonly ClusterNode[], self?: ClusterNode): string {
  // With reconfig the members live in the dynamic file, which ZooKeeper rewrites on every reconfig.
  const membership = config.reconfig
    ? ['reconfigEnabled=true', 'standaloneEnabled=false', `dynamicConfigFile=${NODE_MOUNT}/conf/${DYNAMIC_CONFIG_FILE}`]
    : [
        ...nodes.map((n) => `server.${n.id}=${n.ip}:2888:3888${isObserver(config, nodes, n) ? ':observer' : ''}`),
        ...(self && isObserver(config, nodes, self) ? ['peerType=observer'] : []),
      ];
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
    ...membership,
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

/** Faultline's own znode for recovery write probes, outside every workload's keys. */
export const RECOVERY_PROBE_PATH = '/faultline-recovery-probe';

/** `hash` lists the digest log as lines "<zxid hex>: <digest>" (ZooKeeper 3.6+, with digests enabled). */
export function parseDigests(text: string): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const match of text.matchAll(/^\s*([0-9a-fA-F]+)\s*:\s*(-?\d+)\s*$/gm))
    digests[match[1]!.toLowerCase()] = match[2]!;
  return digests;
}

export function parseSrvr(node: string, text: string): ServerStatus {
  const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim();
  const mode = field('Mode') as ServerMode | undefined;
  const zxid = field('Zxid');
  const versionText = field('Zookeeper version')?.split(',')[0]?.trim();
  const version = versionText?.split('-')[0];
  return {
    node,
    answered: true,
    serving: mode !== undefined,
    ...(mode ? { mode } : {}),
    ...(zxid ? { zxid } : {}),
    ...(version ? { version, versionText } : {}),
  };
}

/** JVMFLAGS for the server: heap, then system properties (zkServer.sh passes JVMFLAGS to the server's JVM). */
export function serverJvmFlags(config: ZooKeeperConfig, superDigest?: string): string {
  const properties = Object.entries(config.jvmProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  // The harness's super user (reconfig is guarded by /zookeeper/config's ACL): a digest, never skipACL.
  if (superDigest) properties.push(`-Dzookeeper.DigestAuthenticationProvider.superDigest=${superDigest}`);
  return [`-Xms${config.heapMb}m`, `-Xmx${config.heapMb}m`, ...properties].join(' ');
}

/** ZooKeeper's digest of user:password (DigestAuthenticationProvider: base64 of SHA-1). */
export function zkDigest(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** Where the clock faults steer a node's libfaketime: a file in the node's bind mount, written from the host. */
export const FAKETIME_FILE = 'clock/faketime';
export const FAKETIME_TRUE_TIME = '+0 x1';
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
/** libfaketime's cache: it re-reads its file once the true second is more than this past its last read. */
export const FAKETIME_CACHE_S = 1;

/** Writes a libfaketime spec atomically (rename), so the JVM never reads half a file. */
export function writeFaketimeSpec(node: ClusterNode, spec: string): void {
  const path = join(node.hostDir, FAKETIME_FILE);
  mkdirSync(join(node.hostDir, 'clock'), { recursive: true });
  writeFileSync(`${path}.tmp`, spec + '\n');
  renameSync(`${path}.tmp`, path);
}

/**
 * The environment that preloads libfaketime into the server's start command, which execs the JVM. The file is
 * re-read every one to two seconds (FAKETIME_CACHE_DURATION=1): re-reading it on every call (FAKETIME_NO_CACHE) costs ~140 µs
 * a clock call, and the MT build's lock ~10 µs, against ~1.4 µs here (measured, docs/decisions.md); under either
 * the servers took 13 s to elect and their learners timed out. Without FAKETIME_DONT_FAKE_MONOTONIC the JVM's
 * monotonic clock moves too. FAKETIME_FORCE_MONOTONIC_FIX decides how libfaketime hands a timed wait on a monotonic
 * condition variable to glibc: it must be on exactly when the monotonic clock is faked. On with the true monotonic
 * clock, every such wait returns at once (an idle server burnt 65% of a core in its selector threads); off with a
 * faked one, every wait gets a deadline decades away and the servers never elect (measured on both builds).
 */
export function faketimeEnv(mode: FakeClockMode): Record<string, string> {
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: `${NODE_MOUNT}/${FAKETIME_FILE}`,
    FAKETIME_CACHE_DURATION: String(FAKETIME_CACHE_S),
    ...(mode === 'wall'
      ? { FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_FORCE_MONOTONIC_FIX: '0' }
      : { FAKETIME_FORCE_MONOTONIC_FIX: '1' }),
  };
}

export class ZooKeeperDb implements Database {
  readonly fakeClock?: FakeClockMode;
  readonly membership?: MembershipControl;
  /** The harness's super user password, per run, known only to this process; the servers get its digest. */
  private readonly superPassword = randomBytes(12).toString('hex');
  /** Filled at setup, when the cluster has its nodes. */
  private readonly initial: EnsembleMember[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly config: ZooKeeperConfig,
    private readonly log: Logger,
  ) {
    if (config.fakeClock) this.fakeClock = config.fakeClock;
    if (config.reconfig) {
      this.membership = {
        initial: this.initial,
        adminSession: async (node) => {
          const zk = await ZkClient.connect({
            host: node.ip,
            port: CLIENT_PORT,
            sessionTimeoutMs: 10_000,
            connectTimeoutMs: 3000,
            defaultOpTimeoutMs: 15_000,
          });
          try {
            await zk.addAuth('digest', Buffer.from(`super:${this.superPassword}`));
          } catch (err) {
            zk.destroy();
            throw err;
          }
          return zk;
        },
        prepareJoiner: (node, members) => this.writeConfig(node, members),
      };
    }
  }

  private writeConfig(node: ClusterNode, members: readonly EnsembleMember[]): void {
    writeFileSync(join(node.hostDir, 'conf', 'zoo.cfg'), renderZooCfg(this.config, this.cluster.nodes, node));
    if (this.config.reconfig) {
      writeFileSync(join(node.hostDir, 'conf', DYNAMIC_CONFIG_FILE), renderDynamicConfig(members));
      // A node coming back must not start from the proposal its server last saw (ZooKeeper reads <file>.next).
      rmSync(join(node.hostDir, 'conf', `${DYNAMIC_CONFIG_FILE}.next`), { force: true });
    }
    writeFileDurably(join(node.hostDir, 'data', 'myid'), `${node.id}\n`);
  }

  async setup(): Promise<void> {
    // The initial members are read when the cluster has its nodes (the constructor may run before setup).
    this.initial.splice(0, Infinity, ...initialMembers(this.config, this.cluster.nodes));
    for (const node of this.cluster.nodes) this.writeConfig(node, this.initial);
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
    // Clock faults: libfaketime is preloaded into this start command only, which execs the JVM; every other process
    // in the container (iptables, probes, the delayer) keeps the true clock. A node starts at true time unless a
    // clock fault is in force (its file then holds the fault's spec).
    if (this.fakeClock && !existsSync(join(node.hostDir, FAKETIME_FILE))) writeFaketimeSpec(node, FAKETIME_TRUE_TIME);
    const logFile = join(node.hostDir, 'logs', 'zookeeper.log');
    const logSizeBefore = fileSize(logFile);
    await this.cluster.exec(node, ['sh', '-c', command], {
      detach: true,
      env: {
        JVMFLAGS: serverJvmFlags(this.config, this.config.reconfig ? zkDigest('super', this.superPassword) : undefined),
        ZOO_LOG_DIR: `${NODE_MOUNT}/logs`,
        // zkServer.sh's JMX remote agent: nothing of the harness uses it, and it costs every server start CPU time
        // (five JVMs start at once on a small machine). ZooKeeper still registers its MBeans in the JVM.
        JMXDISABLE: 'true',
        ...(this.fakeClock ? faketimeEnv(this.fakeClock) : {}),
      },
    });
    // Wait for the process, not for the quorum. A server that logged and is gone already started and exited (one
    // that refuses its data dir does so in about a second): no need to wait out the timeout for it.
    try {
      await waitFor(`ZooKeeper process on ${node.name}`, 10_000, 100, async () =>
        (await this.isRunning(node)) || serverLoggedSince(logFile, logSizeBefore) ? true : undefined,
      );
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      // A server that refuses its data dir can exit before the first probe sees it (seen on a loaded CI machine):
      // it started, as one that exits a second later did, so the caller sees the exit the same way in both cases
      // (isRunning, restartOutcome). Only a JVM that wrote nothing at all did not start.
      if (fileSize(logFile) > logSizeBefore) return;
      throw new HarnessError(`ZooKeeper did not start on ${node.name}`, `Read ${logFile}.`);
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

  async status(node: ClusterNode, timeoutMs = 2000): Promise<ServerStatus> {
    try {
      return parseSrvr(node.name, await fourLetterWord(node.ip, 'srvr', timeoutMs));
    } catch {
      return { node: node.name, answered: false, serving: false };
    }
  }

  async snapshot(node: ClusterNode): Promise<NodeSnapshot> {
    const zxid = await fourLetterWord(node.ip, 'srvr').then(
      (t) => parseSrvr(node.name, t).zxid ?? null,
      () => null,
    );
    const digests = await fourLetterWord(node.ip, 'hash').then(parseDigests, () => ({}));
    const mismatches = await fourLetterWord(node.ip, 'mntr').then(
      (t) => /^zk_digest_mismatches_count\s+(\d+)/m.exec(t)?.[1],
      () => undefined,
    );
    return {
      zxid: zxid === null ? null : BigInt(zxid).toString(16),
      digests,
      ...(mismatches !== undefined ? { digestMismatches: Number(mismatches) } : {}),
    };
  }

  async ensembleConfig(node: ClusterNode): Promise<NodeConfig | null> {
    let zk: ZkClient | undefined;
    try {
      zk = await ZkClient.connect({
        host: node.ip,
        port: CLIENT_PORT,
        sessionTimeoutMs: 4000,
        connectTimeoutMs: 2000,
        defaultOpTimeoutMs: 4000,
      });
      await zk.sync('/zookeeper/config');
      const config = parseEnsembleConfig((await zk.getData('/zookeeper/config')).data.toString('utf8'));
      return { version: config.version, members: Object.fromEntries(config.members.map((m) => [`n${m.id}`, m.role])) };
    } catch {
      return null;
    } finally {
      await zk?.close().catch(() => undefined);
    }
  }

  async probeWrite(node: ClusterNode): Promise<boolean> {
    let client: ZkClient | undefined;
    try {
      client = await ZkClient.connect({
        host: node.ip,
        port: CLIENT_PORT,
        sessionTimeoutMs: 4000,
        connectTimeoutMs: 1000,
        defaultOpTimeoutMs: 2000,
      });
      const data = Buffer.from(String(Date.now()));
      try {
        await client.setData(RECOVERY_PROBE_PATH, data, -1);
      } catch (err) {
        if (!(err instanceof ZkError) || err.name !== 'NONODE') throw err;
        await client.create(RECOVERY_PROBE_PATH, data, 'persistent');
      }
      return true;
    } catch {
      return false;
    } finally {
      await client?.close().catch(() => undefined);
    }
  }

  async leader(): Promise<ClusterNode | undefined> {
    const statuses = await Promise.all(this.cluster.nodes.map((n) => this.status(n)));
    const leaders = statuses.filter((s) => s.mode === 'leader');
    // Two nodes claiming leadership (an old leader not yet aware of its isolation) is no answer.
    if (leaders.length !== 1) return undefined;
    return this.cluster.nodes.find((n) => n.name === leaders[0]!.node);
  }

  async waitForQuorum(
    timeoutMs: number,
    options: { all?: boolean; signal?: AbortSignal } = {},
  ): Promise<ServerStatus[]> {
    // Only voters count towards the quorum; with `all`, observers must serve too.
    const majority = Math.floor((this.cluster.nodes.length - (this.config.observers ?? 0)) / 2) + 1;
    let last: ServerStatus[] = [];
    try {
      // srvr over TCP is cheap for harness and server alike: a tight poll sees the quorum form sooner.
      return await waitFor(
        'a serving quorum',
        timeoutMs,
        100,
        async () => {
          last = await Promise.all(this.cluster.nodes.map((n) => this.status(n)));
          const leaders = last.filter((s) => s.mode === 'leader').length;
          const voting = last.filter((s) => s.mode === 'leader' || s.mode === 'follower').length;
          const serving = voting + last.filter((s) => s.mode === 'observer').length;
          const enough = options.all ? serving === this.cluster.nodes.length : voting >= majority;
          return leaders === 1 && enough ? last : undefined;
        },
        options.signal,
      );
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

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/**
 * Whether the server's JVM wrote to its log after `offset`: a timestamped line, as every ZooKeeper log layout
 * writes (zkServer.sh's own lines, which come first, carry none).
 */
function serverLoggedSince(path: string, offset: number): boolean {
  const size = fileSize(path);
  if (size <= offset) return false;
  const fd = openSync(path, 'r');
  try {
    const tail = Buffer.alloc(Math.min(size - offset, 64 * 1024));
    readSync(fd, tail, 0, tail.length, offset);
    return /\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d/.test(tail.toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

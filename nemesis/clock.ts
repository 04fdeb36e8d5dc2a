// Clock faults: the ZooKeeper server's JVM sees a clock that is off, jumps, strobes or runs at another rate, while
// the container, the host and every other process keep the true time. The server is started with Debian's
// libfaketime preloaded (src/zookeeper.ts, run setting fakeClock), reading its spec from a file in the node's bind
// mount when its one-second cache has expired; the harness rewrites that file from the host, so a fault takes
// effect within two seconds and needs no restart. What each mode moves (measured, docs/decisions.md "Clock faults"):
//   fakeClock=wall: System.currentTimeMillis (Date, Instant, znode mtimes, log stamps); System.nanoTime untouched.
//   fakeClock=all:  both, by the same amount (libfaketime rebases CLOCK_MONOTONIC onto the faked wall time), and
//                   the JVM's timed waits follow the faked rate.
// Every action reads back the offset the JVM really has: its wall clock from `cons`'s est= (the JVM's Date when it
// accepted our connection) and its monotonic clock from lresp= (Time.currentElapsedTime when it answered us).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, ClusterNode } from '../src/cluster.js';
import { connectToNode } from '../src/client.js';
import { HarnessError, UsageError } from '../src/errors.js';
import type { Fault, FaultParam, FaultRecord, FaultRequest, NemesisContext, TargetSpec } from '../src/nemesis.js';
import type { Random } from '../src/random.js';
import { sleep } from '../src/time.js';
import type { ZkClient } from '../src/zk/client.js';
import {
  FAKETIME_CACHE_S,
  FAKETIME_FILE,
  FAKETIME_TRUE_TIME,
  faketimeEnv,
  fourLetterWord,
  writeFaketimeSpec,
  type FakeClockMode,
} from '../src/zookeeper.js';
import { resolveTargets } from './targets.js';

export const CLOCK_FAMILY = 'clock';

/** What libfaketime is told for one node: fake(T) = S + offset + (T − S) × rate, S = the JVM's start (ms). */
interface NodeClock {
  offsetMs: number;
  rate: number;
  /** libfaketime's start in the JVM (true ms), needed only for rates other than 1; per server process. */
  start?: { pid: string; ms: number };
}

/** One reading of a node's clocks, as the JVM itself reports them (or, when it does not serve, libfaketime). */
export interface ClockReading {
  /** True time of the reading, ms since the epoch (the report places it with test.json's startedAt). */
  at: number;
  node: string;
  /** The JVM's wall clock minus true time, ms. */
  wallMs?: number;
  /** The JVM's monotonic clock (System.nanoTime) minus the true monotonic clock, ms; 0 when it is not faked. */
  monotonicMs?: number;
  /** jvm: from the server's own answers; libfaketime: `date` under the node's preload (the server did not serve). */
  source?: 'jvm' | 'libfaketime';
  error?: string;
}

interface StrobeState {
  timer: NodeJS.Timeout;
  flips: number;
  samples: ClockReading[];
  sampling: boolean;
}

interface ClusterClocks {
  nodes: Map<string, NodeClock>;
  strobes: Map<string, StrobeState>;
}

const STATE = new WeakMap<Cluster, ClusterClocks>();

function stateOf(cluster: Cluster): ClusterClocks {
  let s = STATE.get(cluster);
  if (!s) STATE.set(cluster, (s = { nodes: new Map(), strobes: new Map() }));
  return s;
}

/** The libfaketime spec of an offset and rate: "+12.345 x1" (seconds, signed). */
export function faketimeSpec(offsetMs: number, rate: number): string {
  const seconds = (offsetMs / 1000).toFixed(3);
  return `${offsetMs < 0 ? '' : '+'}${seconds} x${rate}`;
}

/** What libfaketime's fake clock minus true time is at true time `t` (ms). */
export function offsetAt(clock: NodeClock, t: number): number {
  if (clock.rate === 1) return clock.offsetMs;
  return clock.offsetMs + (t - clock.start!.ms) * (clock.rate - 1);
}

/**
 * The spec that makes the fake clock read `t + wantedOffsetMs` at true time `t` and run at `rate` from then on:
 * with libfaketime's fake(T) = S + o + (T − S) × r, that is o = wanted − (t − S)(r − 1).
 */
export function specFor(wantedOffsetMs: number, rate: number, t: number, startMs?: number): NodeClock {
  if (rate === 1) return { offsetMs: wantedOffsetMs, rate };
  if (startMs === undefined) throw new Error('a rate other than 1 needs the JVM start');
  return { offsetMs: wantedOffsetMs - (t - startMs) * (rate - 1), rate, start: { pid: '', ms: startMs } };
}

function requireFakeClock(context: NemesisContext): FakeClockMode {
  const mode = context.db.fakeClock;
  if (!mode)
    throw new UsageError(
      'clock faults need the servers started with libfaketime preloaded',
      'Run with --fake-clock wall (or all), or let faultline test choose it: it does when --nemesis names a clock fault.',
    );
  return mode;
}

/**
 * When libfaketime started in the node's server JVM (true ms): the process's start from /proc (boot-relative ticks)
 * against /proc/uptime, ±10 ms. Rates other than 1 are applied relative to it.
 */
async function jvmStart(context: NemesisContext, node: ClusterNode): Promise<{ pid: string; ms: number }> {
  const before = Date.now();
  const out = await context.cluster.run(node, [
    'sh',
    '-c',
    // [j]ava: the pattern must not match this shell's own command line.
    `pid=$(pgrep -o -f '[j]ava.*QuorumPeerMain'); [ -n "$pid" ] && echo $pid $(cut -d' ' -f22 /proc/$pid/stat) $(getconf CLK_TCK) $(cut -d' ' -f1 /proc/uptime)`,
  ]);
  const [pid, ticks, hz, uptime] = out.trim().split(/\s+/);
  if (!pid || !ticks || !hz || !uptime)
    throw new HarnessError(`${node.name}: no ZooKeeper server to skew the clock of`);
  const sinceStartMs = Number(uptime) * 1000 - (Number(ticks) * 1000) / Number(hz);
  return { pid, ms: (before + Date.now()) / 2 - sinceStartMs };
}

async function serverPid(context: NemesisContext, node: ClusterNode): Promise<string> {
  const r = await context.cluster.exec(node, ['pgrep', '-f', 'org.apache.zookeeper.server.quorum.QuorumPeerMain']);
  return r.stdout.trim().split('\n')[0] ?? '';
}

/** Sets a node's clock to read true time + `wantedOffsetMs` now, running at `rate`; returns the spec written. */
async function setClock(
  context: NemesisContext,
  node: ClusterNode,
  wantedOffsetMs: number,
  rate: number,
): Promise<{ spec: string; clock: NodeClock }> {
  const clocks = stateOf(context.cluster).nodes;
  const t = Date.now();
  let clock: NodeClock;
  if (rate === 1) clock = { offsetMs: wantedOffsetMs, rate };
  else {
    const start = await jvmStart(context, node);
    clock = { ...specFor(wantedOffsetMs, rate, t, start.ms), start };
  }
  const spec = faketimeSpec(clock.offsetMs, clock.rate);
  writeFaketimeSpec(node, spec);
  clocks.set(node.name, clock);
  return { spec, clock };
}

/** The offset the harness believes a node's clock has now (what it last set; a restarted JVM restarts libfaketime). */
async function believedOffset(context: NemesisContext, node: ClusterNode): Promise<{ offsetMs: number; rate: number }> {
  const clock = stateOf(context.cluster).nodes.get(node.name);
  if (!clock) return { offsetMs: 0, rate: 1 };
  if (clock.rate !== 1 && clock.start && clock.start.pid && clock.start.pid !== (await serverPid(context, node)))
    // The server restarted: libfaketime restarted with it, at the new process's start.
    clock.start = await jvmStart(context, node);
  return { offsetMs: offsetAt(clock, Date.now()), rate: clock.rate };
}

/** A `cons` line's fields for one session id. */
export function consFields(text: string, sessionId: bigint): Record<string, string> | undefined {
  const sid = `sid=0x${sessionId.toString(16)},`;
  const line = text.split('\n').find((l) => l.includes(sid));
  if (!line) return undefined;
  const inner = /\((.*)\)/.exec(line)?.[1] ?? '';
  return Object.fromEntries(inner.split(',').map((kv) => kv.split('=', 2) as [string, string]));
}

/**
 * Reads a node's clocks from its JVM: a session is opened (true time noted just before the connection, which the
 * server stamps with its Date as est=), one request answered (true monotonic time noted on the reply, which the
 * server stamps with Time.currentElapsedTime as lresp=), then `cons` gives both stamps.
 */
export async function readClock(node: ClusterNode, mode: FakeClockMode | undefined): Promise<ClockReading> {
  let zk: ZkClient | undefined;
  const at = Date.now();
  try {
    const connectAt = Date.now();
    zk = await connectToNode(node, { sessionTimeoutMs: 4000, connectTimeoutMs: 1500, opTimeoutMs: 2000 });
    await zk.exists('/');
    const replyMonoMs = Number(process.hrtime.bigint()) / 1e6;
    const replyWallMs = Date.now();
    const fields = consFields(await fourLetterWord(node.ip, 'cons', 2000), zk.sessionId);
    const est = Number(fields?.est);
    const lresp = Number(fields?.lresp);
    if (!Number.isFinite(est) || !Number.isFinite(lresp))
      return { at, node: node.name, error: 'cons did not list our session' };
    // With the monotonic clock faked, libfaketime rebases it onto the wall clock: compare with true wall time then.
    const trueMono = mode === 'all' ? replyWallMs : replyMonoMs;
    return {
      at,
      node: node.name,
      wallMs: Math.round(est - connectAt),
      monotonicMs: Math.round(lresp - trueMono),
      source: 'jvm',
    };
  } catch (err) {
    return { at, node: node.name, error: (err as Error).message };
  } finally {
    await zk?.close().catch(() => undefined);
  }
}

/**
 * When the server does not serve: `date` under the node's preload and file, between two readings of the container's
 * true clock (the host's), so the exec's own latency does not count. libfaketime's start is then `date`'s, not the
 * JVM's: under a rate other than 1 this reads the offset the spec had when written, not what the JVM has since.
 */
async function readClockThroughLibrary(
  context: NemesisContext,
  node: ClusterNode,
  mode: FakeClockMode,
): Promise<ClockReading> {
  const at = Date.now();
  const env = Object.entries(faketimeEnv(mode))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const result = await context.cluster.exec(node, [
    'sh',
    '-c',
    `a=$(date +%s%3N); f=$(env ${env} date +%s%3N); b=$(date +%s%3N); echo $a $f $b`,
  ]);
  const [a, fake, b] = result.stdout.trim().split(/\s+/).map(Number);
  if (result.exitCode !== 0 || !Number.isFinite(fake) || !Number.isFinite(a) || !Number.isFinite(b))
    return { at, node: node.name, error: result.stderr.trim() || 'no reading' };
  return { at, node: node.name, wallMs: Math.round(fake! - (a! + b!) / 2), source: 'libfaketime' };
}

/** Reads every given node's clocks (the JVM's; the library's where the server does not serve). */
export async function readClocks(context: NemesisContext, nodes: readonly ClusterNode[]): Promise<ClockReading[]> {
  const mode = context.db.fakeClock;
  return Promise.all(
    nodes.map(async (node) => {
      const reading = await readClock(node, mode);
      if (reading.error === undefined || !mode) return reading;
      const fallback = await readClockThroughLibrary(context, node, mode).catch((err: Error): ClockReading => ({
        at: Date.now(),
        node: node.name,
        error: err.message,
      }));
      return fallback.error === undefined
        ? { ...fallback, error: `the server did not answer: ${reading.error}` }
        : reading;
    }),
  );
}

function numberParam(request: FaultRequest | undefined, name: string, fallback: number): number {
  const value = request?.params?.[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n))
    throw new UsageError(
      `clock fault: params.${name} must be a number, not ${String(value)}`,
      'For example byMs: 30000.',
    );
  return n;
}

/**
 * libfaketime re-reads its file once the true second has moved more than FAKETIME_CACHE_S past its last read, so up
 * to twice that after a write: a reading taken sooner still shows the previous spec (seen in the first runs, where
 * readings lagged one action behind).
 */
export const FAKETIME_TAKES_EFFECT_MS = 2 * FAKETIME_CACHE_S * 1000 + 100;
async function untilLibfaketimeRereads(): Promise<void> {
  await sleep(FAKETIME_TAKES_EFFECT_MS);
}

function stopStrobe(cluster: Cluster, node: string): StrobeState | undefined {
  const strobes = stateOf(cluster).strobes;
  const strobe = strobes.get(node);
  if (strobe) clearInterval(strobe.timer);
  strobes.delete(node);
  return strobe;
}

/** A clock fault: resolve its targets, change their clocks, read every node's clocks back. */
function clockFault(
  name: string,
  description: string,
  defaultTarget: TargetSpec,
  act: (
    context: NemesisContext,
    nodes: ClusterNode[],
    request: FaultRequest | undefined,
    random: Random,
  ) => Promise<FaultRecord>,
): Fault {
  return {
    name,
    family: CLOCK_FAMILY,
    description,
    ...(CLOCK_PARAMS[name] ? { params: CLOCK_PARAMS[name] } : {}),
    defaultTarget,
    async start(context, request) {
      requireFakeClock(context);
      const { nodes, record } = await resolveTargets(context, request?.target ?? defaultTarget);
      for (const node of nodes) stopStrobe(context.cluster, node.name);
      const done = await act(context, nodes, request, context.random);
      await untilLibfaketimeRereads();
      // fakeClock says which clocks moved: the session checker's expiry rule reads it.
      return {
        ...record,
        fakeClock: context.db.fakeClock,
        ...done,
        clocks: await readClocks(context, context.cluster.nodes),
      };
    },
    heal: healClocks,
    healNode: healClockNode,
  };
}

/** Every node back to true time ("+0 x1"), strobes stopped; what each clock then reads, from the node. */
export async function healClocks(context: NemesisContext): Promise<FaultRecord> {
  const state = stateOf(context.cluster);
  const strobed: Record<string, { flips: number; samples: ClockReading[] }> = {};
  for (const name of [...state.strobes.keys()]) {
    const strobe = stopStrobe(context.cluster, name)!;
    strobed[name] = { flips: strobe.flips, samples: strobe.samples };
  }
  const reset: string[] = [];
  const faked = context.cluster.nodes.filter((n) => {
    try {
      return readFileSync(join(n.hostDir, FAKETIME_FILE), 'utf8').trim() !== FAKETIME_TRUE_TIME;
    } catch {
      return false; // no file: this node's server has no libfaketime
    }
  });
  for (const node of faked) {
    writeFaketimeSpec(node, FAKETIME_TRUE_TIME);
    reset.push(node.name);
  }
  state.nodes.clear();
  if (!context.db.fakeClock) return { reset };
  if (reset.length) await untilLibfaketimeRereads();
  return {
    reset,
    ...(Object.keys(strobed).length ? { strobed } : {}),
    clocks: await readClocks(context, context.cluster.nodes),
  };
}

/** One node back to true time, its strobe stopped; what every clock then reads. Other nodes' clocks stay. */
export async function healClockNode(context: NemesisContext, name: string): Promise<FaultRecord> {
  const node = context.cluster.nodes.find((n) => n.name === name);
  if (!node) throw new HarnessError(`no node ${name} in this ensemble`);
  const strobe = stopStrobe(context.cluster, name);
  stateOf(context.cluster).nodes.delete(name);
  let faked: boolean;
  try {
    faked = readFileSync(join(node.hostDir, FAKETIME_FILE), 'utf8').trim() !== FAKETIME_TRUE_TIME;
  } catch {
    faked = false; // no file: this node's server has no libfaketime
  }
  if (faked) writeFaketimeSpec(node, FAKETIME_TRUE_TIME);
  if (!context.db.fakeClock) return { nodes: [name], reset: faked ? [name] : [] };
  if (faked) await untilLibfaketimeRereads();
  return {
    nodes: [name],
    reset: faked ? [name] : [],
    ...(strobe ? { strobed: { [name]: { flips: strobe.flips, samples: strobe.samples } } } : {}),
    clocks: await readClocks(context, context.cluster.nodes),
  };
}

/** Offsets for the scramble: uniform in ±maxMs, at least a tenth of it away from 0. */
function randomOffset(random: Random, maxMs: number): number {
  const magnitude = maxMs * (0.1 + 0.9 * random.float());
  return Math.round(random.int(0, 1) === 0 ? -magnitude : magnitude);
}

const jump =
  (direction: 1 | -1) =>
  async (context: NemesisContext, nodes: ClusterNode[], request: FaultRequest | undefined): Promise<FaultRecord> => {
    const byMs = Math.abs(numberParam(request, 'byMs', 30_000)) * direction;
    const set: Record<string, string> = {};
    for (const node of nodes) {
      const now = await believedOffset(context, node);
      set[node.name] = (await setClock(context, node, now.offsetMs + byMs, now.rate)).spec;
    }
    return { byMs, set };
  };

/** What each clock fault takes in a scenario's `params:`. */
const CLOCK_PARAMS: Record<string, Record<string, FaultParam>> = {
  'clock-jump-forward': { byMs: { kind: 'amount', help: 'how far, ms' } },
  'clock-jump-back': { byMs: { kind: 'amount', help: 'how far, ms' } },
  'clock-offset': { offsetMs: { kind: 'number', help: 'the offset from true time, ms' } },
  'clock-skew': { rate: { kind: 'amount', help: 'clock rate (2: twice as fast)' } },
  'clock-strobe': {
    deltaMs: { kind: 'number', help: 'the second offset, ms' },
    periodMs: { kind: 'amount', help: 'time between flips, ms' },
  },
  'clock-scramble': { offsetMs: { kind: 'amount', help: 'largest offset either way, ms' } },
};

export const clockFaults: Fault[] = [
  clockFault(
    'clock-jump-forward',
    "jump one node's server clock forward (params: byMs, default 30000); the heal returns it to true time",
    'one',
    jump(1),
  ),
  clockFault(
    'clock-jump-back',
    "jump one node's server clock back (params: byMs, default 30000); the heal returns it to true time",
    'one',
    jump(-1),
  ),
  clockFault(
    'clock-offset',
    "set one node's server clock off true time (params: offsetMs; default random within ±60 s)",
    'one',
    async (context, nodes, request, random) => {
      const set: Record<string, string> = {};
      for (const node of nodes) {
        const offsetMs = numberParam(request, 'offsetMs', randomOffset(random, 60_000));
        set[node.name] = (await setClock(context, node, offsetMs, 1)).spec;
      }
      return { set };
    },
  ),
  clockFault(
    'clock-skew',
    "make one node's server clock run fast or slow (params: rate, default 2 = twice as fast), with no jump",
    'one',
    async (context, nodes, request) => {
      const rate = numberParam(request, 'rate', 2);
      if (rate <= 0 || rate > 100)
        throw new UsageError(`clock-skew: params.rate must be in (0, 100], not ${rate}`, 'For example rate: 1.5.');
      const set: Record<string, string> = {};
      for (const node of nodes) {
        const now = await believedOffset(context, node);
        set[node.name] = (await setClock(context, node, now.offsetMs, rate)).spec;
      }
      return { rate, set };
    },
  ),
  clockFault(
    'clock-strobe',
    "flip one node's server clock between its offset and that plus deltaMs (default 10000) every periodMs (default 3000, at least 2100) until healed",
    'one',
    async (context, nodes, request) => {
      const deltaMs = numberParam(request, 'deltaMs', 10_000);
      // libfaketime reads its file at most every FAKETIME_TAKES_EFFECT_MS: a faster strobe would skip flips.
      const periodMs = Math.max(FAKETIME_TAKES_EFFECT_MS, numberParam(request, 'periodMs', 3000));
      const state = stateOf(context.cluster);
      for (const node of nodes) {
        const base = await believedOffset(context, node);
        if (base.rate !== 1) await setClock(context, node, base.offsetMs, 1);
        let high = false;
        const strobe: StrobeState = {
          flips: 0,
          samples: [],
          sampling: false,
          timer: setInterval(() => {
            high = !high;
            writeFaketimeSpec(node, faketimeSpec(base.offsetMs + (high ? deltaMs : 0), 1));
            strobe.flips++;
            // About once a second, what the JVM really reads (not every flip: each reading is a session).
            if (!strobe.sampling && strobe.flips % Math.max(1, Math.round(1000 / periodMs)) === 0) {
              strobe.sampling = true;
              void readClock(node, context.db.fakeClock).then((r) => {
                strobe.samples.push(r);
                strobe.sampling = false;
              });
            }
          }, periodMs),
        };
        strobe.timer.unref();
        state.strobes.set(node.name, strobe);
      }
      return { deltaMs, periodMs };
    },
  ),
  clockFault(
    'clock-scramble',
    'set every node’s server clock to its own random offset within ±offsetMs (default 60000)',
    'all',
    async (context, nodes, request, random) => {
      const maxMs = numberParam(request, 'offsetMs', 60_000);
      const set: Record<string, string> = {};
      for (const node of nodes) set[node.name] = (await setClock(context, node, randomOffset(random, maxMs), 1)).spec;
      return { set };
    },
  ),
];

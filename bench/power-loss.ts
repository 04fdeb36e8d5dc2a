// Overhead of the power-loss filesystem (issue 14): register throughput at full rate on a real 3-node ensemble, with
// the filesystem under every data dir and without it, in alternating runs (no faults, forceSync=yes, so every write
// is an fdatasync through the filesystem), plus the txn log's write pattern alone. The ratio is with / without; the
// target is at least 0.8.
// Run: npm run bench:power-loss [-- --seconds S --pairs N --server BUILD]. Needs Docker, root and /dev/fuse.
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ensureEngine } from '../docker/engine.js';
import { DEFAULT_SERVER, ensureImage } from '../docker/image.js';
import {
  ensurePowerLossPackages,
  mountPowerLoss,
  PowerLossFilesystems,
  powerLossUnavailable,
} from '../nemesis/power-loss/fs.js';
import { DEFAULT_CLIENT_OPTIONS } from '../src/client.js';
import { DockerCluster } from '../src/cluster.js';
import { MemoryLogger } from '../src/log.js';
import { runTest } from '../src/runner.js';
import { resolveRunConfig } from '../src/config.js';
import { ZooKeeperDb, zooKeeperConfigOf } from '../src/zookeeper.js';
import { resolveWorkload } from '../workloads/index.js';

export interface ThroughputRow {
  filesystem: 'none' | 'power-loss';
  seconds: number;
  ok: number;
  fail: number;
  info: number;
  okPerSecond: number;
  verdict: string;
}

/** One full-rate register run; `withFs` puts the power-loss filesystem under the data dirs. */
async function throughputRun(server: string, seconds: number, withFs: boolean): Promise<ThroughputRow> {
  const log = new MemoryLogger();
  const docker = await ensureEngine(log);
  const image = await ensureImage(docker, server, log);
  const runDir = mkdtempSync(join(tmpdir(), 'faultline-bench-fs-'));
  const runId = `bench-fs-${randomBytes(3).toString('hex')}`;
  const cluster = new DockerCluster(
    docker,
    {
      runId,
      testName: 'bench-power-loss',
      runDir,
      image: image.name,
      nodeCount: 3,
      ...(withFs ? { dataDirMount: new PowerLossFilesystems({ runId, model: 'dir-fsync', log }) } : {}),
    },
    log,
  );
  const concurrency = 10;
  try {
    const outcome = await runTest(
      {
        name: 'bench-power-loss',
        seed: 1,
        timeLimitS: seconds,
        concurrency,
        // Far above what the ensemble serves: every process sends its next op as soon as the last returns.
        rate: 1_000_000,
        nemesisIntervalS: 10,
        opTimeoutMs: DEFAULT_CLIENT_OPTIONS.opTimeoutMs,
        recoveryTimeoutS: 60,
        cluster,
        db: new ZooKeeperDb(
          cluster,
          zooKeeperConfigOf(resolveRunConfig({ zookeeper: { forceSync: true } }).zookeeper),
          log,
        ),
        workload: resolveWorkload('register', { readMode: 'sync' }, DEFAULT_CLIENT_OPTIONS),
        faults: [],
        historyPath: join(runDir, 'history.jsonl'),
        runDir,
      },
      log,
      new AbortController().signal,
    );
    const s = outcome.stats;
    return {
      filesystem: withFs ? 'power-loss' : 'none',
      seconds,
      ok: s.ok,
      fail: s.fail,
      info: s.info,
      okPerSecond: Math.round(s.ok / seconds),
      verdict: String(outcome.valid),
    };
  } finally {
    await cluster.teardown();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * The txn log's pattern without ZooKeeper: a file preallocated by a write past its end, then small appends each
 * followed by fdatasync, straight on the disk and through the filesystem. Appends per second.
 */
function appendRate(dir: string, appends: number): number {
  const file = join(dir, 'log.1');
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, Buffer.alloc(1), 0, 1, 64 * 1024 * 1024 - 1);
    fdatasyncSync(fd);
    const record = Buffer.alloc(200, 7);
    const started = process.hrtime.bigint();
    for (let i = 0; i < appends; i++) {
      writeSync(fd, record, 0, record.length, 16 + i * record.length);
      fdatasyncSync(fd);
    }
    return Math.round(appends / (Number(process.hrtime.bigint() - started) / 1e9));
  } finally {
    closeSync(fd);
  }
}

async function appendBench(appends: number): Promise<{ direct: number; mounted: number }> {
  const base = mkdtempSync(join(tmpdir(), 'faultline-bench-append-'));
  const dir = join(base, 'data');
  mkdirSync(dir);
  try {
    const direct = appendRate(dir, appends);
    const mount = await mountPowerLoss(dir, { fsname: `faultline:${process.pid}:bench-append:n0`, model: 'dir-fsync' });
    try {
      return { direct, mounted: appendRate(dir, appends) };
    } finally {
      await mount.stop();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `pairs` pairs of runs (without, then with), interleaved so a busy patch of a shared machine hits both alike, and the
 * append micro-benchmark; prints the tables and returns the ratio of the median throughputs.
 */
export async function runPowerLossBench(
  options: { seconds?: number; server?: string; pairs?: number } = {},
): Promise<number> {
  const seconds = options.seconds ?? 30;
  const server = options.server ?? DEFAULT_SERVER;
  const pairs = options.pairs ?? 2;
  const unavailable = powerLossUnavailable();
  if (unavailable) {
    process.stdout.write(`\nPower-loss filesystem overhead: skipped (${unavailable}).\n`);
    return Number.NaN;
  }
  await ensurePowerLossPackages(new MemoryLogger());
  const appends = await appendBench(2000);
  const rows: ThroughputRow[] = [];
  for (let i = 0; i < pairs; i++) {
    rows.push(await throughputRun(server, seconds, false));
    rows.push(await throughputRun(server, seconds, true));
  }
  const rate = (fs: ThroughputRow['filesystem']): number =>
    median(rows.filter((r) => r.filesystem === fs).map((r) => r.okPerSecond));
  const ratio = rate('power-loss') / rate('none');
  const lines = rows.map(
    (r) =>
      `${r.filesystem.padEnd(10)}  ${String(r.okPerSecond).padStart(8)}  ${String(r.ok).padStart(7)}  ${String(r.fail).padStart(5)}  ${String(r.info).padStart(5)}  ${r.verdict}`,
  );
  process.stdout.write(
    `\nPower-loss filesystem overhead, ${new Date().toISOString()} (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${cpus().length} cores).\n` +
      `Txn-log pattern (200-byte appends into a 64 MiB preallocated file, fdatasync after each, 2000 appends):\n` +
      `  on the disk ${appends.direct}/s, through the filesystem ${appends.mounted}/s: ratio ${(appends.mounted / appends.direct).toFixed(2)}\n` +
      `Register workload (sync reads, writes, cas), 10 processes at full rate, ${seconds} s a run, 3 nodes of ${server},\n` +
      `forceSync=yes, no faults; runs alternate without / with the filesystem under every data dir:\n` +
      `filesystem    ok op/s       ok   fail   info  verdict\n${lines.join('\n')}\n` +
      `ratio of the medians (with / without): ${ratio.toFixed(2)} (target ≥ 0.80)\n`,
  );
  return ratio;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  const seconds = arg('--seconds');
  const server = arg('--server');
  const pairs = arg('--pairs');
  await runPowerLossBench({
    ...(seconds ? { seconds: Number(seconds) } : {}),
    ...(server ? { server } : {}),
    ...(pairs ? { pairs: Number(pairs) } : {}),
  });
}

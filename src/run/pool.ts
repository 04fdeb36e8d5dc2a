// An ensemble pool: consecutive runs (explore's trials) with the same image and node count run on the same
// containers and network instead of creating and removing them each time. A reused ensemble is reset before each
// run and must then prove it is clean: every node's state (processes, iptables rules of every table, qdiscs,
// addresses, routes, mounts, the files faults leave) must equal what that container showed when it was new; the
// check's result goes to the run's reuse.json. A node that differs sends the run to new containers. The data is
// clean by construction: each run's /faultline is a symlink to its own new, empty node directory.
//
//   const pool = createEnsemblePool();
//   for (...) await executeTest(config, log, abort, { pool });
//   await pool.close();
//
// The pool's containers carry faultline.run=<ensemble id> and the harness's pid like any run's, so `faultline
// clean` removes what a killed harness left; close() removes them on every normal way out.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import {
  collectExec,
  createNodeContainer,
  createRunNetwork,
  LABEL_DIR,
  LABEL_PID,
  LABEL_POOL,
  LABEL_RUN,
  LABEL_TEST,
  removeByLabel,
  STORE_MOUNT,
  type PooledEnsemble,
} from '../cluster.js';
import { HarnessError } from '../errors.js';
import type { Logger } from '../log.js';
import { REUSE_FORMAT, type NodeClean, type ReuseRecord } from '../store/reuse.js';
import { withTimeout } from '../time.js';

/** What decides whether an ensemble can serve a run: the same image, node count and store. */
export interface PoolKey {
  image: string;
  nodeCount: number;
  /** The results directory the runs write to (bind-mounted into the containers). */
  storeRoot: string;
}

/** A pooled ensemble lent to one run. */
export interface PoolLease {
  readonly ensemble: PooledEnsemble;
  /** What goes to the run's reuse.json. */
  readonly record: ReuseRecord;
  /**
   * Gives the ensemble back: reset (servers stopped, faults' leftovers removed) and kept for the next run when
   * `reusable`, removed otherwise (or when the pool is full, or the reset fails).
   */
  release(reusable: boolean): Promise<void>;
}

export interface EnsemblePool {
  /** An ensemble for a run: an idle one of the same key, reset and checked clean, or new containers. */
  acquire(docker: Docker, key: PoolKey, log: Logger): Promise<PoolLease>;
  /** Removes every container and network of the pool. Idempotent; later acquires create anew. */
  close(): Promise<void>;
  /** Ensembles now idle (for tests and the bench). */
  readonly idle: readonly PooledEnsemble[];
}

export interface EnsemblePoolOptions {
  /** How many idle ensembles to keep (one per parallel trial); default 1. */
  keep?: number;
}

interface Ensemble extends PooledEnsemble {
  key: PoolKey;
  /** keep: the pid of the container's `sleep infinity`, which the reset leaves alone. */
  nodes: { name: string; container: string; keep: string }[];
  /** Each node's state when its container was new: what a clean check compares with. */
  baseline: Record<string, string[]>;
  trials: number;
}

/**
 * Sets $others to the pids of every process but PID 1 (docker-init), $KEEP (its `sleep infinity`, found when the
 * container was new) and this shell, using only shell builtins: a forked helper would list itself.
 */
const LIST_OTHERS = [
  'list_others() { others=""; for d in /proc/[0-9]*; do p=${d#/proc/};',
  '  [ "$p" = 1 ] || [ "$p" = "$KEEP" ] || [ "$p" = "$$" ] && continue;',
  '  read -r st < "$d/stat" 2>/dev/null || continue; others="$others $p"; done; };',
  // Prints one line per listed process: its state letter and command line.
  'show_others() { for p in $others; do read -r st < /proc/$p/stat 2>/dev/null || continue;',
  '  r=${st##*) }; cmd=$(tr "\\000" " " < /proc/$p/cmdline 2>/dev/null); echo "process ${r%% *} $cmd"; done; };',
].join(' ');

/** The pid of the container's `sleep infinity` (PID 1's only child when the container is new). */
const FIND_KEEP = [
  'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] || [ "$p" = "$$" ] && continue;',
  '  read -r st < "$d/stat" 2>/dev/null || continue; r=${st##*) }; set -- $r;',
  '  [ "$2" = 1 ] && echo "$p" && break; done',
].join(' ');

/**
 * A node's state, one line each, in sections: everything a fault or a run can leave behind in a container.
 */
const STATE_SCRIPT = [
  LIST_OTHERS,
  'list_others; echo "## processes"; show_others;',
  'echo "## iptables";',
  "for t in filter nat mangle raw; do iptables-save -t $t 2>/dev/null | grep -v '^#' | sed -E 's/\\[[0-9]+:[0-9]+\\]//'; done;",
  "if command -v ip6tables-save >/dev/null; then for t in filter nat mangle raw; do ip6tables-save -t $t 2>/dev/null | grep -v '^#' | sed -E 's/\\[[0-9]+:[0-9]+\\]//'; done; fi;",
  'echo "## qdiscs";',
  'tc qdisc show;',
  'echo "## addresses";',
  "ip -o addr show | awk '{ print $2, $3, $4 }';",
  'echo "## routes";',
  'ip route show;',
  'echo "## mounts";',
  "awk '{ print $5, $(NF-2) }' /proc/self/mountinfo | sort;",
  'echo "## files";',
  'ls -A /tmp /var/tmp /dev/shm /run /usr/local/sbin /usr/local/bin 2>&1;',
  'true',
].join(' ');

/**
 * Brings a node back to its state when new, printing what it removed: every process but PID 1 and its sleep
 * (resumed and killed: servers, delayers, strobes, paused ones), every iptables rule and chain of the filter, mangle
 * and raw tables (policies back to ACCEPT; faults use no other), every qdisc, the files faults install, and the link to the last run's directory.
 */
const RESET_SCRIPT = [
  LIST_OTHERS,
  'list_others; show_others;',
  'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do',
  '  [ -z "$others" ] && break;',
  '  for p in $others; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done;',
  '  sleep 0.05; list_others;',
  'done;',
  // nat holds Docker's own rules for its embedded DNS: left alone (a leftover there fails the check).
  'for t in filter mangle raw; do',
  "  iptables-save -t $t 2>/dev/null | grep -E '^(-A|:)' | grep -vE '^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT' | sed 's/^/iptables /';",
  '  iptables -w -t $t -F 2>/dev/null; iptables -w -t $t -X 2>/dev/null;',
  '  for c in INPUT OUTPUT FORWARD PREROUTING POSTROUTING; do iptables -w -t $t -P $c ACCEPT 2>/dev/null; done;',
  'done;',
  'for dev in $(ls /sys/class/net); do',
  '  tc qdisc show dev $dev | grep -vE "^qdisc noqueue 0: " | sed "s/^/tc /";',
  '  tc qdisc del dev $dev root 2>/dev/null; tc qdisc del dev $dev ingress 2>/dev/null;',
  'done;',
  'for f in /tmp/* /tmp/.[!.]* /var/tmp/* /dev/shm/* /run/faultline-* /usr/local/sbin/faultline-* /usr/local/bin/faultline-*; do',
  '  [ -e "$f" ] || [ -L "$f" ] || continue; echo "file $f"; rm -rf "$f";',
  'done;',
  'rm -f /faultline;',
  'true',
].join(' ');

/** Sections that differ: lines of `now` not in `then` (+) and of `then` not in `now` (-). */
function differences(then: readonly string[], now: readonly string[]): string[] {
  const count = (lines: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  };
  const a = count(then);
  const b = count(now);
  const out: string[] = [];
  for (const [line, n] of b) if ((a.get(line) ?? 0) < n) out.push(`+ ${line}`);
  for (const [line, n] of a) if ((b.get(line) ?? 0) < n) out.push(`- ${line}`);
  return out;
}

async function execIn(
  docker: Docker,
  container: string,
  script: string,
  keep?: string,
  timeoutMs = 20_000,
): Promise<string> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ['sh', '-c', script],
    AttachStdout: true,
    AttachStderr: true,
    Env: keep ? [`KEEP=${keep}`] : [],
  });
  const collect = async (): Promise<string> => {
    const { exitCode, stdout, stderr } = await collectExec(docker, exec);
    const text = stdout + stderr;
    if (exitCode !== 0) throw new HarnessError(`${container}: exited ${exitCode}: ${text.trim()}`);
    return text;
  };
  return withTimeout(collect(), timeoutMs, `${container}: pool script`);
}

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);

const sameKey = (a: PoolKey, b: PoolKey): boolean =>
  a.image === b.image && a.nodeCount === b.nodeCount && resolve(a.storeRoot) === resolve(b.storeRoot);

export function createEnsemblePool(options: EnsemblePoolOptions = {}): EnsemblePool {
  const keep = options.keep ?? 1;
  const poolId = randomBytes(3).toString('hex');
  const idle: Ensemble[] = [];
  const all = new Map<string, { docker: Docker; ensemble: Ensemble }>();
  let closed = false;

  async function destroy(docker: Docker, ensemble: Ensemble, log: Logger): Promise<void> {
    all.delete(ensemble.id);
    await removeByLabel(docker, `${LABEL_RUN}=${ensemble.id}`, log);
  }

  async function create(docker: Docker, key: PoolKey, log: Logger): Promise<Ensemble> {
    const id = `pool-${poolId}-${randomBytes(2).toString('hex')}`;
    const storeRoot = resolve(key.storeRoot);
    const labels = {
      [LABEL_RUN]: id,
      [LABEL_TEST]: 'ensemble-pool',
      [LABEL_PID]: String(process.pid),
      [LABEL_DIR]: storeRoot,
      [LABEL_POOL]: poolId,
    };
    const network = `faultline-${id}`;
    const ensemble: Ensemble = {
      id,
      network,
      subnet: '',
      prefix: '',
      storeRoot,
      key: { ...key, storeRoot },
      nodes: [],
      baseline: {},
      trials: 0,
    };
    all.set(id, { docker, ensemble });
    try {
      const { subnet, prefix } = await createRunNetwork(docker, network, labels);
      Object.assign(ensemble, { subnet, prefix });
      ensemble.nodes = Array.from({ length: key.nodeCount }, (_, i) => ({
        name: `n${i + 1}`,
        container: `faultline-${id}-n${i + 1}`,
        keep: '',
      }));
      await Promise.all(
        ensemble.nodes.map((n, i) =>
          createNodeContainer(docker, {
            name: n.container,
            node: n.name,
            ip: `${prefix}.${11 + i}`,
            image: key.image,
            network,
            labels,
            bind: `${storeRoot}:${STORE_MOUNT}`,
          }),
        ),
      );
      // What each container looks like new: the reference of every later clean check.
      const states = await Promise.all(
        ensemble.nodes.map(async (n) => {
          n.keep = (await execIn(docker, n.container, FIND_KEEP)).trim();
          if (!/^\d+$/.test(n.keep)) throw new HarnessError(`${n.container}: no sleep process under PID 1`);
          return execIn(docker, n.container, STATE_SCRIPT, n.keep);
        }),
      );
      ensemble.nodes.forEach((n, i) => (ensemble.baseline[n.name] = lines(states[i]!)));
      log.info(`Ensemble pool: new ensemble ${id} (${key.nodeCount} nodes, ${subnet}).`);
      return ensemble;
    } catch (err) {
      await destroy(docker, ensemble, log).catch(() => undefined);
      throw err;
    }
  }

  /** Resets every node and compares it with its state when new. */
  async function resetAndCheck(docker: Docker, ensemble: Ensemble): Promise<Record<string, NodeClean>> {
    const results = await Promise.all(
      ensemble.nodes.map(async (n) => {
        const removed = lines(await execIn(docker, n.container, RESET_SCRIPT, n.keep));
        const now = lines(await execIn(docker, n.container, STATE_SCRIPT, n.keep));
        return [n.name, { removed, differences: differences(ensemble.baseline[n.name] ?? [], now) }] as const;
      }),
    );
    return Object.fromEntries(results);
  }

  const lease = (docker: Docker, ensemble: Ensemble, record: ReuseRecord, log: Logger): PoolLease => {
    let released = false;
    return {
      ensemble,
      record,
      async release(reusable) {
        if (released) return;
        released = true;
        if (reusable && !closed && idle.length < keep && all.has(ensemble.id)) {
          // Idle means stopped: left running, its servers would go on writing into the finished run's directory
          // until the next acquire. An ensemble that cannot be reset is not kept.
          const reset = await Promise.all(
            ensemble.nodes.map((n) => execIn(docker, n.container, RESET_SCRIPT, n.keep).then(() => true)),
          ).catch(() => false);
          if (reset && !closed) {
            idle.push(ensemble);
            return;
          }
        }
        await destroy(docker, ensemble, log);
      },
    };
  };

  return {
    get idle() {
      return [...idle];
    },

    async acquire(docker, requested, log) {
      closed = false;
      const key = { ...requested, storeRoot: resolve(requested.storeRoot) };
      const started = Date.now();
      let failedCheck: ReuseRecord['failedCheck'];
      const at = idle.findIndex((e) => sameKey(e.key, key));
      if (at >= 0) {
        const [ensemble] = idle.splice(at, 1) as [Ensemble];
        let nodes: Record<string, NodeClean> | undefined;
        let failure: string | undefined;
        try {
          nodes = await resetAndCheck(docker, ensemble);
        } catch (err) {
          failure = (err as Error).message;
        }
        const passed = nodes !== undefined && Object.values(nodes).every((n) => n.differences.length === 0);
        if (passed && nodes) {
          ensemble.trials++;
          const removed = Object.values(nodes).reduce((k, n) => k + n.removed.length, 0);
          log.info(
            `Ensemble pool: reusing ${ensemble.id} (run ${ensemble.trials} on it); clean check passed, ${removed} leftovers removed.`,
          );
          return lease(
            docker,
            ensemble,
            {
              format: REUSE_FORMAT,
              reused: true,
              ensemble: ensemble.id,
              trial: ensemble.trials,
              reason: 'an idle ensemble of the same image and size, reset, equals its state when new on every node',
              clean: { passed: true, ms: Date.now() - started, nodes },
              readyMs: Date.now() - started,
            },
            log,
          );
        }
        failedCheck = {
          ensemble: ensemble.id,
          nodes: nodes ?? { all: { removed: [], differences: [`the reset failed: ${failure ?? 'unknown'}`] } },
        };
        log.warn(
          `Ensemble pool: ${ensemble.id} is not clean after its reset (${JSON.stringify(failedCheck.nodes).slice(0, 300)}); new containers instead.`,
        );
        await destroy(docker, ensemble, log).catch(() => undefined);
      }
      // Idle ensembles of another key would only hold memory: one ensemble at a time on a small machine.
      while (idle.length >= keep) await destroy(docker, idle.shift()!, log).catch(() => undefined);
      const ensemble = await create(docker, key, log);
      ensemble.trials = 1;
      return lease(
        docker,
        ensemble,
        {
          format: REUSE_FORMAT,
          reused: false,
          ensemble: ensemble.id,
          trial: 1,
          reason: failedCheck ? 'the idle ensemble failed its clean check' : 'no idle ensemble of this image and size',
          ...(failedCheck ? { failedCheck } : {}),
          readyMs: Date.now() - started,
        },
        log,
      );
    },

    async close() {
      closed = true;
      idle.splice(0);
      const errors: Error[] = [];
      for (const { docker, ensemble } of [...all.values()]) {
        const quiet: Logger = { info() {}, warn() {}, debug() {}, status() {} };
        await destroy(docker, ensemble, quiet).catch((err: Error) => errors.push(err));
      }
      if (errors.length)
        throw new HarnessError(
          `removing the ensemble pool ${poolId}: ${errors.map((e) => e.message).join('; ')}`,
          `Run \`faultline clean\`.`,
        );
    },
  };
}

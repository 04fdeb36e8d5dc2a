// The register workload: one znode holding a small integer; concurrent read, write and compare-and-set.
// Checked for linearizability from the zxids every op records (src/checkers/zxid-register.ts; the initial value
// is null, empty znode data), and against what ZooKeeper promises per read mode (zxid order, per-session order). With `keys` > 1 it is the
// multi-register workload: many independent znodes, each event carrying its key, checked key by key.
import type { Checker } from '../src/checker.js';
import { completionForError, type ClientOptions, ZkError } from '../src/client.js';
import type { Workload, Completion, Invocation } from '../src/workload.js';
import { checkLinearizable } from '../src/checkers/linearizable.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import {
  linearizableRegisterChecker,
  registerDurabilityChecker,
  sequentialChecker,
  type RegisterFinal,
  type RegisterReadMode,
} from '../src/checkers/zk-order.js';
import { ZkErrorCode, type ZkClient } from '../src/zk/client.js';
import { ensureZnode, hexZxid, sessionClient, withSession } from './common.js';

export const REGISTER_PATH = '/faultline-register';
/** A cas's own time budget ends this long before the runner's timeout of the op. */
const CAS_MARGIN_MS = 50;

/** sync: sync then get (the default); plain: get only (may be stale by design); none: no reads at all. */
export type ReadMode = RegisterReadMode;

export interface RegisterOptions {
  readMode: ReadMode;
  /** Values are drawn from 0 .. values-1: few values make collisions (and so real CAS contention) likely. */
  values: number;
  /** 1: one znode, events without key. More: znodes REGISTER_PATH/<key>, events with key 0..keys-1. */
  keys?: number;
  name?: string;
}

export const DEFAULT_REGISTER_OPTIONS: RegisterOptions = { readMode: 'sync', values: 5 };

function decode(data: Buffer): number | null {
  return data.length === 0 ? null : Number(data.toString('utf8'));
}

function encode(value: number): Buffer {
  return Buffer.from(String(value), 'utf8');
}

export function linearizableChecker(model: Parameters<typeof checkLinearizable>[1]['model']): Checker {
  return {
    check: async (history, context) => ({
      ...(await checkLinearizable(history, { model, timeoutMs: context.timeoutMs })),
    }),
  };
}

export function registerWorkload(options: RegisterOptions, clientOptions: ClientOptions): Workload {
  const keys = options.keys ?? 1;
  const pathOf = (key: string | number | undefined): string =>
    key === undefined ? REGISTER_PATH : `${REGISTER_PATH}/${key}`;
  const keyList = keys > 1 ? Array.from({ length: keys }, (_, k) => k) : [undefined];
  return {
    name: options.name ?? 'register',
    async setup(node) {
      await withSession(node, clientOptions, async (zk) => {
        await ensureZnode(zk, REGISTER_PATH);
        if (keys > 1) for (const key of keyList) await ensureZnode(zk, pathOf(key));
      });
    },

    openClient(node) {
      const read = async (zk: ZkClient, path: string): Promise<{ value: number | null; zxid: bigint }> => {
        if (options.readMode !== 'plain') await zk.sync(path);
        const { data, stat } = await zk.getData(path);
        return { value: decode(data), zxid: stat.mzxid };
      };
      return sessionClient(
        node,
        clientOptions,
        async (zk, op: Invocation): Promise<Completion> => {
          const path = pathOf(op.key);
          switch (op.f) {
            case 'read': {
              const { value, zxid } = await read(zk, path);
              return { type: 'ok', value, zxid: hexZxid(zxid) };
            }
            case 'write': {
              const { stat } = await zk.setData(path, encode(op.value as number), -1);
              return { type: 'ok', value: op.value, zxid: hexZxid(stat.mzxid) };
            }
            case 'cas': {
              const [expected, next] = op.value as [number, number];
              // One time budget for the whole cas, ending before the runner's own timeout (which starts after this
              // one), so even a slow cas reports what it read and whether its write was sent: the zxid checker
              // needs both (src/checkers/zxid-register.ts).
              const deadline = Date.now() + clientOptions.opTimeoutMs - CAS_MARGIN_MS;
              const left = (): number => Math.floor(deadline - Date.now());
              let found: { data: Buffer; stat: { mzxid: bigint; version: number } };
              try {
                // A synced read, so "the value differed" is a fact from within this op's interval.
                await zk.sync(path, { timeoutMs: Math.max(1, left()) });
                found = await zk.getData(path, { timeoutMs: Math.max(1, left()) });
              } catch (err) {
                // Nothing was written yet: whatever went wrong, this cas certainly did not happen.
                return {
                  type: 'fail',
                  value: op.value,
                  error: `not-sent: ${completionForError(err, null).error ?? ''}`,
                };
              }
              const { data, stat } = found;
              // The completion of a value mismatch records the value found (and its zxid), not [old, new].
              if (decode(data) !== expected)
                return { type: 'fail', value: decode(data), error: 'value-mismatch', zxid: hexZxid(stat.mzxid) };
              if (left() <= 0) return { type: 'fail', value: op.value, error: 'not-sent: no time left' };
              let written;
              try {
                written = await zk.setData(path, encode(next), stat.version, { timeoutMs: left() });
              } catch (err) {
                // BADVERSION proves only that someone wrote in between, not that the value differed.
                if (err instanceof ZkError && err.code === ZkErrorCode.BADVERSION)
                  return { type: 'fail', value: op.value, error: 'bad-version' };
                // If the write took effect, it came right after the data read (its version was the condition).
                const completion = completionForError(err, op.value);
                return completion.type === 'info' ? { ...completion, zxid: hexZxid(stat.mzxid) } : completion;
              }
              return { type: 'ok', value: op.value, zxid: hexZxid(written.stat.mzxid) };
            }
            default:
              throw new Error(`register: unknown op ${op.f}`);
          }
        },
        (op) => (op.f === 'read' ? null : op.value),
      );
    },

    generator({ random }) {
      const v = (): number => random.int(0, options.values - 1);
      const key = keys > 1 ? { key: random.int(0, keys - 1) } : {};
      // Without reads, the share of reads goes to writes. Plain reads are what plain mode tests, and a client on a
      // cut-off server blocks at its first write, so that mode reads more (6 in 10 ops instead of 4).
      const reads = options.readMode === 'plain' ? 6 : 4;
      const roll = options.readMode === 'none' ? random.int(reads, 9) : random.int(0, 9);
      if (roll < reads) return { f: 'read', value: null, ...key };
      if (roll < reads + (10 - reads) / 2) return { f: 'write', value: v(), ...key };
      return { f: 'cas', value: [v(), v()], ...key };
    },

    async finalRead(node) {
      return withSession(node, clientOptions, async (zk) => {
        const state: Record<string, RegisterFinal> = {};
        for (const key of keyList) {
          const path = pathOf(key);
          await zk.sync(path);
          const { data, stat } = await zk.getData(path);
          state[key === undefined ? '' : String(key)] = { value: decode(data), zxid: hexZxid(stat.mzxid) };
        }
        return state;
      });
    },

    checkers: {
      linearizable: linearizableRegisterChecker('cas-register', options.readMode),
      sequential: sequentialChecker(options.readMode),
      durability: registerDurabilityChecker(),
      ...RECOVERY_CHECKERS,
    },
  };
}

// The register workload: one znode holding a small integer; concurrent read, write and compare-and-set.
// Checked for linearizability against a cas-register whose initial value is null (empty znode data).
import type { Checker } from '../src/checker.js';
import { completionForError, connectToNode, type ClientOptions, ZkError } from '../src/client.js';
import type { Workload, Completion, Invocation } from '../src/workload.js';
import { checkLinearizable } from '../src/checkers/linearizable.js';
import { ZkErrorCode } from '../src/zk/client.js';

export const REGISTER_PATH = '/faultline-register';

/** sync: sync then get (the default); plain: get only (may be stale by design). */
export type ReadMode = 'sync' | 'plain';

export interface RegisterOptions {
  readMode: ReadMode;
  /** Values are drawn from 0 .. values-1: few values make collisions (and so real CAS contention) likely. */
  values: number;
}

export const DEFAULT_REGISTER_OPTIONS: RegisterOptions = { readMode: 'sync', values: 5 };

function decode(data: Buffer): number | null {
  return data.length === 0 ? null : Number(data.toString('utf8'));
}

function encode(value: number): Buffer {
  return Buffer.from(String(value), 'utf8');
}

export function linearizableChecker(model: Parameters<typeof checkLinearizable>[1]['model']): Checker {
  return { check: async (history, context) => ({ ...(await checkLinearizable(history, { model, timeoutMs: context.timeoutMs })) }) };
}

export function registerWorkload(options: RegisterOptions, clientOptions: ClientOptions): Workload {
  return {
    name: 'register',
    async setup(node) {
      const client = await connectToNode(node, clientOptions);
      try {
        await client.create(REGISTER_PATH, Buffer.alloc(0), 'persistent');
      } catch (err) {
        if (!(err instanceof ZkError && err.code === ZkErrorCode.NODEEXISTS)) throw err;
      } finally {
        await client.close();
      }
    },

    async openClient(node) {
      const zk = await connectToNode(node, clientOptions);
      const read = async (): Promise<number | null> => {
        if (options.readMode === 'sync') await zk.sync(REGISTER_PATH);
        return decode((await zk.getData(REGISTER_PATH)).data);
      };
      return {
        async invoke(op: Invocation): Promise<Completion> {
          try {
            switch (op.f) {
              case 'read':
                return { type: 'ok', value: await read() };
              case 'write':
                await zk.setData(REGISTER_PATH, encode(op.value as number), -1);
                return { type: 'ok', value: op.value };
              case 'cas': {
                const [expected, next] = op.value as [number, number];
                // A synced read, so "the value differed" is a fact from within this op's interval.
                await zk.sync(REGISTER_PATH);
                const { data, stat } = await zk.getData(REGISTER_PATH);
                if (decode(data) !== expected) return { type: 'fail', value: op.value, error: 'value-mismatch' };
                try {
                  await zk.setData(REGISTER_PATH, encode(next), stat.version);
                } catch (err) {
                  // BADVERSION proves only that someone wrote in between, not that the value differed.
                  if (err instanceof ZkError && err.code === ZkErrorCode.BADVERSION) return { type: 'fail', value: op.value, error: 'bad-version' };
                  throw err;
                }
                return { type: 'ok', value: op.value };
              }
              default:
                throw new Error(`register: unknown op ${op.f}`);
            }
          } catch (err) {
            return completionForError(err, op.f === 'read' ? null : op.value);
          }
        },
        close: () => zk.close(),
      };
    },

    generator({ random }) {
      const v = (): number => random.int(0, options.values - 1);
      const roll = random.int(0, 9);
      if (roll < 4) return { f: 'read', value: null };
      if (roll < 7) return { f: 'write', value: v() };
      return { f: 'cas', value: [v(), v()] };
    },

    checkers: { linearizable: linearizableChecker('cas-register') },
  };
}

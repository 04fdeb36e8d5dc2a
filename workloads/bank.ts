// The bank workload: accounts are znodes BANK_PATH/<account> holding a balance. A transfer reads both balances
// and writes both in one multi with version checks, so it applies atomically or not at all. A read of all
// accounts is a snapshot: getData of each, then a multi of version checks proves none changed in between.
import { ZkError, type ClientOptions } from '../src/client.js';
import { bankChecker, type Balances, type Transfer } from '../src/checkers/bank.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { ZkErrorCode, type MultiOp, type ZkClient } from '../src/zk/client.js';
import type { Workload } from '../src/workload.js';
import { ensureZnode, sessionClient, withSession } from './common.js';

export const BANK_PATH = '/faultline-bank';
export const ACCOUNTS = 5;
export const INITIAL_BALANCE = 20;
const SNAPSHOT_ATTEMPTS = 5;

const accountPath = (account: number): string => `${BANK_PATH}/${account}`;
const encode = (n: number): Buffer => Buffer.from(String(n), 'utf8');

async function readAccount(zk: ZkClient, account: number): Promise<{ balance: number; version: number }> {
  const { data, stat } = await zk.getData(accountPath(account));
  return { balance: Number(data.toString('utf8')), version: stat.version };
}

/** All balances at one point of ZooKeeper's order, or undefined when transfers kept interleaving. */
async function snapshot(zk: ZkClient): Promise<Balances | undefined> {
  for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
    await zk.sync(BANK_PATH);
    const accounts = [];
    for (let a = 0; a < ACCOUNTS; a++) accounts.push(await readAccount(zk, a));
    try {
      await zk.multi(
        accounts.map((acc, a): MultiOp => ({ type: 'check', path: accountPath(a), version: acc.version })),
      );
      return Object.fromEntries(accounts.map((acc, a) => [String(a), acc.balance]));
    } catch (err) {
      if (!(err instanceof ZkError && err.code === ZkErrorCode.BADVERSION)) throw err;
    }
  }
  return undefined;
}

export function bankWorkload(clientOptions: ClientOptions): Workload {
  return {
    name: 'bank',
    setup: (node) =>
      withSession(node, clientOptions, async (zk) => {
        await ensureZnode(zk, BANK_PATH);
        for (let a = 0; a < ACCOUNTS; a++) await ensureZnode(zk, accountPath(a), encode(INITIAL_BALANCE));
      }),

    openClient: (node) =>
      sessionClient(
        node,
        clientOptions,
        async (zk, op) => {
          if (op.f === 'read') {
            const balances = await snapshot(zk);
            return balances
              ? { type: 'ok', value: balances }
              : { type: 'fail', value: null, error: 'no-stable-snapshot' };
          }
          const { from, to, amount } = op.value as Transfer;
          const [source, target] = [await readAccount(zk, from), await readAccount(zk, to)];
          if (source.balance < amount) return { type: 'fail', value: op.value, error: 'insufficient-funds' };
          await zk.multi([
            {
              type: 'setData',
              path: accountPath(from),
              data: encode(source.balance - amount),
              version: source.version,
            },
            { type: 'setData', path: accountPath(to), data: encode(target.balance + amount), version: target.version },
          ]);
          return { type: 'ok', value: op.value };
        },
        (op) => (op.f === 'read' ? null : op.value),
      ),

    generator({ random }) {
      if (random.int(0, 9) < 4) return { f: 'read', value: null };
      const from = random.int(0, ACCOUNTS - 1);
      const to = (from + random.int(1, ACCOUNTS - 1)) % ACCOUNTS;
      return { f: 'transfer', value: { from, to, amount: random.int(1, 5) } satisfies Transfer };
    },

    finalRead: (node) =>
      withSession(node, clientOptions, async (zk) => {
        await zk.sync(BANK_PATH);
        const balances: Balances = {};
        for (let a = 0; a < ACCOUNTS; a++) balances[String(a)] = (await readAccount(zk, a)).balance;
        return balances;
      }),

    checkers: {
      bank: bankChecker(Object.fromEntries(Array.from({ length: ACCOUNTS }, (_, a) => [String(a), INITIAL_BALANCE]))),
      ...RECOVERY_CHECKERS,
    },
  };
}

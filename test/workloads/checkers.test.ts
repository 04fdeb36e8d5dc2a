// Every workload checker on hand-made histories whose verdicts are known, including the anomaly it must name.
import { describe, expect, it } from 'vitest';
import { describeCheckerResult, overallValidity, type CheckerResult } from '../../src/checker.js';
import { checkAcl } from '../../src/checkers/acl.js';
import { checkBank, explainedByUnknown, type Transfer } from '../../src/checkers/bank.js';
import { checkConvergence, checkRecoveryTime } from '../../src/checkers/convergence.js';
import { checkQueue } from '../../src/checkers/queue.js';
import { checkSessions } from '../../src/checkers/session.js';
import { checkSet } from '../../src/checkers/set.js';
import {
  linearizableRegisterChecker,
  registerDurabilityChecker,
  sequentialChecker,
} from '../../src/checkers/zk-order.js';
import { parseDigests } from '../../src/zookeeper.js';
import { HistoryBuilder } from './history-builder.js';

const context = { timeoutMs: 10_000 };
const types = (result: CheckerResult): string[] => (result.anomalies ?? []).map((a) => a.type);

describe('register: what ZooKeeper promises per read mode', () => {
  /** A write of 1 completes; afterwards another session reads the initial null. */
  function staleRead(): { events: HistoryBuilder['events']; write: number; read: number } {
    const h = new HistoryBuilder();
    const write = h.op(0, 'write', 1, 'ok', 1, { zxid: '10' });
    const read = h.op(1, 'read', null, 'ok', null, { zxid: '5' });
    return { events: h.events, write, read };
  }

  it('names a stale plain read: not linearizable (advisory), sequentially consistent', async () => {
    const { events, write, read } = staleRead();
    const lin = await linearizableRegisterChecker('cas-register', 'plain').check(events, context);
    expect(lin.valid).toBe(false);
    expect(lin.advisory).toBe(true);
    expect(lin.anomalies).toEqual([
      expect.objectContaining({ type: 'stale-read', ops: [write, read], documented: true }),
    ]);
    const seq = await sequentialChecker('plain').check(events, context);
    expect(seq.valid).toBe(true);
    expect(types(seq)).toEqual(['stale-read']);
  });

  it('fails linearizability on a stale read after sync, naming it as the known ZOOKEEPER-1675', async () => {
    const seq = await sequentialChecker('sync').check(staleRead().events, context);
    expect(seq.valid).toBe(true);
    expect(seq.anomalies![0]).toMatchObject({ type: 'stale-read', documented: true });
    expect(seq.anomalies![0]!.description).toContain('ZOOKEEPER-1675');
    const lin = await linearizableRegisterChecker('cas-register', 'sync').check(staleRead().events, context);
    expect(lin.valid).toBe(false);
    expect(lin.advisory).toBeUndefined();
  });

  it('names a non-monotonic read within one session', async () => {
    const h = new HistoryBuilder();
    h.invoke(0, 'write', 1);
    h.invoke(2, 'write', 2);
    const first = h.op(1, 'read', null, 'ok', 2, { zxid: 'b' });
    const second = h.op(1, 'read', null, 'ok', 1, { zxid: 'a' });
    h.complete(0, 'ok', 'write', 1, { zxid: 'a' });
    h.complete(2, 'ok', 'write', 2, { zxid: 'b' });
    const seq = await sequentialChecker('plain').check(h.events, context);
    expect(seq.valid).toBe(false);
    expect(seq.anomalies).toEqual([expect.objectContaining({ type: 'non-monotonic-read', ops: [first, second] })]);
  });

  it("names a read that misses the session's own write", async () => {
    const h = new HistoryBuilder();
    h.invoke(0, 'write', 1);
    const own = h.op(1, 'write', 2, 'ok', 2, { zxid: 'b' });
    const read = h.op(1, 'read', null, 'ok', 1, { zxid: 'a' });
    h.complete(0, 'ok', 'write', 1, { zxid: 'a' });
    const seq = await sequentialChecker('plain').check(h.events, context);
    expect(types(seq)).toContain('read-your-writes-violation');
    expect(seq.anomalies!.find((a) => a.type === 'read-your-writes-violation')!.ops).toEqual([own, read]);
  });

  it('names a read of a value never written', async () => {
    const h = new HistoryBuilder();
    h.op(0, 'write', 1, 'ok', 1, { zxid: 'a' });
    h.op(1, 'read', null, 'ok', 7, { zxid: 'c' });
    expect(types(await sequentialChecker('sync').check(h.events, context))).toEqual(['phantom-read']);
  });

  it('names a lost write: a node ends before the last acknowledged write', async () => {
    const h = new HistoryBuilder();
    h.op(0, 'write', 1, 'ok', 1, { zxid: 'a' });
    const last = h.op(0, 'cas', [1, 2], 'ok', [1, 2], { zxid: 'b' });
    h.op(1, 'read', null, 'ok', 2, { zxid: 'b' });
    h.finalRead('n1', { '': { value: 2, zxid: 'b' } });
    const lostOn = h.finalRead('n2', { '': { value: 1, zxid: 'a' } });
    const durability = await registerDurabilityChecker().check(h.events, context);
    expect(durability.valid).toBe(false);
    expect(durability.anomalies).toEqual([expect.objectContaining({ type: 'lost-write', ops: [last, lostOn] })]);
    expect((await sequentialChecker('sync').check(h.events, context)).valid).toBe(true);
  });

  it('passes the valid twin of each history, key by key', async () => {
    const h = new HistoryBuilder();
    h.op(0, 'write', 1, 'ok', 1, { zxid: 'a', key: 0 });
    h.op(1, 'write', 3, 'ok', 3, { zxid: 'b', key: 1 });
    h.op(1, 'read', null, 'ok', 1, { zxid: 'a', key: 0 });
    h.op(0, 'cas', [3, 4], 'fail', [3, 4], { zxid: 'a', key: 0, error: 'value-mismatch' });
    h.op(0, 'read', null, 'ok', 3, { zxid: 'b', key: 1 });
    for (const node of ['n1', 'n2', 'n3'])
      h.finalRead(node, { 0: { value: 1, zxid: 'a' }, 1: { value: 3, zxid: 'b' } });
    for (const checker of [
      linearizableRegisterChecker('cas-register', 'sync'),
      sequentialChecker('sync'),
      registerDurabilityChecker(),
    ]) {
      expect((await checker.check(h.events, context)).valid).toBe(true);
    }
  });
});

describe('set', () => {
  it('sorts elements into lost, recovered and unexpected, node by node', () => {
    const h = new HistoryBuilder();
    const acked = h.op(0, 'add', 0, 'ok', 0);
    h.op(1, 'add', 1, 'ok', 1);
    h.op(2, 'add', 2, 'info', 2, { error: 'timeout' });
    h.op(3, 'read', null, 'ok', [0, 1]);
    h.finalRead('n1', [0, 1, 2]);
    const n2 = h.finalRead('n2', [1, 2, 9]);
    const result = checkSet(h.events);
    expect(result.valid).toBe(false);
    expect(result.perNode).toEqual({
      n1: { lost: 0, recovered: 1, unexpected: 0, present: 3 },
      n2: { lost: 1, recovered: 1, unexpected: 1, present: 3 },
    });
    expect(result.anomalies).toEqual([
      expect.objectContaining({ type: 'lost-write', ops: [acked, n2] }),
      expect.objectContaining({ type: 'unexpected-element', ops: [n2] }),
    ]);
    expect(result.visibilityMs).toMatchObject({ measured: 2 });
  });

  it('is valid when every acknowledged element survives', () => {
    const h = new HistoryBuilder();
    h.op(0, 'add', 0, 'ok', 0);
    h.op(1, 'add', 1, 'info', 1);
    h.finalRead('n1', [0]);
    expect(checkSet(h.events)).toMatchObject({ valid: true, counts: { lost: 0, recovered: 0 } });
  });
});

describe('queue', () => {
  it('names a duplicate dequeue and a FIFO violation', () => {
    const h = new HistoryBuilder();
    h.op(0, 'enqueue', 10, 'ok', 10);
    h.op(0, 'enqueue', 11, 'ok', 11);
    const first = h.op(1, 'dequeue', null, 'ok', { token: 11, seq: 2 }, { zxid: 'a' });
    const second = h.op(2, 'dequeue', null, 'ok', { token: 10, seq: 1 }, { zxid: 'b' });
    const again = h.op(3, 'dequeue', null, 'ok', { token: 10, seq: 1 }, { zxid: 'c' });
    h.finalRead('n1', []);
    const result = checkQueue(h.events);
    expect(result.valid).toBe(false);
    expect(result.anomalies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'duplicate-dequeue', ops: [second, again] }),
        expect.objectContaining({ type: 'fifo-violation', ops: [first, second] }),
      ]),
    );
  });

  it('names a lost enqueue, unless a dequeue of unknown outcome may have taken it', () => {
    const h = new HistoryBuilder();
    const lost = h.op(0, 'enqueue', 10, 'ok', 10);
    h.op(0, 'enqueue', 11, 'ok', 11);
    h.op(1, 'dequeue', null, 'ok', { token: 11, seq: 2 }, { zxid: 'a' });
    const n1 = h.finalRead('n1', []);
    expect(checkQueue(h.events).anomalies).toEqual([expect.objectContaining({ type: 'lost-write', ops: [lost, n1] })]);
    h.op(2, 'dequeue', null, 'info', null);
    const maybe = checkQueue(h.events);
    expect(maybe.valid).toBe(true);
    expect(types(maybe)).toEqual(['possibly-dequeued']);
  });

  it('is valid when every token is dequeued once, in order, or still queued', () => {
    const h = new HistoryBuilder();
    h.op(0, 'enqueue', 10, 'ok', 10);
    h.op(0, 'enqueue', 11, 'ok', 11);
    h.op(1, 'dequeue', null, 'ok', { token: 10, seq: 1 }, { zxid: 'a' });
    h.op(1, 'dequeue', null, 'ok', null);
    h.finalRead('n1', [11]);
    expect(checkQueue(h.events)).toMatchObject({ valid: true, anomalies: [] });
  });
});

describe('bank', () => {
  it('names a wrong total and a negative balance, in reads and after recovery', () => {
    const h = new HistoryBuilder();
    h.op(0, 'transfer', { from: 0, to: 1, amount: 5 }, 'ok', { from: 0, to: 1, amount: 5 });
    const good = h.op(1, 'read', null, 'ok', { 0: 15, 1: 25 });
    const bad = h.op(1, 'read', null, 'ok', { 0: 15, 1: 20 });
    const n2 = h.finalRead('n2', { 0: -5, 1: 45 });
    const result = checkBank(h.events, { 0: 20, 1: 20 });
    expect(result.valid).toBe(false);
    expect(result.anomalies).toEqual([
      expect.objectContaining({ type: 'wrong-total', ops: [bad] }),
      expect.objectContaining({ type: 'negative-balance', ops: [n2] }),
      expect.objectContaining({ type: 'lost-write', ops: [n2] }),
    ]);
    expect(result.anomalies!.some((a) => a.ops.includes(good))).toBe(false);
  });

  it('is valid when every read sums to the total', () => {
    const h = new HistoryBuilder();
    h.op(1, 'read', null, 'ok', { 0: 20, 1: 20 });
    h.finalRead('n1', { 0: 10, 1: 30 });
    expect(checkBank(h.events, { 0: 10, 1: 30 }).valid).toBe(true);
  });

  it('names a lost acknowledged transfer, unless transfers of unknown outcome explain the balances', () => {
    const h = new HistoryBuilder();
    h.op(0, 'transfer', { from: 0, to: 1, amount: 5 }, 'ok', { from: 0, to: 1, amount: 5 });
    h.op(1, 'transfer', { from: 1, to: 0, amount: 3 }, 'info', { from: 1, to: 0, amount: 3 });
    const lostOn = h.finalRead('n1', { 0: 20, 1: 20 });
    expect(checkBank(h.events, { 0: 20, 1: 20 }).anomalies).toEqual([
      expect.objectContaining({ type: 'lost-write', ops: [lostOn] }),
    ]);
    const h2 = new HistoryBuilder();
    h2.op(0, 'transfer', { from: 0, to: 1, amount: 5 }, 'ok', { from: 0, to: 1, amount: 5 });
    h2.op(1, 'transfer', { from: 1, to: 0, amount: 3 }, 'info', { from: 1, to: 0, amount: 3 });
    h2.finalRead('n1', { 0: 18, 1: 22 }); // the unknown transfer happened
    h2.finalRead('n2', { 0: 15, 1: 25 }); // it did not (nodes disagreeing is convergence's business)
    expect(checkBank(h2.events, { 0: 20, 1: 20 })).toMatchObject({
      valid: true,
      counts: { acknowledgedTransfers: 1, lostNodes: 0 },
    });
  });
});

describe('bank: transfers of unknown outcome', () => {
  const accounts = ['0', '1', '2', '3', '4'];
  const deltaOf = (t: Transfer): number[] =>
    accounts.map((a) => (a === String(t.to) ? t.amount : 0) - (a === String(t.from) ? t.amount : 0));
  /** Every subset's effect, by enumeration: the answer the search must agree with. */
  const bruteForce = (ts: Transfer[], change: number[]): boolean => {
    for (let mask = 0; mask < 1 << ts.length; mask++) {
      const moved = accounts.map(() => 0);
      ts.forEach((t, i) => {
        if (mask & (1 << i)) deltaOf(t).forEach((d, a) => (moved[a]! += d));
      });
      if (moved.every((m, a) => m === change[a])) return true;
    }
    return false;
  };
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const randomTransfers = (n: number): Transfer[] =>
    Array.from({ length: n }, () => {
      const from = rand(5);
      return { from, to: (from + 1 + rand(4)) % 5, amount: 1 + rand(5) };
    });

  it('agrees with enumerating every subset (600 random cases of up to 12 transfers)', () => {
    for (let c = 0; c < 600; c++) {
      const ts = randomTransfers(1 + rand(12));
      // Half the time a real subset's effect, half the time that effect nudged by one unit between two accounts.
      const change = accounts.map(() => 0);
      ts.forEach((t) => {
        if (rand(2)) deltaOf(t).forEach((d, a) => (change[a]! += d));
      });
      if (rand(2)) {
        change[rand(5)]! += 1;
        change[rand(5)]! -= 1;
      }
      expect(explainedByUnknown(ts, accounts, change), `case ${c}`).toBe(bruteForce(ts, change));
    }
  });

  it('decides 40 unknown transfers, where enumerating their effects gave up, and says undecided past its bound', () => {
    const ts = randomTransfers(40);
    const change = accounts.map(() => 0);
    ts.forEach((t, i) => {
      if (i % 3 === 0) deltaOf(t).forEach((d, a) => (change[a]! += d));
    });
    expect(explainedByUnknown(ts, accounts, change)).toBe(true);
    // Odd: no subset of even amounts moves an account by an odd sum.
    const even = ts.map((t) => ({ ...t, amount: 2 * t.amount }));
    expect(explainedByUnknown(even, accounts, [1, -1, 0, 0, 0])).toBe(false);
    expect(explainedByUnknown(even, accounts, [1, -1, 0, 0, 0], 10)).toBeUndefined();
  });

  it('names the loss when no subset of 40 unknown transfers explains the final balances', () => {
    const h = new HistoryBuilder();
    for (const t of randomTransfers(40).map((t) => ({ ...t, amount: 2 * t.amount }))) h.op(0, 'transfer', t, 'info', t);
    h.finalRead('n1', { 0: 21, 1: 19, 2: 20, 3: 20, 4: 20 });
    const initial = { 0: 20, 1: 20, 2: 20, 3: 20, 4: 20 };
    // Decided within the budget: no subset of even amounts explains a move of one unit, so it is lost.
    expect(checkBank(h.events, initial)).toMatchObject({ valid: false, counts: { undecidedNodes: 0 } });
  });
});

describe('session', () => {
  it('names an ephemeral that survives its session on one node', () => {
    const h = new HistoryBuilder();
    const created = h.op(0, 'ephemeral', { name: 'e-0', end: 'abandon' }, 'ok', { name: 'e-0', end: 'abandon' });
    h.op(0, 'ephemeral', { name: 'e-1', end: 'close' }, 'ok', { name: 'e-1', end: 'close' });
    h.finalRead('n1', []);
    const n2 = h.finalRead('n2', ['e-0']);
    const result = checkSessions(h.events);
    expect(result.valid).toBe(false);
    expect(result.anomalies).toEqual([expect.objectContaining({ type: 'surviving-ephemeral', ops: [created, n2] })]);
    expect(checkSessions(h.events.slice(0, -2)).valid).toBe(true);
  });
});

describe('recovery checkers', () => {
  it('names divergent data, a divergent last zxid and differing digests', () => {
    const h = new HistoryBuilder();
    h.heal();
    const a = h.finalRead('n1', { x: 1, y: 2 });
    const b = h.finalRead('n2', { y: 2, x: 3 });
    h.finalRead('n3', { y: 2, x: 1 });
    h.finalZxids(
      {
        n1: { zxid: '20', digests: { '10': '111' } },
        n2: { zxid: '1f', digests: { '10': '222' } },
        n3: { zxid: '20', digests: {}, digestMismatches: 1 },
      },
      false,
    );
    const result = checkConvergence(h.events);
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['divergent-data', 'divergent-zxid', 'digest-mismatch-counted']);
    expect(result.anomalies![2]!.documented).toBeUndefined();
    expect(result.anomalies![0]!.ops).toEqual([a, b]);
    expect(result.anomalies![0]!.description).toContain('differing: x');
  });

  it('reports digest mismatches a server counted while catching up as documented when everything converged', () => {
    const h = new HistoryBuilder();
    h.heal();
    for (const node of ['n1', 'n2']) h.finalRead(node, { x: 1 });
    h.finalZxids({
      n1: { zxid: '20', digests: { '10': '111' } },
      n2: { zxid: '20', digests: { '10': '111' }, digestMismatches: 76 },
    });
    const result = checkConvergence(h.events);
    expect(result.valid).toBe(true);
    expect(result.anomalies).toEqual([expect.objectContaining({ type: 'digest-mismatch-counted', documented: true })]);
  });

  it('is valid when all nodes agree; recovery time is measured from the final heal', () => {
    const h = new HistoryBuilder();
    h.heal(); // a heal during the main phase: not the final one
    h.op(0, 'read', null, 'ok', 1);
    h.heal();
    for (const node of ['n1', 'n2']) h.finalRead(node, { y: 2, x: 1 });
    h.finalZxids({ n1: { zxid: '20', digests: { '10': '111' } }, n2: { zxid: '20', digests: { '10': '111' } } });
    expect(checkConvergence(h.events)).toMatchObject({
      valid: true,
      counts: { digestsCompared: 1, distinctStates: 1 },
    });
    expect(checkRecoveryTime(h.events)).toMatchObject({ valid: true, perNodeMs: { n1: 2, n2: 4 } });
  });

  it('parses the hash four-letter word', () => {
    expect(parseDigests('100000080: 52009012510\n200000080: 127276952613\n')).toEqual({
      '100000080': '52009012510',
      '200000080': '127276952613',
    });
  });
});

describe('acl: every ACL the last acknowledged one on every node, and reads without the identity refused', () => {
  const acl = (tag: string): Array<{ perms: number; scheme: string; id: string }> => [
    { perms: 17, scheme: 'digest', id: 'p0-o1:hash' },
    { perms: 1, scheme: 'digest', id: `tag-${tag}:hash` },
  ];
  const A = acl('a');
  const B = acl('b');
  const C = acl('c');
  const D = acl('d');
  const nodes = ['n1', 'n2', 'n3'];

  /** Path 0: created A, re-ACLed B; outsiders refused. Path 1: created D, deleted. Then recovery reads. */
  function churn(finals: Partial<Record<string, Record<string, unknown>>> = {}, extra?: (h: HistoryBuilder) => void) {
    const h = new HistoryBuilder();
    const create = h.op(0, 'create', { acl: A }, 'ok', { acl: A, auth: true }, { key: 0 });
    h.op(1, 'read', null, 'fail', { auth: false }, { key: 0, error: 'noauth' });
    h.op(2, 'read', null, 'ok', { auth: true, data: 'p0' }, { key: 0 });
    const setAcl = h.op(0, 'set-acl', { acl: B }, 'ok', { acl: B, auth: true }, { key: 0 });
    h.op(1, 'set-acl', { acl: C }, 'fail', { acl: C, auth: false }, { key: 0, error: 'noauth' });
    h.op(2, 'read-acl', null, 'ok', { auth: true, acl: [...B].reverse() }, { key: 0 });
    h.op(1, 'read-acl', null, 'fail', { auth: false }, { key: 0, error: 'noauth' });
    h.op(0, 'create', { acl: D }, 'ok', { acl: D, auth: false }, { key: 1 });
    const del = h.op(2, 'delete', null, 'ok', { auth: true }, { key: 1 });
    extra?.(h);
    h.heal();
    const reads: Record<string, number> = {};
    for (const node of nodes)
      reads[node] = h.finalRead(node, {
        acls: { '0': B, '1': null },
        unauthenticated: { '0': 'refused', '1': 'absent' },
        ...finals[node],
      });
    return { events: h.events, create, setAcl, del, reads };
  }

  it('is valid when every node holds the acknowledged ACLs and outsiders were refused', () => {
    const result = checkAcl(churn().events);
    expect(result.anomalies).toEqual([]);
    expect(result).toMatchObject({
      valid: true,
      counts: {
        creates: 2,
        setAcls: 2,
        deletes: 1,
        acknowledgedWrites: 4,
        authenticatedReads: 2,
        unauthenticatedAttempts: 3,
        unauthenticatedRefused: 3,
        finalUnauthenticatedRefused: 3,
      },
    });
  });

  it('names an acknowledged setACL lost on one node (acl-lost), and the disagreement (acl-divergent)', () => {
    const { events, create, setAcl, reads } = churn({ n3: { acls: { '0': A, '1': null } } });
    const result = checkAcl(events);
    expect(result.valid).toBe(false);
    expect(result.anomalies).toEqual([
      expect.objectContaining({ type: 'acl-lost', ops: [setAcl, create, reads.n3] }),
      expect.objectContaining({ type: 'acl-divergent' }),
    ]);
    expect(result.anomalies![0]!.description).toMatch(/^n3: 0 shows \[17:digest:p0-o1:hash,1:digest:tag-a:hash\]/);
  });

  it('names a node that diverges on an ACL of unknown outcome (each state possible, the replicas not alike)', () => {
    const { events } = churn({ n2: { acls: { '0': C, '1': null } } }, (h) => {
      h.op(3, 'set-acl', { acl: C }, 'info', { acl: C, auth: true }, { key: 0, error: 'connectionloss' });
    });
    const result = checkAcl(events);
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['acl-divergent']);
    expect(result.anomalies![0]!.description).toContain('n1, n3 [');
  });

  it('names a read that succeeded without the identity (acl-bypassed), during the run and after recovery', () => {
    const { events } = churn({ n2: { unauthenticated: { '0': 'read', '1': 'absent' } } }, (h) => {
      h.op(4, 'read', null, 'ok', { auth: false, data: 'p0' }, { key: 0 });
    });
    const result = checkAcl(events);
    expect(result.valid).toBe(false);
    expect(types(result)).toEqual(['acl-bypassed', 'acl-bypassed']);
    expect(result.counts).toMatchObject({ bypassed: 2 });
  });

  it('names a deleted znode back (delete-lost), an ACL no op wrote (acl-phantom), a refused insider (acl-refused)', () => {
    const { events, del } = churn({ n1: { acls: { '0': acl('x'), '1': D } } }, (h) => {
      h.op(4, 'read', null, 'fail', { auth: true }, { key: 0, error: 'noauth' });
      h.op(4, 'set-acl', { acl: C }, 'fail', { acl: C, auth: true }, { key: 0, error: 'noauth' });
    });
    const result = checkAcl(events);
    expect(types(result).sort()).toEqual([
      'acl-divergent',
      'acl-divergent',
      'acl-phantom',
      'acl-refused',
      'acl-refused',
      'delete-lost',
    ]);
    expect(result.anomalies!.find((a) => a.type === 'delete-lost')!.ops[0]).toBe(del);
  });

  it('marks a loss a forceSync=no power cut explains as documented', () => {
    const { events } = churn({ n3: { acls: { '0': A, '1': null } } }, (h) => {
      h.events.push({
        index: h.events.length,
        time: h.events.length * 1_000_000,
        process: 'nemesis',
        type: 'info',
        f: 'start',
        value: { fault: 'power-loss', powerLoss: { n3: { forceSync: false } } },
      });
    });
    const result = checkAcl(events);
    expect(types(result)).toEqual(['acl-lost', 'acl-divergent']);
    expect(result.anomalies!.every((a) => a.documented === true && a.description.includes('documented'))).toBe(true);
    expect(result.valid).toBe(true);
  });
});

describe('verdicts', () => {
  it('leaves advisory checkers out of the run verdict, and names anomalies on the summary line', () => {
    const stale = {
      valid: false as const,
      advisory: true,
      anomalies: [{ type: 'stale-read', ops: [1, 2], description: '', documented: true }],
    };
    expect(overallValidity({ linearizable: stale, sequential: { valid: true } })).toBe(true);
    expect(overallValidity({ linearizable: { ...stale, advisory: false }, sequential: { valid: true } })).toBe(false);
    expect(describeCheckerResult('linearizable', stale)).toBe(
      'linearizable: INVALID [advisory: not promised in this mode] — stale-read (documented) ×1',
    );
  });
});

// The ACL checker: znodes under ACLs of their own, created, re-ACLed and deleted concurrently on the same paths, read
// by sessions that hold the znode's identity and by sessions that do not.
//
// Every create and setACL writes an ACL no other op writes (the workload tags each with an id of its own), so an ACL
// read back names the op that wrote it. For each path, the ops that may have left its final state are those not
// superseded: an op is superseded when an acknowledged op on the same path was invoked after it was acknowledged
// (an op whose outcome is unknown may take effect up to the end, so it is never superseded). After recovery, each
// node's ACL of each path (or the znode's absence) must be what one of them left:
//   acl-lost        the znode is absent, or holds an older ACL, where the last acknowledged op left an ACL;
//   delete-lost     the znode is present where the last acknowledged op (a delete) removed it;
//   acl-phantom     an ACL no op wrote, or one whose op was refused (also for ACLs read during the run);
//   acl-divergent   the nodes disagree on a path's ACL;
//   acl-bypassed    a session without the znode's identity read it, its ACL, or changed its ACL (during the run
//                   or in the unauthenticated recovery read);
//   acl-refused     a session holding the znode's identities was refused a read or a setACL (NOAUTH).
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import { pairOperations, type HistoryEvent, type Operation } from '../history.js';
import { finalReads, recoveryVerdict } from '../final-state.js';
import { describeCut, unsyncedCutAfter, unsyncedPowerCuts } from './power-loss.js';

/** One ACL entry as the history records it (the wire client's Acl, kept apart: checkers are pure). */
export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

/** The ACL workload's ops (f) and what their values hold. */
export const ACL_OPS = { create: 'create', setAcl: 'set-acl', delete: 'delete', read: 'read', readAcl: 'read-acl' };

/** An op's value: the ACL it writes (create, set-acl) and, on completion, whether the session held the path's identity. */
export interface AclOpValue {
  acl?: Acl[];
  auth?: boolean;
}

/** What an unauthenticated session got reading a path's data in the recovery phase. */
export type UnauthenticatedRead = 'refused' | 'absent' | 'read';

/** One node's recovery read: each path's ACL (null: no znode), and what a session without identities got. */
export interface AclFinal {
  acls: Record<string, Acl[] | null>;
  unauthenticated: Record<string, UnauthenticatedRead>;
}

/** An ACL as one comparable string: its entries sorted (the server may keep them in another order). */
export function aclKey(acl: readonly Acl[] | null): string {
  if (acl === null) return 'absent';
  return acl
    .map((a) => `${a.perms}:${a.scheme}:${a.id}`)
    .sort()
    .join(',');
}

function describeAcl(acl: readonly Acl[] | null): string {
  return acl === null ? 'no znode' : `[${aclKey(acl)}]`;
}

interface Effect {
  /** aclKey of the state the op leaves. */
  state: string;
  op: Operation | undefined;
  acked: boolean;
  invokeTime: number;
  /** When it was acknowledged; Infinity for an unknown outcome (it may take effect up to the end). */
  ackTime: number;
}

const valueOf = (v: unknown): AclOpValue => (v !== null && typeof v === 'object' ? v : {});
const authOf = (op: Operation): boolean | undefined => valueOf(op.output).auth ?? valueOf(op.input).auth;
const describeOp = (op: Operation): string => `${op.f} (event ${op.invokeIndex}, ${op.type})`;

export function checkAcl(history: readonly HistoryEvent[]): CheckerResult {
  const ops = pairOperations(history).filter((op) => op.key !== undefined);
  const anomalies: Anomaly[] = [];
  const counts = {
    creates: 0,
    setAcls: 0,
    deletes: 0,
    acknowledgedWrites: 0,
    unknownOutcome: 0,
    authenticatedReads: 0,
    unauthenticatedAttempts: 0,
    unauthenticatedRefused: 0,
    finalUnauthenticatedRefused: 0,
    bypassed: 0,
    refusedWithAuth: 0,
    lost: 0,
    phantom: 0,
    divergentPaths: 0,
    unreadableNodes: 0,
  };

  // Per path: what each op (of any outcome) wrote, and the effects that may have happened.
  const writers = new Map<string, Map<string, Operation>>();
  const effects = new Map<string, Effect[]>();
  const pathEffects = (path: string): Effect[] => {
    let list = effects.get(path);
    if (!list) {
      list = [{ state: aclKey(null), op: undefined, acked: true, invokeTime: -Infinity, ackTime: -Infinity }];
      effects.set(path, list);
    }
    return list;
  };

  for (const op of ops) {
    const path = String(op.key);
    const auth = authOf(op);
    const isWrite = op.f === ACL_OPS.create || op.f === ACL_OPS.setAcl || op.f === ACL_OPS.delete;
    if (op.f === ACL_OPS.create) counts.creates++;
    if (op.f === ACL_OPS.setAcl) counts.setAcls++;
    if (op.f === ACL_OPS.delete) counts.deletes++;
    if (isWrite && op.type === 'ok') counts.acknowledgedWrites++;
    if (isWrite && op.type === 'info') counts.unknownOutcome++;

    if (op.f === ACL_OPS.create || op.f === ACL_OPS.setAcl) {
      const acl = valueOf(op.input).acl;
      if (acl) {
        let byState = writers.get(path);
        if (!byState) writers.set(path, (byState = new Map<string, Operation>()));
        byState.set(aclKey(acl), op);
        if (op.type !== 'fail')
          pathEffects(path).push({
            state: aclKey(acl),
            op,
            acked: op.type === 'ok',
            invokeTime: op.invokeTime,
            ackTime: op.type === 'ok' ? op.completeTime : Infinity,
          });
      }
    } else if (op.f === ACL_OPS.delete && op.type !== 'fail') {
      pathEffects(path).push({
        state: aclKey(null),
        op,
        acked: op.type === 'ok',
        invokeTime: op.invokeTime,
        ackTime: op.type === 'ok' ? op.completeTime : Infinity,
      });
    } else pathEffects(path);

    // Reads and ACL changes are judged by the identity the session held.
    const guarded = op.f === ACL_OPS.read || op.f === ACL_OPS.readAcl || op.f === ACL_OPS.setAcl;
    if (!guarded || auth === undefined) continue;
    if (!auth) {
      counts.unauthenticatedAttempts++;
      if (op.type === 'fail' && op.error === 'noauth') counts.unauthenticatedRefused++;
      if (op.type === 'ok') {
        counts.bypassed++;
        anomalies.push({
          type: 'acl-bypassed',
          ops: [op.invokeIndex],
          description: `${path}: ${describeOp(op)} by a session without the znode's identity succeeded`,
        });
      }
    } else {
      // An insider holds every owner of the path, each with READ and ADMIN: neither reads nor setACL may be refused.
      if (op.type === 'ok' && op.f !== ACL_OPS.setAcl) counts.authenticatedReads++;
      if (op.type === 'fail' && op.error === 'noauth') {
        counts.refusedWithAuth++;
        anomalies.push({
          type: 'acl-refused',
          ops: [op.invokeIndex],
          description: `${path}: ${describeOp(op)} by a session holding the znode's identities was refused (NOAUTH)`,
        });
      }
    }
  }

  // ACLs read during the run must be ones an op wrote (not a refused one).
  for (const op of ops) {
    if (op.f !== ACL_OPS.readAcl || op.type !== 'ok') continue;
    const acl = valueOf(op.output).acl;
    if (!acl) continue;
    const path = String(op.key);
    const writer = writers.get(path)?.get(aclKey(acl));
    if (writer && writer.type !== 'fail') continue;
    counts.phantom++;
    anomalies.push({
      type: 'acl-phantom',
      ops: writer ? [writer.invokeIndex, op.invokeIndex] : [op.invokeIndex],
      description: `${path}: read ACL ${describeAcl(acl)}, ${writer ? `written only by ${describeOp(writer)}, which was refused` : 'which no op wrote'}`,
    });
  }

  // Recovery: every node's state of every path.
  const reads = finalReads(history);
  counts.unreadableNodes = reads.unreadable;
  const cuts = unsyncedPowerCuts(history);
  const perNode: Record<string, { paths: number; present: number; lost: number; phantom: number }> = {};
  const statesByPath = new Map<string, Map<string, string[]>>();
  for (const { node, state, index } of reads.states) {
    const final = state as AclFinal;
    const nodeCounts = { paths: 0, present: 0, lost: 0, phantom: 0 };
    perNode[node] = nodeCounts;
    const paths = new Set([...effects.keys(), ...Object.keys(final.acls)]);
    for (const path of [...paths].sort()) {
      const acl = final.acls[path] ?? null;
      const got = aclKey(acl);
      nodeCounts.paths++;
      if (acl !== null) nodeCounts.present++;
      let byState = statesByPath.get(path);
      if (!byState) statesByPath.set(path, (byState = new Map<string, string[]>()));
      byState.set(got, [...(byState.get(got) ?? []), node]);

      const list = pathEffects(path);
      const lastAckedInvoke = Math.max(...list.filter((e) => e.acked).map((e) => e.invokeTime));
      const candidates = list.filter((e) => e.ackTime >= lastAckedInvoke);
      if (candidates.some((e) => e.state === got)) continue;
      const writer = writers.get(path)?.get(got);
      const previous = list.find((e) => e.state === got);
      if (acl !== null && (!writer || writer.type === 'fail')) {
        nodeCounts.phantom++;
        counts.phantom++;
        anomalies.push({
          type: 'acl-phantom',
          ops: writer ? [writer.invokeIndex, index] : [index],
          description: `${node}: ${path} has ACL ${describeAcl(acl)} after recovery, ${writer ? `written only by ${describeOp(writer)}, which was refused` : 'which no op wrote'}`,
        });
        continue;
      }
      // The acknowledged op that the node's state should reflect (or a later one): the last acknowledged.
      const last = list.filter((e) => e.acked).sort((a, b) => b.invokeTime - a.invokeTime)[0]!;
      const allAbsent = candidates.every((e) => e.state === aclKey(null));
      const cut = unsyncedCutAfter(cuts, last.ackTime);
      nodeCounts.lost++;
      counts.lost++;
      anomalies.push({
        type: allAbsent ? 'delete-lost' : 'acl-lost',
        ops: [...(last.op ? [last.op.invokeIndex] : []), ...(previous?.op ? [previous.op.invokeIndex] : []), index],
        description:
          `${node}: ${path} shows ${describeAcl(acl)}${previous?.op ? ` (from the earlier ${describeOp(previous.op)})` : ''} after recovery; ` +
          `${last.op ? `the acknowledged ${describeOp(last.op)}` : 'the start'} left ${last.state === aclKey(null) ? 'no znode' : `[${last.state}]`}` +
          `${candidates.length > 1 ? ` (or one of ${candidates.length - 1} ops of unknown outcome)` : ''}` +
          `${cut ? `; documented: ${describeCut(cut)}` : ''}`,
        ...(cut ? { documented: true } : {}),
      });
    }

    for (const [path, result] of Object.entries(final.unauthenticated)) {
      if (result === 'refused') counts.finalUnauthenticatedRefused++;
      if (result !== 'read') continue;
      counts.bypassed++;
      anomalies.push({
        type: 'acl-bypassed',
        ops: [index],
        description: `${node}: ${path} was readable after recovery by a session without any identity (its ACL is ${describeAcl(final.acls[path] ?? null)})`,
      });
    }
  }

  // After a power cut of a node that acknowledged without fsync, the replicas' agreement is not promised either.
  const anyCut = cuts[0];
  for (const [path, byState] of statesByPath) {
    if (byState.size < 2) continue;
    counts.divergentPaths++;
    anomalies.push({
      type: 'acl-divergent',
      ops: reads.states.map((s) => s.index),
      description:
        `${path}: the nodes disagree after recovery: ${[...byState].map(([state, nodes]) => `${nodes.join(', ')} ${state === aclKey(null) ? 'no znode' : `[${state}]`}`).join('; ')}` +
        `${anyCut ? `; documented: ${describeCut(anyCut)}` : ''}`,
      ...(anyCut ? { documented: true } : {}),
    });
  }

  return { valid: recoveryVerdict(anomalies, reads), counts, perNode, anomalies };
}

export const aclChecker: Checker = { check: async (history) => checkAcl(history) };

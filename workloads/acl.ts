// The ACL workload: a few znodes ACL_PATH/p<k>, each under digest ACLs of its own identities, created, re-ACLed
// (setACL) and deleted concurrently, again and again on the same paths, and read (getData, getACL) by sessions that
// hold the path's identities and by sessions that do not. After recovery every node's ACL of every path must be
// the last acknowledged one (or a later one of unknown outcome), and a session without identities must be refused.
//
// Path k has three owners (digest users p<k>-o0..2); each ACL gives one of them READ and ADMIN at least, plus a
// READ entry for a tag id that no session holds and no other op uses, so every ACL written names its op. A client
// session holds the owners of about half the paths (addAuth at connect, re-sent by ZkSession on reconnect): it is
// an insider of those (its reads must succeed) and an outsider of the others (its reads and setACLs must be refused).
import { createHash } from 'node:crypto';
import { completionForError, connectToNode, type ClientOptions, ZkError } from '../src/client.js';
import { RECOVERY_CHECKERS } from '../src/checkers/convergence.js';
import { aclChecker, ACL_OPS, type AclFinal, type AclOpValue, type UnauthenticatedRead } from '../src/checkers/acl.js';
import { digestId, Perms, ZkErrorCode, type Acl, type AuthInfo, type ZkClient } from '../src/zk/client.js';
import type { Completion, Workload } from '../src/workload.js';
import { ensureZnode, hexZxid, withSession } from './common.js';

export const ACL_PATH = '/faultline-acl';
export const ACL_KEYS = 6;
const OWNERS = 3;
/** What an owner's entry may allow: always READ (insiders read) and ADMIN (insiders setACL). */
const OWNER_PERMS = [
  Perms.all,
  Perms.read | Perms.admin,
  Perms.read | Perms.write | Perms.admin,
  Perms.read | Perms.delete | Perms.admin,
];

const pathOf = (key: number): string => `${ACL_PATH}/p${key}`;
const owner = (key: number, j: number): { user: string; password: string } => ({
  user: `p${key}-o${j}`,
  password: `secret-p${key}-o${j}`,
});
const ownerAuth = (key: number): AuthInfo[] =>
  Array.from({ length: OWNERS }, (_, j) => {
    const { user, password } = owner(key, j);
    return { scheme: 'digest', auth: Buffer.from(`${user}:${password}`, 'utf8') };
  });

/** Whether client session number `client` holds path `key`'s identities: about half the paths, mixed per client. */
export function holdsIdentity(client: number, key: number): boolean {
  return (createHash('sha256').update(`acl/${client}/${key}`).digest()[0]! & 1) === 0;
}

/** The ACL op `tag` writes on path `key`: one owner with some perms, and the op's own tag id (READ). */
export function aclFor(key: number, tag: number, ownerIndex: number, permsIndex: number): Acl[] {
  const { user, password } = owner(key, ownerIndex);
  return [
    { perms: OWNER_PERMS[permsIndex % OWNER_PERMS.length]!, scheme: 'digest', id: digestId(user, password) },
    { perms: Perms.read, scheme: 'digest', id: digestId(`tag-${tag}`, 'never-added') },
  ];
}

async function readAclFinal(zk: ZkClient, outsider: ZkClient): Promise<AclFinal> {
  const final: AclFinal = { acls: {}, unauthenticated: {} };
  await zk.sync(ACL_PATH);
  await outsider.sync(ACL_PATH);
  for (let key = 0; key < ACL_KEYS; key++) {
    const path = pathOf(key);
    try {
      final.acls[String(key)] = (await zk.getACL(path)).acl;
    } catch (err) {
      if (!(err instanceof ZkError && err.code === ZkErrorCode.NONODE)) throw err;
      final.acls[String(key)] = null;
    }
    let unauthenticated: UnauthenticatedRead;
    try {
      await outsider.getData(path);
      unauthenticated = 'read';
    } catch (err) {
      if (err instanceof ZkError && err.code === ZkErrorCode.NOAUTH) unauthenticated = 'refused';
      else if (err instanceof ZkError && err.code === ZkErrorCode.NONODE) unauthenticated = 'absent';
      else throw err;
    }
    final.unauthenticated[String(key)] = unauthenticated;
  }
  return final;
}

export function aclWorkload(clientOptions: ClientOptions): Workload {
  // Tags and client numbers are unique across the run: the generator and openClient run one call at a time.
  let nextTag = 0;
  let nextClient = 0;
  return {
    name: 'acl',
    setup: (node) => withSession(node, clientOptions, (zk) => ensureZnode(zk, ACL_PATH)),

    async openClient(node) {
      const client = nextClient++;
      const holds = (key: number): boolean => holdsIdentity(client, key);
      const auth = Array.from({ length: ACL_KEYS }, (_, key) => (holds(key) ? ownerAuth(key) : [])).flat();
      const zk = await connectToNode(node, clientOptions, auth);
      return {
        async invoke(op): Promise<Completion> {
          const key = op.key as number;
          const path = pathOf(key);
          const input = (op.value ?? {}) as AclOpValue;
          const value: AclOpValue = { ...input, auth: holds(key) };
          try {
            switch (op.f) {
              case ACL_OPS.create: {
                const r = await zk.create(path, Buffer.from(`p${key}`), 'persistent', { acl: input.acl! });
                return { type: 'ok', value, zxid: hexZxid(r.zxid) };
              }
              case ACL_OPS.setAcl: {
                const r = await zk.setACL(path, input.acl!, -1);
                return { type: 'ok', value, zxid: hexZxid(r.zxid) };
              }
              case ACL_OPS.delete: {
                const r = await zk.delete(path, -1);
                return { type: 'ok', value, zxid: hexZxid(r.zxid) };
              }
              case ACL_OPS.read: {
                const r = await zk.getData(path);
                return { type: 'ok', value: { auth: value.auth, data: r.data.toString('utf8') } };
              }
              case ACL_OPS.readAcl: {
                const r = await zk.getACL(path);
                return { type: 'ok', value: { auth: value.auth, acl: r.acl } };
              }
              default:
                throw new Error(`acl: unknown op ${op.f}`);
            }
          } catch (err) {
            return completionForError(err, value);
          }
        },
        close: () => zk.close(),
        isOpen: () => zk.state === 'connected',
      };
    },

    generator({ random }) {
      const key = random.int(0, ACL_KEYS - 1);
      const roll = random.int(0, 99);
      const acl = (): AclOpValue => ({
        acl: aclFor(key, nextTag++, random.int(0, OWNERS - 1), random.int(0, OWNER_PERMS.length - 1)),
      });
      if (roll < 25) return { f: ACL_OPS.create, key, value: acl() };
      if (roll < 50) return { f: ACL_OPS.setAcl, key, value: acl() };
      if (roll < 62) return { f: ACL_OPS.delete, key, value: null };
      if (roll < 85) return { f: ACL_OPS.read, key, value: null };
      return { f: ACL_OPS.readAcl, key, value: null };
    },

    finalRead: (node) =>
      withSession(node, clientOptions, async (zk) => {
        // Every owner of every path, so getACL is allowed whichever ACL the path has; beside it, a session without any.
        for (let key = 0; key < ACL_KEYS; key++)
          for (const { scheme, auth } of ownerAuth(key)) await zk.addAuth(scheme, auth);
        return withSession(node, clientOptions, (outsider) => readAclFinal(zk, outsider));
      }),

    checkers: { acl: aclChecker, ...RECOVERY_CHECKERS },
  };
}

// Each node's roles over a run as roles.jsonl records them, read back: pure (a file or changes in, answers out), so
// checkers and metrics use it without reaching the servers. The monitor that writes the file is in roles.ts.
import { readFile } from 'node:fs/promises';

export const ROLES_FILE = 'roles.jsonl';

/** A node's role: its srvr Mode, `not-serving` when it answers without one (electing, syncing), `down` when it does not answer. */
export type NodeRole = 'leader' | 'follower' | 'observer' | 'standalone' | 'not-serving' | 'down';

export interface RoleChange {
  /** Nanoseconds on the history's clock: when the poll that saw the new role was sent. */
  time: number;
  node: string;
  role: NodeRole;
  zxid?: string;
}

export const SERVING_ROLES: ReadonlySet<NodeRole> = new Set(['leader', 'follower', 'observer', 'standalone']);

/** Reads roles.jsonl; a missing file (a run from before the monitor) is no changes. Torn last lines are skipped. */
export async function readRoleChanges(path: string): Promise<RoleChange[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const changes: RoleChange[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line) as RoleChange;
      if (typeof value.time === 'number' && typeof value.node === 'string' && typeof value.role === 'string')
        changes.push(value);
    } catch {
      // A crash mid-line leaves a torn last line; the lines before it stand.
    }
  }
  return changes.sort((a, b) => a.time - b.time);
}

/** Each node's role at a moment (the last change at or before it). */
export function rolesAt(changes: readonly RoleChange[], time: number): Map<string, NodeRole> {
  const roles = new Map<string, NodeRole>();
  for (const c of changes) {
    if (c.time > time) break;
    roles.set(c.node, c.role);
  }
  return roles;
}

/** After `from`: the first time a node other than `previous` said it leads, in ms after `from`. */
export function newLeaderAfter(
  changes: readonly RoleChange[],
  from: number,
  previous: string | undefined,
): { node: string; ms: number } | undefined {
  const c = changes.find((x) => x.time >= from && x.role === 'leader' && x.node !== previous);
  return c ? { node: c.node, ms: (c.time - from) / 1e6 } : undefined;
}

/** After `from`: the first time `node` served (any serving role), in ms after `from`. */
export function servingAfter(changes: readonly RoleChange[], from: number, node: string): number | undefined {
  const c = changes.find((x) => x.time >= from && x.node === node && SERVING_ROLES.has(x.role));
  return c ? (c.time - from) / 1e6 : undefined;
}

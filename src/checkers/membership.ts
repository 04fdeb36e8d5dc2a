// Config convergence: after recovery every serving node reports the same ensemble configuration (version and
// members), and it is the one the last acknowledged reconfig made, or one a later reconfig whose outcome is
// unknown asked for. Reconfigs are read from the nemesis records (each membership action lists the reconfigs it
// sent with their outcomes), the final configurations from the recovery phase's 'final-config' event.
import type { Anomaly, Checker, CheckerResult } from '../checker.js';
import type { HistoryEvent } from '../history.js';
import { FINAL_CONFIG, type FinalConfigs, type NodeConfig } from '../final-state.js';

/** A reconfig as the membership nemesis records it (nemesis/membership.ts ReconfigAttempt). */
interface RecordedReconfig {
  requested: Record<string, string>;
  outcome: 'ok' | 'fail' | 'unknown';
  version?: string;
  index: number;
}

const sameMembers = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

const describe = (c: NodeConfig): string =>
  `version ${c.version} {${Object.entries(c.members)
    .map(([n, r]) => `${n}:${r}`)
    .join(' ')}}`;

/** Every reconfig the nemesis sent, in order, and the configuration the first membership action found. */
export function recordedReconfigs(history: readonly HistoryEvent[]): {
  reconfigs: RecordedReconfig[];
  initial?: NodeConfig;
} {
  const reconfigs: RecordedReconfig[] = [];
  let initial: NodeConfig | undefined;
  for (const e of history) {
    if (e.process !== 'nemesis' || typeof e.value !== 'object' || e.value === null) continue;
    const v = e.value as { configBefore?: NodeConfig; reconfigs?: Omit<RecordedReconfig, 'index'>[] };
    if (v.configBefore && !initial) initial = v.configBefore;
    for (const r of v.reconfigs ?? []) reconfigs.push({ ...r, index: e.index });
  }
  return { reconfigs, ...(initial ? { initial } : {}) };
}

export function checkConfigConvergence(history: readonly HistoryEvent[]): CheckerResult {
  const final = history.find((e) => e.process === 'final' && e.f === FINAL_CONFIG && e.type === 'ok');
  if (!final) return { valid: 'unknown', reason: 'no final configuration read (no recovery phase)' };
  const nodes = Object.entries((final.value as FinalConfigs).nodes);
  const serving = nodes.filter((e): e is [string, NodeConfig] => e[1] !== null);
  const silent = nodes.filter(([, c]) => c === null).map(([n]) => n);
  const anomalies: Anomaly[] = [];
  const distinct = new Map<string, string[]>();
  for (const [node, c] of serving) {
    const key = describe(c);
    distinct.set(key, [...(distinct.get(key) ?? []), node]);
  }
  if (distinct.size > 1)
    anomalies.push({
      type: 'config-divergence',
      ops: [final.index],
      description: `serving nodes report different configurations: ${[...distinct].map(([c, ns]) => `${ns.join(',')}: ${c}`).join('; ')}`,
    });
  const { reconfigs, initial } = recordedReconfigs(history);
  const acked = reconfigs.filter((r) => r.outcome === 'ok');
  const last = acked[acked.length - 1];
  const agreed = serving[0]?.[1];
  if (agreed && distinct.size === 1 && reconfigs.length > 0) {
    const version = BigInt(`0x${agreed.version}`);
    // Reconfigs sent after the last acknowledged one whose outcome is unknown may have taken effect.
    const later = reconfigs.slice(last ? reconfigs.indexOf(last) + 1 : 0);
    const explainedByLater = later.some((r) => r.outcome === 'unknown' && sameMembers(r.requested, agreed.members));
    if (last && last.version !== undefined) {
      const ackedVersion = BigInt(`0x${last.version}`);
      if (version < ackedVersion || (version === ackedVersion && !sameMembers(agreed.members, last.requested)))
        anomalies.push({
          type: 'config-lost',
          ops: [last.index, final.index],
          description: `the last acknowledged reconfig made version ${last.version} {${Object.entries(last.requested)
            .map(([n, r]) => `${n}:${r}`)
            .join(' ')}}, but every node reports ${describe(agreed)}`,
        });
      else if (version > ackedVersion && !explainedByLater)
        anomalies.push({
          type: 'config-unexplained',
          ops: [last.index, final.index],
          description: `every node reports ${describe(agreed)}, newer than the last acknowledged reconfig (version ${last.version}) and asked for by no later reconfig`,
        });
    } else if (!last && initial && !sameMembers(agreed.members, initial.members) && !explainedByLater)
      anomalies.push({
        type: 'config-unexplained',
        ops: [final.index],
        description: `no reconfig was acknowledged, yet every node reports ${describe(agreed)} instead of the starting ${describe(initial)}`,
      });
  }
  const valid = anomalies.length > 0 ? false : serving.length === 0 ? 'unknown' : silent.length > 0 ? 'unknown' : true;
  return {
    valid,
    ...(silent.length ? { reason: `${silent.join(', ')} did not report a configuration` } : {}),
    counts: {
      nodes: nodes.length,
      serving: serving.length,
      reconfigs: reconfigs.length,
      acknowledged: acked.length,
      unknown: reconfigs.filter((r) => r.outcome === 'unknown').length,
      failed: reconfigs.filter((r) => r.outcome === 'fail').length,
    },
    ...(agreed && distinct.size === 1 ? { finalConfig: agreed } : {}),
    anomalies,
  };
}

export const configConvergenceChecker: Checker = { check: async (history) => checkConfigConvergence(history) };

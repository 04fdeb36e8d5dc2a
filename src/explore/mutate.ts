// Mutations of a recorded schedule (timed steps, node names as recorded), for explore's feedback: a trial that
// reached new protocol states is run again with its schedule changed a little, to reach past where it went.
// Four operators, each drawn alike: stretch or shrink one wait, drop one step, swap two nodes' names from one step
// on, repeat a short run of steps. None knows what any step does; pure, so they are tested without servers.
import type { Random } from '../random.js';
import type { ScenarioAction, TimedStep } from './scenario.js';

export const MUTATIONS = ['wait', 'drop', 'swap', 'repeat'] as const;
export type MutationName = (typeof MUTATIONS)[number];

const renameIn = (text: string, a: string, b: string): string =>
  text
    .split('+')
    .map((n) => (n === a ? b : n === b ? a : n))
    .join('+');

function renamed(action: ScenarioAction, a: string, b: string): ScenarioAction {
  switch (action.kind) {
    case 'fault': {
      const params = action.params
        ? Object.fromEntries(
            Object.entries(action.params).map(([k, v]) => [k, typeof v === 'string' ? renameIn(v, a, b) : v]),
          )
        : undefined;
      return {
        ...action,
        ...(action.target ? { target: renameIn(action.target, a, b) } : {}),
        ...(params ? { params } : {}),
      };
    }
    case 'heal':
      return action.target ? { ...action, target: renameIn(action.target, a, b) } : action;
    case 'start':
      return { ...action, node: renameIn(action.node, a, b) };
  }
}

/** One mutation of `steps`, or null when it does not apply (too few steps, or the result would not fit). */
export function mutateOnce(
  steps: readonly TimedStep[],
  name: MutationName,
  random: Random,
  nodes: number,
): TimedStep[] | null {
  if (steps.length === 0) return null;
  // Notes say what a step did when it was recorded; a mutant's steps have not run yet.
  const out = steps.map(({ note: _note, ...s }) => ({ ...s }));
  const i = random.int(0, out.length - 1);
  switch (name) {
    case 'wait': {
      const factor = 0.25 + random.float() * 1.75;
      out[i] = { ...out[i]!, waitS: Math.round(out[i]!.waitS * factor * 10) / 10 };
      return out;
    }
    case 'drop':
      if (out.length < 2) return null;
      out.splice(i, 1);
      return out;
    case 'swap': {
      if (nodes < 2) return null;
      const a = random.int(1, nodes);
      let b = random.int(1, nodes - 1);
      if (b >= a) b++;
      for (let j = i; j < out.length; j++) out[j] = { ...out[j]!, action: renamed(out[j]!.action, `n${a}`, `n${b}`) };
      return out;
    }
    case 'repeat': {
      const length = random.int(1, Math.min(4, out.length - i));
      out.splice(i + length, 0, ...out.slice(i, i + length).map((s) => ({ ...s })));
      return out;
    }
  }
}

export interface Mutant {
  steps: TimedStep[];
  /** The operators applied, in order. */
  mutations: MutationName[];
}

/**
 * One to three mutations, each drawn alike among the four, skipping those that do not apply or whose waits would
 * outlast the main phase (`timeLimitS` less a margin to settle, or the original's waits if longer). Null when none
 * applied.
 */
export function mutateSchedule(
  steps: readonly TimedStep[],
  random: Random,
  nodes: number,
  timeLimitS: number,
): Mutant | null {
  const waitsS = (list: readonly TimedStep[]): number => list.reduce((sum, step) => sum + step.waitS, 0);
  const roomS = Math.max(waitsS(steps), timeLimitS - 5);
  const count = random.int(1, 3);
  let current = [...steps];
  const mutations: MutationName[] = [];
  for (let k = 0; k < count * 3 && mutations.length < count; k++) {
    const name = random.pick(MUTATIONS);
    const next = mutateOnce(current, name, random, nodes);
    if (!next || waitsS(next) > roomS) continue;
    current = next;
    mutations.push(name);
  }
  return mutations.length ? { steps: current, mutations } : null;
}

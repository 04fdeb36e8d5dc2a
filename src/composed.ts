// The composed random schedule (`--nemesis composed`): faults of several families overlap, each on nodes chosen by
// role at the moment it starts, and each ends by a heal of its own nodes, so nodes come back one by one.
//
// The plan is a pure function of (seed, node count, families, rules, duration): the planner keeps its own model
// of what is in force and never looks at the ensemble, so one seed always gives the same sequence of requests.
// Which node a role target means (the leader, a follower...) is resolved live when the request runs.
//
// Rules (defaults in src/config.ts, documented in README "Composed faults"):
// - Each step, after a gap drawn from `gapS`, chooses uniformly among the actions allowed now: start a fault,
//   heal one fault in force early (unless `earlyHeals` is off), or wait. A start picks its family uniformly among
//   the enabled ones, its fault uniformly within the family, its target uniformly among the target kinds, its hold
//   uniformly from `holdS`.
// - A fault in force is healed when its hold ends (or earlier, when a heal step picks it).
// - At most `maxFaulty` nodes are faulty at once (default: a minority). A start that would pass it may open a
//   majority spell instead, when `majoritySpellS` > 0 and no spell ran in the last three spell lengths: up to a
//   majority for that long, after which faults are healed, newest first, back down to `maxFaulty`.
// - When nothing is in force after a heal, a quiet period drawn from `quietS` follows, one time in two.
// - At the end every fault still in force is healed, node by node.
// Every weight is uniform; nothing here encodes a particular bug's sequence.
import { NoTargetError } from './errors.js';
import { FaultTracker } from './fault-state.js';
import { rolesNow, type Fault, type NemesisContext } from './nemesis.js';
import { Random } from './random.js';
import { healNodeRecorded, startRecorded, type NemesisSchedule, type ScheduleRun } from './schedule.js';
import { sleep } from './time.js';
import { recordNemesis } from './nemesis.js';
import { familyHeal } from './nemesis.js';

/**
 * Where a composed fault lands, resolved when it starts: the leader; a follower; any node; the node with the highest
 * id; the node that came back from a fault last (stale: it rejoined and may lag); a node already faulty under
 * another family (same: two faults overlap on one node); or the fault's own default (faults that take no node).
 * Except for same, a node already faulty is not chosen.
 */
export const COMPOSED_TARGETS = ['leader', 'follower', 'one', 'highest', 'stale', 'same'] as const;
export type ComposedTarget = (typeof COMPOSED_TARGETS)[number] | 'default';

/** One family as the composed schedule uses it: the faults it draws from and how they end. */
export interface ComposedFamily {
  /** As users name it (kill, crash, packet...). */
  name: string;
  /** Fault names, each aimed at one node (or, with targets ['default'], at what the fault chooses). */
  faults: readonly string[];
  /** lasting: in force until healed; instant: over when its action is (restart, disk damage). */
  lasting: boolean;
  /** node: healed per node (the family's healNode); family: only as a whole (membership). */
  healedBy: 'node' | 'family';
  /** The target kinds it may draw (default: every composed target). */
  targets?: readonly ComposedTarget[];
}

export interface ComposedRules {
  /** The most nodes faulty at once outside a majority spell. */
  maxFaulty: number;
  /** A majority spell's length, s; 0: never more than maxFaulty. */
  majoritySpellS: number;
  /** How long a fault is held, s: [min, max]. */
  holdS: readonly [number, number];
  /** A quiet period with nothing in force, s: [min, max]. */
  quietS: readonly [number, number];
  /** The gap between two steps, s: [min, max]. */
  gapS: readonly [number, number];
  /** Whether a step may heal a fault before its hold ends (default true). */
  earlyHeals?: boolean;
}

export interface ComposedOptions extends ComposedRules {
  seed: number;
  nodeCount: number;
  families: readonly ComposedFamily[];
  /** The main phase's length, s: the final heal is planned there. */
  durationS: number;
}

/** One request of the plan, at `atS` seconds into the main phase. */
export type ComposedStep =
  | {
      atS: number;
      kind: 'start';
      /** The plan's number for this fault, which its heal names. */
      id: number;
      family: string;
      fault: string;
      target: ComposedTarget;
      /** How long the plan holds it (lasting faults). */
      holdS?: number;
      /** It opened a majority spell. */
      spell?: boolean;
    }
  | {
      atS: number;
      kind: 'heal';
      id: number;
      family: string;
      fault: string;
      why: 'hold' | 'early' | 'spell-end' | 'final';
    };

export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

export function minorityOf(n: number): number {
  return n - majorityOf(n);
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

/** The composed plan: every request in order, ending with the final heal of whatever is still in force. */
export function* planComposedSchedule(options: ComposedOptions): Generator<ComposedStep> {
  const random = new Random(options.seed).fork(0xc0);
  const draw = ([min, max]: readonly [number, number]): number => min + (max - min) * random.float();
  const families = options.families.filter((f) => f.faults.length > 0);
  interface Planned {
    id: number;
    family: ComposedFamily;
    fault: string;
    width: number;
    healAt: number;
  }
  const active: Planned[] = [];
  let nextId = 1;
  let t = round(draw(options.gapS));
  let spellUntil = -Infinity;
  let lastSpellStart = -Infinity;
  const width = (): number => active.reduce((sum, a) => sum + a.width, 0);
  const heal = function* (a: Planned, why: 'hold' | 'early' | 'spell-end' | 'final'): Generator<ComposedStep> {
    active.splice(active.indexOf(a), 1);
    yield { atS: round(t), kind: 'heal', id: a.id, family: a.family.name, fault: a.fault, why };
  };
  const afterHeal = (): void => {
    if (active.length === 0 && random.int(0, 1) === 1) t += draw(options.quietS);
  };
  while (t < options.durationS) {
    // A spell that ended: back down to maxFaulty, newest first.
    if (t >= spellUntil && width() > options.maxFaulty) {
      const newest = [...active].sort((a, b) => b.id - a.id)[0]!;
      yield* heal(newest, 'spell-end');
      t += draw(options.gapS);
      afterHeal();
      continue;
    }
    const due = active.filter((a) => a.healAt <= t).sort((a, b) => a.healAt - b.healAt || a.id - b.id)[0];
    if (due) {
      yield* heal(due, 'hold');
      t += draw(options.gapS);
      afterHeal();
      continue;
    }
    const choices: ('start' | 'heal' | 'wait')[] = [];
    if (families.length > 0 && options.nodeCount > 0) choices.push('start');
    if (active.length > 0 && options.earlyHeals !== false) choices.push('heal');
    choices.push('wait');
    const choice = random.pick(choices);
    if (choice === 'start') {
      const family = random.pick(families);
      const fault = random.pick(family.faults);
      const kinds = (family.targets ?? COMPOSED_TARGETS).filter((k) => k !== 'same' || active.length > 0);
      const target = random.pick(kinds.length ? kinds : (['one'] as const));
      const needs = target === 'same' ? 0 : 1;
      const bound = t < spellUntil ? majorityOf(options.nodeCount) : options.maxFaulty;
      let spell = false;
      if (width() + needs > bound) {
        const canSpell =
          options.majoritySpellS > 0 &&
          t >= spellUntil &&
          t - lastSpellStart >= 3 * options.majoritySpellS &&
          width() + needs <= majorityOf(options.nodeCount);
        if (!canSpell) {
          // Nothing may start now: this step waits.
          t += draw(options.gapS);
          continue;
        }
        spell = true;
        lastSpellStart = t;
        spellUntil = t + options.majoritySpellS;
      }
      const id = nextId++;
      const holdS = family.lasting ? round(draw(options.holdS)) : undefined;
      yield {
        atS: round(t),
        kind: 'start',
        id,
        family: family.name,
        fault,
        target,
        ...(holdS !== undefined ? { holdS } : {}),
        ...(spell ? { spell } : {}),
      };
      if (family.lasting) active.push({ id, family, fault, width: needs, healAt: t + holdS! });
    } else if (choice === 'heal') {
      yield* heal(random.pick(active), 'early');
      afterHeal();
    }
    // wait: nothing but the gap.
    t += draw(options.gapS);
  }
  t = Math.max(t, options.durationS);
  for (const a of [...active].sort((x, y) => x.id - y.id)) yield* heal(a, 'final');
}

/** What the executing schedule needs beyond the plan: the faults by name and the families' heals. */
export interface ComposedParts extends ComposedOptions {
  faults: ReadonlyMap<string, Fault>;
}

/** The composed schedule at run time: the plan's requests at their times, targets resolved from the live roles. */
export function composedSchedule(parts: ComposedParts): NemesisSchedule {
  const names = parts.families.map((f) => f.name).join(', ');
  return {
    faultCount: parts.families.some((f) => f.faults.length > 0) ? 1 : 0,
    description: `composed schedule of ${names} (at most ${parts.maxFaulty} faulty${
      parts.majoritySpellS > 0 ? `, majority spells of ${parts.majoritySpellS} s` : ''
    }, seed ${parts.seed})`,
    async run(run) {
      const tracker = new FaultTracker();
      const started = Date.now();
      const pick = run.context.random.fork(0xc1);
      const families = new Map(parts.families.map((f) => [f.name, f]));
      const show = (): void => run.onFault(tracker.describe());
      for (const step of planComposedSchedule(parts)) {
        if (step.kind === 'heal' && step.why === 'final') break; // healed below, from what really is in force
        if (!(await sleep(Math.max(0, started + step.atS * 1000 - Date.now()), run.stop))) break;
        const family = families.get(step.family)!;
        const fault = parts.faults.get(step.fault)!;
        if (step.kind === 'start') await startComposed(run, tracker, pick, step, family, fault);
        else await healComposed(run, tracker, step.id, family, fault);
        show();
      }
      // The final heal: every fault still in force, node by node (the runner's heal of every family follows).
      for (const active of tracker.all()) {
        const family = families.get(familyOfFault(parts.families, active.fault))!;
        await healComposed(run, tracker, active.id, family, parts.faults.get(active.fault)!);
      }
      show();
      run.context.log.info(
        `Composed schedule: at most ${tracker.maxActive} faults in force at once, on up to ${tracker.maxFaultyNodes} nodes.`,
      );
    },
  };
}

function familyOfFault(families: readonly ComposedFamily[], fault: string): string {
  return families.find((f) => f.faults.includes(fault))!.name;
}

/** The node a composed target means now, or why there is none. */
export function chooseNode(
  target: ComposedTarget,
  nodes: readonly { name: string; id: number }[],
  roles: Readonly<Record<string, string>>,
  tracker: FaultTracker,
  healFamily: string,
  random: Random,
): string {
  const free = nodes.filter((n) => tracker.faultsOn(n.name).length === 0);
  const pickOf = (list: readonly { name: string }[], what: string): string => {
    if (list.length === 0) throw new NoTargetError(`no ${what} to target`);
    return random.pick(list).name;
  };
  switch (target) {
    case 'leader': {
      const leaders = nodes.filter((n) => roles[n.name] === 'leader');
      if (leaders.length !== 1) throw new NoTargetError(`no single leader (${leaders.length} say they lead)`);
      if (tracker.faultsOn(leaders[0]!.name).some((f) => f.family === healFamily))
        throw new NoTargetError(`the leader ${leaders[0]!.name} is already under a ${healFamily} fault`);
      return leaders[0]!.name;
    }
    case 'follower':
      return pickOf(
        free.filter((n) => roles[n.name] === 'follower'),
        'follower that is not faulty',
      );
    case 'one':
      return pickOf(free, 'node that is not faulty');
    case 'highest': {
      const highest = [...free].sort((a, b) => b.id - a.id)[0];
      if (!highest) throw new NoTargetError('no node that is not faulty');
      return highest.name;
    }
    case 'stale': {
      const node = tracker.lastRejoined();
      if (!node) throw new NoTargetError('no node has come back from a fault yet');
      return node;
    }
    case 'same':
      return pickOf(
        nodes.filter((n) => {
          const on = tracker.faultsOn(n.name);
          return on.length > 0 && !on.some((f) => f.family === healFamily);
        }),
        'node faulty under another family',
      );
    case 'default':
      throw new Error('the default target names no node');
  }
}

/** Roles for target choice: the monitor's view; with no single leader, up to 5 s for an election to end. */
async function rolesForTarget(context: NemesisContext, target: ComposedTarget, stop: AbortSignal) {
  let roles = await rolesNow(context);
  const deadline = Date.now() + 5000;
  while (target === 'leader' || target === 'follower') {
    const leaders = Object.values(roles).filter((r) => r === 'leader').length;
    if (leaders === 1 || Date.now() > deadline) break;
    if (!(await sleep(250, stop))) break;
    roles = await rolesNow(context);
  }
  return roles;
}

async function startComposed(
  run: ScheduleRun,
  tracker: FaultTracker,
  random: Random,
  step: Extract<ComposedStep, { kind: 'start' }>,
  family: ComposedFamily,
  fault: Fault,
): Promise<void> {
  let node: string | undefined;
  if (step.target !== 'default') {
    try {
      const roles = await rolesForTarget(run.context, step.target, run.stop);
      node = chooseNode(step.target, run.context.cluster.nodes, roles, tracker, fault.family, random);
    } catch (err) {
      if (!(err instanceof NoTargetError)) throw err;
      run.context.log.info(`composed #${step.id} ${fault.name} at ${step.target} skipped: ${err.message}`);
      run.onOutcome(fault.name, 'skipped', err.message);
      return;
    }
  }
  const done = await startRecorded(run, fault, node ? { target: { nodes: [node] } } : undefined, step.target);
  if (!done) return;
  const hit = node ? [node] : Array.isArray(done.nodes) ? (done.nodes as string[]) : [];
  tracker.add(step.id, fault.name, fault.family, hit);
  if (!family.lasting) tracker.forget(step.id);
}

async function healComposed(
  run: ScheduleRun,
  tracker: FaultTracker,
  id: number,
  family: ComposedFamily,
  fault: Fault,
): Promise<void> {
  const active = tracker.get(id);
  // A start that was skipped or failed, or a fault another heal of its family on its node already ended.
  if (!active) return;
  if (family.healedBy === 'family' || !fault.healNode) {
    const heal = familyHeal(fault);
    try {
      await recordNemesis(run.history, 'heal', heal, () => fault.heal(run.context), {
        context: run.context,
        scope: 'family',
      });
    } catch (err) {
      run.context.log.warn(`heal of ${fault.family} failed: ${(err as Error).message}`);
    }
    tracker.healFamily(fault.family);
    return;
  }
  for (const node of [...active.nodes]) {
    await healNodeRecorded(run, fault, node);
    // A failed heal is not retried here: the runner's family heal after the phase undoes whatever stayed.
    tracker.healNode(fault.family, node);
  }
}

// Scenarios as data: a run's recorded nemesis actions turned into timed steps, and those steps written as the
// scenario YAML that src/schedule.ts parses, each step commented with what it did and the roles at that moment.
// Replay and shrink both work on this form (TimedStep lists), so it is pure and tested without servers.
import { Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ParamValue, RecordedAction } from './actions.js';

export type ScenarioAction =
  | { kind: 'fault'; fault: string; target?: string; params?: Record<string, ParamValue> }
  | { kind: 'heal'; family: string; target?: string }
  | { kind: 'start'; node: string };

/** One action and the wait before it; `note` says what it did when it was recorded (for the YAML comment). */
export interface TimedStep {
  waitS: number;
  action: ScenarioAction;
  note?: string;
}

export interface ActionWindow {
  /** When the main phase began and ended, ms since the history began: actions outside it (the harness's own heals
   * before and after the run) are not part of the schedule. */
  startMs: number;
  endMs: number;
  /** Whether a fault takes a target (faults such as partition-halves cut the whole ensemble and take none). */
  takesTarget: (fault: string) => boolean;
  /** A heal's family from what it recorded: today's random schedule records the healed fault's own name. */
  familyOf?: (name: string) => string;
}

const roundS = (ms: number): number => Math.max(0, Math.round(ms / 100) / 10);

function describeRoles(roles: Record<string, string>): string {
  const names = Object.keys(roles).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  return names.length ? `roles: ${names.map((n) => `${n} ${roles[n]}`).join(', ')}` : 'roles not recorded';
}

/** The recorded actions of a main phase as timed steps: node names and timings as recorded. */
export function stepsFromActions(actions: readonly RecordedAction[], window: ActionWindow): TimedStep[] {
  const steps: TimedStep[] = [];
  let lastMs = window.startMs;
  for (const a of actions) {
    if (a.invokedMs < window.startMs || a.invokedMs > window.endMs) continue;
    const waitS = roundS(a.invokedMs - lastMs);
    lastMs = a.completedMs;
    const roles = describeRoles(a.roles);
    const on = a.nodes.length ? ` on ${a.nodes.join('+')}` : '';
    if (a.f === 'start') {
      const target = window.takesTarget(a.fault) && a.nodes.length ? a.nodes.join('+') : undefined;
      steps.push({
        waitS,
        action: {
          kind: 'fault',
          fault: a.fault,
          ...(target ? { target } : {}),
          ...(a.params ? { params: a.params } : {}),
        },
        note: `${a.fault}${on}; ${roles}`,
      });
    } else if (a.scope === 'node' && a.nodes.length === 1) {
      const family = window.familyOf?.(a.fault) ?? a.fault;
      const node = a.nodes[0]!;
      const start = family === 'process' && (a.started ?? []).includes(node);
      steps.push({
        waitS,
        action: start ? { kind: 'start', node } : { kind: 'heal', family, target: node },
        note: `${start ? 'start' : `heal ${family} of`} ${node}; ${roles}`,
      });
    } else {
      const family = window.familyOf?.(a.fault) ?? a.fault;
      steps.push({ waitS, action: { kind: 'heal', family }, note: `heal every ${family} fault; ${roles}` });
    }
  }
  return steps;
}

/** The nodes a step list names (targets, per-node heals, starts, node params). */
export function nodesNamed(steps: readonly TimedStep[]): Set<string> {
  const named = new Set<string>();
  const add = (text: string | undefined): void => {
    if (text && /^n\d+(\+n\d+)*$/.test(text)) for (const n of text.split('+')) named.add(n);
  };
  for (const { action } of steps) {
    if (action.kind === 'fault') {
      add(action.target);
      for (const v of Object.values(action.params ?? {})) if (typeof v === 'string') add(v);
    } else if (action.kind === 'heal') add(action.target);
    else add(action.node);
  }
  return named;
}

/** Whether a step list needs the scenario language's per-node heals (`heal:` with `target:`, `start:`). */
export function needsPerNodeSteps(steps: readonly TimedStep[]): boolean {
  return steps.some((s) => s.action.kind === 'start' || (s.action.kind === 'heal' && s.action.target !== undefined));
}

function actionData(action: ScenarioAction): Record<string, unknown> {
  switch (action.kind) {
    case 'fault':
      return {
        fault: action.fault,
        ...(action.target ? { target: action.target } : {}),
        ...(action.params ? { params: action.params } : {}),
      };
    case 'heal':
      return { heal: action.family, ...(action.target ? { target: action.target } : {}) };
    case 'start':
      return { start: action.node };
  }
}

export interface ScenarioText {
  name: string;
  description: string;
  /** Lines for the file's head comment (where it came from, how often it reproduces...). */
  header?: string[];
}

/**
 * The steps with the notes of a run of them: a shrunk scenario's comments come from the original run, whose roles
 * no longer hold once steps before them are gone. When `replayed` (the same scenario's recorded steps from a replay)
 * did the same actions in the same order, its notes say what each step did there; otherwise the steps keep theirs.
 */
export function withNotesOf(steps: readonly TimedStep[], replayed: readonly TimedStep[]): TimedStep[] {
  const same =
    steps.length === replayed.length &&
    steps.every((s, i) => JSON.stringify(s.action) === JSON.stringify(replayed[i]!.action));
  return same ? steps.map((s, i) => ({ ...s, ...(replayed[i]!.note ? { note: replayed[i]!.note } : {}) })) : [...steps];
}

/** The steps as scenario YAML: `wait:` before each action that waited, each action commented with its note. */
export function renderScenarioYaml(steps: readonly TimedStep[], text: ScenarioText): string {
  const items: Record<string, unknown>[] = [];
  const notes: (string | undefined)[] = [];
  for (const step of steps) {
    if (step.waitS > 0) {
      items.push({ wait: step.waitS });
      notes.push(undefined);
    }
    items.push(actionData(step.action));
    notes.push(step.note);
  }
  // A scenario needs one step at least: an empty schedule waits a moment.
  if (items.length === 0) {
    items.push({ wait: 1 });
    notes.push('no fault at all');
  }
  const doc = new Document({ name: text.name, description: text.description, steps: items });
  const seq = (doc.contents as YAMLMap).get('steps', true) as unknown as YAMLSeq;
  seq.items.forEach((node, i) => {
    const note = notes[i];
    if (note) (node as YAMLMap).commentBefore = ` ${note}`;
  });
  if (text.header?.length) doc.commentBefore = text.header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** The main phase a scenario needs: its steps' waits, a margin for the actions themselves, and time to settle. */
export function scenarioSpanS(steps: readonly TimedStep[]): number {
  return steps.reduce((s, step) => s + step.waitS + 2, 0);
}

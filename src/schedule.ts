// Nemesis schedules: when which fault starts and heals. A seeded random schedule (like Jepsen's combined
// nemesis package: the same seed gives the same sequence of fault requests), and scripted scenarios loaded
// from YAML: timed steps with conditions, so users can write their own fault sequences.
import { z } from 'zod';
import type { ClusterNode } from './cluster.js';
import { NoTargetError, UsageError } from './errors.js';
import type { HistoryWriter } from './history.js';
import {
  familyHeal,
  paramProblems,
  recordNemesis,
  type Fault,
  type FaultRecord,
  type FaultRequest,
  type NemesisContext,
  type TargetSpec,
} from './nemesis.js';
import { Random } from './random.js';
import { sleep, TimeoutError, waitFor } from './time.js';
import { issuePath, issueText, parseYaml, readYaml, type YamlSource } from './yaml.js';

export interface ScheduleRun {
  context: NemesisContext;
  history: HistoryWriter;
  /** The main phase's end: the schedule returns promptly, the runner heals everything after. */
  stop: AbortSignal;
  /** Told when a fault starts (what it did) and when nothing is active any more (null). */
  onFault(active: string | null): void;
  /** Told how each requested fault ended: done, skipped (nothing to aim at just then) or failed. */
  onOutcome(fault: string, outcome: FaultOutcome, error?: string): void;
}

/** skipped: the fault found no target at that moment (no elected leader, say); failed: it could not act. */
export type FaultOutcome = 'done' | 'skipped' | 'failed';

export interface NemesisSchedule {
  /** One line for the log: what this schedule does. */
  description: string;
  /** How many faults it may request (0: a schedule of no faults, which no verdict holds against). */
  faultCount: number;
  run(run: ScheduleRun): Promise<void>;
}

/** Starts a fault, recorded; a failure is recorded and logged, not thrown (the schedule goes on). */
export async function startRecorded(
  run: ScheduleRun,
  fault: Fault,
  request?: FaultRequest,
  written?: string,
): Promise<FaultRecord | undefined> {
  try {
    const done = await recordNemesis(run.history, 'start', fault, () => fault.start(run.context, request), {
      context: run.context,
      ...(request?.params ? { params: request.params } : {}),
      ...(written !== undefined ? { target: written } : {}),
    });
    run.onFault(`${fault.name} ${JSON.stringify(done)}`);
    run.onOutcome(fault.name, 'done');
    return done;
  } catch (err) {
    const skipped = err instanceof NoTargetError;
    run.context.log.warn(`fault ${fault.name} ${skipped ? 'skipped' : 'failed'}: ${(err as Error).message}`);
    run.onOutcome(fault.name, skipped ? 'skipped' : 'failed', (err as Error).message);
    return undefined;
  }
}

async function healRecorded(run: ScheduleRun, fault: Fault): Promise<void> {
  try {
    await recordNemesis(run.history, 'heal', familyHeal(fault), () => fault.heal(run.context), {
      context: run.context,
      scope: 'family',
    });
  } catch (err) {
    run.context.log.warn(`heal of ${fault.family} failed: ${(err as Error).message}`);
  }
  run.onFault(null);
}

/**
 * Heals one family's faults on one node, recorded as a heal of the family with scope node; a failure is recorded
 * and logged, not thrown. `target` is the request as written, for the record.
 */
export async function healNodeRecorded(
  run: Pick<ScheduleRun, 'context' | 'history'>,
  fault: Fault,
  node: string,
  target?: string,
): Promise<boolean> {
  const family = familyHeal(fault);
  try {
    await recordNemesis(run.history, 'heal', family, () => fault.healNode!(run.context, node), {
      context: run.context,
      scope: 'node',
      nodes: [node],
      ...(target !== undefined ? { target } : {}),
    });
    return true;
  } catch (err) {
    run.context.log.warn(`heal of ${fault.family} on ${node} failed: ${(err as Error).message}`);
    return false;
  }
}

/** The nodes a heal's target means now: named nodes as they are, roles from the nodes' live roles (no wait). */
async function healTargets(context: NemesisContext, spec: TargetSpec): Promise<string[]> {
  if (typeof spec === 'object') return spec.nodes;
  const names = context.cluster.nodes.map((n) => n.name);
  if (spec === 'all') return names;
  if (spec === 'leader' || spec === 'follower') {
    const statuses = await Promise.all(context.cluster.nodes.map((n) => context.db.status(n, 1000)));
    const having = statuses.filter((s) => s.mode === spec).map((s) => s.node);
    if (having.length === 0) throw new NoTargetError(`no node reports the ${spec} role`);
    return spec === 'leader' ? having : [context.random.pick(having)];
  }
  // one, minority, majority: random nodes of that many.
  const count = spec === 'one' ? 1 : spec === 'minority' ? (names.length - 1) >> 1 : (names.length >> 1) + 1;
  const pool = [...names];
  const chosen: string[] = [];
  while (chosen.length < count && pool.length) chosen.push(pool.splice(context.random.int(0, pool.length - 1), 1)[0]!);
  return names.filter((n) => chosen.includes(n));
}

/** A scenario's heal with a target (or its start step): the family's per-node heal on each node the target means. */
async function healNodesRecorded(run: ScheduleRun, fault: Fault, written: string, spec: TargetSpec): Promise<void> {
  let nodes: string[];
  try {
    nodes = await healTargets(run.context, spec);
  } catch (err) {
    run.context.log.warn(`heal of ${fault.family} at ${written} skipped: ${(err as Error).message}`);
    return;
  }
  for (const node of nodes) await healNodeRecorded(run, fault, node, written);
}

// ---------------------------------------------------------------------------------------------------------
// Random schedule

export interface PlannedFault {
  fault: string;
  /** Seconds to wait before starting it (after the previous fault's heal). */
  waitS: number;
}

/**
 * The random schedule's plan, a pure function of (faults, seed, interval): rounds that each hold every fault
 * once in a shuffled order (so every fault gets its turn), each fault after a staggered wait of 0.5-1.5 intervals.
 */
export function* planRandomSchedule(
  faultNames: readonly string[],
  seed: number,
  intervalS: number,
): Generator<PlannedFault> {
  if (faultNames.length === 0) return;
  const random = new Random(seed);
  for (;;) {
    const round = [...faultNames];
    for (let i = round.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    for (const fault of round) yield { fault, waitS: Math.round(intervalS * (0.5 + random.float()) * 1000) / 1000 };
  }
}

/** Waits, starts the next planned fault, holds it for one interval, heals its family; until the phase ends. */
export function randomSchedule(faults: readonly Fault[], seed: number, intervalS: number): NemesisSchedule {
  const byName = new Map(faults.map((f) => [f.name, f]));
  return {
    faultCount: faults.length,
    description: faults.length
      ? `random schedule of ${faults.map((f) => f.name).join(', ')} every ~${intervalS} s (seed ${seed})`
      : 'no nemesis',
    async run(run) {
      for (const planned of planRandomSchedule(
        faults.map((f) => f.name),
        seed,
        intervalS,
      )) {
        if (!(await sleep(planned.waitS * 1000, run.stop))) return;
        const fault = byName.get(planned.fault)!;
        await startRecorded(run, fault);
        const finished = !(await sleep(intervalS * 1000, run.stop));
        // A started fault is healed before the next one (the final heal repeats it harmlessly).
        await healRecorded(run, fault);
        if (finished) return;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Scripted scenarios

const CONDITIONS = ['leader', 'quorum', 'all-serving', 'new-epoch'] as const;
type Condition = (typeof CONDITIONS)[number];

const nameSchema = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case name such as lagger');
const seconds = z
  .number({ error: 'must be a number of seconds' })
  .positive('must be above 0')
  .max(86_400, 'must be at most 86400 seconds (a day)');

const stepSchemas = {
  wait: z.strictObject({ wait: seconds }),
  fault: z.strictObject({
    fault: z.string(),
    target: z.string().optional(),
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
    for: seconds.optional(),
    as: nameSchema.optional(),
  }),
  heal: z.strictObject({ heal: z.string(), target: z.string().optional() }),
  start: z.strictObject({ start: z.string() }),
  'wait-for': z.strictObject({
    'wait-for': z.enum(CONDITIONS, { error: `must be one of ${CONDITIONS.join(', ')}` }),
    node: z.string().optional(),
    timeout: seconds.optional(),
  }),
} as const;

const scenarioSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  /** Start over after the last step until the main phase ends. */
  repeat: z.boolean().optional(),
  steps: z.array(z.unknown()).min(1, 'must hold at least one step'),
});

/** One step of a scenario, with where it is written (file:line), for messages about it. */
export type ScenarioStep = ScenarioAction & { where: string };

type ScenarioAction =
  | { kind: 'wait'; seconds: number }
  | {
      kind: 'fault';
      fault: Fault;
      target?: string;
      params?: Record<string, number | string | boolean>;
      forS?: number;
      as?: string;
    }
  | { kind: 'heal'; faults: Fault[]; what: string; target?: string }
  /** Starts the target's stopped servers: the process family's heal of those nodes alone. */
  | { kind: 'start'; fault: Fault; target: string }
  | { kind: 'wait-for'; condition: Condition; node?: string; timeoutS: number };

export interface Scenario {
  name: string;
  repeat: boolean;
  steps: ScenarioStep[];
}

export const SCENARIO_FORMAT_HINT =
  'A scenario is a YAML map with `steps:`, a list of steps, each one of: `wait: S`; `fault: NAME` (optional `target:` role, ' +
  'n1+n2 or an earlier `as:` name, `params:`, `for: S`, `as: NAME`); `heal: all|FAMILY` (optional `target:`, which heals ' +
  'only those nodes); `start: TARGET` (start the stopped server of a killed or crashed node); `wait-for: leader|quorum|all-serving|new-epoch` ' +
  '(optional `node:`, `timeout: S`). Run `faultline nemesis list` for fault names.';

/** What the scenario parser needs from the fault catalogue. */
export interface FaultCatalogue {
  faults: readonly Fault[];
  /** Roles a target may name (leader, follower, ...). */
  roles: readonly string[];
  /** Every fault family, in the order `heal: all` heals them. */
  families: readonly string[];
}

/** Parses and validates a scenario; every error names the file, line and field, and how to fix it. */
export function parseScenario(text: string, file: string, catalogue: FaultCatalogue): Scenario {
  return scenarioFrom(parseYaml(text, file, 'scenario'), catalogue);
}

function scenarioFrom(source: YamlSource, catalogue: FaultCatalogue): Scenario {
  const fail = (path: readonly PropertyKey[], problem: string, fix = SCENARIO_FORMAT_HINT): never => {
    throw new UsageError(`bad scenario ${source.where(path)}: ${problem}`, fix);
  };
  const top = scenarioSchema.safeParse(source.data);
  if (!top.success) {
    const issue = top.error.issues[0]!;
    fail(issuePath(issue), issueText(issue));
  }
  const data = top.data!;
  const byName = new Map(catalogue.faults.map((f) => [f.name, f]));
  const families = catalogue.families;
  const aliases = new Set<string>();
  const checkTarget = (path: (string | number)[], target: string): void => {
    const parts = target.split('+');
    const ok = catalogue.roles.includes(target) || aliases.has(target) || parts.every((p) => /^n\d+$/.test(p));
    if (!ok)
      fail(
        path,
        `unknown target "${target}"`,
        `Use a role (${catalogue.roles.join(', ')}), node names such as n1+n2, or a name given by an earlier step's \`as:\`.`,
      );
  };
  const actions = data.steps.map((raw, i): ScenarioAction => {
    const path = ['steps', i];
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      fail(path, 'a step must be a map such as `fault: kill-leader`');
    const kinds = Object.keys(stepSchemas).filter((k) => k in (raw as object)) as (keyof typeof stepSchemas)[];
    if (kinds.length !== 1)
      fail(
        path,
        kinds.length
          ? `a step does one thing, not ${kinds.join(' and ')}`
          : `a step needs one of ${Object.keys(stepSchemas).join(', ')}`,
      );
    const kind = kinds[0]!;
    const parsed = stepSchemas[kind].safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      fail([...path, ...issuePath(issue)], issueText(issue));
    }
    const step = parsed.data!;
    if ('wait' in step) return { kind: 'wait', seconds: step.wait };
    if ('fault' in step) {
      const fault =
        byName.get(step.fault) ??
        fail([...path, 'fault'], `unknown fault "${step.fault}"`, 'Run `faultline nemesis list` for the fault names.');
      if (step.target !== undefined) {
        if (!fault.defaultTarget)
          fail(
            [...path, 'target'],
            `${fault.name} takes no target`,
            'Drop target: here; partitions such as halves or rings cut the whole ensemble.',
          );
        checkTarget([...path, 'target'], step.target);
      }
      if (step.params) {
        const problems = paramProblems(fault, step.params);
        if (problems.length)
          fail([...path, 'params'], problems.join('; '), 'Run `faultline nemesis list` for what each fault takes.');
      }
      if (step.as !== undefined) aliases.add(step.as);
      return {
        kind: 'fault',
        fault,
        ...(step.target !== undefined ? { target: step.target } : {}),
        ...(step.params ? { params: step.params } : {}),
        ...(step.for !== undefined ? { forS: step.for } : {}),
        ...(step.as !== undefined ? { as: step.as } : {}),
      };
    }
    if ('heal' in step) {
      if (step.heal !== 'all' && !families.includes(step.heal))
        fail([...path, 'heal'], `unknown family "${step.heal}"`, `Use all or one of ${families.join(', ')}.`);
      const healers = healersOf(catalogue.faults, step.heal === 'all' ? families : [step.heal]);
      if (step.target === undefined) return { kind: 'heal', faults: healers, what: step.heal };
      checkTarget([...path, 'target'], step.target);
      const perNode = healers.filter((f) => f.healNode !== undefined);
      if (perNode.length === 0)
        fail(
          [...path, 'target'],
          `${step.heal} has no per-node heal`,
          `Drop target: here (the heal then heals the whole family); per-node heals exist for ${healersOf(
            catalogue.faults,
            families,
          )
            .filter((f) => f.healNode !== undefined)
            .map((f) => f.family)
            .join(', ')}.`,
        );
      // heal: all with a target heals every family that heals per node (membership does not).
      return { kind: 'heal', faults: perNode, what: step.heal, target: step.target };
    }
    if ('start' in step) {
      checkTarget([...path, 'start'], step.start);
      const process = healersOf(
        catalogue.faults,
        families.filter((f) => f === 'process'),
      )[0];
      if (!process?.healNode) fail([...path, 'start'], 'this catalogue has no process faults to start nodes with');
      return { kind: 'start', fault: process!, target: step.start };
    }
    if (step.node !== undefined) checkTarget([...path, 'node'], step.node);
    return {
      kind: 'wait-for',
      condition: step['wait-for'],
      ...(step.node !== undefined ? { node: step.node } : {}),
      timeoutS: step.timeout ?? 60,
    };
  });
  const steps = actions.map((action, i) => ({ ...action, where: source.where(['steps', i]) }));
  return { name: data.name ?? source.path, repeat: data.repeat ?? false, steps };
}

function healersOf(faults: readonly Fault[], families: readonly string[]): Fault[] {
  return families.map((family) => familyHeal(faults.find((f) => f.family === family)!));
}

export function loadScenario(path: string, catalogue: FaultCatalogue): Scenario {
  return scenarioFrom(readYaml(path, 'scenario'), catalogue);
}

/** The epoch (high 32 bits of the zxid) a node reports now, if it serves. */
function epochOf(zxid: string | undefined): number | undefined {
  return zxid === undefined ? undefined : Number(BigInt(zxid) >> 32n);
}

async function highestEpoch(context: NemesisContext, nodes: readonly ClusterNode[]): Promise<number> {
  const statuses = await Promise.all(nodes.map((n) => context.db.status(n)));
  return Math.max(-1, ...statuses.map((s) => epochOf(s.zxid) ?? -1));
}

/** Runs a scenario's steps in order (and again, if it repeats) until they end or the phase does. */
export function scenarioSchedule(scenario: Scenario): NemesisSchedule {
  return {
    faultCount: scenario.steps.filter((s) => s.kind === 'fault').length,
    description: `scenario ${scenario.name} (${scenario.steps.length} steps${scenario.repeat ? ', repeating' : ''})`,
    async run(run) {
      const aliases = new Map<string, string[]>();
      // new-epoch means: an epoch above the highest one seen just before the latest fault step.
      let epochBaseline = await highestEpoch(run.context, run.context.cluster.nodes);
      const targetOf = (text: string): TargetSpec => {
        const alias = aliases.get(text);
        if (alias) return { nodes: alias };
        if (text.split('+').every((p) => /^n\d+$/.test(p))) return { nodes: text.split('+') };
        return text as TargetSpec;
      };
      do {
        for (const step of scenario.steps) {
          if (run.stop.aborted) return;
          switch (step.kind) {
            case 'wait':
              if (!(await sleep(step.seconds * 1000, run.stop))) return;
              break;
            case 'fault': {
              epochBaseline = await highestEpoch(run.context, run.context.cluster.nodes);
              const request: FaultRequest = {
                ...(step.target ? { target: targetOf(step.target) } : {}),
                ...(step.params ? { params: step.params } : {}),
              };
              const done = await startRecorded(run, step.fault, request, step.target);
              const nodes = (done as { nodes?: unknown } | undefined)?.nodes;
              if (step.as && Array.isArray(nodes)) aliases.set(step.as, nodes as string[]);
              if (step.forS !== undefined) {
                const finished = !(await sleep(step.forS * 1000, run.stop));
                await healRecorded(run, step.fault);
                if (finished) return;
              }
              break;
            }
            case 'heal':
              if (step.target === undefined) for (const fault of step.faults) await healRecorded(run, fault);
              else
                for (const fault of step.faults)
                  await healNodesRecorded(run, fault, step.target, targetOf(step.target));
              break;
            case 'start':
              await healNodesRecorded(run, step.fault, step.target, targetOf(step.target));
              break;
            case 'wait-for':
              if (!(await waitForCondition(run, step, step.node ? targetOf(step.node) : undefined, epochBaseline)))
                return;
              break;
          }
        }
      } while (scenario.repeat && !run.stop.aborted);
    },
  };
}

/** Waits for a scenario condition, recorded as a nemesis info pair; false when the phase ended meanwhile. */
async function waitForCondition(
  run: ScheduleRun,
  step: Extract<ScenarioStep, { kind: 'wait-for' }>,
  target: TargetSpec | undefined,
  epochBaseline: number,
): Promise<boolean> {
  const { context, history } = run;
  const started = Date.now();
  const watched =
    typeof target === 'object'
      ? context.cluster.nodes.filter((n) => target.nodes.includes(n.name))
      : context.cluster.nodes;
  history.append({ process: 'nemesis', type: 'info', f: 'wait-for', value: step.condition });
  const check = async (): Promise<FaultRecord | undefined> => {
    if (run.stop.aborted) return { stopped: true };
    const statuses = await Promise.all(watched.map((n) => context.db.status(n)));
    const all =
      watched.length === context.cluster.nodes.length
        ? statuses
        : await Promise.all(context.cluster.nodes.map((n) => context.db.status(n)));
    const leaders = all.filter((s) => s.mode === 'leader').length;
    const serving = all.filter((s) => s.mode === 'leader' || s.mode === 'follower' || s.mode === 'observer').length;
    switch (step.condition) {
      case 'leader':
        return leaders === 1 ? { leader: all.find((s) => s.mode === 'leader')!.node } : undefined;
      case 'quorum':
        return leaders === 1 && serving > all.length / 2 ? { serving } : undefined;
      case 'all-serving':
        return leaders === 1 && serving === all.length ? { serving } : undefined;
      case 'new-epoch': {
        const newer = statuses.find((s) => (epochOf(s.zxid) ?? -1) > epochBaseline);
        return newer ? { node: newer.node, epoch: epochOf(newer.zxid), previousEpoch: epochBaseline } : undefined;
      }
    }
  };
  try {
    const met = await waitFor(step.condition, step.timeoutS * 1000, 100, check);
    history.append({
      process: 'nemesis',
      type: 'info',
      f: 'wait-for',
      value: {
        condition: step.condition,
        ...(target ? { watching: watched.map((n) => n.name) } : {}),
        ...met,
        afterMs: Date.now() - started,
      },
    });
    return !run.stop.aborted;
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    history.append({
      process: 'nemesis',
      type: 'info',
      f: 'wait-for',
      value: { condition: step.condition },
      error: `not met within ${step.timeoutS} s`,
    });
    context.log.warn(
      `scenario condition ${step.condition} not met within ${step.timeoutS} s; going on with the next step`,
    );
    return true;
  }
}

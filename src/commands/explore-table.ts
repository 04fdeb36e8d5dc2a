// The explore's live table on the terminal: cli-table3 lays it out, log-update redraws it in place (plain lines
// when the output is not a terminal, so logs and CI stay readable).
import Table from 'cli-table3';
import logUpdate from 'log-update';
import type { TrialPlan } from '../explore/trials.js';
import type { ExploreRecord } from '../store/explore.js';

const verdict = (v: boolean | 'unknown'): string => (v === true ? 'valid' : v === false ? 'INVALID' : 'unknown');

/** The last trials and the running ones, with the totals above. */
/** A trial's faults column: its mix, a mutant's parent and mutations, and a settings profile other than the default. */
function faultsOf(mix: string, profile: string | undefined, mutantOf?: number, mutations?: readonly string[]): string {
  const faults = mutantOf !== undefined ? `#${mutantOf} ${(mutations ?? []).join('+')}` : mix;
  return profile && profile !== 'default' ? `${faults} / ${profile}` : faults;
}

export function renderExploreTable(record: ExploreRecord, running: readonly TrialPlan[], last = 12): string {
  const table = new Table({
    head: ['#', 'workload', 'faults', 'nodes', 'seed', 'verdict', 'time', 'new features', 'anomalies'],
  });
  for (const t of record.trials.slice(-last))
    table.push([
      t.index,
      t.workload,
      faultsOf(t.mix, t.profile, t.mutantOf, t.mutations),
      t.nodes,
      t.seed,
      verdict(t.valid),
      `${Math.round(t.durationMs / 1000)} s`,
      t.newFeatures ?? '',
      t.anomalies.length || (t.error ? 'error' : ''),
    ]);
  for (const p of running) {
    const faults = faultsOf(p.mix, p.profile?.name, p.mutant?.of, p.mutant?.mutations);
    table.push([p.index, p.workload, faults, p.nodes, p.seed, 'running', '', '', '']);
  }
  const c = record.counts;
  const first =
    record.timeToFirstFailureMs === null ? 'none yet' : `${Math.round(record.timeToFirstFailureMs / 1000)} s`;
  const fb = record.feedback;
  const coverage = fb ? `; ${fb.features} protocol features, ${fb.corpus} kept, ${fb.mutant.trials} mutants` : '';
  return `${c.trials} trials: ${c.valid} valid, ${c.invalid} invalid, ${c.unknown} unknown; ${Math.round(record.durationMs / 1000)} s, ${record.trialsPerHour}/h; first failure: ${first}${coverage}\n${table.toString()}`;
}

export class LiveTable {
  private readonly live = process.stdout.isTTY;
  private lastPlain = '';

  update(text: string): void {
    if (this.live) logUpdate(text);
    else {
      // Not a terminal: only the totals line, when it changes.
      const line = text.split('\n')[0]!;
      if (line !== this.lastPlain) process.stdout.write(`${line}\n`);
      this.lastPlain = line;
    }
  }

  done(text: string): void {
    if (this.live) {
      logUpdate(text);
      logUpdate.done();
    } else process.stdout.write(`${text}\n`);
  }
}

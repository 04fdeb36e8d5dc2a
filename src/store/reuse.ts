// reuse.json: where a run's containers came from when it ran with an ensemble pool (src/run/pool.ts), and the
// proof that a reused ensemble started clean: what the reset found and removed on each node, and whether each
// node's state afterwards equals what the same container showed when it was new. Also every run's phase timings
// (timings.json), which the trial-overhead bench reads.
import { z } from 'zod';

export const REUSE_FILE = 'reuse.json';
export const TIMINGS_FILE = 'timings.json';
export const REUSE_FORMAT = 1;

/** One node's clean check: leftovers the reset removed, then any difference from the node's state when new. */
export const nodeCleanSchema = z.object({
  /** What the reset found and removed: processes, iptables rules, qdiscs, files (one line each). */
  removed: z.array(z.string()),
  /** Lines of the node's state (processes, iptables, qdiscs, addresses, routes, mounts, files) unlike when new. */
  differences: z.array(z.string()),
});

export const reuseRecordSchema = z.object({
  format: z.literal(REUSE_FORMAT),
  /** True when the run took its containers from a pool ensemble that had served an earlier run. */
  reused: z.boolean(),
  /** The pool ensemble's id (its containers are faultline-<id>-n<i>); null when the run could not use the pool. */
  ensemble: z.string().nullable(),
  /** How many runs the ensemble has served, this one included. */
  trial: z.number(),
  /** Why the containers were reused, new, or the run's own. */
  reason: z.string(),
  /** The clean check before a reuse (absent for new containers): passed only when every node equals its new state. */
  clean: z
    .object({
      passed: z.boolean(),
      ms: z.number(),
      nodes: z.record(z.string(), nodeCleanSchema),
    })
    .optional(),
  /** A check that failed before this run got new containers instead. */
  failedCheck: z.object({ ensemble: z.string(), nodes: z.record(z.string(), nodeCleanSchema) }).optional(),
  /** ms to have the containers ready (reset and check, or creation). */
  readyMs: z.number(),
});
export type ReuseRecord = z.infer<typeof reuseRecordSchema>;
export type NodeClean = z.infer<typeof nodeCleanSchema>;

/** Wall-clock ms of each phase of a run, in order (absent: the run did not reach it). */
export const phaseTimingsSchema = z.object({
  format: z.literal(REUSE_FORMAT),
  /** Containers ready: created (and the network), or a pooled ensemble reset and checked. */
  cluster: z.number().optional(),
  /** Configs written and the servers started (processes up). */
  dbStart: z.number().optional(),
  /** Until every node served. */
  quorum: z.number().optional(),
  /** Role monitor, the pre-run heal, the workload's setup and start. */
  prepare: z.number().optional(),
  main: z.number().optional(),
  /** The workload stopped, the final heal and recovery until every node serves. */
  heal: z.number().optional(),
  finalReads: z.number().optional(),
  check: z.number().optional(),
  /** results.json and report.html written. */
  report: z.number().optional(),
  teardown: z.number().optional(),
  /** Everything but the main phase. */
  overhead: z.number().optional(),
  total: z.number().optional(),
});
export type PhaseTimings = z.infer<typeof phaseTimingsSchema>;

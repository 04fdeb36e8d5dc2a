// The run store's file formats: zod schemas for test.json and results.json (this file) and for gate.json and
// compare.json (gate.ts), shared by the code that writes them and every reader (report, analyze, serve, gate
// metrics, compare --from). Each file carries `format`; a file of another format is refused with a message
// that says so, never misread.
//
// Format history: 1 (no `format` field) was written until the run configuration moved into src/config.ts;
// 2 records the run's settings as the table names them (test.json `config`), and every file says its format.
import { join } from 'node:path';
import { z } from 'zod';
import { runConfigSchema, type RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { readJson, RESULTS_FILE, TEST_FILE } from './index.js';

export const STORE_FORMAT = 2;

export const validitySchema = z.union([z.literal(true), z.literal(false), z.literal('unknown')]);

export const anomalySchema = z.object({
  type: z.string(),
  ops: z.array(z.number()),
  description: z.string(),
  documented: z.boolean().optional(),
});

/** A checker's result: the fields every checker shares, and whatever details it adds (kept as they are). */
export const checkerResultSchema = z.looseObject({
  valid: validitySchema,
  advisory: z.boolean().optional(),
  counts: z.record(z.string(), z.number()).optional(),
  anomalies: z.array(anomalySchema).optional(),
  reason: z.string().optional(),
  error: z.string().optional(),
});

/** test.json: the resolved config and what the run was (id, image, when, from which command). */
export const testRecordSchema = z.object({
  format: z.literal(STORE_FORMAT),
  config: runConfigSchema,
  runId: z.string(),
  image: z.object({ name: z.string(), server: z.string(), recipeHash: z.string() }),
  startedAt: z.string(),
  /** The command line, when the run was started from one. */
  command: z.array(z.string()),
  /** The version the servers reported, once they served. */
  serverVersion: z.string().nullable().optional(),
});
export type TestRecord = Omit<z.infer<typeof testRecordSchema>, 'config'> & { config: RunConfig };

export const recoverySchema = z.object({
  healMs: z.number(),
  finalReadMs: z.number().optional(),
  leaderMs: z.number(),
  firstWriteMs: z.number(),
  quorumMs: z.number(),
});

/** results.json: the verdict, each checker's result, and what the run measured. */
export const resultsSchema = z.object({
  format: z.literal(STORE_FORMAT),
  valid: validitySchema,
  server: z.object({
    build: z.string(),
    image: z.string(),
    version: z.string().nullable(),
    versions: z.record(z.string(), z.string()),
  }),
  checkers: z.record(z.string(), checkerResultSchema),
  stats: z.object({ ok: z.number(), fail: z.number(), info: z.number(), nemesis: z.number() }),
  leaders: z.array(z.string()),
  /** Each time a node reported leading, on the history's clock (ns). */
  leaderChanges: z.array(z.object({ time: z.number(), leader: z.string() })),
  recovery: recoverySchema.nullable(),
  /** What the nemesis was asked for and what came of it. */
  nemesis: z
    .object({
      requested: z.number(),
      done: z.number(),
      skipped: z.array(z.object({ fault: z.string(), reason: z.string() })),
      failed: z.array(z.object({ fault: z.string(), error: z.string() })),
    })
    .optional(),
  /** Set when the run stopped early on request (Ctrl-C, SIGTERM): the history is partial. */
  aborted: z.string().optional(),
  /** Set when the environment failed the run (a vanished container, a full disk): the cause in plain words. */
  error: z.string().optional(),
  /** Set when the run did not do what it was asked (requested faults failed or never took effect). */
  incomplete: z.string().optional(),
  /** Set by `faultline analyze` when it checked the history again. */
  analyzedAt: z.string().optional(),
});
export type Results = z.infer<typeof resultsSchema>;

/**
 * Reads one store file with its schema. A file of another format (or of none: format 1) gets one message
 * saying which format it is and which this Faultline reads.
 */
export function readStoreFile<S extends z.ZodType>(path: string, schema: S, what: string): z.output<S> {
  const raw = readJson<unknown>(path, what);
  const format = raw !== null && typeof raw === 'object' ? (raw as { format?: unknown }).format : undefined;
  if (format !== STORE_FORMAT) {
    throw new UsageError(
      `${path} is a ${what} of ${format === undefined ? 'format 1 (unversioned, from an older Faultline)' : `format ${JSON.stringify(format)}`}; this Faultline reads format ${STORE_FORMAT}`,
      'Rerun it with this version of Faultline; its history.jsonl can still be checked alone with `faultline check`.',
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `${path} is not a valid ${what} (${issue?.path.join('.') || 'top level'}: ${issue?.message})`,
      'Restore the file as the run wrote it, or rerun the test.',
    );
  }
  return parsed.data;
}

export function readTestRecord(runDir: string): TestRecord {
  return readStoreFile(join(runDir, TEST_FILE), testRecordSchema, 'test.json');
}

export function readResults(runDir: string): Results {
  return readStoreFile(join(runDir, RESULTS_FILE), resultsSchema, 'results.json');
}

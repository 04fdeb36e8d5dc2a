// YAML files users write (test files, suites, scenarios), read with line positions, and validated with zod so
// that every problem is reported as `file:line (field): what is wrong` with the fix.
import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { UsageError } from './errors.js';

/** A parsed YAML file that can say where each of its fields is. */
export interface YamlSource {
  path: string;
  data: unknown;
  /** `file:line (field)` for a path into the data (a missing field points at the map that lacks it). */
  where(path: readonly PropertyKey[]): string;
}

/** Parses YAML text; a syntax error is a UsageError naming the file and line. */
export function parseYaml(text: string, path: string, what: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const { line } = lineCounter.linePos(error.pos[0]);
    throw new UsageError(
      `bad ${what} ${path}:${line}: not valid YAML: ${error.message.split('\n')[0]}`,
      'Fix the YAML syntax at the place named (indentation, colons, quotes).',
    );
  }
  const where = (fieldPath: readonly PropertyKey[]): string => {
    const keys = fieldPath.filter((p): p is string | number => typeof p !== 'symbol');
    const node = keys.length ? doc.getIn(keys, true) : doc.contents;
    const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? parentOffset(doc, keys);
    const { line } = lineCounter.linePos(offset);
    const field = keys.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
    return `${path}:${line}${field ? ` (${field})` : ''}`;
  };
  return { path, data: doc.toJS() as unknown, where };
}

function parentOffset(doc: Document, path: readonly (string | number)[]): number {
  // A missing field has no node of its own: point at the map that lacks it.
  for (let n = path.length - 1; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isMap(node) || (node as { range?: number[] } | undefined)?.range)
      return (node as { range: number[] }).range[0]!;
  }
  return 0;
}

/** Reads and parses a YAML file; a missing file is a UsageError. */
export function readYaml(path: string, what: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'Check the path.',
    );
  }
  return parseYaml(text, path, what);
}

/** Where a zod issue is: an unknown field points at that field's own line. */
export function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  return issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
}

/** What a zod issue says, without its place. */
export function issueText(issue: z.core.$ZodIssue): string {
  // A schema's own message (which may list the accepted fields) wins over zod's generic one.
  if (issue.code === 'unrecognized_keys' && /^Unrecognized key/.test(issue.message))
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

/** Validates a YAML file's data; every problem (up to 8) is listed as `file:line (field): problem`. */
export function parseYamlWith<S extends z.ZodType>(
  schema: S,
  source: YamlSource,
  what: string,
  fix: string,
): z.output<S> {
  const parsed = schema.safeParse(source.data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 8).map((i) => `${source.where(issuePath(i))}: ${issueText(i)}`);
  throw new UsageError(
    problems.length === 1 ? `bad ${what} ${problems[0]}` : `bad ${what}:\n  ${problems.join('\n  ')}`,
    fix,
  );
}

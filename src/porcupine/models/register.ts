// Single registers: read/write, and read/write/compare-and-set. Values are primitives (compare with ===);
// callers with structured values should canonicalise them (e.g. to JSON text) first; integers beyond 2^53 are
// bigints. The initial value is null.
import { ILLEGAL, showJson, type Illegal, type Model } from '../model.js';

/** bigint: an integer beyond 2^53, kept exact (=== compares bigints by value). */
export type RegisterValue = string | number | bigint | boolean | null;

export type RegisterInput =
  { f: 'read'; key?: string | number } | { f: 'write'; value: RegisterValue; key?: string | number };

export type CasRegisterInput =
  RegisterInput | { f: 'cas'; from: RegisterValue; to: RegisterValue; key?: string | number };

/**
 * What the client saw. `undefined`: the outcome is unknown (the op may or may not have taken effect).
 * `{ok: false}` is only meaningful for cas: the register did not hold `from` (a value mismatch).
 */
export type RegisterOutput = { ok: true; value?: RegisterValue } | { ok: false } | undefined;

function stepRegister(state: RegisterValue, input: CasRegisterInput, output: RegisterOutput): RegisterValue | Illegal {
  switch (input.f) {
    case 'read':
      // Unknown read: no effect either way. A read returns the value held.
      return output === undefined || (output.ok && output.value === state) ? state : ILLEGAL;
    case 'write':
      return input.value;
    case 'cas':
      if (output !== undefined && !output.ok) return state !== input.from ? state : ILLEGAL;
      return state === input.from ? input.to : ILLEGAL;
  }
}

function describeRegisterOp(input: CasRegisterInput, output: RegisterOutput): string {
  const key = input.key !== undefined ? `[${showJson(input.key)}]` : '';
  const result = output === undefined ? ' -> ?' : !output.ok ? ' -> fail' : '';
  switch (input.f) {
    case 'read':
      return `read${key} -> ${output === undefined ? '?' : output.ok ? showJson(output.value ?? null) : 'fail'}`;
    case 'write':
      return `write${key}(${showJson(input.value)})${result}`;
    case 'cas':
      return `cas${key}(${showJson(input.from)} -> ${showJson(input.to)})${result}`;
  }
}

/** Reads, and compares that failed, never change the register. */
const registerReadOnly = (input: CasRegisterInput, output: RegisterOutput): boolean =>
  input.f === 'read' || (input.f === 'cas' && output !== undefined && !output.ok);

/** Could a read (or failed cas) become legal after some of the candidate writes and cases? (Hot: no closures.) */
function registerCanReach(
  state: RegisterValue,
  input: CasRegisterInput,
  output: RegisterOutput,
  candidates: readonly CasRegisterInput[],
): boolean {
  if (output === undefined) return true;
  if (input.f === 'read') {
    const value = output.ok ? (output.value ?? null) : null;
    if (state === value) return true;
    for (const c of candidates)
      if ((c.f === 'write' && c.value === value) || (c.f === 'cas' && c.to === value)) return true;
    return false;
  }
  if (input.f === 'cas' && !output.ok) {
    if (state !== input.from) return true;
    for (const c of candidates)
      if ((c.f === 'write' && c.value !== input.from) || (c.f === 'cas' && c.to !== input.from)) return true;
    return false;
  }
  return true;
}

/** For the pre-pass (Model.values): reads need their value, successful cases their old value. */
const registerValues = {
  initial: null,
  required(input: CasRegisterInput, output: RegisterOutput): unknown {
    if (output === undefined || !output.ok) return undefined;
    return input.f === 'read' ? (output.value ?? null) : input.f === 'cas' ? input.from : undefined;
  },
  written: (input: CasRegisterInput): unknown =>
    input.f === 'write' ? input.value : input.f === 'cas' ? input.to : undefined,
};

/** Both register models share one implementation; the read/write one just accepts fewer inputs. */
function registerLike(name: string, exportName: string): Model<RegisterValue, CasRegisterInput, RegisterOutput> {
  return {
    name,
    init: () => null,
    step: stepRegister,
    readOnly: registerReadOnly,
    canReach: registerCanReach,
    values: registerValues,
    partition: (input) => input.key ?? '',
    describeOperation: describeRegisterOp,
    describeState: (state) => showJson(state),
    workerModule: { url: import.meta.url, exportName },
  };
}

/** Read/write register, partitioned by the optional `key` of each input. */
export const registerModel: Model<RegisterValue, RegisterInput, RegisterOutput> = registerLike(
  'register',
  'registerModel',
);

/** Read/write/compare-and-set register, partitioned by the optional `key` of each input. */
export const casRegisterModel: Model<RegisterValue, CasRegisterInput, RegisterOutput> = registerLike(
  'cas-register',
  'casRegisterModel',
);

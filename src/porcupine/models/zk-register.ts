// A ZooKeeper znode used as a register: its data and the version ZooKeeper exposes in its Stat.
// getData returns both; setData(v, -1) overwrites and bumps the version; setData(v, expected) succeeds only when
// the version equals `expected` (else BADVERSION, which tells the client the version differed).
import { ILLEGAL, showJson, type Illegal, type Model } from '../model.js';
import type { RegisterValue } from './register.js';

export interface VersionedValue {
  readonly value: RegisterValue;
  readonly version: number;
}

export type ZkRegisterInput =
  | { f: 'read'; key?: string | number }
  | { f: 'write'; value: RegisterValue; key?: string | number }
  | { f: 'cas'; version: number; value: RegisterValue; key?: string | number };

/**
 * `undefined`: unknown outcome. A read's ok output carries what getData returned; a write or cas may carry the
 * version its Stat reported (checked when present). `{ok: false}` on cas is a BADVERSION.
 */
export type ZkRegisterOutput = { ok: true; value?: RegisterValue; version?: number } | { ok: false } | undefined;

function stepZk(state: VersionedValue, input: ZkRegisterInput, output: ZkRegisterOutput): VersionedValue | Illegal {
  switch (input.f) {
    case 'read':
      if (output === undefined) return state;
      return output.ok &&
        output.value === state.value &&
        (output.version === undefined || output.version === state.version)
        ? state
        : ILLEGAL;
    case 'write':
    case 'cas': {
      if (input.f === 'cas') {
        if (output !== undefined && !output.ok) return state.version !== input.version ? state : ILLEGAL;
        if (state.version !== input.version) return ILLEGAL;
      }
      const version = state.version + 1;
      if (output !== undefined && output.ok && output.version !== undefined && output.version !== version)
        return ILLEGAL;
      return { value: input.value, version };
    }
  }
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Builds the model; the znode starts with `initial` (by default null data at version 0, as after create). */
export function zkRegisterModel(
  initial: VersionedValue = { value: null, version: 0 },
): Model<VersionedValue, ZkRegisterInput, ZkRegisterOutput> {
  return {
    name: 'zk-register',
    init: () => initial,
    step: stepZk,
    hash: (s) => Math.imul(s.version + 1, 0x9e3779b1) ^ hashString(typeof s.value + String(s.value)),
    equal: (a, b) => a.version === b.version && a.value === b.value,
    partition: (input) => input.key ?? '',
    readOnly: (input, output) => input.f === 'read' || (input.f === 'cas' && output !== undefined && !output.ok),
    // Versions only grow, by one per successful write or cas.
    canReach: (state, input, output, candidates) => {
      if (output === undefined || !output.ok || input.f !== 'read' || output.version === undefined) return true;
      if (output.version < state.version) return false;
      const writes = candidates.filter((c) => c.f !== 'read').length;
      return (
        output.version - state.version <= writes && (output.version > state.version || output.value === state.value)
      );
    },
    values: {
      initial: initial.value,
      required: (input, output) => (input.f === 'read' && output?.ok ? (output.value ?? null) : undefined),
      written: (input) => (input.f === 'read' ? undefined : input.value),
    },
    describeOperation: (input, output) => {
      const key = input.key !== undefined ? `[${showJson(input.key)}]` : '';
      const shown =
        output === undefined
          ? '?'
          : !output.ok
            ? 'bad-version'
            : output.version !== undefined
              ? `v${output.version}`
              : 'ok';
      if (input.f === 'read')
        return `read${key} -> ${output?.ok ? `${showJson(output.value ?? null)}@v${output.version ?? '?'}` : shown}`;
      if (input.f === 'write') return `write${key}(${showJson(input.value)}) -> ${shown}`;
      return `cas${key}(v${input.version}, ${showJson(input.value)}) -> ${shown}`;
    },
    describeState: (s) => `${showJson(s.value)}@v${s.version}`,
    workerModule: { url: import.meta.url, exportName: 'zkRegisterModel', args: [initial] },
  };
}

export { hashString };

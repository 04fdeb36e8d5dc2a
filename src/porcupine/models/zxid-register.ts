// A ZooKeeper register with the zxids its replies carry, for the search: the specification that
// src/checkers/zxid-register.ts decides without search (see there), written as a sequential model. It is that
// checker's oracle, and `faultline check --model zxid-register --search` runs it.
//
// A state is (value, zxid, fresh): `fresh` means a write nobody observed, whose zxid lies somewhere after `zxid`
// and before the next integer (zxids are dense for this purpose). Ops of unknown outcome choose their zxid, so the
// model is nondeterministic; its state is the set of states it may be in, as a canonical string (a primitive, so
// the search compares states cheaply).
import { ILLEGAL, showJson, type Illegal, type Model } from '../model.js';

export type ZxidRegisterInput =
  /** A read, or the observation of a value-mismatch cas or of the read of a cas of unknown outcome. */
  | { f: 'read'; value: number; zxid: number; key?: string | number }
  /** A completed write (zxid given); a write of unknown outcome has no zxid. */
  | { f: 'write'; value: number; zxid?: number; key?: string | number }
  /** A completed cas (zxid given), or the write of a cas of unknown outcome right after the state it read (`after`). */
  | { f: 'cas'; from: number; value: number; zxid?: number; after?: number; key?: string | number };

/** `{ok: true}` for completed ops; undefined for the write of an op of unknown outcome. */
export type ZxidRegisterOutput = { ok: true } | undefined;

interface Config {
  value: number;
  zxid: number;
  fresh: boolean;
}

export interface ZxidRegisterOptions {
  initialValue: number;
  /** -Infinity when the initial state was never observed. */
  initialZxid?: number;
  /** Zxids observed that no completed write made: an op of unknown outcome may have made each. */
  orphans: readonly number[];
}

const encode = (configs: readonly Config[]): string =>
  [...new Set(configs.map((c) => `${c.value}:${c.zxid}:${c.fresh ? 1 : 0}`))].sort().join(',');

export function zxidRegisterModel(options: ZxidRegisterOptions): Model<string, ZxidRegisterInput, ZxidRegisterOutput> {
  const orphans = [...options.orphans].sort((a, b) => a - b);
  const decoded = new Map<string, Config[]>();
  const decode = (state: string): Config[] => {
    let configs = decoded.get(state);
    if (!configs) {
      configs = state.split(',').map((text) => {
        const [value, zxid, fresh] = text.split(':');
        return { value: Number(value), zxid: Number(zxid), fresh: fresh === '1' };
      });
      decoded.set(state, configs);
    }
    return configs;
  };
  /** Where a write of unknown outcome over `base` may land: an orphan zxid above it, or unobserved. */
  const landings = (value: number, base: number, out: Config[]): void => {
    out.push({ value, zxid: base, fresh: true });
    for (const z of orphans) if (z > base) out.push({ value, zxid: z, fresh: false });
  };
  return {
    name: 'zxid-register',
    init: () => encode([{ value: options.initialValue, zxid: options.initialZxid ?? -Infinity, fresh: false }]),
    step(state, input, output): string | Illegal {
      const next: Config[] = [];
      for (const c of decode(state)) {
        switch (input.f) {
          case 'read':
            if (!c.fresh && c.zxid === input.zxid && c.value === input.value) next.push(c);
            break;
          case 'write':
            if (output !== undefined) {
              if ((input.zxid as number) > c.zxid)
                next.push({ value: input.value, zxid: input.zxid as number, fresh: false });
            } else landings(input.value, c.zxid, next);
            break;
          case 'cas':
            if (c.value !== input.from) break;
            if (output !== undefined) {
              if ((input.zxid as number) > c.zxid)
                next.push({ value: input.value, zxid: input.zxid as number, fresh: false });
            } else if (!c.fresh && c.zxid === input.after) landings(input.value, c.zxid, next);
            break;
        }
      }
      return next.length === 0 ? ILLEGAL : encode(next);
    },
    partition: (input) => input.key ?? '',
    describeOperation: (input, output) => {
      const at = input.zxid !== undefined ? `@${input.zxid.toString(16)}` : '';
      if (input.f === 'read') return `read -> ${showJson(input.value)}${at}`;
      if (input.f === 'write') return `write(${showJson(input.value)})${at}${output === undefined ? ' -> ?' : ''}`;
      return `cas(${showJson(input.from)} -> ${showJson(input.value)})${at}${output === undefined ? ` after ${String(input.after?.toString(16))} -> ?` : ''}`;
    },
    describeState: (state) => state,
  };
}

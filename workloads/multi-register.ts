// The multi-register workload: many independent znodes (REGISTER_PATH/<key>), each op on one key, the history
// checked key by key (P-compositional), so longer and busier runs stay checkable.
import type { ClientOptions } from '../src/client.js';
import type { Workload } from '../src/workload.js';
import { registerWorkload, type ReadMode } from './register.js';

export const MULTI_REGISTER_KEYS = 8;

export function multiRegisterWorkload(
  readMode: ReadMode,
  clientOptions: ClientOptions,
  keys = MULTI_REGISTER_KEYS,
): Workload {
  return registerWorkload({ readMode, values: 5, keys, name: 'multi-register' }, clientOptions);
}

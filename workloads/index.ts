// The workload catalogue by name, as `--workload` takes it.
import type { ClientOptions } from '../src/client.js';
import { UsageError } from '../src/errors.js';
import type { Workload } from '../src/workload.js';
import { registerWorkload, type RegisterOptions } from './register.js';
import { multiRegisterWorkload } from './multi-register.js';
import { setWorkload } from './set.js';
import { queueWorkload } from './queue.js';
import { bankWorkload } from './bank.js';
import { sessionWorkload } from './session.js';

export interface WorkloadOptions {
  readMode: RegisterOptions['readMode'];
}

export const WORKLOADS: Record<string, (options: WorkloadOptions, client: ClientOptions) => Workload> = {
  register: (options, client) => registerWorkload({ readMode: options.readMode, values: 5 }, client),
  'multi-register': (options, client) => multiRegisterWorkload(options.readMode, client),
  set: (_options, client) => setWorkload(client),
  queue: (_options, client) => queueWorkload(client),
  bank: (_options, client) => bankWorkload(client),
  session: (_options, client) => sessionWorkload(client),
};

export function resolveWorkload(name: string, options: WorkloadOptions, client: ClientOptions): Workload {
  const make = WORKLOADS[name];
  if (!make) throw new UsageError(`unknown workload "${name}"`, `Use one of: ${Object.keys(WORKLOADS).join(', ')}.`);
  return make(options, client);
}

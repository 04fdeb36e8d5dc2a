// The workload catalogue by name, as `--workload` takes it.
import type { ClientOptions } from '../src/client.js';
import { UsageError } from '../src/errors.js';
import type { Workload } from '../src/workload.js';
import { registerWorkload, type RegisterOptions } from './register.js';

export interface WorkloadOptions {
  readMode: RegisterOptions['readMode'];
}

export const WORKLOADS: Record<string, (options: WorkloadOptions, client: ClientOptions) => Workload> = {
  register: (options, client) => registerWorkload({ readMode: options.readMode, values: 5 }, client),
};

export function resolveWorkload(name: string, options: WorkloadOptions, client: ClientOptions): Workload {
  const make = WORKLOADS[name];
  if (!make) throw new UsageError(`unknown workload "${name}"`, `Use one of: ${Object.keys(WORKLOADS).join(', ')}.`);
  return make(options, client);
}

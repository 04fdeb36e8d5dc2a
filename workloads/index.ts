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
import { lockWorkload } from './lock.js';
import { electionWorkload } from './election.js';
import { watchWorkload } from './watch.js';
import { aclWorkload } from './acl.js';
import type { DriverConnect } from './recipes.js';

export interface WorkloadOptions {
  readMode: RegisterOptions['readMode'];
  /** Recipe workloads (Curator driver): each client on its node only, or on the whole ensemble. */
  driverConnect?: DriverConnect;
  /** Recipe workloads: the Curator driver image their runs start (docker/driver.ts names it). */
  driverImage?: string;
}

const recipe = (options: WorkloadOptions, client: ClientOptions, fenced: boolean) => ({
  client,
  connect: options.driverConnect ?? 'node',
  fenced,
  ...(options.driverImage ? { image: options.driverImage } : {}),
});

export const WORKLOADS: Record<string, (options: WorkloadOptions, client: ClientOptions) => Workload> = {
  register: (options, client) => registerWorkload({ readMode: options.readMode, values: 5 }, client),
  'multi-register': (options, client) => multiRegisterWorkload(options.readMode, client),
  set: (_options, client) => setWorkload(client),
  queue: (_options, client) => queueWorkload(client),
  bank: (_options, client) => bankWorkload(client),
  session: (_options, client) => sessionWorkload(client),
  watch: (_options, client) => watchWorkload(client),
  acl: (_options, client) => aclWorkload(client),
  lock: (options, client) => lockWorkload(recipe(options, client, false)),
  'lock-fenced': (options, client) => lockWorkload(recipe(options, client, true)),
  election: (options, client) => electionWorkload(recipe(options, client, false)),
  'election-fenced': (options, client) => electionWorkload(recipe(options, client, true)),
};

/** Workloads that run Curator in the driver sidecar: their runs need the driver image. */
export const DRIVER_WORKLOADS: ReadonlySet<string> = new Set(['lock', 'lock-fenced', 'election', 'election-fenced']);

export function resolveWorkload(name: string, options: WorkloadOptions, client: ClientOptions): Workload {
  const make = WORKLOADS[name];
  if (!make) throw new UsageError(`unknown workload "${name}"`, `Use one of: ${Object.keys(WORKLOADS).join(', ')}.`);
  return make(options, client);
}

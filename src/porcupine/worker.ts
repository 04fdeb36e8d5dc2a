// Worker thread: loads the model named in workerData, then checks each partition it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import type { Model } from './model.js';
import type { WorkerSetup } from './parallel.js';
import { searchPartition, type PartitionInput } from './search.js';

const setup = workerData as WorkerSetup;
const loaded = (await import(setup.moduleUrl)) as Record<string, unknown>;
const exported = loaded[setup.exportName];
const model = (
  typeof exported === 'function' ? (exported as (...args: unknown[]) => unknown)(...setup.args) : exported
) as Model<unknown, unknown, unknown>;
if (!model || typeof model.step !== 'function')
  throw new Error(`${setup.moduleUrl} does not export a model named ${setup.exportName}`);

parentPort?.on('message', (msg: { index: number; part: PartitionInput<unknown, unknown> }) => {
  parentPort?.postMessage({ index: msg.index, result: searchPartition(model, msg.part, setup.limits) });
});

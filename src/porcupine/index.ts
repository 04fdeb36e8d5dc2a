// porcupine-ts: a linearizability checker (Wing & Gong / Lowe's just-in-time linearization with memoization,
// P-compositionality), after Porcupine by Anish Athalye.
export { ILLEGAL } from './model.js';
export type {
  Illegal,
  Model,
  Operation,
  Event,
  EventKind,
  CheckOptions,
  CheckResult,
  CheckVerdict,
  PartitionInfo,
} from './model.js';
export {
  checkOperations,
  checkEvents,
  checkOperationsParallel,
  checkEventsParallel,
  eventsToOperations,
  partitionOperations,
} from './check.js';
export * from './models/index.js';
export { workerUrls } from './parallel.js';

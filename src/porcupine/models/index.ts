export * from './register.js';
export * from './zk-register.js';
export * from './kv.js';
export * from './queue.js';
export * from './zxid-register.js';

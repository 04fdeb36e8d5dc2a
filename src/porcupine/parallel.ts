// Partitions checked on worker threads. Workers import the model from `model.workerModule`; under a TypeScript
// runner (vitest) the sources are .ts, which plain Node workers cannot load, so URLs are mapped to the compiled
// copies under dist/ (built by `tsc -p tsconfig.build.json`). When nothing runnable is found we return
// undefined and the caller checks in-thread.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckOptions, Model, PartitionInfo } from './model.js';
import type { Partition } from './partition.js';
import type { SearchLimits, SearchResult } from './search.js';
import { toPartitionInfo } from './partition.js';

/** Message to a worker: which model to load. */
export interface WorkerSetup {
  moduleUrl: string;
  exportName: string;
  args: readonly unknown[];
  limits: SearchLimits;
}

/** A file URL a plain Node worker can import: the URL itself if it is JavaScript, else the dist/ copy. */
export function runnableUrl(url: string): string | undefined {
  if (!url.startsWith('file:')) return url;
  const path = fileURLToPath(url);
  if (path.endsWith('.js') && existsSync(path)) return url;
  const match = /^(.*)[\\/]src[\\/](.*)\.ts$/.exec(path);
  if (!match) return undefined;
  const compiled = `${match[1]}/dist/src/${match[2]}.js`;
  return existsSync(compiled) ? pathToFileURL(compiled).href : undefined;
}

/** The worker script and the model module as plain Node can load them, or undefined (check in-thread). */
export function workerUrls(model: Model<unknown, never, never>): { workerUrl: string; moduleUrl: string } | undefined {
  if (!model.workerModule) return undefined;
  const workerUrl =
    runnableUrl(new URL('./worker.js', import.meta.url).href) ?? siblingOfCompiled(import.meta.url, 'worker.js');
  const moduleUrl = runnableUrl(model.workerModule.url);
  return workerUrl && moduleUrl ? { workerUrl, moduleUrl } : undefined;
}

export async function runInWorkers<S, I, O>(
  model: Model<S, I, O>,
  parts: readonly Partition<I, O>[],
  limits: SearchLimits,
  options: CheckOptions,
): Promise<PartitionInfo[] | undefined> {
  const workerCount = Math.min(options.workers ?? availableParallelism(), parts.length);
  if (workerCount < 2 || !model.workerModule) return undefined;
  const urls = workerUrls(model);
  if (!urls) return undefined;
  const { workerUrl, moduleUrl } = urls;
  const setup: WorkerSetup = {
    moduleUrl,
    exportName: model.workerModule.exportName,
    args: model.workerModule.args ?? [],
    limits,
  };

  // Largest partitions first, so a long one does not start last.
  const order = parts
    .map((_, i) => i)
    .sort((a, b) => (parts[b] as Partition<I, O>).indexes.length - (parts[a] as Partition<I, O>).indexes.length);
  const results = new Array<PartitionInfo | undefined>(parts.length);
  const workers: Worker[] = [];
  let nextPart = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      let done = false;
      const dispatch = (worker: Worker): void => {
        if (nextPart >= order.length) return;
        const index = order[nextPart++] as number;
        const { inputs, outputs, calls, returns } = parts[index] as Partition<I, O>;
        worker.postMessage({ index, part: { inputs, outputs, calls, returns } });
      };
      for (let w = 0; w < workerCount; w++) {
        const worker = new Worker(new URL(workerUrl), { workerData: setup });
        workers.push(worker);
        worker.on('message', (msg: { index: number; result: SearchResult }) => {
          if (done) return;
          const info = toPartitionInfo(parts[msg.index] as Partition<I, O>, msg.result);
          results[msg.index] = info;
          finished++;
          if ((info.result === 'illegal' && options.stopEarly) || finished === parts.length) {
            done = true;
            resolve();
            return;
          }
          dispatch(worker);
        });
        worker.on('error', (err) => {
          if (!done) {
            done = true;
            reject(err);
          }
        });
        dispatch(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.filter((r): r is PartitionInfo => r !== undefined);
}

function siblingOfCompiled(url: string, file: string): string | undefined {
  const self = runnableUrl(url);
  return self ? runnableUrl(new URL(`./${file}`, self).href) : undefined;
}

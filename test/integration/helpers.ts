// Shared by the Docker integration tests: a short test config and a check that a run left nothing behind.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { LABEL_RUN } from '../../src/cluster.js';
import { resolveRunConfig, type RunConfig, type RunLayer } from '../../src/config.js';

/** A 30 s run of the register workload on bookworm under leader partitions and kills; `overrides` win. */
export function shortTestConfig(overrides: RunLayer = {}): RunConfig {
  return resolveRunConfig(
    {
      name: 'it',
      server: 'debian:bookworm',
      nodes: 3,
      timeLimitS: 30,
      concurrency: 6,
      rate: 60,
      seed: 7,
      nemesis: ['partition-leader', 'kill-leader'],
      nemesisIntervalS: 5,
      workload: 'register',
      readMode: 'sync',
      resultsDir: mkdtempSync(join(tmpdir(), 'faultline-it-')),
      opTimeoutS: 3,
      zookeeper: { tickTime: 500, syncLimit: 5 },
    },
    overrides,
  );
}

/** Containers and networks that still carry the run's label. */
export async function leftovers(runId: string): Promise<string[]> {
  const docker = new Docker();
  const filters = { label: [`${LABEL_RUN}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [...containers.map((c) => c.Names.join(',')), ...networks.map((n) => n.Name)];
}

// Shared by the Docker integration tests: a short test config and a check that a run left nothing behind.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { LABEL_RUN } from '../../src/cluster.js';
import { resolveTestConfig, type TestConfig } from '../../src/commands/test.js';

export function shortTestConfig(overrides: Partial<Record<string, string>> = {}): TestConfig {
  return resolveTestConfig({
    name: 'it',
    server: 'debian:bookworm',
    nodes: '3',
    timeLimit: '30',
    concurrency: '6',
    rate: '60',
    seed: '7',
    nemesis: 'partition-leader,kill-leader',
    nemesisInterval: '5',
    workload: 'register',
    readMode: 'sync',
    resultsDir: mkdtempSync(join(tmpdir(), 'faultline-it-')),
    tickTime: '500',
    syncLimit: '5',
    opTimeout: '3',
    ...overrides,
  });
}

/** Containers and networks that still carry the run's label. */
export async function leftovers(runId: string): Promise<string[]> {
  const docker = new Docker();
  const filters = { label: [`${LABEL_RUN}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [...containers.map((c) => c.Names.join(',')), ...networks.map((n) => n.Name)];
}

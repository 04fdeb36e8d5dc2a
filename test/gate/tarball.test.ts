// The tarball server path for real: a tarball assembled from the Debian package's jars is layered on the JDK
// base image, and a short run on it reports the version the servers say they are.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureImage, tarballVersion } from '../../docker/image.js';
import { executeTest } from '../../src/run/execute.js';
import { MemoryLogger } from '../../src/log.js';
import { leftovers, shortTestConfig } from '../integration/helpers.js';
import { assembleTarball } from './tarball-build.js';

describe('apache tarball server build', () => {
  let tarball = '';
  beforeAll(async () => {
    const docker = new Docker();
    tarball = await assembleTarball(docker, join(tmpdir(), 'faultline-tarball'));
    // The JDK base is built on first use (about a minute), then the tarball is layered on it.
    await ensureImage(docker, tarball, new MemoryLogger());
  }, 600_000);

  it('names the version from the file and labels the layered image', async () => {
    expect(tarballVersion(tarball)).toBe('3.8.0');
    const image = await ensureImage(new Docker(), tarball, new MemoryLogger());
    expect(image.name).toMatch(/^faultline\/zookeeper:tarball-3\.8\.0-[0-9a-f]{12}$/);
    const labels = (await new Docker().getImage(image.name).inspect()).Config.Labels;
    expect(labels).toMatchObject({ 'faultline.image': 'zookeeper', 'faultline.zookeeper.expected': '3.8.0' });
  });

  it('runs an ensemble from the tarball and records the version srvr reports', async () => {
    const config = {
      ...shortTestConfig({ timeLimitS: 15, nemesis: ['kill-leader'], nemesisIntervalS: 4 }),
      server: tarball,
    };
    const { outcome, runDir, runId } = await executeTest(config, new MemoryLogger(), new AbortController().signal);
    expect(outcome.valid).toBe(true);
    expect(Object.values(outcome.serverVersions ?? {})).toHaveLength(3);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as {
      server: { version: string; image: string };
    };
    expect(results.server.version).toMatch(/^3\.8\.0/);
    expect(results.server.image).toMatch(/tarball-3\.8\.0/);
    const test = JSON.parse(readFileSync(join(runDir, 'test.json'), 'utf8')) as { serverVersion: string };
    expect(test.serverVersion).toBe(results.server.version);
    expect(await leftovers(runId)).toEqual([]);
  }, 120_000);
});

// The suite's global setup: a running Docker engine and the default server image, built if missing.
// No engine is a failure, never a skip: the Docker tests are the point of this suite.
import { prepareEnvironment } from '../docker/environment.js';
import { ensureDriverImage } from '../docker/driver.js';
import { DEFAULT_SERVER } from '../docker/image.js';
import { ConsoleLogger } from '../src/log.js';

export default async function setup(): Promise<void> {
  const { docker } = await prepareEnvironment(DEFAULT_SERVER, new ConsoleLogger());
  // The lock and election workloads run Curator in a container of this image.
  await ensureDriverImage(docker, new ConsoleLogger());
}

// The client driver's image: Apache Curator and the official Java client from Debian packages, and our driver
// program (docker/driver/FaultlineDriver.java) compiled into the image while mmdebstrap builds it. No registry.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { HarnessError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { ensureRecipeImage, imageName, type ServerImage, type ServerRecipe } from './image.js';

const SOURCE_NAME = 'FaultlineDriver.java';
const DRIVER_DIR = '/opt/faultline-driver';
import { DRIVER_COMMAND } from '../src/driver.js';

/**
 * Debian trixie: Curator 5.7.1 on the Java client 3.9.3 (bookworm has Curator 5.4.0 on 3.8.0). A 3.9 client
 * talks to 3.8 and 3.9 servers alike, and 5.7.1 is the newest Curator Debian ships in a stable release.
 */
const DRIVER_SUITE = 'trixie';
const JDK = 'openjdk-21-jdk-headless';
const JARS = [
  'curator-client',
  'curator-framework',
  'curator-recipes',
  'zookeeper',
  'zookeeper-jute',
  'guava',
  'slf4j-api',
  'slf4j-simple',
  'jackson-databind',
  'jackson-core',
  'jackson-annotations',
];
const CLASSPATH = JARS.map((j) => `/usr/share/java/${j}.jar`).join(':');
// Quick start and a small heap: one JVM per client process, several per run, on a 2-core machine.
const JVM_FLAGS = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss512k',
  '-Xmx96m',
  '-XX:-UsePerfData',
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
];

/** FaultlineDriver.java beside this module when run from source; in the checkout's docker/driver from dist/docker. */
export function driverSourcePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'driver', SOURCE_NAME), join(here, '..', '..', 'docker', 'driver', SOURCE_NAME)];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new HarnessError(
      `the client driver's source ${SOURCE_NAME} is missing (looked in ${candidates.join(', ')})`,
      'Reinstall Faultline from a complete checkout.',
    );
  return found;
}

/**
 * The recipe. The source travels inside a hook (base64), so the recipe hash, and with it the image name, changes
 * exactly when the source or the recipe does, wherever the checkout lies.
 */
export function driverRecipe(source: string = readFileSync(driverSourcePath(), 'utf8')): ServerRecipe {
  const encoded = Buffer.from(source, 'utf8').toString('base64');
  const launcher = `#!/bin/sh\nexec java ${JVM_FLAGS.join(' ')} -cp ${DRIVER_DIR}:${CLASSPATH} FaultlineDriver "$@"\n`;
  return {
    id: `driver:${DRIVER_SUITE}`,
    suite: DRIVER_SUITE,
    expectedVersion: '',
    packages: [JDK, 'libcurator-recipes-java', 'libzookeeper-java', 'libjackson2-databind-java', 'procps'],
    aptOptions: [],
    repo: 'faultline/driver',
    kind: 'driver',
    hooks: [
      `mkdir -p "$1${DRIVER_DIR}" && echo ${encoded} | base64 -d > "$1${DRIVER_DIR}/${SOURCE_NAME}"`,
      `chroot "$1" javac -encoding UTF-8 -implicit:none -cp ${CLASSPATH} -d ${DRIVER_DIR} ${DRIVER_DIR}/${SOURCE_NAME}`,
      `printf '%s' '${launcher}' > "$1${DRIVER_COMMAND}" && chmod 755 "$1${DRIVER_COMMAND}"`,
      // Loads every class the driver needs, so a missing jar fails the build, not the first run.
      `chroot "$1" ${DRIVER_COMMAND} --check`,
    ],
  };
}

export function driverImageName(): string {
  return imageName(driverRecipe());
}

/** Builds the driver image unless an image of the current recipe (and source) exists. */
export async function ensureDriverImage(docker: Docker, log: Logger, signal?: AbortSignal): Promise<ServerImage> {
  return ensureRecipeImage(docker, driverRecipe(), log, signal);
}

// Assembles an Apache-layout binary tarball (apache-zookeeper-X-bin/{bin,lib,conf}) from the jars of the
// Debian server image, without any download, so the tarball server path can be tested here.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { imageName, SERVER_RECIPES } from '../../docker/image.js';

// A stand-in for Apache's bin/zkServer.sh: only `start-foreground CONFIG`, which is all the harness uses.
const ZK_SERVER_SH = `#!/bin/sh
ZOOBINDIR=$(cd "$(dirname "$0")" && pwd)
ZOOKEEPER_PREFIX=$(dirname "$ZOOBINDIR")
[ "$1" = start-foreground ] || { echo "usage: zkServer.sh start-foreground CONFIG" >&2; exit 2; }
exec java "-Dzookeeper.log.dir=\${ZOO_LOG_DIR:-.}" -Dzookeeper.root.logger=INFO,CONSOLE -cp "$ZOOKEEPER_PREFIX/conf:$ZOOKEEPER_PREFIX/lib/*" $SERVER_JVMFLAGS $JVMFLAGS org.apache.zookeeper.server.quorum.QuorumPeerMain "$2"
`;

/** Writes <outDir>/apache-zookeeper-<version>-bin.tar.gz from the Debian bookworm image and returns its path. */
export async function assembleTarball(docker: Docker, outDir: string, version = '3.8.0'): Promise<string> {
  const top = `apache-zookeeper-${version}-bin`;
  const path = join(outDir, `${top}.tar.gz`);
  if (existsSync(path)) return path;
  mkdirSync(outDir, { recursive: true });
  const script = [
    'set -e',
    `d=/tmp/${top}`,
    'mkdir -p $d/bin $d/lib $d/conf',
    // Each jar once, symlinks followed: lib/* on the class path then holds ZooKeeper and its dependencies.
    'find /usr/share/java -maxdepth 1 -name "*.jar" -exec readlink -f {} \\; | sort -u | xargs cp -t $d/lib',
    // One slf4j binding (log4j 1.2, as Debian runs it): the other bindings and bridges loop or clash.
    'cd $d/lib && rm -f log4j-over-slf4j*.jar slf4j-jcl*.jar slf4j-jdk14*.jar slf4j-nop*.jar slf4j-simple*.jar slf4j-migrator*.jar metrics-log4j*.jar metrics-logback*.jar',
    'cp /etc/zookeeper/conf/log4j.properties $d/conf/',
    `cat > $d/bin/zkServer.sh <<'SH'\n${ZK_SERVER_SH}SH`,
    'chmod +x $d/bin/zkServer.sh',
    `tar -C /tmp -czf /out/${top}.tar.gz ${top}`,
    `chmod 666 /out/${top}.tar.gz`,
  ].join('\n');
  const container = await docker.createContainer({
    Image: imageName(SERVER_RECIPES['debian:bookworm']!),
    Cmd: ['sh', '-c', script],
    HostConfig: { Binds: [`${outDir}:/out`], NetworkMode: 'none', AutoRemove: false },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0)
      throw new Error(
        `assembling ${top} failed (exit ${StatusCode}): ${(await container.logs({ stdout: true, stderr: true })).toString()}`,
      );
  } finally {
    await container.remove({ force: true });
  }
  return path;
}

// Debian packages the harness needs on the host (docker.io, mmdebstrap, fuse3, chromium for the browser tests):
// installed when missing, as root on Debian; elsewhere, a message that says what to install.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { HarnessError } from './errors.js';
import type { Logger } from './log.js';

export function onDebianAsRoot(): boolean {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
}

export async function commandExists(name: string): Promise<boolean> {
  const result = await execa('sh', ['-c', `command -v ${name}`], { reject: false });
  return result.exitCode === 0;
}

/**
 * Installs Debian packages when their command is missing (root on Debian only). `present` replaces the command
 * check for packages without a command (headers, libraries); `command` then names what is missing.
 */
export async function ensureDebianPackage(
  command: string,
  pkg: string,
  why: string,
  log: Logger,
  present: () => Promise<boolean> = () => commandExists(command),
): Promise<void> {
  if (await present()) return;
  if (!onDebianAsRoot()) {
    throw new HarnessError(
      `${command} is not installed; Faultline needs it ${why}.`,
      `Install the Debian package ${pkg} (apt-get install ${pkg}), or run faultline as root on Debian so it can.`,
    );
  }
  log.info(`Installing Debian's ${pkg} (needed ${why}): apt-get update && apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await execa('apt-get', ['update'], { env });
    await execa('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env });
  } catch (err) {
    throw new HarnessError(
      `installing ${pkg} failed: ${(err as Error).message.split('\n')[0]}`,
      `Install ${pkg} by hand (apt-get install ${pkg}) and run again.`,
      { cause: err },
    );
  }
}

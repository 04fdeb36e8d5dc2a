// Faultline's own iptables chains inside a node: each fault puts its rules in a chain of its own, jumped to
// first from the hooks it needs, so a heal removes exactly what Faultline added and nothing else.

export type Hook = 'INPUT' | 'OUTPUT';

/** An iptables command; -w waits for the xtables lock instead of failing when another iptables call holds it. */
export function iptables(args: string): string {
  return `iptables -w ${args}`;
}

/** Shell that removes the chain and every jump to it from the hooks, when it exists, and then echoes `marker`. */
export function removeChainScript(chain: string, hooks: readonly Hook[], marker: string): string {
  return [
    `if ${iptables(`-L ${chain} -n`)} >/dev/null 2>&1; then`,
    ...hooks.map((hook) => `  while ${iptables(`-D ${hook} -j ${chain}`)} 2>/dev/null; do :; done;`),
    `  ${iptables(`-F ${chain}`)} && ${iptables(`-X ${chain}`)} && echo ${marker};`,
    'fi;',
  ].join(' ');
}

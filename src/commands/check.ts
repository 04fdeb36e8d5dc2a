// Placeholder until src/porcupine lands (issue 3); replaced by the real `faultline check`.
import type { Command } from 'commander';
export function registerCheckCommand(_program: Command): void {}

// Loads Porcupine's test corpus (test/fixtures/porcupine, MIT: its licence file sits beside it) through our readers (src/formats).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEdnHistory, parseJepsenLog } from '../../src/formats/index.js';
import type { HistoryEvent } from '../../src/history.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const corpusDir = path.resolve(repoRoot, 'test', 'fixtures', 'porcupine');

/** The etcd histories Porcupine's tests assert linearizable; the other non-empty ones are not. */
export const etcdLinearizable = new Set(
  '002 005 007 018 025 031 038 045 048 049 051 053 056 067 075 076 080 087 092 098 100 101 102'.split(' ').map(Number),
);

export interface EtcdHistory {
  number: number;
  file: string;
  events: HistoryEvent[];
}

/** The 102 etcd histories with a verdict (etcd_095.log is empty: that run's cluster never started). */
export function loadEtcd(): EtcdHistory[] {
  const dir = path.join(corpusDir, 'jepsen');
  return readdirSync(dir)
    .filter((f) => /^etcd_\d+\.log$/.test(f))
    .sort()
    .map((file) => ({ number: Number(file.slice(5, 8)), file, text: readFileSync(path.join(dir, file), 'utf8') }))
    .filter((h) => h.text.trim() !== '')
    .map(({ number, file, text }) => ({ number, file, events: parseJepsenLog(text, file) }));
}

export function loadKv(name: string): HistoryEvent[] {
  const file = path.join(corpusDir, 'kv', `${name}.txt`);
  return parseEdnHistory(readFileSync(file, 'utf8'), file);
}

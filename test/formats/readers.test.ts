// The history readers (src/formats): every format read exactly, non-histories refused, ties made explicit.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/checkers/linearizable.js';
import { UsageError } from '../../src/errors.js';
import {
  applyTies,
  detectFormat,
  parseEdnHistory,
  parseJepsenLog,
  readHistoryFile,
  showValue,
} from '../../src/formats/index.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { readHistory, type HistoryEvent } from '../../src/history.js';
import { repoRoot } from '../porcupine/corpus.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'histories');
const fixture = (name: string): string => path.join(fixtures, name);
const dir = mkdtempSync(path.join(tmpdir(), 'faultline-formats-'));
const temp = (name: string, text: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

async function verdict(file: string, ties?: 'recorded' | 'concurrent'): Promise<unknown> {
  const { events } = await readHistoryFile(file, ties ? { ties } : {});
  return (await checkLinearizable(events, { model: 'cas-register' })).valid;
}

describe('EDN (Jepsen history.edn, Knossos, Porcupine kv)', () => {
  it('keeps integers, vectors and nil: write 1 then read 2 is not linearizable', async () => {
    const { format, events } = await readHistoryFile(fixture('write1-read2.edn'));
    expect(format).toBe('edn');
    expect(events.map((e) => [e.index, e.time, e.process, e.type, e.f, e.value])).toEqual([
      [0, 1000, 0, 'invoke', 'write', 1],
      [1, 2000, 0, 'ok', 'write', 1],
      [2, 3000, 1, 'invoke', 'read', null],
      [3, 4000, 1, 'ok', 'read', 2],
    ]);
    expect(await verdict(fixture('write1-read2.edn'))).toBe(false);
    expect(await verdict(fixture('write1-read1.edn'))).toBe(true);
  });

  it('keeps integers beyond 2^53 exact, in EDN and in JSON Lines', async () => {
    const { events } = await readHistoryFile(fixture('big-integers.edn'));
    expect(events[0]?.value).toBe(9007199254740993n);
    expect(events[3]?.value).toBe(9007199254740992n);
    expect(await verdict(fixture('big-integers.edn'))).toBe(false);
    expect(await verdict(fixture('big-integers-ok.edn'))).toBe(true);
    expect(await verdict(fixture('big-integers.jsonl'))).toBe(false);
    // Through import: the JSON Lines written keep the digits, and read back exactly.
    const written = toJsonl(events);
    expect(written).toContain('"value":9007199254740993}');
    const back = await readHistory(temp('big.jsonl', written));
    expect(back[0]?.value).toBe(9007199254740993n);
    expect(JSON.stringify(back[0]?.index)).toBe('0'); // small numbers stay numbers
  });

  it('reads Jepsen 0.3 records, nemesis ops and errors; a failed op did not happen', async () => {
    const { events } = await readHistoryFile(fixture('records.edn'));
    expect(events).toHaveLength(14);
    expect(events[1]).toMatchObject({ process: 'nemesis', type: 'info', f: 'start-partition' });
    expect(events[1]?.value).toEqual(['isolated', { n1: ['n2', 'n3'] }]);
    expect(events[8]).toMatchObject({ type: 'info', error: 'timeout' });
    expect(await verdict(fixture('records.edn'))).toBe(true);
    expect(await verdict(fixture('records-failed-cas-seen.edn'))).toBe(false);
  });

  it("reads Knossos's layout (one vector of maps) with known verdicts", async () => {
    const good = await readHistoryFile(fixture('knossos-cas-good.edn'));
    expect(good.events).toHaveLength(600);
    expect(good.events.every((e, i) => e.index === i && e.time === i)).toBe(true);
    expect(await verdict(fixture('knossos-cas-good.edn'))).toBe(true);
    expect(await verdict(fixture('knossos-cas-bad.edn'))).toBe(false);
    expect(await verdict(fixture('jepsen-cas-good.edn'))).toBe(true);
  });

  it("reads Porcupine's kv logs (EDN with :key)", () => {
    const text =
      '{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}\n{:process 0, :type :ok, :f :get, :key "4", :value nil}\n';
    expect(parseEdnHistory(text).map((e) => [e.process, e.type, e.f, e.key, e.value])).toEqual([
      [0, 'invoke', 'append', '4', 'x 0 1 y'],
      [0, 'ok', 'get', '4', null],
    ]);
    expect(detectFormat(text)).toBe('edn');
  });

  it('refuses what is not an EDN history, naming the line', () => {
    expect(() =>
      parseEdnHistory('{:type :invoke, :f :read, :process 0}\nroot:x:0:0:root:/root:/bin/bash\n', 'f'),
    ).toThrow(/^f:2: not an operation/);
    expect(() => parseEdnHistory('{:type :started, :f :read, :process 0}', 'f')).toThrow(/:type must be/);
    expect(() => parseEdnHistory('[{:type :invoke, :f :read, :process 0}', 'f')).toThrow(/unclosed/);
    expect(() => parseEdnHistory('{:type :invoke, :f :read, :process 0.5}', 'f')).toThrow(/:process must be/);
  });
});

describe('Jepsen text log', () => {
  it('reads register logs, values exactly', () => {
    const events = parseJepsenLog(
      [
        'INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]',
        'some noise',
        'INFO  jepsen.util - 3 :fail :cas [1 4]',
        'INFO  jepsen.util - 4\t:invoke\t:read\tnil',
        'INFO  jepsen.util - 4\t:fail\t:read\t:timed-out',
        'INFO  jepsen.util - 1\t:invoke\t:write\t9007199254740993',
        'INFO  jepsen.util - 1\t:info\t:write\t:timed-out',
      ].join('\n'),
    );
    expect(events.map((e) => [e.process, e.type, e.f, e.value, e.error])).toEqual([
      [3, 'invoke', 'cas', [1, 4], undefined],
      [3, 'fail', 'cas', [1, 4], 'value-mismatch'],
      [4, 'invoke', 'read', null, undefined],
      [4, 'info', 'read', null, 'timed-out'],
      [1, 'invoke', 'write', 9007199254740993n, undefined],
      [1, 'info', 'write', null, 'timed-out'],
    ]);
  });

  it('checks a log with noise around it, and refuses an EDN file or /etc/passwd given as one', async () => {
    expect(await verdict(fixture('register.log'))).toBe(true);
    await expect(readHistoryFile(fixture('write1-read2.edn'), { format: 'jepsen-log' })).rejects.toThrow(
      /no Jepsen log line/,
    );
    const passwd = temp('passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n');
    await expect(readHistoryFile(passwd, { format: 'jepsen-log' })).rejects.toBeInstanceOf(UsageError);
    await expect(readHistoryFile(passwd)).rejects.toThrow(/not a history/);
  });
});

describe('what is not a history is refused', () => {
  it('empty files, a line of text, only nemesis events', async () => {
    await expect(readHistoryFile(temp('empty', ''))).rejects.toThrow(/empty/);
    await expect(readHistoryFile(temp('hostname', 'myhost\n'))).rejects.toThrow(/not a history/);
    await expect(readHistoryFile(temp('hostname.jsonl', 'myhost\n'), { format: 'jsonl' })).rejects.toThrow(
      /not valid JSON/,
    );
    const nemesis = temp('nemesis.edn', '[{:process :nemesis, :type :info, :f :kill, :value nil}]');
    await expect(readHistoryFile(nemesis)).rejects.toThrow(/none of them a client operation/);
  });

  it('JSON Lines with indexes out of order, or equal', async () => {
    const line = (index: number, type: string): string =>
      JSON.stringify({ index, time: index, process: 0, type, f: 'read', value: null });
    await expect(readHistory(temp('equal.jsonl', `${line(0, 'invoke')}\n${line(0, 'ok')}\n`))).rejects.toThrow(
      /increasing index order/,
    );
    await expect(readHistory(temp('back.jsonl', `${line(5, 'invoke')}\n${line(2, 'ok')}\n`))).rejects.toThrow(
      /index 2 after index 5/,
    );
    // A truncated last line is still only a warning.
    const warnings: string[] = [];
    const events = await readHistory(temp('partial.jsonl', `${line(0, 'invoke')}\n{"index":1,"ti`), (w) =>
      warnings.push(w),
    );
    expect(events).toHaveLength(1);
    expect(warnings[0]).toMatch(/incomplete/);
  });
});

describe('ties in time', () => {
  const tie: HistoryEvent[] = [
    { index: 0, time: 0, process: 0, type: 'invoke', f: 'write', value: 1 },
    { index: 1, time: 10, process: 0, type: 'ok', f: 'write', value: 1 },
    { index: 2, time: 10, process: 1, type: 'invoke', f: 'read', value: null },
    { index: 3, time: 10, process: 0, type: 'invoke', f: 'read', value: null },
    { index: 4, time: 20, process: 1, type: 'ok', f: 'read', value: null },
    { index: 5, time: 20, process: 0, type: 'ok', f: 'read', value: 1 },
  ];
  it('concurrent: at equal times invocations come first, each process keeping its order', () => {
    const order = applyTies(tie, 'concurrent').map((e) => [e.index, e.process, e.type]);
    expect(order).toEqual([
      [0, 0, 'invoke'],
      [1, 1, 'invoke'],
      [2, 0, 'ok'],
      [3, 0, 'invoke'],
      [4, 1, 'ok'],
      [5, 0, 'ok'],
    ]);
    expect(applyTies(tie, 'recorded')).toEqual(tie);
  });
  it('decides the verdict of a history whose times tie, as chosen', async () => {
    expect(await verdict(fixture('ties.edn'))).toBe(true); // imported: concurrent by default
    expect(await verdict(fixture('ties.edn'), 'recorded')).toBe(false);
  });
});

describe('values shown to people', () => {
  it('bigints as digits, huge values cut', () => {
    expect(showValue(9007199254740993n)).toBe('9007199254740993');
    const huge = showValue('x'.repeat(5_000_000));
    expect(huge.length).toBeLessThan(300);
    expect(huge).toMatch(/5,000,002 characters\)$/);
  });
});

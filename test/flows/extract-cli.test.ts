// `flowsentry extract` end to end through the compiled CLI: CSV with the CIC identifier + feature columns, JSON
// lines with the NetFlow set, the --json summary, stdin, and the one-line error for a file that is not a capture.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIC_FEATURES, CIC_IDENTIFIERS } from '../../src/datasets/cic-names.js';
import { NETFLOW_FEATURES } from '../../src/flows/features/netflow.js';
import { cli } from '../helpers/cli.js';
import { ethernet, ipv4, pcapFile, tcp, udp } from './packet-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-extract-'));
const capture = join(dir, 'two-flows.pcap');
writeFileSync(
  capture,
  pcapFile([
    { t: 100, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 5555, dport: 22, flags: 0x02, window: 1024 }))) },
    { t: 100.5, bytes: ethernet(ipv4({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 6 }, tcp({ sport: 22, dport: 5555, flags: 0x14 }))) },
    { t: 101, bytes: ethernet(ipv4({ src: '10.0.0.3', dst: '10.0.0.4', protocol: 17 }, udp(53, 53, 12))) },
    { t: 102, bytes: [1, 2, 3] },
  ]),
);

test('extract → CSV with CIC columns and a --json summary', () => {
  const out = join(dir, 'flows.csv');
  const r = cli(['extract', capture, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { packets: number; flows: number; skipped: Record<string, number>; evictions: number; packetsPerSecond: number };
  assert.equal(summary.packets, 4);
  assert.equal(summary.flows, 2);
  assert.deepEqual(summary.skipped, { 'truncated-link-header': 1 });
  assert.equal(summary.evictions, 0);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.deepEqual(lines[0]!.split(','), [...CIC_IDENTIFIERS, ...CIC_FEATURES]);
  assert.equal(lines.length, 3);
  const rst = lines.map((l) => l.split(',')).find((cells) => cells[0] === '10.0.0.1-10.0.0.2-5555-22-6')!;
  const col = (name: string): string => rst[CIC_IDENTIFIERS.length + CIC_FEATURES.indexOf(name)]!;
  assert.equal(col('Flow Duration'), '500000');
  assert.equal(col('RST Flag Count'), '1');
  assert.equal(col('FWD Init Win Bytes'), '1024');
});

test('--workers 2 splits flows between threads and writes the same rows', () => {
  const one = join(dir, 'one.csv');
  const two = join(dir, 'two.csv');
  assert.equal(cli(['extract', capture, capture, '--out', one, '--workers', '1']).code, 0);
  const r = cli(['extract', capture, capture, '--out', two, '--workers', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { packets: number }).packets, 8);
  const rows = (f: string): string[] => readFileSync(f, 'utf8').trim().split('\n').sort();
  assert.deepEqual(rows(two), rows(one));
});

test('extract from stdin → JSON lines with the NetFlow feature set', () => {
  const r = cli(['extract', '-', '--features', 'netflow', '--format', 'jsonl'], readFileSync(capture));
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { protocol: number; packets: number; features: Record<string, number> });
  assert.equal(rows.length, 2);
  assert.deepEqual(Object.keys(rows[0]!.features), [...NETFLOW_FEATURES]);
  const udpRow = rows.find((x) => x.protocol === 17)!;
  assert.equal(udpRow.features['bytes'], 20 + 8 + 12);
  assert.match(r.stderr, /packets 4, flows 2/);
});

test('a file that is not a capture: exit 1 and one line naming it', () => {
  const bogus = join(dir, 'bogus.csv');
  writeFileSync(bogus, 'a,b,c\n1,2,3\n');
  const r = cli(['extract', bogus, '--out', join(dir, 'x.csv')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(r.stderr.includes(bogus));
  assert.equal(cli(['extract', capture, '--features', 'zeek']).code, 2);
});

test('an unwritable --out fails before reading, in one line that says why in words', () => {
  const missing = cli(['extract', capture, '--out', join(dir, 'no-such-folder', 'flows.csv')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), `flowsentry: ${join(dir, 'no-such-folder', 'flows.csv')}: --out: cannot write here: folder ${join(dir, 'no-such-folder')} does not exist`);
  if (existsSync('/proc/self')) {
    const proc = cli(['extract', capture, '--out', '/proc/flows.csv']);
    assert.equal(proc.code, 1);
    assert.equal(proc.stderr.trim(), 'flowsentry: /proc/flows.csv: --out: cannot write in folder /proc: the folder does not accept new files');
  }
});

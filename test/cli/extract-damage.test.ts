// `flowsentry extract` on a capture cut short: the flows before the cut are written, one stderr line names the file,
// what is wrong and the packets read, and the exit code is 1 (as tcpdump exits on a "truncated dump file"). A whole
// file, or a file with one odd packet (a per-packet skip), still exits 0 without that line. A missing or non-capture
// file among the inputs (also a gzip holding no capture) is refused before any output is written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ethernet, ipv4, pcapFile, tcp, udp } from '../flows/packet-builder.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-extract-damage-'));

// Three packets, two flows: a TCP SYN and its SYN-ACK, then one DNS datagram (12-byte payload).
const synFrame = ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 5555, dport: 22, flags: 0x02 })));
const synAckFrame = ethernet(ipv4({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 6 }, tcp({ sport: 22, dport: 5555, flags: 0x12 })));
const dnsFrame = ethernet(ipv4({ src: '10.0.0.3', dst: '10.0.0.4', protocol: 17 }, udp(53, 53, 12)));
const whole = pcapFile([
  { t: 100, bytes: synFrame },
  { t: 100.5, bytes: synAckFrame },
  { t: 101, bytes: dnsFrame },
]);
// 24-byte file header, then per packet a 16-byte record header and the frame: cut 10 bytes into the third frame.
const cutAt = 24 + (16 + synFrame.length) + (16 + synAckFrame.length) + 16 + 10;

test('a pcap cut in the middle of its third packet: the first flow is written, one line names the file, exit 1', () => {
  const capture = join(dir, 'cut.pcap');
  writeFileSync(capture, whole.subarray(0, cutAt));
  const out = join(dir, 'cut.csv');
  const r = cli(['extract', capture, '--out', out]);
  assert.equal(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('flowsentry:'));
  assert.deepEqual(errors, [
    `flowsentry: ${capture}: the capture is cut short or damaged at byte ${cutAt - 26}: it ends in the middle of a packet record; the flows of the 2 packets read were written`,
  ]);
  const rows = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows.length, 2, 'header and the TCP flow');
  assert.ok(rows[1]!.startsWith('10.0.0.1-10.0.0.2-5555-22-6,'), rows[1]);
});

test('with --json the summary is still the only thing on stdout, and names the cut file', () => {
  const capture = join(dir, 'cut-json.pcap');
  writeFileSync(capture, whole.subarray(0, cutAt));
  const r = cli(['extract', capture, '--out', join(dir, 'cut-json.csv'), '--json']);
  assert.equal(r.code, 1);
  const summary = JSON.parse(r.stdout) as { packets: number; flows: number; captures: { source: string; skipped: Record<string, number> }[] };
  assert.equal(summary.packets, 2);
  assert.equal(summary.flows, 1);
  assert.deepEqual(summary.captures[0]!.skipped, { 'truncated-record': 1 });
  assert.match(r.stderr, /cut-json\.pcap: the capture is cut short or damaged/);
});

test('a whole capture, and one with a per-packet skip, exit 0 without a damage line', () => {
  const capture = join(dir, 'whole.pcap');
  writeFileSync(capture, whole);
  const r = cli(['extract', capture, '--out', join(dir, 'whole.csv')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^packets 3, flows 2,/);

  const odd = join(dir, 'odd-packet.pcap');
  writeFileSync(odd, pcapFile([{ t: 100, bytes: synFrame }, { t: 101, bytes: [1, 2, 3] }]));
  const o = cli(['extract', odd, '--out', join(dir, 'odd.csv')]);
  assert.equal(o.code, 0, o.stderr);
  assert.doesNotMatch(o.stderr, /cut short or damaged/);
  assert.match(o.stdout, /skipped: truncated-link-header 1/);
});

test('a missing second capture, or a CSV given as a capture: one line, exit 1, and no output at all', () => {
  const capture = join(dir, 'ok.pcap');
  writeFileSync(capture, whole);
  const out = join(dir, 'never.csv');
  const missing = join(dir, 'missing.pcap');
  const r = cli(['extract', capture, missing, '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `flowsentry: ${missing}: no such file\n`);
  assert.equal(existsSync(out), false, 'no output file holding only the header');

  const csv = join(dir, 'flows.csv');
  writeFileSync(csv, 'a,b\n1,2\n');
  const c = cli(['extract', csv]);
  assert.equal(c.code, 1);
  assert.equal(c.stdout, '', 'not even the CSV header on stdout');
  assert.equal(c.stderr, `flowsentry: ${csv}: not a packet capture (expected pcap, pcapng or a gzip of either; first bytes do not match)\n`);
});

test('a gzipped CSV given as a capture is refused before the header is written; a gzipped capture is read', () => {
  const csvGz = join(dir, 'flows.csv.gz');
  writeFileSync(csvGz, gzipSync(Buffer.from('a,b\n1,2\n')));
  const out = join(dir, 'never-gz.csv');
  const r = cli(['extract', csvGz, '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `flowsentry: ${csvGz}: not a packet capture (expected pcap, pcapng or a gzip of either; first bytes do not match)\n`);
  assert.equal(existsSync(out), false);

  const pcapGz = join(dir, 'whole.pcap.gz');
  writeFileSync(pcapGz, gzipSync(whole));
  const ok = cli(['extract', pcapGz, '--out', join(dir, 'gz.csv')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^packets 3, flows 2,/);
});

// Skip counts of a corrupted capture do not depend on how the file is cut into chunks (issue 6): the same file read
// whole, in chunks of several sizes, as a file path and through gzip gives identical summaries and flows, and the
// bytes counted after lost framing are exactly the file's bytes from the corrupt record on (computed by hand here).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readCapture, type CaptureSummary } from '../../src/io/capture.js';
import { PcapReader, ReadPause, type CaptureReader, type PacketCallback } from '../../src/io/pcap.js';
import { PcapngReader } from '../../src/io/pcapng.js';
import { extractFlows } from '../../src/flows/extract.js';
import { ethernet, ipv4, pcapFile, pcapngFile, tcp, udp, type Frame } from '../flows/packet-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-chunking-'));

/** 60 frames over 6 UDP and TCP flows, of varied sizes so records straddle chunk boundaries differently. */
function frames(): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < 60; i++) {
    const flow = i % 6;
    const l4 = flow % 2 === 0 ? udp(1000 + flow, 53, 10 + ((i * 37) % 300)) : tcp({ sport: 2000 + flow, dport: 80, flags: 0x18, payload: (i * 53) % 400 });
    out.push({ t: 1_600_000_000 + i * 0.01, bytes: ethernet(ipv4({ src: `10.0.0.${flow + 1}`, dst: '10.0.1.1', protocol: flow % 2 === 0 ? 17 : 6 }, l4)) });
  }
  return out;
}

/** Byte offset of pcap record `k` (0-based) in a file built by pcapFile. */
function pcapRecordOffset(file: Buffer, k: number): number {
  let pos = 24;
  for (let i = 0; i < k; i++) pos += 16 + file.readUInt32LE(pos + 8);
  return pos;
}

/** Byte offset of pcapng block `k` (0-based: SHB, IDB, ...). */
function pcapngBlockOffset(file: Buffer, k: number): number {
  let pos = 0;
  for (let i = 0; i < k; i++) pos += file.readUInt32LE(pos + 4);
  return pos;
}

function chunked(file: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < file.length; i += size) parts.push(file.subarray(i, i + size));
  return Readable.from(parts);
}

function comparable(s: CaptureSummary): unknown {
  return { format: s.format, packets: s.packets, skipped: s.skipped, damageOffset: s.damageOffset };
}

async function summaries(file: Buffer, name: string): Promise<unknown[]> {
  const path = join(dir, name);
  writeFileSync(path, file);
  writeFileSync(`${path}.gz`, gzipSync(file));
  const out: unknown[] = [comparable(await readCapture(path, () => undefined)), comparable(await readCapture(`${path}.gz`, () => undefined))];
  for (const size of [1, 3, 16, 17, 100, 1000, 4096, file.length]) out.push(comparable(await readCapture(chunked(file, size), () => undefined)));
  return out;
}

async function flowRows(source: string | Readable, name: string): Promise<string> {
  const out = join(dir, name);
  await extractFlows([source], out);
  return readFileSync(out, 'utf8');
}

test('pcap with a corrupt record length: same skips and flows for every chunking, gzip and the file path', async () => {
  const file = pcapFile(frames());
  const at = pcapRecordOffset(file, 40);
  file.writeUInt32LE(0x7fff_fff0, at + 8); // capLen far over any snap length: framing is lost here
  const all = await summaries(file, 'corrupt.pcap');
  const expected = { format: 'pcap', packets: 40, skipped: { 'corrupt-record-length': 1, 'bytes-after-corruption': file.length - at }, damageOffset: at };
  for (const [i, s] of all.entries()) assert.deepEqual(s, expected, `reading ${i}`);
  const whole = await flowRows(join(dir, 'corrupt.pcap'), 'whole.csv');
  assert.equal(await flowRows(join(dir, 'corrupt.pcap.gz'), 'gz.csv'), whole);
  for (const size of [1, 17, 1000]) assert.equal(await flowRows(chunked(file, size), `c${size}.csv`), whole, `chunks of ${size}`);
});

test('pcapng with a bad block length: same skips and flows for every chunking, gzip and the file path', async () => {
  const file = pcapngFile(frames(), [{ linkType: 1 }]);
  const at = pcapngBlockOffset(file, 3 + 30); // SHB, IDB, the builder's unknown block, then packet blocks
  file.writeUInt32LE(file.readUInt32LE(at + 4) + 2, at + 4); // not a multiple of 4
  const all = await summaries(file, 'corrupt.pcapng');
  const expected = {
    format: 'pcapng',
    packets: 30,
    skipped: { 'unknown-block': 1, 'corrupt-block-length': 1, 'bytes-after-corruption': file.length - at },
    damageOffset: at,
  };
  for (const [i, s] of all.entries()) assert.deepEqual(s, expected, `reading ${i}`);
  const whole = await flowRows(join(dir, 'corrupt.pcapng'), 'ng-whole.csv');
  assert.equal(await flowRows(join(dir, 'corrupt.pcapng.gz'), 'ng-gz.csv'), whole);
  for (const size of [1, 13, 999]) assert.equal(await flowRows(chunked(file, size), `ng-c${size}.csv`), whole, `chunks of ${size}`);
});

test('a capture cut short: the summary gives the offset of the cut record or block, whatever the chunking', async () => {
  const pcap = pcapFile(frames());
  const record = pcapRecordOffset(pcap, 25);
  for (const [cut, packets] of [
    [record + 5, 25], // inside the record header
    [record + 16 + 3, 25], // inside the packet bytes
    [record, 25], // exactly at a record boundary: whole
  ] as const) {
    const expected = cut === record ? { format: 'pcap', packets, skipped: {}, damageOffset: undefined } : { format: 'pcap', packets, skipped: { 'truncated-record': 1 }, damageOffset: record };
    for (const [i, s] of (await summaries(pcap.subarray(0, cut), `cut-${cut}.pcap`)).entries()) assert.deepEqual(s, expected, `cut at ${cut}, reading ${i}`);
  }
  for (const [i, s] of (await summaries(pcap.subarray(0, 10), 'cut-header.pcap')).entries()) {
    assert.deepEqual(s, { format: 'pcap', packets: 0, skipped: { 'truncated-file-header': 1 }, damageOffset: 0 }, `reading ${i}`);
  }
  const ng = pcapngFile(frames(), [{ linkType: 1 }]);
  const block = pcapngBlockOffset(ng, 3 + 12);
  const expected = { format: 'pcapng', packets: 12, skipped: { 'unknown-block': 1, 'truncated-block': 1 }, damageOffset: block };
  for (const [i, s] of (await summaries(ng.subarray(0, block + 30), 'cut.pcapng')).entries()) assert.deepEqual(s, expected, `reading ${i}`);
  // An unknown block whose length runs past the end of the file.
  const huge = Buffer.alloc(20);
  huge.writeUInt32LE(0x0badbeef, 0);
  huge.writeUInt32LE(1 << 24, 4);
  const past = Buffer.concat([ng.subarray(0, block), huge]);
  const pastExpected = { format: 'pcapng', packets: 12, skipped: { 'unknown-block': 2, 'truncated-block': 1 }, damageOffset: block };
  for (const [i, s] of (await summaries(past, 'past.pcapng')).entries()) assert.deepEqual(s, pastExpected, `reading ${i}`);
});

test('a reader paused after any packet and resumed gives the same packets and skips as one never paused', () => {
  const pcap = pcapFile(frames());
  pcap.writeUInt32LE(0x7fff_fff0, pcapRecordOffset(pcap, 50) + 8);
  const ng = pcapngFile(frames(), [{ linkType: 1 }]);
  for (const [name, file, make] of [
    ['pcap', pcap, (cb: PacketCallback, pause?: ReadPause) => new PcapReader(cb, pause)],
    ['pcapng', ng, (cb: PacketCallback, pause?: ReadPause) => new PcapngReader(cb, pause)],
  ] as const) {
    const read = (chunk: number, pauseEvery: number): unknown => {
      const seen: number[] = [];
      const pause = new ReadPause();
      const reader: CaptureReader = make((p) => {
        seen.push(p.tsUs, p.capLen, p.data[p.offset + p.capLen - 1]!);
        if (pauseEvery > 0 && seen.length % (3 * pauseEvery) === 0) pause.requested = true;
      }, pause);
      for (let i = 0; i < file.length; i += chunk) {
        reader.push(file.subarray(i, i + chunk));
        while (reader.paused) {
          pause.requested = false;
          reader.resume();
        }
      }
      reader.end();
      return { seen, skipped: reader.skipped, packets: reader.packets, tail: reader.damagedTail };
    };
    const plain = read(file.length, 0);
    for (const chunk of [1, 7, 100, 4096, file.length]) for (const every of [1, 2, 7]) assert.deepEqual(read(chunk, every), plain, `${name}: chunks of ${chunk}, pause every ${every}`);
  }
});

test('pcapng: interface blocks beyond 65,536 in a section are counted, not kept', () => {
  const ng = pcapngFile(frames().slice(0, 2), [{ linkType: 1 }]);
  const idb = ng.subarray(pcapngBlockOffset(ng, 1), pcapngBlockOffset(ng, 2));
  const shb = ng.subarray(0, pcapngBlockOffset(ng, 1));
  const file = Buffer.concat([shb, ...Array<Buffer>(70_000).fill(idb), ng.subarray(pcapngBlockOffset(ng, 2))]);
  const reader = new PcapngReader(() => undefined);
  reader.push(file);
  reader.end();
  assert.equal(reader.packets, 2);
  assert.deepEqual(reader.skipped, { 'unknown-block': 1, 'too-many-interfaces': 70_000 - 65_536 });
});

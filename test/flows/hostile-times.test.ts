// Capture times that Date cannot hold (issue 6): a pcapng packet with a 64-bit timestamp near 2^64 µs (year 586,524)
// must not crash extract; CSV and JSON lines give the same timestamp text. In the normal range the text is what
// Date.toISOString gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ByteWriter, cicTimestamp } from '../../src/flows/byte-writer.js';
import { extractFlows } from '../../src/flows/extract.js';
import { Rng } from '../../src/util/rng.js';
import { ethernet, ipv4, pcapngFile, udp } from './packet-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-times-'));

function written(ms: number): string {
  const chunks: Buffer[] = [];
  const w = new ByteWriter(new Writable({ write: (c: Buffer, _e, done: () => void) => (chunks.push(Buffer.from(c)), done()) }));
  w.timestamp(ms);
  w.push(true);
  return Buffer.concat(chunks).toString('latin1');
}

test('timestamps in years 0000-9999: Date.toISOString text, by cicTimestamp and by the CSV writer', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 2000; i++) {
    const ms = Math.round((-62_167_219_200_000 + rng.next() * (253_402_300_799_000 + 62_167_219_200_000)) * 1000) / 1000;
    const iso = new Date(Math.floor(ms)).toISOString();
    const micros = String(Math.round(ms * 1000) - Math.floor(Math.round(ms * 1000) / 1e6) * 1e6).padStart(6, '0');
    const expected = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
    assert.equal(cicTimestamp(ms), expected, `ms ${ms}`);
    assert.equal(written(ms), expected, `ms ${ms}`);
  }
});

test('a pcapng timestamp near 2^64 µs: extract to CSV and JSON lines, same timestamp text, no error', async () => {
  const frame = ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(1000, 53, 10)));
  const file = pcapngFile([{ t: 1_600_000_000, bytes: frame }], [{ linkType: 1 }]);
  // the packet block is last: its timestamp's high word is at offset 12 of the block
  const epb = file.length - (32 + Math.ceil(frame.length / 4) * 4);
  file.writeUInt32LE(0xffff_ffff, epb + 12);
  const capture = join(dir, 'far.pcapng');
  writeFileSync(capture, file);
  await extractFlows([capture], join(dir, 'far.csv'));
  await extractFlows([capture], join(dir, 'far.jsonl'), { features: 'netflow' });
  const csvTime = readFileSync(join(dir, 'far.csv'), 'utf8').split('\n')[1]!.split(',')[4]!;
  const json = JSON.parse(readFileSync(join(dir, 'far.jsonl'), 'utf8').split('\n')[0]!) as { start: string };
  assert.match(csvTime, /^586\d{3}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal(json.start, csvTime);
});

// Back-pressure of `extract` to a slow output (issue 6): a capture in which every packet ends a flow (unique 5-tuples
// with a 100-flow table, so each packet evicts one) written to a deliberately slow Writable. The rows queued in the
// stream stay within about one output chunk, and the output equals what a fast sink receives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { extractFlows, type FeatureSet, type OutputFormat } from '../../src/flows/extract.js';
import { ethernet, ipv4, pcapFile, tcp, type Frame } from './packet-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-backpressure-'));
const capture = join(dir, 'syn-flood.pcap');
const PACKETS = 40_000;
{
  const frames: Frame[] = [];
  for (let i = 0; i < PACKETS; i++) {
    const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    frames.push({ t: 1_600_000_000 + i * 1e-4, bytes: ethernet(ipv4({ src, dst: '192.168.0.1', protocol: 6 }, tcp({ sport: 1024 + (i % 50_000), dport: 80, flags: 0x02 }))) });
  }
  writeFileSync(capture, pcapFile(frames));
}

/** A Writable that takes `delayMs` per chunk and records the largest queue it ever had. */
function sink(delayMs: number): { stream: Writable; chunks: Buffer[]; maxQueued: () => number } {
  const chunks: Buffer[] = [];
  let max = 0;
  const stream: Writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      max = Math.max(max, stream.writableLength);
      chunks.push(Buffer.from(chunk));
      if (delayMs > 0) setTimeout(done, delayMs);
      else done();
    },
  });
  return { stream, chunks, maxQueued: () => max };
}

for (const [features, format] of [
  ['cic', 'csv'],
  ['netflow', 'jsonl'],
] as [FeatureSet, OutputFormat][]) {
  test(`extract ${features} ${format} to a slow Writable: bounded queue, same rows as to a fast one`, async () => {
    const fast = sink(0);
    const summary = await extractFlows([capture], fast.stream, { features, format, maxFlows: 100 });
    assert.equal(summary.flows, PACKETS);
    const slow = sink(2);
    await extractFlows([capture], slow.stream, { features, format, maxFlows: 100 });
    const expected = Buffer.concat(fast.chunks);
    assert.ok(expected.length > 8 << 20, `output ${expected.length} bytes: enough to overrun an unbounded queue`);
    assert.ok(Buffer.concat(slow.chunks).equals(expected), 'same bytes');
    assert.ok(slow.maxQueued() <= 1.5 * (1 << 20), `queued at most ${slow.maxQueued()} bytes`);
  });
}

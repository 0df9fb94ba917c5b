// Differential mutation fuzzer for our gzip reader (src/io/csv-gunzip.ts) against zlib. Seeds: CSV text compressed
// at every strategy that yields a different block mix (stored, fixed and dynamic Huffman, Huffman-only, RLE), one and
// two members. Mutations: bit flips, interesting bytes, truncation, insertion, chunk duplication. Each input is read
// with a random input step and output size. A crash is any exception other than GzipCorrupt / GzipCutShort; a
// disagreement is an input one side decodes and the other rejects, or different bytes. The peak RSS is zlib's more
// than ours: Node 20's gunzipSync keeps native memory for every input it rejects, beyond the reach of a garbage
// collection (50k inputs: 679 MB with zlib alone, 134 MB with our reader alone); Flowsentry itself never calls it.
//
//   npm run bench -- fuzz-gzip [iterations, default 200000] [seed]

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { GunzipReader, GzipCorrupt, GzipCutShort } from '../src/io/csv-gunzip.js';
import { Rng } from '../src/util/rng.js';

const INTERESTING = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

function seeds(rng: Rng): Buffer[] {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(`${Math.floor(rng.next() * 1e5)},tcp,${['http', 'smtp', 'private'][i % 3]},SF,${(rng.next() * 10).toFixed(3)},normal`);
  const text = Buffer.from(lines.join('\n'));
  const out: Buffer[] = [];
  for (const level of [0, 1, 6, 9]) out.push(gzipSync(text, { level }));
  out.push(gzipSync(text, { strategy: constants.Z_HUFFMAN_ONLY }), gzipSync(text, { strategy: constants.Z_RLE }), gzipSync(text, { strategy: constants.Z_FIXED }));
  out.push(Buffer.concat([gzipSync(text.subarray(0, 3000)), gzipSync(text.subarray(3000))]));
  return out;
}

function mutate(seed: Buffer, rng: Rng): Buffer {
  let b = Buffer.from(seed);
  const at = (): number => Math.floor(rng.next() * b.length);
  const rounds = 1 + Math.floor(rng.next() * 4);
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const kind = Math.floor(rng.next() * 5);
    if (kind === 0) b[at()] ^= 1 << Math.floor(rng.next() * 8);
    else if (kind === 1) b[at()] = INTERESTING[Math.floor(rng.next() * INTERESTING.length)];
    else if (kind === 2) b = b.subarray(0, at());
    else if (kind === 3) {
      const p = at();
      b = Buffer.concat([b.subarray(0, p), Buffer.from([Math.floor(rng.next() * 256)]), b.subarray(p)]);
    } else {
      const p = at();
      const n = Math.min(b.length - p, 1 + Math.floor(rng.next() * 64));
      b = Buffer.concat([b.subarray(0, p + n), b.subarray(p, p + n), b.subarray(p + n)]);
    }
  }
  return b;
}

/** Ours: the decoded bytes, 'rejected' for a GzipCorrupt / GzipCutShort, or the unexpected error. */
async function ours(gz: Buffer, step: number, outBytes: number): Promise<Buffer | 'rejected' | Error> {
  let pos = 0;
  const reader = new GunzipReader((target, offset) => {
    const n = Math.min(step, gz.length - pos, target.length - offset);
    target.set(gz.subarray(pos, pos + n), offset);
    pos += n;
    return Promise.resolve(n);
  });
  const parts: Buffer[] = [];
  const buf = new Uint8Array(outBytes);
  try {
    for (;;) {
      const n = await reader.read(buf, 0);
      if (n === 0) return Buffer.concat(parts);
      parts.push(Buffer.from(buf.subarray(0, n)));
    }
  } catch (e) {
    return e instanceof GzipCorrupt || e instanceof GzipCutShort ? 'rejected' : (e as Error);
  }
}

function zlib(gz: Buffer): Buffer | 'rejected' {
  try {
    return gunzipSync(gz);
  } catch {
    return 'rejected';
  }
}

export async function run(args: string[]): Promise<void> {
  const iterations = Number(args[0] ?? 200_000);
  const rng = new Rng(Number(args[1] ?? 1));
  const pool = seeds(rng);
  let crashes = 0;
  let disagreements = 0;
  let decoded = 0;
  let rejected = 0;
  let first = '';
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const input = mutate(pool[i % pool.length], rng);
    const step = 1 + Math.floor(rng.next() * 4096);
    const outBytes = 1 + Math.floor(rng.next() * 70_000);
    const a = await ours(input, step, outBytes);
    const b = zlib(input);
    if (a instanceof Error) {
      crashes++;
      if (!first) {
        const file = join(tmpdir(), `fuzz-gzip-${i}.gz`);
        writeFileSync(file, input);
        first = `#${i}: ${a.stack ?? a.message} (input saved as ${file})`;
      }
      continue;
    }
    if (a === 'rejected') rejected++;
    else decoded++;
    const agree = a === 'rejected' ? b === 'rejected' : b !== 'rejected' && a.equals(b);
    if (!agree) {
      disagreements++;
      if (!first) {
        const file = join(tmpdir(), `fuzz-gzip-${i}.gz`);
        writeFileSync(file, input);
        first = `#${i}: ours ${a === 'rejected' ? 'rejected' : `${a.length} bytes`}, zlib ${b === 'rejected' ? 'rejected' : `${b.length} bytes`} (input saved as ${file})`;
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log('| inputs | crashes | disagreements with zlib | decoded | rejected | inputs/s | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| ${iterations} | ${crashes} | ${disagreements} | ${decoded} | ${rejected} | ${Math.round(iterations / seconds)} | ${Math.round(process.resourceUsage().maxRSS / 1024)} |`);
  if (first) console.log(`first finding: ${first}`);
}

// GunzipReader against zlib: every block type (stored, fixed, dynamic; Huffman-only and RLE strategies), levels 0-9,
// any input chunking and output size, several members, and cut-short or corrupt data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, crc32, createGzip, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { GunzipReader, GzipCorrupt, GzipCutShort } from '../../src/io/csv-gunzip.js';
import { Rng } from '../../src/util/rng.js';

/** Decompresses with GunzipReader, feeding at most `step` bytes per fill and reading into `outBytes`-byte targets. */
async function gunzip(gz: Uint8Array, step: number, outBytes: number): Promise<Buffer> {
  let pos = 0;
  const reader = new GunzipReader((target, offset) => {
    const n = Math.min(step, gz.length - pos, target.length - offset);
    target.set(gz.subarray(pos, pos + n), offset);
    pos += n;
    return Promise.resolve(n);
  });
  const parts: Buffer[] = [];
  const buf = new Uint8Array(outBytes);
  for (;;) {
    const n = await reader.read(buf, 0);
    if (n === 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(parts);
}

function csvText(rng: Rng, rows: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(`${Math.floor(rng.next() * 1000)},tcp,${['http', 'smtp', 'ftp'][i % 3]},SF,${(rng.next() * 100).toFixed(2)},normal`);
  return Buffer.from(lines.join('\n'));
}

test('gunzip: the same bytes as zlib for every level, strategy and chunking', async () => {
  const rng = new Rng(11);
  const inputs = [
    Buffer.alloc(0),
    Buffer.from('a'),
    csvText(rng, 6000),
    Buffer.from(Array.from({ length: 150_000 }, () => Math.floor(rng.next() * 256))), // incompressible: stored blocks
    Buffer.from(Array.from({ length: 150_000 }, () => 97 + Math.floor(rng.next() * 3))), // long codes, short matches
    Buffer.alloc(600_000, 65), // long runs, the window slides many times
  ];
  for (const input of inputs) {
    for (const level of [0, 1, 6, 9]) {
      for (const strategy of [constants.Z_DEFAULT_STRATEGY, constants.Z_FIXED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE]) {
        const gz = gzipSync(input, { level, strategy });
        for (const [step, out] of [[1 << 16, 1 << 18], [4093, 1000]] as const) {
          const ours = await gunzip(gz, step, out);
          assert.ok(ours.equals(input), `${input.length} bytes, level ${level}, strategy ${strategy}, fills of ${step}`);
        }
      }
    }
  }
  // Byte-by-byte input on a small file exercises every stop between symbols and block headers.
  const small = csvText(rng, 300);
  assert.ok((await gunzip(gzipSync(small), 1, 7)).equals(small));
});

test('gunzip: optional header fields (a 40 KB extra field, name, comment, header CRC) and sync-flushed blocks', async () => {
  const data = csvText(new Rng(9), 2000);
  const extra = Buffer.alloc(40_000, 7);
  const head = Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3, extra.length & 0xff, extra.length >> 8]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  const header = Buffer.concat([head, extra, Buffer.from('flows.csv\0a comment\0')]);
  const headerCrc = Buffer.alloc(2);
  headerCrc.writeUInt16LE(crc32(header) & 0xffff);
  const member = Buffer.concat([header, headerCrc, deflateRawSync(data), trailer]);
  for (const step of [1 << 16, 4093]) assert.ok((await gunzip(member, step, 1000)).equals(data), `fills of ${step}`);
  assert.ok(gunzipSync(member).equals(data), 'the hand-made member is valid gzip');
  headerCrc[0] ^= 1;
  await assert.rejects(gunzip(Buffer.concat([header, headerCrc, deflateRawSync(data), trailer]), 1 << 16, 1000), GzipCorrupt);
  // A stream flushed mid-way carries empty stored blocks.
  const gz = createGzip();
  const parts: Buffer[] = [];
  gz.on('data', (b: Buffer) => parts.push(b));
  gz.write(data.subarray(0, 5000));
  await new Promise<void>((resolve) => gz.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  gz.end(data.subarray(5000));
  await new Promise((resolve) => gz.on('end', resolve));
  assert.ok((await gunzip(Buffer.concat(parts), 333, 77)).equals(data));
});

test('gunzip: concatenated members are read in turn; after the last, a zero byte starts ignored padding and anything else is an error (as zlib)', async () => {
  const gz = Buffer.concat([gzipSync('hello '), gzipSync(''), gzipSync('world', { level: 0 })]);
  assert.equal((await gunzip(gz, 5, 3)).toString(), gunzipSync(gz).toString());
  assert.equal((await gunzip(Buffer.concat([gzipSync('x'), Buffer.alloc(10)]), 4, 64)).toString(), 'x');
  // found by bench/fuzz-gzip.ts: zlib stops at a zero byte after a member and ignores what follows
  const padded = Buffer.concat([gzipSync('x'), Buffer.from([0, 0x91, 0x2a, 0x1f, 0x8b])]);
  assert.equal(gunzipSync(padded).toString(), 'x');
  assert.equal((await gunzip(padded, 3, 64)).toString(), 'x');
  await assert.rejects(gunzip(Buffer.concat([gzipSync('x'), Buffer.from('garbage')]), 64, 64), GzipCorrupt);
  await assert.rejects(gunzip(Buffer.concat([gzipSync('x'), Buffer.from([0x1f])]), 64, 64), GzipCutShort);
});

test('gunzip: data cut anywhere is "cut short"; changed bytes are an error', async () => {
  const full = gzipSync(csvText(new Rng(3), 20_000));
  for (const cut of [1, 10, 100, 5000, Math.floor(full.length / 2), full.length - 200, full.length - 8, full.length - 1]) {
    await assert.rejects(gunzip(full.subarray(0, cut), 4096, 1 << 16), GzipCutShort, `cut at ${cut} of ${full.length}`);
  }
  // A flipped bit is never silently decoded: a bad code, a bad check, or a length that runs past the data.
  const rng = new Rng(5);
  for (let k = 0; k < 20; k++) {
    const bad = Buffer.from(full);
    bad[20 + Math.floor(rng.next() * (full.length - 30))] ^= 1 << Math.floor(rng.next() * 8);
    await assert.rejects(gunzip(bad, 1 << 16, 1 << 18), (e) => e instanceof GzipCorrupt || e instanceof GzipCutShort);
  }
  const middle = Buffer.from(full);
  middle[full.length >> 1] ^= 0x55;
  await assert.rejects(gunzip(middle, 1 << 16, 1 << 18), GzipCorrupt);
  await assert.rejects(gunzip(Buffer.from('not gzip at all'), 64, 64), GzipCorrupt);
});

/**
 * A gzip member of one dynamic block (RFC 1951 §3.2.7) that writes "aa": literal/length code lengths `literals`
 * (symbol -> length; 'a' and end-of-block) and one distance code of length `distanceLength`, built bit by bit.
 */
function dynamicBlock(literals: ReadonlyMap<number, number>, distanceLength: number): Buffer {
  const bytes: number[] = [];
  let acc = 0;
  let nAcc = 0;
  const bits = (value: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      acc |= ((value >> i) & 1) << nAcc++;
      if (nAcc === 8) {
        bytes.push(acc);
        acc = 0;
        nAcc = 0;
      }
    }
  };
  const huffman = (code: number, len: number): void => {
    for (let i = len - 1; i >= 0; i--) bits((code >> i) & 1, 1);
  };
  /** Canonical codes (RFC 1951 §3.2.2) of symbol -> length. */
  const canonical = (lengths: ReadonlyMap<number, number>): Map<number, number> => {
    const codes = new Map<number, number>();
    let code = 0;
    for (let len = 1; len <= 15; len++) {
      for (const [sym, l] of [...lengths].sort((x, y) => x[0] - y[0])) if (l === len) codes.set(sym, code++);
      code <<= 1;
    }
    return codes;
  };
  // The code-length code: symbols 0, 1, 2 and 18 (a run of 11-138 zeros), 2 bits each (a complete code).
  const clen = canonical(new Map([[0, 2], [1, 2], [2, 2], [18, 2]]));
  bits(1, 1); // last block
  bits(2, 2); // dynamic
  bits(0, 5); // 257 literal/length codes
  bits(0, 4 + 1); // one distance code
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
  bits(order.length - 4, 4);
  for (const sym of order) bits([0, 1, 2, 18].includes(sym) ? 2 : 0, 3);
  const lengths = Array.from({ length: 257 }, (_, s) => literals.get(s) ?? 0);
  lengths.push(distanceLength);
  for (let i = 0; i < lengths.length; ) {
    let zeros = 0;
    while (lengths[i + zeros] === 0 && zeros < 138) zeros++;
    if (zeros >= 11) {
      huffman(clen.get(18)!, 2);
      bits(zeros - 11, 7);
      i += zeros;
    } else {
      huffman(clen.get(lengths[i]!)!, 2);
      i++;
    }
  }
  const literalCodes = canonical(literals);
  for (const sym of [97, 97, 256]) huffman(literalCodes.get(sym)!, literals.get(sym)!);
  bits(0, 7); // to a byte boundary
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32('aa'), 0);
  trailer.writeUInt32LE(2, 4);
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from(bytes), trailer]);
}

test('gunzip: a dynamic block whose code leaves code space unused is corrupt, as zlib has it, unless its one code is 1 bit long (found by bench/fuzz-gzip.ts)', async () => {
  const complete = new Map([[97, 1], [256, 1]]);
  // One 1-bit distance code: incomplete but allowed; zlib agrees
  const oneBit = dynamicBlock(complete, 1);
  assert.equal(gunzipSync(oneBit).toString(), 'aa');
  assert.equal((await gunzip(oneBit, 3, 64)).toString(), 'aa');
  // One 2-bit distance code: three quarters of the code space unused
  const distances = dynamicBlock(complete, 2);
  assert.throws(() => gunzipSync(distances), /invalid distances set/);
  await assert.rejects(gunzip(distances, 3, 64), (e: unknown) => e instanceof GzipCorrupt && e.message === 'invalid distances set');
  // Literal/length codes of 1 and 2 bits: a quarter unused
  const literals = dynamicBlock(new Map([[97, 1], [256, 2]]), 1);
  assert.throws(() => gunzipSync(literals), /invalid literal\/lengths set/);
  await assert.rejects(gunzip(literals, 3, 64), (e: unknown) => e instanceof GzipCorrupt && e.message === 'invalid literal/lengths set');
});

// pumpSource: the one read loop the CSV, JSON-lines and ISCX XML readers share (grow, parse, keep the unconsumed tail,
// close), its cost on a long record and its bound on one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pumpSource, type ByteSource } from '../../src/io/csv-source.js';
import { loadDataset } from '../../src/datasets/load.js';
import { UserError } from '../../src/errors.js';

/** A source that hands out at most `step` bytes per read and records whether it was closed. */
function trickle(bytes: Uint8Array, step: number): ByteSource & { closed: number } {
  let pos = 0;
  return {
    file: 'mem',
    gzip: false,
    totalBytes: bytes.length,
    expandedBytes: bytes.length,
    closed: 0,
    read(target, offset) {
      const n = Math.min(step, bytes.length - pos, target.length - offset);
      target.set(bytes.subarray(pos, pos + n), offset);
      pos += n;
      return Promise.resolve(n);
    },
    bytesRead: () => pos,
    close() {
      this.closed++;
      return Promise.resolve();
    },
  };
}

/** A line parser: consumes every complete line (and at the end the unterminated last one). */
function lineParser(lines: string[]): (buf: Uint8Array, filled: number, eof: boolean) => number {
  return (buf, filled, eof) => {
    let start = 0;
    for (let i = 0; i < filled; i++) {
      if (buf[i] === 10) {
        lines.push(Buffer.from(buf.subarray(start, i)).toString());
        start = i + 1;
      }
    }
    if (eof && start < filled) {
      lines.push(Buffer.from(buf.subarray(start, filled)).toString());
      start = filled;
    }
    return start;
  };
}

test('pumpSource: any read size and a buffer smaller than a record give every record once, in order', async () => {
  const text = ['a,b', 'a much longer record than the 4-byte starting buffer, 0123456789', '', 'x', 'last without newline'].join('\n');
  for (const step of [1, 3, 7, 1000]) {
    const lines: string[] = [];
    const progress: number[] = [];
    const source = trickle(Buffer.from(text), step);
    await pumpSource(source, 4, lineParser(lines), (done, total) => {
      assert.equal(total, text.length);
      progress.push(done);
    });
    assert.deepEqual(lines, text.split('\n'), `reads of ${step} bytes`);
    assert.equal(progress.at(-1), text.length, 'progress ends at the whole file');
    assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!), 'progress never goes back');
    assert.equal(source.closed, 1);
  }
});

test('pumpSource: the source is closed when parsing throws', async () => {
  const source = trickle(Buffer.from('a\nb\n'), 2);
  await assert.rejects(
    pumpSource(source, 8, () => {
      throw new Error('bad record');
    }),
    /bad record/,
  );
  assert.equal(source.closed, 1);
});

test('pumpSource: a record longer than many short reads is parsed again only once the buffer is full (linear, not quadratic)', async () => {
  // One 1 MB record then a short one, read 1000 bytes at a time (as a gzip source gives its window per read).
  const long = 'x'.repeat(1 << 20);
  const lines: string[] = [];
  const parse = lineParser(lines);
  let scanned = 0;
  await pumpSource(trickle(Buffer.from(`${long}\nend\n`), 1000), 4, (buf, filled, eof) => {
    scanned += filled;
    return parse(buf, filled, eof);
  });
  assert.deepEqual(lines, [long, 'end']);
  // Each parse of the unfinished record sees a buffer twice the last one: about 2 x 2^20 bytes in all, where parsing
  // after every read saw ~2^20 x 1049 / 2 (~550 MB).
  assert.ok(scanned <= 4 * (1 << 20), `${scanned} bytes scanned`);
});

test('pumpSource: a record past the longest one is one error naming the file and the byte where the record starts', async () => {
  const text = `a,b\n1,2\n${'9'.repeat(200)}\n`;
  const lines: string[] = [];
  await assert.rejects(pumpSource(trickle(Buffer.from(text), 7), 4, lineParser(lines), undefined, 128), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.equal(err.message, 'mem: the record at byte 8 runs past 128 bytes without ending: not a data file, or a damaged one');
    return true;
  });
  assert.deepEqual(lines, ['a,b', '1,2'], 'the records before it were parsed');
  const gzipped = { ...trickle(Buffer.from(text), 7), gzip: true };
  await assert.rejects(pumpSource(gzipped, 4, lineParser([]), undefined, 128), /^UserError: mem: the record at byte 8 of the decompressed data runs past 128 bytes/);
});

test('a gzip CSV whose row is 2 MB long loads every row, values intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-long-row-'));
  const file = join(dir, 'long.csv.gz');
  const note = 'n'.repeat(2 << 20);
  const rows = Array.from({ length: 40 }, (_, i) => `${i},${i % 2 ? 'attack' : 'normal'},${i === 20 ? note : 'short'}`);
  writeFileSync(file, gzipSync(`x,label,note\n${rows.join('\n')}\n`));
  const frame = await loadDataset([file], {});
  assert.equal(frame.nRows, 40);
  const x = frame.features.find((c) => c.name === 'x');
  assert.ok(x?.kind === 'numeric');
  assert.deepEqual(Array.from(x.values), Array.from({ length: 40 }, (_, i) => i));
  const notes = frame.features.find((c) => c.name === 'note');
  assert.ok(notes?.kind === 'categorical');
  assert.equal(notes.dictionary[notes.codes[20]!], note);
  assert.equal(notes.dictionary[notes.codes[21]!], 'short');
});

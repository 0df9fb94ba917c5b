// pumpSource: the one read loop the CSV and ISCX XML readers share (grow, parse, keep the unconsumed tail, close).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pumpSource, type ByteSource } from '../../src/io/csv-source.js';

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

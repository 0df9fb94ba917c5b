import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CATEGORICAL, ColumnarBuilder, NUMERIC, SKIP, TIMESTAMP, type CsvColumnKind, type CategoricalOutput, type NumericOutput, type TimestampOutput } from '../../src/io/columnar-builder.js';
import { SKIP_NOT_NUMBER, SKIP_RAGGED, countLines, readCsvInto } from '../../src/io/csv-reader.js';
import { UserError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-csv-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function read(path: string, kinds: CsvColumnKind[], opts: { hasHeader?: boolean; bufferBytes?: number; skipBadRows?: boolean; missing?: string[] } = {}) {
  const builder = new ColumnarBuilder(kinds);
  const result = await readCsvInto(path, builder, {
    columnNames: kinds.map((_, i) => `c${i}`),
    hasHeader: opts.hasHeader ?? true,
    bufferBytes: opts.bufferBytes,
    skipBadRows: opts.skipBadRows,
    missing: opts.missing,
  });
  return { result, columns: builder.finish(), builder };
}

const num = (c: unknown): Float32Array => (c as NumericOutput).values;
const cat = (c: unknown): string[] => {
  const { codes, dictionary } = c as CategoricalOutput;
  return Array.from(codes, (k) => (k < 0 ? '<missing>' : dictionary[k]));
};

describe('csv reader: values', () => {
  it('parses ints, decimals, exponents, infinities, NaN and empty cells', async () => {
    const texts = ['0', '-0', '42', '-17', '+3', '3.25', '-0.000011', '.5', '5.', '1e3', '1.5E-7', '-2.5e+10', '702040.8163265307', 'Infinity', '-Infinity', 'inf', '-inf', 'NaN', 'nan', '', '123456789012345678901', '1e-40', '3.4e39'];
    const path = write('values.csv', `k,v\n${texts.map((t) => `x,${t}`).join('\n')}\n`);
    const { columns, result } = await read(path, [SKIP, NUMERIC]);
    assert.equal(result.rows, texts.length);
    const v = num(columns[1]);
    texts.forEach((t, i) => {
      const expected = t === '' || t.toLowerCase() === 'nan' ? NaN : Math.fround(t.toLowerCase().includes('inf') ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t));
      assert.ok(Object.is(v[i], expected), `'${t}' → ${v[i]}, expected ${expected}`);
    });
  });

  it('reads a decimal beyond float64 as an infinity, with or without quotes, at any read-buffer cut', async () => {
    const texts = ['1e999', '-1e999', '+1E400', '1e-999', '"1e999"', '9'.repeat(400), `-${'9'.repeat(309)}.5`];
    const expected = [Infinity, -Infinity, Infinity, 0, Infinity, Infinity, -Infinity];
    const path = write('overflow.csv', `k,v\n${texts.map((t) => `x,${t}`).join('\n')}\n`);
    for (const bufferBytes of [undefined, 7, 64]) {
      const { columns, result } = await read(path, [SKIP, NUMERIC], { bufferBytes });
      assert.equal(result.rows, texts.length);
      assert.deepEqual(Array.from(num(columns[1])), expected, `buffer ${bufferBytes}`);
    }
  });

  it('agrees with Number() on 20,000 random decimals across read-buffer boundaries', async () => {
    const rng = new Rng(7);
    const texts: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const mag = Math.floor(rng.next() * 20) - 10;
      const x = (rng.next() - 0.5) * 10 ** mag;
      const style = i % 4;
      texts.push(style === 0 ? String(x) : style === 1 ? x.toExponential(rng.next() < 0.5 ? 3 : 12) : style === 2 ? x.toFixed(6) : String(Math.round(x * 1000)));
    }
    const lines = [];
    for (let i = 0; i < texts.length; i += 2) lines.push(`${texts[i]},${texts[i + 1]}`);
    const path = write('random.csv', `a,b\r\n${lines.join('\r\n')}\r\n`);
    for (const bufferBytes of [16, 333, 1 << 20]) {
      const { columns, result } = await read(path, [NUMERIC, NUMERIC], { bufferBytes });
      assert.equal(result.rows, texts.length / 2);
      const a = num(columns[0]);
      const b = num(columns[1]);
      for (let i = 0; i < texts.length; i++) {
        const got = i % 2 === 0 ? a[i / 2] : b[(i - 1) / 2];
        assert.equal(got, Math.fround(Number(texts[i])), `'${texts[i]}' with buffer ${bufferBytes}`);
      }
    }
  });

  it('agrees with Number() on long digit strings: every length of integer and fraction part up to 30, leading zeros', async () => {
    // The fast path gathers digits nine at a time; lengths around multiples of nine, runs of zeros before the first
    // significant digit (longer than the power-of-ten table) and mantissas past 2^53 all meet Number()'s rounding.
    const rng = new Rng(11);
    const digitsOf = (n: number, zeros: number): string => {
      let t = '0'.repeat(Math.min(zeros, n));
      while (t.length < n) t += String(Math.floor(rng.next() * 10));
      return t;
    };
    const texts: string[] = [];
    for (let intLength = 0; intLength <= 30; intLength++)
      for (let fracLength = 0; fracLength <= 30; fracLength++)
        for (const zeros of [0, 1, 8, 9, 10, 25]) {
          if (intLength + fracLength === 0) continue;
          const int = digitsOf(intLength, zeros);
          const frac = digitsOf(fracLength, intLength === 0 || /^0*$/.test(int) ? zeros : 0);
          const text = `${rng.next() < 0.3 ? '-' : ''}${int}${fracLength > 0 || rng.next() < 0.2 ? '.' : ''}${frac}`;
          texts.push(text);
        }
    const path = write('long-digits.csv', `a\n${texts.join('\n')}\n`);
    for (const bufferBytes of [16, 1 << 20]) {
      const { columns, result } = await read(path, [NUMERIC], { bufferBytes });
      assert.equal(result.rows, texts.length);
      const a = num(columns[0]);
      for (let i = 0; i < texts.length; i++) assert.equal(a[i], Math.fround(Number(texts[i])), `'${texts[i]}' with buffer ${bufferBytes}`);
    }
  });

  it('handles quotes, escaped quotes, embedded newlines, CRLF, a BOM and a missing final newline', async () => {
    const content = '\ufeffname,n,city\r\n"Smith, J.",1,"New\nYork"\r\n"say ""hi""","2",Paris\r\n,3,\r\nplain,"4.5",x';
    const path = write('quotes.csv', content);
    for (const bufferBytes of [4, 9, 64]) {
      const { columns, result } = await read(path, [CATEGORICAL, NUMERIC, CATEGORICAL], { bufferBytes });
      assert.equal(result.rows, 4);
      assert.deepEqual(cat(columns[0]), ['Smith, J.', 'say "hi"', '<missing>', 'plain']);
      assert.deepEqual(Array.from(num(columns[1])), [1, 2, 3, 4.5]);
      assert.deepEqual(cat(columns[2]), ['New\nYork', 'Paris', '<missing>', 'x']);
    }
  });

  it('dictionary-encodes repeated categories to the same code and skips columns', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `${['tcp', 'udp', 'icmp'][i % 3]},${i},junk${i}`);
    const path = write('cats.csv', `proto,i,skip\n${rows.join('\n')}\n`);
    const { columns } = await read(path, [CATEGORICAL, NUMERIC, SKIP], { bufferBytes: 50 });
    const c = columns[0] as CategoricalOutput;
    assert.deepEqual(c.dictionary, ['tcp', 'udp', 'icmp']);
    assert.deepEqual(Array.from(c.codes.subarray(0, 6)), [0, 1, 2, 0, 1, 2]);
    assert.equal(num(columns[1])[999], 999);
    assert.equal(columns[2], undefined);
  });

  it('grows column chunks past 65,536 rows without losing rows', async () => {
    const n = 70000;
    const lines = Array.from({ length: n }, (_, i) => `${i},${i % 7 === 0 ? 'a' : 'b'}`);
    const path = write('many.csv', `i,k\n${lines.join('\n')}\n`);
    const { columns, result } = await read(path, [NUMERIC, CATEGORICAL]);
    assert.equal(result.rows, n);
    const v = num(columns[0]);
    for (let i = 0; i < n; i++) assert.equal(v[i], i);
    assert.equal(cat(columns[1])[69993], 'a');
    assert.equal(cat(columns[1])[69999], 'b');
  });

  it('reads gzip files the same as plain ones, with progress on the compressed size', async () => {
    const text = `a,b\n${Array.from({ length: 5000 }, (_, i) => `${i * 0.5},x${i % 3}`).join('\n')}\n`;
    const plain = write('g.csv', text);
    const gz = write('g.csv.gz', gzipSync(text));
    const p = await read(plain, [NUMERIC, CATEGORICAL]);
    let last = [0, 0];
    const builder = new ColumnarBuilder([NUMERIC, CATEGORICAL]);
    await readCsvInto(gz, builder, { columnNames: ['a', 'b'], hasHeader: true, onProgress: (d, t) => (last = [d, t]) });
    const g = builder.finish();
    assert.deepEqual(num(g[0]), num(p.columns[0]));
    assert.deepEqual(cat(g[1]), cat(p.columns[1]));
    assert.equal(last[0], last[1]);
  });

  it('reads several files through one caller-given read buffer, also when a record is longer than it', async () => {
    const long = 'y'.repeat(5000);
    const f1 = write('s1.csv', `a,b\n1,x\n2,${long}\n3,z\n`);
    const f2 = write('s2.csv.gz', gzipSync(`a,b\n4,${long}\n5,x\n`));
    const builder = new ColumnarBuilder([NUMERIC, CATEGORICAL]);
    const shared = new Uint8Array(8);
    for (const f of [f1, f2]) await readCsvInto(f, builder, { columnNames: ['a', 'b'], hasHeader: true }, shared);
    const out = builder.finish();
    assert.deepEqual(Array.from(num(out[0])), [1, 2, 3, 4, 5]);
    assert.deepEqual(cat(out[1]), ['x', long, 'z', long, 'x']);
  });

  it('fills columns of a known capacity (numeric ones views of one buffer) without one column touching another', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => [i * 0.25, `k${i % 7}`, `skip${i}`, 1_500_000_000 + i / 8, -1 - i]);
    const path = write('block.csv', `a,b,c,t,d\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const kinds: CsvColumnKind[] = [NUMERIC, CATEGORICAL, SKIP, TIMESTAMP, NUMERIC];
    const builder = new ColumnarBuilder(kinds, await countLines(path));
    await readCsvInto(path, builder, { columnNames: ['a', 'b', 'c', 't', 'd'], hasHeader: true });
    const out = builder.finish();
    assert.deepEqual(Array.from(num(out[0])), rows.map((r) => Math.fround(r[0] as number)));
    assert.deepEqual(cat(out[1]), rows.map((r) => r[1]));
    assert.equal(out[2], undefined);
    const seconds = (out[3] as TimestampOutput).seconds;
    assert.deepEqual(Array.from(seconds), rows.map((r) => r[3]));
    assert.equal(seconds.byteOffset % 8, 0);
    assert.deepEqual(Array.from(num(out[4])), rows.map((r) => r[4]));
    const arrays = [num(out[0]), (out[1] as CategoricalOutput).codes, seconds, num(out[4])];
    for (const a of arrays) {
      for (const b of arrays) {
        if (a === b || a.buffer !== b.buffer) continue;
        assert.ok(a.byteOffset + a.byteLength <= b.byteOffset || b.byteOffset + b.byteLength <= a.byteOffset, 'column arrays overlap');
      }
    }
  });

});

describe('line count', () => {
  it('counts line feeds (plus an unterminated last line) like a byte scan, whatever the buffer size and alignment', async () => {
    const rng = new Rng(11);
    for (const [size, longLines] of [[0, false], [1, false], [3, false], [4, false], [5, false], [1021, false], [4096, false], [70001, false], [5000, true], [70001, true]] as const) {
      // Bytes around the line feed (0x0a) and its neighbours in each bit, so that a wrong zero-byte test would show;
      // or lines of ~300 bytes, stepped over line feed by line feed.
      const bytes = Uint8Array.from({ length: size }, () => (longLines ? (rng.next() < 1 / 300 ? 10 : 0x4a) : [10, 10, 11, 0x8a, 0x0b, 0x4a, 0, 255, 65][Math.floor(rng.next() * 9)]));
      let want = 0;
      for (const b of bytes) if (b === 10) want++;
      if (size > 0 && bytes[size - 1] !== 10) want++;
      const path = write(`lines-${size}.bin`, bytes);
      const scratch = new Uint8Array(4099);
      for (const buffer of [undefined, scratch, scratch.subarray(1), scratch.subarray(2, 1000)]) {
        assert.equal(await countLines(path, 0, undefined, buffer), want, `${size} bytes, buffer ${buffer?.byteOffset}:${buffer?.length}`);
      }
    }
  });

  it('counts a file whose eighth line feed ends it at any alignment (the word loop then has no words)', async () => {
    for (let header = 4; header <= 7; header++) {
      const path = write(`eight-lines-${header}.csv`, new TextEncoder().encode(`${'h'.repeat(header - 1)}\n${'1,2\n'.repeat(7)}`));
      assert.equal(await countLines(path), 8, `a header of ${header} bytes and 7 lines`);
    }
  });
});

describe('csv reader: bad input', () => {
  it('names the file and line of a ragged row', async () => {
    const path = write('ragged.csv', 'a,b\n1,2\n3\n4,5\n');
    await assert.rejects(read(path, [NUMERIC, NUMERIC]), (e: unknown) => e instanceof UserError && e.message === `${path}, line 3: this row has 1 fields, expected 2 (ragged row)`);
  });

  it('names the file, line and column of text in a numeric column', async () => {
    const path = write('text.csv', 'a,b\n1,2\n3,oops\n');
    await assert.rejects(read(path, [NUMERIC, NUMERIC]), (e: unknown) => e instanceof UserError && e.message === `${path}, line 3, column 'c1': 'oops' is not a number (text in a numeric column)`);
  });

  it('takes hexadecimal, octal and binary literals for text, not numbers (Number() reads them; pandas does not)', async () => {
    for (const literal of ['0x10', '0X1f', '0o17', '0b11', '"0x10"']) {
      const path = write('literal.csv', `a,b\n1,2\n3,${literal}\n`);
      const shown = literal.replaceAll('"', '');
      await assert.rejects(read(path, [NUMERIC, NUMERIC]), (e: unknown) => e instanceof UserError && e.message === `${path}, line 3, column 'c1': '${shown}' is not a number (text in a numeric column)`, literal);
      const { result, columns } = await read(path, [NUMERIC, NUMERIC], { skipBadRows: true });
      assert.deepEqual(Object.fromEntries(result.skipped), { [SKIP_NOT_NUMBER]: 1 });
      assert.deepEqual(Array.from(num(columns[1])), [2]);
    }
  });

  it('takes the names of Object.prototype members for text, not a missing value', async () => {
    for (const word of ['constructor', '__proto__', 'Constructor']) {
      const path = write('proto.csv', `a,b\n1,2\n3,${word}\n`);
      await assert.rejects(read(path, [NUMERIC, NUMERIC]), (e: unknown) => e instanceof UserError && e.message === `${path}, line 3, column 'c1': '${word}' is not a number (text in a numeric column)`, word);
    }
  });

  it('skips and counts bad rows when asked', async () => {
    const path = write('skip.csv', 'a,b\n1,2\n3\n4,x\n5,6,7\n8,9\n');
    const { result, columns } = await read(path, [NUMERIC, NUMERIC], { skipBadRows: true });
    assert.equal(result.rows, 2);
    assert.deepEqual(Object.fromEntries(result.skipped), { [SKIP_RAGGED]: 2, [SKIP_NOT_NUMBER]: 1 });
    assert.deepEqual(Array.from(num(columns[1])), [2, 9]);
  });

  it('reports an empty file, a missing file and a cut-short gzip', async () => {
    const empty = write('empty.csv', '');
    await assert.rejects(read(empty, [NUMERIC]), (e: unknown) => e instanceof UserError && e.message === `${empty}: the file is empty`);
    const missing = join(dir, 'nope.csv');
    await assert.rejects(read(missing, [NUMERIC]), (e: unknown) => e instanceof UserError && e.message === `${missing}: no such file`);
    const full = gzipSync(`a\n${Array.from({ length: 20000 }, (_, i) => i).join('\n')}\n`);
    const cut = write('cut.csv.gz', full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(read(cut, [NUMERIC]), (e: unknown) => e instanceof UserError && e.message.startsWith(`${cut}: the gzip data is cut short`));
  });

  it('reports an unclosed quote', async () => {
    const path = write('quote.csv', 'a\n"abc\n');
    await assert.rejects(read(path, [CATEGORICAL]), (e: unknown) => e instanceof UserError && /never closed/.test(e.message));
  });
});

describe('byte dictionary', () => {
  it('codes distinct byte strings densely and finds them again, whatever the size hint', async () => {
    const { ByteDictionary } = await import('../../src/io/csv-dictionary.js');
    for (const hint of [undefined, 3000, 70000]) {
      const dict = new ByteDictionary(hint);
      const texts = Array.from({ length: 10000 }, (_, i) => `10.0.${i >> 8}.${i & 255}-${i}`);
      const bytes = texts.map((t) => new TextEncoder().encode(t));
      bytes.forEach((b, i) => assert.equal(dict.code(b, 0, b.length), i));
      bytes.forEach((b, i) => assert.equal(dict.code(b, 0, b.length), i));
      assert.equal(dict.size, 10000);
      assert.deepEqual(dict.toStrings(), texts);
    }
  });

  it('finds entries of full pools again and decodes them as UTF-8, entries longer than a pool included', async () => {
    const { ByteDictionary } = await import('../../src/io/csv-dictionary.js');
    const dict = new ByteDictionary();
    // ~600 KiB of entries: several full pools, some all ASCII, some not, and one entry larger than a pool.
    const texts = Array.from({ length: 30000 }, (_, i) => (i % 7000 === 3 ? `Web Attack \u2013 Brute Force ${i}` : `192.168.${i >> 8}.${i & 255}-10.0.0.1-${i}-443-6`));
    texts.splice(12345, 0, `long ${'\u00e9x'.repeat(100000)}`);
    const bytes = texts.map((t) => new TextEncoder().encode(t));
    bytes.forEach((b, i) => assert.equal(dict.code(b, 0, b.length), i));
    for (let i = bytes.length - 1; i >= 0; i -= 7) assert.equal(dict.code(bytes[i], 0, bytes[i].length), i);
    assert.equal(dict.size, texts.length);
    // The length of an existing entry, one byte different: a new entry.
    const near = new TextEncoder().encode(texts[5].replace(/-6$/, '-7'));
    assert.equal(dict.code(near, 0, near.length), texts.length);
    assert.deepEqual(dict.toStrings(), [...texts, texts[5].replace(/-6$/, '-7')]);
  });
});

// Timestamp cells (src/io/csv-timestamp.ts) against Date.UTC, and timestamp columns through the CSV reader: Float64
// seconds, empty cells NaN, bad cells one error naming file, line and column (or skipped and counted).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTimestamp } from '../../src/io/csv-timestamp.js';
import { ColumnarBuilder, NUMERIC, TIMESTAMP, type TimestampOutput } from '../../src/io/columnar-builder.js';
import { SKIP_NOT_TIMESTAMP, readCsvInto } from '../../src/io/csv-reader.js';
import { Rng } from '../../src/util/rng.js';

const read = (text: string): number => {
  const bytes = new TextEncoder().encode(text);
  return readTimestamp(bytes, 0, bytes.length);
};
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

describe('readTimestamp', () => {
  it('reads every form the datasets use', () => {
    assert.equal(read('2017-07-06 12:39:06.818901'), utc(2017, 7, 6, 12, 39, 6) + 0.818901);
    assert.equal(read('2017-07-06 12:39:06.818901'), 1499344746818901 / 1e6);
    assert.equal(read('2017-07-06T12:39Z'), utc(2017, 7, 6, 12, 39));
    assert.equal(read('2017-07-06'), utc(2017, 7, 6));
    assert.equal(read('6/7/2017 8:59'), utc(2017, 7, 6, 8, 59));
    assert.equal(read(' 3/7/2017 8:55:58 '), utc(2017, 7, 3, 8, 55, 58));
    assert.equal(read('7/7/2017 3:30:01 PM'), utc(2017, 7, 7, 15, 30, 1));
    assert.equal(read('7/7/2017 12:00 AM'), utc(2017, 7, 7, 0, 0));
    assert.equal(read('7/7/2017 12:00pm'), utc(2017, 7, 7, 12, 0));
    assert.equal(read('14/02/2018 08:31:01'), utc(2018, 2, 14, 8, 31, 1));
    assert.equal(read('29/2/2016 23:59:60'), utc(2016, 2, 29, 23, 59, 60));
    assert.equal(read('1421927414'), 1421927414);
    assert.equal(read('1421927414.25'), 1421927414.25);
    assert.equal(read('-86400'), -86400);
    assert.equal(read('1331901000.000001'), 1331901000 + 0.000001);
  });
  it('gives NaN for anything else', () => {
    for (const bad of ['', '  ', 'yesterday', '2017-7-6', '2017-13-01', '31/2/2017 1:00', '29/2/2017 1:00', '7/7/2017 24:00', '7/7/2017 1:60', '7/7/2017 13:00 PM', '7/7/2017 0:00 AM', '7/7/2017 1:00 XM', '2017-07-06 12:39:06.', '1e9', '1.2.3', '2017-07-06 12:39:06+02:00', '1234567890123456', '1.1234567890123456']) {
      assert.ok(Number.isNaN(read(bad)), bad);
    }
  });
  it('reads yyyy-mm-dd hh:mm:ss[.f] at fixed positions as the general reader does (which a trailing Z takes)', () => {
    const rng = new Rng(11);
    const two = (n: number): string => String(n).padStart(2, '0');
    for (let i = 0; i < 5000; i++) {
      const digits = Math.floor(rng.next() * 18);
      let fraction = '';
      for (let k = 0; k < digits; k++) fraction += Math.floor(rng.next() * 10);
      const text = `${String(Math.floor(rng.next() * 10000)).padStart(4, '0')}-${two(Math.floor(rng.next() * 14))}-${two(Math.floor(rng.next() * 33))}${rng.next() < 0.5 ? ' ' : 'T'}${two(Math.floor(rng.next() * 25))}:${two(Math.floor(rng.next() * 61))}:${two(Math.floor(rng.next() * 62))}${digits ? `.${fraction}` : ''}`;
      const plain = read(text);
      const general = read(`${text}Z`);
      assert.ok(Object.is(plain, general) || (Number.isNaN(plain) && Number.isNaN(general)), text);
    }
    assert.equal(read('2016-02-29 23:59:60.123456789012345'), utc(2016, 2, 29, 23, 59, 60) + 0.123456789012345);
    for (const bad of ['2017-02-29 00:00:00', '2017-07-06 24:00:00', '2017-07-06 12:60:00', '2017-07-06 12:00:61', '2017-07-06 12:00:00.1234567890123456', '2017-07-06 12:00:00.12a']) {
      assert.ok(Number.isNaN(read(bad)), bad);
    }
  });
  it('equals Date.UTC on random dates and times, and keeps microseconds in order', () => {
    const rng = new Rng(7);
    let previous = -Infinity;
    for (let i = 0; i < 2000; i++) {
      const y = 1970 + Math.floor(rng.next() * 130);
      const mo = 1 + Math.floor(rng.next() * 12);
      const d = 1 + Math.floor(rng.next() * 28);
      const h = Math.floor(rng.next() * 24);
      const mi = Math.floor(rng.next() * 60);
      const s = Math.floor(rng.next() * 60);
      const two = (n: number): string => String(n).padStart(2, '0');
      assert.equal(read(`${y}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(s)}`), utc(y, mo, d, h, mi, s));
      const h12 = h % 12 === 0 ? 12 : h % 12;
      assert.equal(read(`${d}/${mo}/${y} ${h12}:${two(mi)}:${two(s)} ${h < 12 ? 'AM' : 'PM'}`), utc(y, mo, d, h, mi, s));
      const micros = 1499344746000000 + i * 7;
      const t = read(`2017-07-06 12:39:${two(6 + Math.floor((i * 7) / 1e6))}.${String((i * 7) % 1e6).padStart(6, '0')}`);
      assert.equal(t, micros / 1e6);
      assert.ok(t > previous);
      previous = t;
    }
  });
});

describe('timestamp columns in the CSV reader', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-ts-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = async (content: string, skipBadRows = false): Promise<{ seconds: Float64Array; skipped: ReadonlyMap<string, number>; rows: number }> => {
    const path = join(dir, 'times.csv');
    writeFileSync(path, content);
    const builder = new ColumnarBuilder([NUMERIC, TIMESTAMP], 16);
    const result = await readCsvInto(path, builder, { columnNames: ['x', 'Timestamp'], hasHeader: true, skipBadRows });
    return { seconds: (builder.finish()[1] as TimestampOutput).seconds, skipped: result.skipped, rows: result.rows };
  };
  it('reads Float64 seconds, empty and missing cells as NaN, quoted cells too', async () => {
    const { seconds } = await load('x,Timestamp\n1,2017-07-06 12:39:06.818901\n2,\n3,"7/7/2017 3:30 PM"\n4,NaN\r\n5,1421927414\n');
    assert.equal(seconds.length, 5);
    assert.equal(seconds[0], 1499344746.818901);
    assert.ok(Number.isNaN(seconds[1]) && Number.isNaN(seconds[3]));
    assert.equal(seconds[2], utc(2017, 7, 7, 15, 30));
    assert.equal(seconds[4], 1421927414);
  });
  it('names file, line and column of a cell that is not a timestamp, or skips its row with a count', async () => {
    await assert.rejects(load('x,Timestamp\n1,6/7/2017 8:59\n2,6/7/2017 25:00\n'), (err: Error & { location?: { file?: string; line?: number; column?: string } }) => {
      assert.match(err.message, /'6\/7\/2017 25:00' is not a timestamp/);
      assert.equal(err.location?.line, 3);
      assert.equal(err.location?.column, 'Timestamp');
      assert.match(err.location?.file ?? '', /times\.csv$/);
      return true;
    });
    const { rows, skipped, seconds } = await load('x,Timestamp\n1,6/7/2017 8:59\n2,soon\n3,6/7/2017 9:00\n', true);
    assert.equal(rows, 2);
    assert.deepEqual([...skipped], [[SKIP_NOT_TIMESTAMP, 1]]);
    assert.equal(seconds[1], utc(2017, 7, 6, 9, 0));
  });
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATEGORICAL, ColumnarBuilder, NUMERIC, TIMESTAMP, type CategoricalOutput, type CsvColumnKind, type NumericOutput, type TimestampOutput } from '../../src/io/columnar-builder.js';
import { readCsvInto } from '../../src/io/csv-reader.js';
import { readCsvParallel } from '../../src/io/csv-parallel.js';
import { UserError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-par-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const kinds: CsvColumnKind[] = [NUMERIC, CATEGORICAL, NUMERIC, CATEGORICAL];
const names = ['a', 'proto', 'b', 'label'];

function makeFile(name: string, rows: number, seed: number, extra: (i: number) => string | undefined = () => undefined): string {
  const rng = new Rng(seed);
  const lines = ['a,proto,b,label'];
  for (let i = 0; i < rows; i++) {
    const e = extra(i);
    if (e !== undefined) lines.push(e);
    lines.push(`${(rng.next() * 1e6).toFixed(3)},${['tcp', 'udp', 'icmp', 'sctp'][Math.floor(rng.next() * (i < rows / 2 ? 2 : 4))]},${Math.floor(rng.next() * 100)},${rng.next() < 0.2 ? 'attack' : 'normal'}`);
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\r\n')}\r\n`);
  return path;
}

async function sequential(files: string[]) {
  const builder = new ColumnarBuilder(kinds);
  for (const f of files) await readCsvInto(f, builder, { columnNames: names, hasHeader: true });
  return { rows: builder.rows, outputs: builder.finish() };
}

function decode(c: unknown): string[] {
  const { codes, dictionary } = c as CategoricalOutput;
  return Array.from(codes, (k) => dictionary[k]);
}

describe('parallel csv reading', () => {
  it('splits files at line feeds and gives exactly the sequential result (values, categories, header copies)', async () => {
    // Header copies and blank lines inside the second half, categories that only appear in later ranges.
    const big = makeFile('big.csv', 40000, 1, (i) => (i === 30000 ? 'a,proto,b,label' : i === 25000 ? '' : undefined));
    const small = makeFile('small.csv', 500, 2);
    const files = [big, small];
    const seq = await sequential(files);
    for (const threads of [2, 3]) {
      const par = await readCsvParallel(files.map((file) => ({ file, options: { columnNames: names, hasHeader: true } })), kinds, threads, undefined, 1 << 18);
      assert.equal(par.rows, seq.rows);
      assert.deepEqual(par.fileRows, [40000, 500]);
      assert.deepEqual([...par.skipped], [['repeated header row', 1]]);
      assert.deepEqual((par.outputs[0] as NumericOutput).values, (seq.outputs[0] as NumericOutput).values);
      assert.deepEqual((par.outputs[2] as NumericOutput).values, (seq.outputs[2] as NumericOutput).values);
      assert.deepEqual(decode(par.outputs[1]), decode(seq.outputs[1]));
      assert.deepEqual(decode(par.outputs[3]), decode(seq.outputs[3]));
    }
  });

  it('reports an error in a later range with its absolute line number', async () => {
    const bad = makeFile('bad.csv', 30000, 3, (i) => (i === 25000 ? '1,tcp,oops,normal' : undefined));
    await assert.rejects(
      readCsvParallel([{ file: bad, options: { columnNames: names, hasHeader: true } }], kinds, 2, undefined, 1 << 18),
      (e: unknown) => e instanceof UserError && e.message === `${bad}, line 25002, column 'b': 'oops' is not a number (text in a numeric column)`,
    );
  });
});

describe('parallel csv reading of a timestamp column', () => {
  it('gives the sequential Float64 seconds in file order', async () => {
    const timeKinds: CsvColumnKind[] = [NUMERIC, TIMESTAMP];
    const lines = ['x,Timestamp'];
    for (let i = 0; i < 30000; i++) lines.push(`${i},2017-07-06 ${String(8 + Math.floor(i / 3600)).padStart(2, '0')}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}`);
    const path = join(dir, 'times.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const options = { columnNames: ['x', 'Timestamp'], hasHeader: true };
    const builder = new ColumnarBuilder(timeKinds);
    await readCsvInto(path, builder, options);
    const seq = (builder.finish()[1] as TimestampOutput).seconds;
    const par = await readCsvParallel([{ file: path, options }], timeKinds, 3, undefined, 1 << 16);
    assert.equal(par.rows, 30000);
    assert.deepEqual((par.outputs[1] as TimestampOutput).seconds, seq);
    assert.equal(seq[29999], Date.UTC(2017, 6, 6, 16, 19, 59) / 1000 + 0.999);
  });
});

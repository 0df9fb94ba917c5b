import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextColumnBuilder, subsetTextColumn, textAsCategorical, textCounts, textRows, textValue } from '../../src/frame/text-column.js';
import type { CategoricalColumn, Frame, TextColumn } from '../../src/frame/frame.js';
import { CATEGORICAL, ColumnarBuilder, NUMERIC, TEXT, type CategoricalOutput, type CsvColumnKind, type TextOutput } from '../../src/io/columnar-builder.js';
import { readCsvInto } from '../../src/io/csv-reader.js';
import { readCsvParallel } from '../../src/io/csv-parallel.js';
import { loadDataset } from '../../src/datasets/load.js';
import { inspectFrame } from '../../src/datasets/inspect.js';
import { frameTimes } from '../../src/frame/splits.js';
import { subsetFrame } from '../../src/workflow/data.js';
import { Pipeline } from '../../src/prep/pipeline.js';
import { Rng } from '../../src/util/rng.js';
import { SHARED_DATASETS, sharedFile } from '../helpers/datasets.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-text-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const encoder = new TextEncoder();

function build(values: readonly string[], rows = 1, bytes = 16): TextColumn {
  const builder = new TextColumnBuilder(rows, bytes);
  for (const v of values) {
    const b = encoder.encode(v);
    builder.append(b, 0, b.length);
  }
  return builder.finish('t');
}

const decodeCategorical = (c: CategoricalColumn | CategoricalOutput): string[] => Array.from(c.codes, (k) => (k < 0 ? '' : c.dictionary[k]));
const decodeText = (c: TextColumn): string[] => Array.from({ length: textRows(c) }, (_, r) => textValue(c, r));

describe('text columns', () => {
  const values = ['10.0.0.1-10.0.0.2-80-443-6', '', 'caf\u00e9-\u6771\u4eac', 'x', '10.0.0.1-10.0.0.2-80-443-6', 'a,b "quoted"', '', 'x', '\u{1f600}'];

  it('round-trips values exactly, growing past the room made up front', () => {
    const col = build(values);
    assert.equal(textRows(col), values.length);
    assert.deepEqual(decodeText(col), values);
    assert.equal(col.offsets[0], 0);
    // the two flow ids (values 0 and 4) packed in 14 bytes each, the rest as written
    assert.equal(col.bytes.length, values.reduce((s, v, r) => s + (r === 0 || r === 4 ? 14 : encoder.encode(v).length), 0));
    // room for every row and byte up front: the same column
    assert.deepEqual(build(values, values.length, 1000), col);
  });

  it('turns into the categorical column the dictionary encoding gives: first-appearance order, -1 for empty', () => {
    const cat = textAsCategorical(build(values));
    assert.deepEqual(cat.dictionary, ['10.0.0.1-10.0.0.2-80-443-6', 'caf\u00e9-\u6771\u4eac', 'x', 'a,b "quoted"', '\u{1f600}']);
    assert.deepEqual([...cat.codes], [0, -1, 1, 2, 0, 3, -1, 2, 4]);
  });

  it('counts missing and distinct values as a set of the strings does', () => {
    const rng = new Rng(7);
    const many = Array.from({ length: 5000 }, () => (rng.next() < 0.05 ? '' : `id-${Math.floor(rng.next() * 3000)}-\u00e9`));
    const { missing, distinct } = textCounts(build(many));
    assert.equal(missing, many.filter((v) => v === '').length);
    assert.equal(distinct, new Set(many.filter((v) => v !== '')).size);
    assert.deepEqual(textCounts(build([])), { missing: 0, distinct: 0 });
  });

  it('feeds a pipeline fitted on the same values as a categorical feature', () => {
    const ids = ['a', 'b', '', 'a', 'c\u00e9', 'b'];
    const numbers = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const source = { format: 'csv', files: [], dropped: [], skipped: [] };
    const categorical = textAsCategorical(build(ids));
    const asFeature: Frame = { nRows: 6, features: [{ kind: 'numeric', name: 'x', values: numbers }, { ...categorical, name: 'id' }], identifiers: [], source };
    const pipeline = Pipeline.fit(asFeature, { scaler: 'none', dropConstant: false, dropDuplicateColumns: false });
    const asText: Frame = { nRows: 6, features: [{ kind: 'numeric', name: 'x', values: numbers }], identifiers: [{ ...build(ids), name: 'id' }], source };
    assert.deepEqual(pipeline.transform(asText).data, pipeline.transform(asFeature).data);
  });

  it('holds canonical IPv4 flow ids packed in 14 bytes and reads every value back as written', () => {
    const packed = ['192.168.10.5-104.16.207.165-54865-443-6', '0.0.0.0-0.0.0.0-0-0-0', '255.255.255.255-255.255.255.255-65535-65535-255', '8.8.8.8-10.0.0.1-53-1024-17'];
    const asWritten = [
      '010.0.0.1-10.0.0.2-80-443-6', // a leading zero: not canonical
      '10.0.0.1-10.0.0.2-080-443-6',
      '256.0.0.1-10.0.0.2-80-443-6', // out of range
      '10.0.0.1-10.0.0.2-65536-443-6',
      '10.0.0.1-10.0.0.2-80-443-256',
      '10.0.0.1-10.0.0.2-80-443-6 ', // trailing text
      '10.0.0.1-10.0.0.2-80-443', // a field short
      '10.0.0.1-10.0.0.2-80-443-6-7',
      '10.0.0.1.10.0.0.2-80-443-6', // wrong separator
      '2001:db8::1-2001:db8::2-80-443-6', // IPv6
      '10.0.0.1-10.0.0.2-123456-443-6',
      '10.0.0.1-10.0.0.2--443-6',
    ];
    const values = [...packed, ...asWritten, packed[0]!, ''];
    const column = build(values);
    assert.deepEqual(decodeText(column), values);
    for (let r = 0; r < packed.length; r++) assert.equal(column.offsets[r + 1]! - column.offsets[r]!, 14, packed[r]);
    for (let r = packed.length; r < packed.length + asWritten.length; r++) assert.equal(column.offsets[r + 1]! - column.offsets[r]!, encoder.encode(values[r]!).length, values[r]);
    assert.deepEqual(textCounts(column), { missing: 1, distinct: packed.length + asWritten.length });
    assert.deepEqual(decodeCategorical(textAsCategorical(column)), values);
    assert.deepEqual(decodeText(subsetTextColumn(column, [13, 0, 4, 16])), [values[13], values[0], values[4], values[16]]);
  });

  it('invalid UTF-8 that looks like a packed value reads back as the decoder reads it (U+FFFD), never as a flow id', () => {
    const bogus = Uint8Array.from([0xff, 10, 0, 0, 1, 10, 0, 0, 2, 0, 80, 1, 187, 6]);
    const builder = new TextColumnBuilder(1, 16);
    builder.append(bogus, 0, bogus.length);
    const column = builder.finish('t');
    assert.equal(textValue(column, 0), new TextDecoder().decode(bogus));
    assert.ok(textValue(column, 0).startsWith('\ufffd'));
  });

  it('takes rows in any order', () => {
    const col = build(values);
    const rows = [8, 0, 0, 6, 2];
    assert.deepEqual(decodeText(subsetTextColumn(col, rows)), rows.map((r) => values[r]));
    assert.equal(textRows(subsetTextColumn(col, [])), 0);
  });
});

describe('text cells in the CSV reader', () => {
  // Mostly distinct ids, quoted cells with "" and delimiters, empty cells, UTF-8, CRLF.
  function makeFile(name: string, rows: number, seed: number): string {
    const rng = new Rng(seed);
    const lines = ['n,id,proto'];
    for (let i = 0; i < rows; i++) {
      const u = rng.next();
      const id = u < 0.05 ? '' : u < 0.1 ? `"q""${i}"",\u00e9"` : u < 0.15 ? 'repeated' : `172.16.${i % 256}.${seed}-${i}`;
      lines.push(`${i},${id},${['tcp', 'udp'][i % 2]}`);
    }
    const path = join(dir, name);
    writeFileSync(path, `${lines.join('\r\n')}\r\n`);
    return path;
  }
  const names = ['n', 'id', 'proto'];
  const asText: CsvColumnKind[] = [NUMERIC, TEXT, CATEGORICAL];
  const asCategories: CsvColumnKind[] = [NUMERIC, CATEGORICAL, CATEGORICAL];

  async function sequential(files: string[], kinds: CsvColumnKind[], capacity?: number, textBytes?: number) {
    const builder = new ColumnarBuilder(kinds, capacity, undefined, textBytes);
    for (const f of files) await readCsvInto(f, builder, { columnNames: names, hasHeader: true, bufferBytes: 4096 });
    return builder.finish();
  }

  it('reads the same values as dictionary codes do: sequential (sized, chunked, growing) and parallel', async () => {
    const files = [makeFile('a.csv', 30000, 1), makeFile('b.csv', 700, 2)];
    const truth = decodeCategorical((await sequential(files, asCategories))[1] as CategoricalOutput);
    assert.equal(truth.length, 30700);
    assert.ok(truth.includes('q"0",\u00e9') || truth.some((v) => v.startsWith('q"')));
    for (const [capacity, textBytes] of [[30702, 1 << 24], [undefined, 64], [30702, 16]] as const) {
      const out = (await sequential(files, asText, capacity, textBytes))[1] as TextOutput;
      assert.equal(out.kind, TEXT);
      assert.deepEqual(decodeText(out.text), truth);
    }
    for (const threads of [2, 3]) {
      const par = await readCsvParallel(files.map((file) => ({ file, options: { columnNames: names, hasHeader: true } })), asText, threads, undefined, 1 << 17);
      assert.equal(par.rows, 30700);
      assert.deepEqual(decodeText((par.outputs[1] as TextOutput).text), truth);
      assert.deepEqual(decodeCategorical(par.outputs[2] as CategoricalOutput), Array.from({ length: 30700 }, (_, i) => ['tcp', 'udp'][(i < 30000 ? i : i - 30000) % 2]));
    }
  });
});

describe('text identifiers in loaded datasets', () => {
  const cicDir = join(SHARED_DATASETS, 'cic-ids2017');
  const skip = !sharedFile('cic-ids2017/BENIGN_5000.csv');

  it('CIC-IDS2017: Flow ID is a text identifier holding every row as written; inspect counts unchanged', { skip }, async () => {
    const files = readdirSync(cicDir).filter((f) => f.endsWith('.csv')).sort().map((f) => join(cicDir, f));
    const frame = await loadDataset(files);
    const flowId = frame.identifiers.find((c) => c.name === 'Flow ID');
    assert.ok(flowId && flowId.kind === 'text');
    // Independent truth: field 1 of every data line (the files have no quotes).
    const written = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => l.split(',')[1]));
    assert.equal(written.length, 26058);
    assert.deepEqual(decodeText(flowId), written);
    const report = inspectFrame(frame);
    assert.equal(report.rows, 26058);
    assert.equal(report.labels?.attack.length, 16);
    assert.deepEqual(report.columnReports.find((c) => c.name === 'Flow ID'), { name: 'Flow ID', role: 'identifier', kind: 'categorical', missing: 0, posInf: 0, negInf: 0, distinct: new Set(written).size });
    // Read as a feature (--keep-identifiers) it is categorical, with the same values.
    const kept = await loadDataset(files, { keepIdentifiers: true });
    const asFeature = kept.features.find((c) => c.name === 'Flow ID');
    assert.ok(asFeature && asFeature.kind === 'categorical');
    assert.deepEqual(decodeCategorical(asFeature), written);
    assert.deepEqual(textAsCategorical(flowId).dictionary, asFeature.dictionary);
    // A subset of the frame keeps the rows asked for.
    const rows = [26057, 3, 3, 12000];
    const sub = subsetFrame(frame, rows);
    const subId = sub.identifiers.find((c) => c.name === 'Flow ID') as TextColumn;
    assert.deepEqual(decodeText(subId), rows.map((r) => written[r]));
  });

  it('rows dropped for an empty label are dropped from the text column too; a text timestamp column is read', { skip }, async () => {
    const lines = readFileSync(join(cicDir, 'Botnet_736.csv'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const header = lines[0].split(',');
    const labelAt = header.indexOf('Label');
    const dropped = new Set([5, 100, 400]);
    const body = lines.slice(1).map((l, i) => (dropped.has(i) ? l.split(',').map((v, j) => (j === labelAt ? '' : v)).join(',') : l));
    const path = join(dir, 'botnet-empty-labels.csv');
    writeFileSync(path, `${[lines[0], ...body].join('\n')}\n`);
    const frame: Frame = await loadDataset([path], { skipBadRows: true });
    assert.equal(frame.nRows, lines.length - 1 - 3);
    const flowId = frame.identifiers.find((c) => c.name === 'Flow ID') as TextColumn;
    assert.equal(flowId.kind, 'text');
    assert.deepEqual(decodeText(flowId), body.filter((_, i) => !dropped.has(i)).map((l) => l.split(',')[1]));
    // A timestamp column that is text (mostly distinct) is still read for a time-ordered split.
    const stamps = ['2017-07-07 10:00:01', '2017-07-07 09:59:59', '', '2017-07-07 10:00:00'];
    const text = build(stamps);
    const times = frameTimes({ ...frame, nRows: 4, identifiers: [{ ...text, name: 'Timestamp' }] });
    assert.deepEqual([...times], [Date.UTC(2017, 6, 7, 10, 0, 1) / 1000, Date.UTC(2017, 6, 7, 9, 59, 59) / 1000, NaN, Date.UTC(2017, 6, 7, 10) / 1000]);
  });
});

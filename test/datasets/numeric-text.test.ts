// Numeric cells whose text Number() and pandas read differently: a decimal beyond float64 ('1e999') is an infinity
// and counts as +Inf / -Inf in inspect as 'Infinity' does (it typed a generic CSV column as categorical), and a
// hexadecimal, octal or binary literal ('0x10', which Number() reads as 16) is text: a categorical column when the
// sample holds it, else the reader's one error line (or a skipped row with --skip-bad-rows), in every format.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { inspectFrame } from '../../src/datasets/inspect.js';
import { UserError } from '../../src/errors.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-numtext-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function columnReport(file: string, column: string) {
  const report = inspectFrame(await loadDataset([file]));
  const found = report.columnReports.find((c) => c.name === column);
  assert.ok(found, `no column ${column}`);
  return found;
}

async function rejectsWith(file: string, message: string): Promise<void> {
  await assert.rejects(loadDataset([file]), (e: unknown) => e instanceof UserError && e.message === message);
}

const NSL_ROW = '0,tcp,http,SF,215,45076,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,1,0.00,0.00,0.00,0.00,1.00,0.00,0.00,0,0,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,normal,21';

describe('numeric text: generic CSV', () => {
  it("types a column with '1e999' as numeric and counts it as 'Infinity' is counted", async () => {
    const rows = ['1.5', '1e999', '-1E+999', '2', '1e-999'];
    const overflow = write('overflow.csv', `a,label\n${rows.map((v, i) => `${v},${i % 2 ? 'x' : 'y'}`).join('\n')}\n`);
    const spelled = write('spelled.csv', `a,label\n${rows.map((v, i) => `${v.replace('-1E+999', '-Infinity').replace('1e999', 'Infinity').replace('1e-999', '0')},${i % 2 ? 'x' : 'y'}`).join('\n')}\n`);
    const report = await columnReport(overflow, 'a');
    assert.equal(report.kind, 'numeric');
    assert.deepEqual(report, await columnReport(spelled, 'a'));
    assert.equal(report.posInf, 1);
    assert.equal(report.negInf, 1);
    assert.deepEqual([report.min, report.max], [0, 2]);
  });

  it("types a column with '0x10' in its sample as categorical, with '0x10' as one of its values", async () => {
    const file = write('hex.csv', 'a,b,label\n1,0x10,x\n2,16,y\n3,0b11,x\n');
    const frame = await loadDataset([file]);
    const b = frame.features.find((c) => c.name === 'b');
    assert.ok(b?.kind === 'categorical');
    assert.deepEqual(Array.from(b.codes, (k) => b.dictionary[k]), ['0x10', '16', '0b11']);
    assert.equal(frame.features.find((c) => c.name === 'a')?.kind, 'numeric');
  });

  it("stops at '0x10' after the sample of a numeric column with one line naming file, line and column, or skips it", async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `${i},${i % 2 ? 'x' : 'y'}`);
    rows[250] = '0x10,x';
    const file = write('late-hex.csv', `a,label\n${rows.join('\n')}\n`);
    await rejectsWith(file, `${file}, line 252, column 'a': '0x10' is not a number (text in a numeric column)`);
    const frame = await loadDataset([file], { skipBadRows: true });
    assert.equal(frame.nRows, 299);
    assert.deepEqual(frame.source.skipped, [{ reason: 'text in a numeric column', count: 1 }]);
  });
});

describe('numeric text: known formats', () => {
  it("NSL-KDD: '0x10' in a numeric column is the reader's error line; '1e999' counts as +Inf", async () => {
    const hex = write('hex.txt', `${NSL_ROW}\n${NSL_ROW}\n${NSL_ROW.replace('215,45076', '215,0x10')}\n`);
    await rejectsWith(hex, `${hex}, line 3, column 'dst_bytes': '0x10' is not a number (text in a numeric column)`);
    const overflow = write('overflow.txt', `${NSL_ROW}\n${NSL_ROW.replace('215,45076', '215,1e999')}\n${NSL_ROW.replace('215,45076', '215,-1e999')}\n`);
    const report = await columnReport(overflow, 'dst_bytes');
    assert.deepEqual([report.posInf, report.negInf, report.min, report.max], [1, 1, 45076, 45076]);
  });

  it("CIC-IDS2017: '1e999' counts as the 'Infinity' it replaces; '0x10' is the reader's error line", async () => {
    const lines = readFileSync(resolve('test/fixtures/datasets/cic2017-machinelearningcve.csv'), 'utf8').split('\n');
    const row = lines.findIndex((l, i) => i > 0 && l.includes(',Infinity,'));
    assert.ok(row > 0);
    const original = write('cic-original.csv', lines.join('\n'));
    const overflow = write('cic-overflow.csv', lines.map((l, i) => (i === row ? l.replace(',Infinity,', ',1e999,') : l)).join('\n'));
    assert.deepEqual(inspectFrame(await loadDataset([overflow])).columnReports, inspectFrame(await loadDataset([original])).columnReports);
    const hex = write('cic-hex.csv', lines.map((l, i) => (i === 2 ? l.replace(/^\d+,\d+,/, '443,0x10,') : l)).join('\n'));
    await rejectsWith(hex, `${hex}, line 3, column 'Flow Duration': '0x10' is not a number (text in a numeric column)`);
  });
});

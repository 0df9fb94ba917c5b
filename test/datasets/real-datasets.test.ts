// Loads every file in ../shared/datasets and checks counts against independent truth: plain line scans of the files,
// and the record and distinct-record counts published by Tavallaee et al. (CISDA 2009) for KDD'99.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { inspectFiles, type DatasetReport } from '../../src/datasets/inspect.js';
import { loadDataset } from '../../src/datasets/load.js';
import { SHARED_DATASETS, sharedFile } from '../helpers/datasets.js';

function lines(file: string): string[] {
  const bytes = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').replace(/^\ufeff/, '');
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

/** Counts of one field (by index) over the lines. */
function fieldCounts(rows: string[], index: number, clean = (s: string) => s): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of rows) {
    const v = clean(line.split(',')[index]);
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

const asRecord = (counts: readonly { class: string; count: number }[]): Record<string, number> => Object.fromEntries(counts.map((c) => [c.class, c.count]));

async function inspectOne(files: string[]): Promise<DatasetReport> {
  const reports = await inspectFiles(files);
  assert.equal(reports.length, 1);
  return reports[0];
}

describe('shared datasets, exact', () => {
  it('NSL-KDD KDDTrain+: 125,973 rows, labels as a line scan counts them, standard categories', { skip: !sharedFile('nsl-kdd/KDDTrain+.txt') }, async () => {
    const file = sharedFile('nsl-kdd/KDDTrain+.txt') as string;
    const r = await inspectOne([file]);
    const scanned = lines(file);
    assert.equal(r.format, 'nsl-kdd');
    assert.equal(r.rows, 125973);
    assert.equal(r.rows, scanned.length);
    assert.equal(r.columns, 43);
    assert.deepEqual(r.featureTypes, { numeric: 38, categorical: 3 });
    assert.deepEqual(asRecord(r.labels?.attack ?? []), fieldCounts(scanned, 41));
    assert.equal(r.labels?.attack.length, 23);
    assert.deepEqual(asRecord(r.labels?.category ?? []), { normal: 67343, DoS: 45927, Probe: 11656, R2L: 995, U2R: 52 });
    assert.deepEqual(asRecord(r.labels?.binary ?? []), { normal: 67343, attack: 58630 });
    assert.deepEqual(r.constantColumns, ['num_outbound_cmds']);
    assert.equal(r.duplicateRows, 0);
  });

  it('NSL-KDD KDDTest+: test-only attacks map to their categories', { skip: !sharedFile('nsl-kdd/KDDTest+.txt') }, async () => {
    const r = await inspectOne([sharedFile('nsl-kdd/KDDTest+.txt') as string]);
    assert.equal(r.rows, 22544);
    assert.deepEqual(asRecord(r.labels?.category ?? []), { normal: 9711, DoS: 7458, Probe: 2421, R2L: 2754, U2R: 200 });
  });

  it("KDD'99 10%: 494,021 rows, 145,586 distinct (Tavallaee et al.), trailing dots removed", { skip: !sharedFile('kddcup99/kddcup.data_10_percent.gz') }, async () => {
    const file = sharedFile('kddcup99/kddcup.data_10_percent.gz') as string;
    const r = await inspectOne([file]);
    assert.equal(r.format, 'kdd99');
    assert.equal(r.rows, 494021);
    assert.equal(r.rows - r.duplicateRows, 145586);
    assert.deepEqual(asRecord(r.labels?.attack ?? []), fieldCounts(lines(file), 41, (s) => s.replace(/\.$/, '')));
    assert.deepEqual(asRecord(r.labels?.category ?? []), { normal: 97278, DoS: 391458, Probe: 4107, R2L: 1126, U2R: 52 });
  });

  it("KDD'99 corrected: 311,029 rows, 77,291 distinct (Tavallaee et al.)", { skip: !sharedFile('kddcup99/corrected.gz') }, async () => {
    const r = await inspectOne([sharedFile('kddcup99/corrected.gz') as string]);
    assert.equal(r.rows, 311029);
    assert.equal(r.rows - r.duplicateRows, 77291);
    assert.equal(r.labels?.attack.length, 38);
  });

  it('UNSW-NB15 part a: 49,400 rows, attack_cat and label as a line scan counts them', { skip: !sharedFile('unsw-nb15/UNSW_NB15_part-a.csv') }, async () => {
    const file = sharedFile('unsw-nb15/UNSW_NB15_part-a.csv') as string;
    const r = await inspectOne([file]);
    const scanned = lines(file).slice(1);
    assert.equal(r.format, 'unsw-nb15');
    assert.equal(r.rows, 49400);
    assert.equal(r.columns, 45);
    assert.deepEqual(r.featureTypes, { numeric: 39, categorical: 3 });
    // the file's 'Normal' is spelled 'normal' in every view
    assert.deepEqual(asRecord(r.labels?.attack ?? []), fieldCounts(scanned, 43, (s) => (s === 'Normal' ? 'normal' : s)));
    assert.equal(asRecord(r.labels?.category ?? []).normal, fieldCounts(scanned, 43).Normal);
    const binary = fieldCounts(scanned, 44);
    assert.deepEqual(asRecord(r.labels?.binary ?? []), { normal: binary['0'], attack: binary['1'] });
    const service = r.columnReports.find((c) => c.name === 'service');
    assert.equal(service?.missing, 0);
    // '-' (no service identified) is the category 'none', as often as the file writes it.
    const frame = await loadDataset([file]);
    const col = frame.features.find((c) => c.name === 'service');
    assert.ok(col && col.kind === 'categorical');
    const none = col.dictionary.indexOf('none');
    assert.equal(col.codes.filter((c) => c === none).length, fieldCounts(scanned, 3)['-']);
  });

  it('CIC-IDS2017 corrected: 16 files, 26,058 rows in 16 classes; NaN/Inf as a line scan counts them', { skip: !sharedFile('cic-ids2017/BENIGN_5000.csv') }, async () => {
    const dir = join(SHARED_DATASETS, 'cic-ids2017');
    const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort().map((f) => join(dir, f));
    assert.equal(files.length, 16);
    const r = await inspectOne(files);
    assert.equal(r.format, 'cic-ids2017');
    assert.equal(r.variant, 'corrected');
    assert.equal(r.rows, 26058);
    assert.equal(r.columns, 91);
    assert.equal(r.labels?.attack.length, 16);
    const scanned = files.flatMap((f) => lines(f).slice(1));
    assert.equal(scanned.length, 26058);
    // the files' 'BENIGN' is spelled 'normal' in every view
    assert.deepEqual(asRecord(r.labels?.attack ?? []), fieldCounts(scanned, 89, (s) => (s === 'BENIGN' ? 'normal' : s)));
    let nan = 0;
    let inf = 0;
    for (const line of scanned) {
      for (const cell of line.split(',')) {
        if (cell === 'NaN' || cell === '') nan++;
        else if (/^\+?inf(inity)?$/i.test(cell)) inf++;
      }
    }
    const total = (k: 'missing' | 'posInf') => r.columnReports.reduce((s, c) => s + c[k], 0);
    assert.equal(total('missing'), nan);
    assert.equal(total('posInf'), inf);
    assert.deepEqual(r.duplicateColumns.find((g) => g.includes('Average Packet Size')), ['Packet Length Mean', 'Average Packet Size']);
    // Timestamp (field 7, 'yyyy-mm-dd hh:mm:ss.ffffff' in every file): Float64 seconds, as many distinct as the text
    const stamps = [...new Set(scanned.map((l) => l.split(',')[7]))].sort();
    const seconds = (text: string): number => (Date.parse(`${text.slice(0, 19)}Z`) * 1000 + Number(text.slice(20))) / 1e6;
    const time = r.columnReports.find((c) => c.name === 'Timestamp');
    assert.deepEqual(time && { kind: time.kind, missing: time.missing, distinct: time.distinct }, { kind: 'time', missing: 0, distinct: stamps.length });
    assert.equal(time?.min, seconds(stamps[0]));
    assert.equal(time?.max, seconds(stamps[stamps.length - 1]));
  });
});

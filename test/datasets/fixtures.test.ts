import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { frameTimes, timeOrderedSplit } from '../../src/frame/splits.js';
import { loadDataset } from '../../src/datasets/load.js';
import { labelView } from '../../src/datasets/label-views.js';
import { featureColumns, featureNames, findFeature } from '../../src/datasets/features.js';
import { inspectFrame } from '../../src/datasets/inspect.js';
import { detectFileFormat } from '../../src/datasets/detect.js';
import { CIC_FEATURES } from '../../src/datasets/cic-names.js';
import type { Column, NumericColumn } from '../../src/frame/frame.js';

const fixture = (name: string): string => resolve('test/fixtures/datasets', name);

function counts(labels: { codes: Int32Array; classes: readonly string[] }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of labels.codes) out[labels.classes[c]] = (out[labels.classes[c]] ?? 0) + 1;
  return out;
}

const numeric = (c: Column | undefined): Float32Array => (c as NumericColumn).values;

describe('CIC-IDS2017 MachineLearningCVE layout', () => {
  const file = fixture('cic2017-machinelearningcve.csv');

  it('is detected, renamed to canonical names, with the repeated Fwd Header Length dropped', async () => {
    const frame = await loadDataset([file]);
    assert.equal(frame.source.format, 'cic-ids2017');
    assert.equal(frame.source.variant, 'MachineLearningCVE');
    assert.equal(frame.nRows, 12);
    assert.equal(frame.features.length, 77);
    for (const name of featureNames(frame)) assert.ok(CIC_FEATURES.includes(name), name);
    assert.deepEqual(frame.source.dropped.filter((d) => d.reason === 'duplicate').map((d) => d.name), ['Fwd Header Length']);
    assert.equal(frame.identifiers.length, 0);
    assert.deepEqual(Array.from(numeric(findFeature(frame, 'Fwd Header Length'))).slice(0, 3), [20, 40, 60]);
  });

  it('reads Infinity and NaN, counted exactly as a plain line scan counts them', async () => {
    const frame = await loadDataset([file]);
    const report = inspectFrame(frame);
    const lines = readFileSync(file, 'latin1').trim().split('\r\n');
    const header = lines[0].split(',').map((h) => h.trim());
    for (const name of ['Flow Bytes/s', 'Flow Packets/s']) {
      const j = header.indexOf(name);
      const cells = lines.slice(1).map((l) => l.split(',')[j]);
      const col = report.columnReports.find((c) => c.name === name);
      assert.equal(col?.posInf, cells.filter((c) => c === 'Infinity').length, name);
      assert.equal(col?.missing, cells.filter((c) => c === 'NaN').length, name);
    }
    const v = numeric(findFeature(frame, 'Flow Bytes/s'));
    assert.equal(v[1], Infinity);
    assert.ok(Number.isNaN(v[7]));
  });

  it('repairs the cp1252 dash of the Web Attack labels and maps families', async () => {
    const frame = await loadDataset([file]);
    const attack = counts(labelView(frame, 'attack'));
    assert.equal(attack['Web Attack - Brute Force'], 1);
    assert.equal(attack['Web Attack - XSS'], 1);
    assert.deepEqual(counts(labelView(frame, 'category')), { normal: 4, DoS: 1, PortScan: 1, DDoS: 1, 'Web Attack': 2, 'Brute Force': 1, Bot: 1, Infiltration: 1 });
    assert.deepEqual(counts(labelView(frame, 'binary')), { normal: 4, attack: 8 });
    assert.deepEqual(labelView(frame, 'binary').classes, ['normal', 'attack']);
  });

  it('lines up with the corrected layout by canonical name', async () => {
    const original = await loadDataset([file]);
    const corrected = CIC_FEATURES.filter((f) => !['Protocol', 'Fwd RST Flags', 'Bwd RST Flags', 'ICMP Code', 'ICMP Type', 'Total TCP Flow Time'].includes(f));
    const cols = featureColumns(original, corrected);
    assert.equal(cols.length, 77);
    assert.equal(findFeature(original, ' Total Fwd Packets'), findFeature(original, 'Tot Fwd Pkts'));
    assert.throws(() => featureColumns(original, ['Protocol', 'ICMP Code']), /missing feature columns 'Protocol', 'ICMP Code'/);
  });
});

describe('CSE-CIC-IDS2018 layout', () => {
  it('maps abbreviations, keeps Timestamp apart and skips the repeated header row with a count', async () => {
    const frame = await loadDataset([fixture('cse-cic-ids2018.csv')]);
    assert.equal(frame.source.format, 'cse-cic-ids2018');
    assert.equal(frame.nRows, 10);
    assert.deepEqual(frame.source.skipped, [{ reason: 'repeated header row', count: 1 }]);
    assert.deepEqual(frame.identifiers.map((c) => c.name), ['Timestamp']);
    const time = frame.identifiers[0];
    assert.equal(time.kind, 'time');
    assert.deepEqual(Array.from(time.kind === 'time' ? time.seconds.subarray(0, 2) : []), [Date.UTC(2018, 2, 2, 8) / 1000, Date.UTC(2018, 2, 2, 8, 1, 3) / 1000]);
    assert.equal(frame.features.length, 78);
    assert.equal(numeric(findFeature(frame, 'Flow Bytes/s'))[2], Infinity);
    assert.deepEqual(counts(labelView(frame, 'category')), { normal: 2, DDoS: 1, DoS: 1, 'Brute Force': 2, 'Web Attack': 2, Infiltration: 1, Bot: 1 });
  });
});

describe('ISCX-IDS2012 XML', () => {
  it('streams flows, decodes entities and keeps payloads and addresses out of the features', async () => {
    const file = fixture('TestbedSynthJun14Flows.xml');
    assert.equal((await detectFileFormat(file)).format.name, 'iscx2012');
    const frame = await loadDataset([file]);
    assert.equal(frame.nRows, 5);
    assert.deepEqual(counts(labelView(frame, 'binary')), { normal: 3, attack: 2 });
    const app = frame.features.find((c) => c.name === 'appName');
    assert.ok(app && app.kind === 'categorical');
    assert.equal(app.dictionary[app.codes[4]], 'DNS & co');
    assert.deepEqual(Array.from(numeric(findFeature(frame, 'totalSourceBytes'))), [1052, 16076, 38790, 2345, 74]);
    assert.deepEqual(Array.from(numeric(findFeature(frame, 'destinationPort'))), [80, 5353, 1138, 22, 53]);
    assert.deepEqual(frame.identifiers.map((c) => c.name), ['source', 'sourcePort', 'destination', 'startDateTime', 'stopDateTime']);
    assert.equal(frame.source.dropped.filter((d) => d.reason === 'payload').length, 4);
    assert.equal(findFeature(frame, 'sourcePayloadAsUTF'), undefined);
  });

  it('reads numeric fields by the CSV readers\' rules: missing tokens, infinities, decimals beyond float64; hexadecimal is text', async () => {
    const original = readFileSync(fixture('TestbedSynthJun14Flows.xml'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'fs-iscx-'));
    try {
      const edited = join(dir, 'TestbedEditedFlows.xml');
      const cells = ['N/A', 'inf', '1e999', '-Infinity', ' 74 '];
      let n = 0;
      writeFileSync(edited, original.replace(/<totalSourceBytes>[^<]*<\/totalSourceBytes>/g, () => `<totalSourceBytes>${cells[n++]}</totalSourceBytes>`));
      assert.deepEqual(Array.from(numeric(findFeature(await loadDataset([edited]), 'totalSourceBytes'))), [NaN, Infinity, Infinity, -Infinity, 74]);
      writeFileSync(edited, original.replace('<totalSourceBytes>16076<', '<totalSourceBytes>0x10<'));
      await assert.rejects(loadDataset([edited]), /'0x10' is not a number \(text in a numeric field\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('UNSW-NB15 start and end times', () => {
  it('are Float64 seconds: two flows one second apart in 2015 keep their order (Float32 would tie them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-unsw-'));
    try {
      const path = join(dir, 'unsw.csv');
      const rows = ['1,1421927415,1421927416,0.1,udp,-,INT,254,Normal,0', '2,1421927414,1421927414,0.2,tcp,http,FIN,62,Exploits,1'];
      writeFileSync(path, `id,stime,ltime,dur,proto,service,state,sttl,attack_cat,label\n${rows.join('\n')}\n`);
      const frame = await loadDataset([path]);
      assert.equal(frame.source.format, 'unsw-nb15');
      const times = Object.fromEntries(frame.identifiers.filter((c) => c.kind === 'time').map((c) => [c.name, c.kind === 'time' ? Array.from(c.seconds) : []]));
      assert.deepEqual(times, { stime: [1421927415, 1421927414], ltime: [1421927416, 1421927414] });
      assert.equal(Math.fround(1421927415), Math.fround(1421927414));
      assert.deepEqual(Array.from(timeOrderedSplit(frameTimes(frame), 0.5).train), [1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generic CSV', () => {
  it('loads a time-named column in a form it does not read as text instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-time-'));
    try {
      const path = join(dir, 'flows.csv');
      writeFileSync(path, 'timestamp,bytes,verdict\n2017/07/06 10:00,10,ok\nJul 7 2017,20,bad\n');
      const frame = await loadDataset([path], { label: 'verdict' });
      const time = frame.identifiers.find((c) => c.name === 'timestamp');
      assert.equal(time?.kind, 'categorical');
      assert.equal(frame.nRows, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('types columns from the data, sets identifiers apart and uses --label', async () => {
    const frame = await loadDataset([fixture('generic-flows.csv')], { label: 'verdict' });
    assert.equal(frame.source.format, 'csv');
    assert.deepEqual(featureNames(frame), ['proto', 'bytes', 'packets', 'duration']);
    assert.deepEqual(frame.identifiers.map((c) => c.name), ['flow_id', 'src_ip']);
    assert.equal(findFeature(frame, 'proto')?.kind, 'categorical');
    assert.deepEqual(Array.from(numeric(findFeature(frame, 'bytes'))), [1200, 80, 99999, 64, 100000]);
    assert.ok(Number.isNaN(numeric(findFeature(frame, 'duration'))[3]));
    assert.deepEqual(counts(labelView(frame, 'binary')), { normal: 3, attack: 2 });
    const kept = await loadDataset([fixture('generic-flows.csv')], { label: 'verdict', keepIdentifiers: true });
    assert.deepEqual(featureNames(kept), ['flow_id', 'src_ip', 'proto', 'bytes', 'packets', 'duration']);
    const unlabelled = await loadDataset([fixture('generic-flows.csv')]);
    assert.equal(unlabelled.label, undefined);
    assert.throws(() => labelView(unlabelled, 'binary'), /no label column/);
  });
});

describe('identifier columns not read', () => {
  it('skips them on request, keeps the timestamps for a time-ordered split, and lists them as dropped', async () => {
    const file = fixture('cse-cic-ids2018.csv');
    const all = await loadDataset([file]);
    const times = await loadDataset([file], { identifiers: 'timestamps' });
    const none = await loadDataset([file], { identifiers: 'none' });
    assert.deepEqual(times.identifiers, all.identifiers);
    assert.deepEqual(none.identifiers, []);
    for (const frame of [times, none]) {
      assert.deepEqual(frame.features, all.features);
      assert.deepEqual(frame.label, all.label);
      assert.deepEqual(frame.source, all.source);
    }
    const generic = await loadDataset([fixture('generic-flows.csv')], { label: 'verdict', identifiers: 'none' });
    assert.deepEqual(generic.identifiers, []);
    assert.deepEqual(generic.source.dropped.filter((d) => d.reason === 'identifier').map((d) => d.name), ['flow_id', 'src_ip']);
    const kept = await loadDataset([fixture('generic-flows.csv')], { label: 'verdict', keepIdentifiers: true, identifiers: 'none' });
    assert.deepEqual(featureNames(kept), ['flow_id', 'src_ip', 'proto', 'bytes', 'packets', 'duration']);
  });
});

describe('inspect grouping', () => {
  it('reports a train and a test file separately, and per-class CIC files as one dataset', async () => {
    const { inspectFiles } = await import('../../src/datasets/inspect.js');
    const nsl = await inspectFiles([resolve('samples/nsl-kdd/KDDTrain+_sample.txt'), resolve('samples/nsl-kdd/KDDTest+_sample.txt')]);
    assert.equal(nsl.length, 2);
    const lines = (f: string) => readFileSync(resolve('samples/nsl-kdd', f), 'utf8').trim().split('\n').length;
    assert.deepEqual(nsl.map((r) => r.rows), [lines('KDDTrain+_sample.txt'), lines('KDDTest+_sample.txt')]);
    const cic = await inspectFiles([fixture('cic2017-machinelearningcve.csv'), fixture('cic2017-machinelearningcve.csv')]);
    assert.equal(cic.length, 1);
    assert.equal(cic[0].rows, 24);
    assert.equal(cic[0].duplicateRows, 12);
  });
});

describe('the normal class', () => {
  const KDD_FEATURES_ROW = '0,tcp,http,SF,215,45076,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,1,0.00,0.00,0.00,0.00,1.00,0.00,0.00,0,0,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00';
  it("is spelled 'normal' in every view of every format, whatever the file calls it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-normal-'));
    try {
      const write = (name: string, text: string): string => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      // file → [format, how the file spells normal, how many normal rows it holds]
      const cases: [string, string, string, number][] = [
        [write('nsl.txt', `${KDD_FEATURES_ROW},normal,21\n${KDD_FEATURES_ROW},neptune,19\n`), 'nsl-kdd', 'normal', 1],
        [write('kdd.csv', `${KDD_FEATURES_ROW},normal.\n${KDD_FEATURES_ROW},smurf.\n`), 'kdd99', 'normal', 1],
        [write('unsw.csv', 'id,dur,proto,service,state,sttl,attack_cat,label\n1,0.1,udp,-,INT,254,Normal,0\n2,0.2,tcp,http,FIN,62,Exploits,1\n3,0.2,tcp,http,FIN,62,Normal,0\n'), 'unsw-nb15', 'Normal', 2],
        [fixture('cic2017-machinelearningcve.csv'), 'cic-ids2017', 'BENIGN', 4],
        [fixture('generic-flows.csv'), 'csv', 'benign', 3],
        [fixture('TestbedSynthJun14Flows.xml'), 'iscx2012', 'Normal', -1],
      ];
      for (const [file, format, spelling, normalRows] of cases) {
        const text = readFileSync(file, 'utf8');
        assert.ok(text.includes(spelling), `${format}: the file spells normal '${spelling}'`);
        const frame = await loadDataset([file], format === 'csv' ? { label: 'verdict' } : {});
        assert.equal(frame.source.format, format);
        for (const view of ['binary', 'attack', 'category'] as const) {
          const labels = labelView(frame, view);
          const normalLike = labels.classes.filter((c) => /^(normal|benign)$/i.test(c));
          assert.deepEqual(normalLike, ['normal'], `${format} ${view}: ${labels.classes.join(', ')}`);
          if (normalRows >= 0) assert.equal(counts(labels).normal, normalRows, `${format} ${view}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

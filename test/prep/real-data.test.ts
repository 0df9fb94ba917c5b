// The pipeline on real NSL-KDD rows (skips without ../shared/datasets) and the benchmark matrix writer.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/datasets.js';
import { loadDataset } from '../../src/datasets/load.js';
import { Pipeline } from '../../src/prep/pipeline.js';
import { uniqueRows } from '../../src/prep/dedup-rows.js';
import { createMatrix } from '../../src/frame/matrix.js';
import { writeForPython, type BenchData } from '../../bench/lib/bench-data.js';

const train = sharedFile('nsl-kdd/KDDTrain+_20Percent.txt');
const unsw = sharedFile('unsw-nb15/UNSW_NB15_part-a.csv');
const test = sharedFile('nsl-kdd/KDDTest+.txt');

describe('pipeline on NSL-KDD', { skip: train && test ? false : 'shared datasets absent' }, () => {
  it('122 columns with one-hot + scaling, num_outbound_cmds dropped as constant by default, unseen services → zeros', async () => {
    const trainFrame = await loadDataset([train!]);
    const testFrame = await loadDataset([test!]);
    const full = Pipeline.fit(trainFrame, { scaleOneHot: true, dropConstant: false, dropDuplicateColumns: false });
    assert.equal(full.columns.length, 38 + 3 + 11 + full.columns.filter((c) => c.startsWith('service=')).length);
    const X = full.transform(trainFrame);
    for (let j = 0; j < X.cols; j++) {
      let sum = 0;
      let squares = 0;
      for (let i = 0; i < X.rows; i++) sum += X.data[i * X.cols + j];
      const mean = sum / X.rows;
      for (let i = 0; i < X.rows; i++) squares += (X.data[i * X.cols + j] - mean) ** 2;
      const std = Math.sqrt(squares / X.rows);
      assert.ok(Math.abs(mean) < 1e-4, `${X.columns![j]} mean ${mean}`);
      assert.ok(Math.abs(std - 1) < 1e-3 || std === 0, `${X.columns![j]} std ${std}`);
    }
    const p = Pipeline.fit(trainFrame);
    assert.ok(p.dropped.some((d) => d.name === 'num_outbound_cmds' && d.reason === 'constant'));
    const unscaled = Pipeline.fit(trainFrame, { scaler: 'none' });
    const serviceCols = unscaled.columns.map((c, j) => (c.startsWith('service=') ? j : -1)).filter((j) => j >= 0);
    const Y = unscaled.transform(testFrame);
    const service = testFrame.features.find((c) => c.name === 'service')!;
    assert.equal(service.kind, 'categorical');
    const known = new Set(unscaled.columns.filter((c) => c.startsWith('service=')).map((c) => c.slice(8)));
    for (let i = 0; i < Y.rows; i++) {
      const hot = serviceCols.reduce((s, j) => s + Y.data[i * Y.cols + j], 0);
      const value: string = service.kind === 'categorical' ? service.dictionary[service.codes[i]] : '';
      assert.equal(hot, known.has(value) ? 1 : 0, `row ${i} service ${value}`);
    }
  });
});

describe('row de-duplication on UNSW-NB15', { skip: unsw ? false : 'shared datasets absent' }, () => {
  it('finds as many distinct rows as pandas drop_duplicates (34,395 feature rows, 35,952 with attack_cat)', async () => {
    const frame = await loadDataset([unsw!]);
    assert.equal(frame.nRows, 49400);
    assert.equal(uniqueRows(frame).length, 34395);
    assert.equal(uniqueRows(frame, frame.label!.codes).length, 35952);
  });
});

describe('writeForPython', () => {
  it('writes little-endian float32 matrices, int32 labels and the shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-bench-'));
    try {
      const m = createMatrix(2, 3, ['a', 'b', 'c'], Float32Array.from([1, 2.5, -3, 4, 5, 6]));
      const labels = { binary: { codes: Int32Array.from([0, 1]), classes: ['normal', 'attack'] }, multi: { codes: Int32Array.from([1, 0]), classes: ['DoS', 'normal'] } };
      const data = { name: 'nsl', description: 'tiny', train: m, test: m, yTrain: labels, yTest: labels, pipeline: undefined as never, prepareSeconds: 0 } satisfies BenchData;
      await writeForPython(data, dir);
      const x = await readFile(join(dir, 'X_train.f32'));
      assert.equal(x.length, 24);
      assert.equal(x.readFloatLE(4), 2.5);
      assert.equal(x.readFloatLE(8), -3);
      const y = await readFile(join(dir, 'y_test_multi.i32'));
      assert.deepEqual([y.readInt32LE(0), y.readInt32LE(4)], [1, 0]);
      const shape = JSON.parse(await readFile(join(dir, 'shape.json'), 'utf8')) as { rows_train: number; cols: number; columns: string[]; classes_multi: string[] };
      assert.deepEqual([shape.rows_train, shape.cols, shape.columns, shape.classes_multi], [2, 3, ['a', 'b', 'c'], ['DoS', 'normal']]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

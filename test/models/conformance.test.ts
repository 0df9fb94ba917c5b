// One conformance suite over every registered model, as scikit-learn's estimator checks do.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listModels } from '../../src/models/index.js';
import type { ModelSpec } from '../../src/models/registry.js';
import type { Classifier, Detector, Estimator } from '../../src/models/estimator.js';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import type { Labels } from '../../src/frame/labels.js';
import { UserError } from '../../src/errors.js';
import { encodeState, decodeState } from '../../src/store/state-codec.js';
import { Rng } from '../../src/util/rng.js';

/** Gaussian blobs: class c centred at 3·c on every feature. */
function blobs(rows: number, cols: number, nClasses: number, seed: number): { X: Matrix; y: Labels } {
  const rng = new Rng(seed);
  const X = createMatrix(rows, cols);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % nClasses;
    codes[i] = c;
    for (let j = 0; j < cols; j++) X.data[i * cols + j] = 3 * c + rng.normal();
  }
  const classes = Array.from({ length: nClasses }, (_, c) => `class-${String.fromCharCode(97 + c)}`);
  return { X, y: { codes, classes } };
}

function roundTrip(spec: ModelSpec, model: Estimator): Estimator {
  return spec.fromState(decodeState(encodeState(model.getState())));
}

function withValue(X: Matrix, index: number, value: number): Matrix {
  const data = Float32Array.from(X.data);
  data[index] = value;
  return createMatrix(X.rows, X.cols, undefined, data);
}

const accuracy = (a: Int32Array, b: Int32Array): number => a.reduce((s, v, i) => s + (v === b[i] ? 1 : 0), 0) / a.length;

for (const spec of listModels('classifier')) {
  describe(`conformance: ${spec.name}`, () => {
    const make = (): Classifier => spec.create({ ...spec.testParams }) as Classifier;

    for (const [label, cols, nClasses] of [['1 feature, 2 classes', 1, 2], ['2 classes', 5, 2], ['4 classes', 5, 4]] as const) {
      it(`${label}: learns separable blobs, seeded, save/load identical`, async () => {
        const { X, y } = blobs(400, cols, nClasses, 7);
        const a = await make().fit(X, y);
        const b = await make().fit(X, y);
        const test = blobs(200, cols, nClasses, 8);
        const pa = await a.predictProba(test.X);
        assert.equal(pa.rows, 200);
        assert.equal(pa.cols, nClasses);
        for (let i = 0; i < pa.rows; i++) {
          let sum = 0;
          for (let j = 0; j < pa.cols; j++) sum += pa.data[i * pa.cols + j];
          assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities of row ${i} sum to ${sum}`);
        }
        assert.deepEqual((await b.predictProba(test.X)).data, pa.data, 'same seed gives the same output');
        const pred = await a.predict(test.X);
        assert.deepEqual([...pred.classes], [...y.classes], 'string class labels are preserved');
        assert.ok(accuracy(pred.codes, test.y.codes) > 0.8, 'learns well-separated blobs');
        const loaded = roundTrip(spec, a) as Classifier;
        assert.deepEqual((await loaded.predictProba(test.X)).data, pa.data, 'save/load gives identical predictions');
        assert.deepEqual([...loaded.classes], [...y.classes]);
      });
    }

    it('rejects NaN input, wrong width and single-class training with a clear error', async () => {
      const { X, y } = blobs(200, 3, 2, 1);
      const model = await make().fit(X, y);
      await assert.rejects(model.predict(withValue(X, 4, Number.NaN)), UserError);
      await assert.rejects(model.predict(createMatrix(2, 4)), UserError);
      await assert.rejects(make().fit(withValue(X, 0, Number.NaN), y), UserError);
      const single: Labels = { codes: new Int32Array(X.rows), classes: ['normal'] };
      await assert.rejects(make().fit(X, single), UserError);
    });
  });
}

for (const spec of listModels('detector')) {
  describe(`conformance: ${spec.name}`, () => {
    const make = (): Detector => spec.create({ ...spec.testParams }) as Detector;
    const normal = blobs(500, 4, 1, 3).X;
    const mixed = (() => {
      const m = blobs(200, 4, 1, 4).X;
      for (let i = 0; i < 20; i++) for (let j = 0; j < 4; j++) m.data[i * 4 + j] += 8;
      return m;
    })();

    it('scores outliers higher, seeded, save/load identical', async () => {
      const a = await make().fit(normal);
      const b = await make().fit(normal);
      const scores = await a.scoreSamples(mixed);
      assert.equal(scores.length, mixed.rows);
      assert.deepEqual(await b.scoreSamples(mixed), scores, 'same seed gives the same scores');
      let outlierMean = 0;
      let inlierMean = 0;
      for (let i = 0; i < 20; i++) outlierMean += scores[i] / 20;
      for (let i = 20; i < 200; i++) inlierMean += scores[i] / 180;
      assert.ok(outlierMean > inlierMean, 'higher = more anomalous');
      const flags = await a.predict(mixed);
      assert.ok(flags.every((f) => f === 0 || f === 1));
      assert.ok(flags.subarray(0, 20).reduce((s, f) => s + f, 0) >= 15, 'flags most outliers with the fitted threshold');
      const norm = a.normalizeScores(scores);
      assert.ok(norm.every((v) => v >= 0 && v <= 1), 'normalised scores lie in [0, 1]');
      const loaded = roundTrip(spec, a) as Detector;
      assert.deepEqual(await loaded.scoreSamples(mixed), scores, 'save/load gives identical scores');
      assert.equal(loaded.threshold, a.threshold);
    });

    it('works on one feature', async () => {
      const X = blobs(300, 1, 1, 5).X;
      const model = await make().fit(X);
      assert.equal((await model.scoreSamples(X)).length, 300);
    });

    it('rejects NaN input and wrong width with a clear error', async () => {
      const model = await make().fit(normal);
      await assert.rejects(model.scoreSamples(withValue(mixed, 2, Number.NaN)), UserError);
      await assert.rejects(model.scoreSamples(createMatrix(2, 5)), UserError);
      await assert.rejects(make().fit(withValue(normal, 0, Number.POSITIVE_INFINITY)), UserError);
    });
  });
}

describe('conformance: random_state', () => {
  const seeded = [...listModels('classifier'), ...listModels('detector')].filter((s) => 'random_state' in s.create().params);
  it('every seeded model takes the seeds its 32-bit generator reads, and refuses a larger one by name', () => {
    assert.ok(seeded.length >= 10, `seeded models: ${seeded.map((s) => s.name).join(', ')}`);
    for (const spec of seeded) {
      assert.equal(spec.create({ random_state: 2 ** 32 - 1 }).params.random_state, 2 ** 32 - 1, spec.name);
      assert.throws(() => spec.create({ random_state: 2 ** 32 }), (e: unknown) => e instanceof UserError && e.message.includes(`${spec.name}: parameter random_state=4294967296 is out of range`), spec.name);
    }
  });
});

// Cross-validated detectors are scored at the threshold the saved model uses: a target false-positive rate on normal
// training rows held out from the fit, not the detector's own rule. Hand-made data with exact answers: 60 normal rows
// at x = 0 and 30 attack rows at x = 5; 'test-distance' scores the distance to the normal centre (normals 0, attacks
// 5) and its own threshold is the largest training score (0), so by its own rule every row is flagged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMatrix } from '../../src/frame/matrix.js';
import { crossValidate } from '../../src/eval/cross-validate.js';
import type { CvMetric } from '../../src/eval/scoring.js';
import { TEST_MODELS_MODULE } from './helpers/test-models.js';

const codes = Int32Array.from({ length: 90 }, (_, i) => (i % 3 === 2 ? 1 : 0)); // 60 normal (0), 30 attack (1)
const X = createMatrix(90, 1, ['x'], Float32Array.from(codes, (c) => (c === 1 ? 5 : 0)));
const data = { X, y: { codes, classes: ['normal', 'attack'] } };
const options = { folds: 3, seed: 0, threads: 1, modelModules: [TEST_MODELS_MODULE], metrics: ['accuracy', 'f1'] as CvMetric[] };

test("the detector's own threshold flags every validation row: accuracy 1/3 and f1 0.5 (precision 1/3, recall 1)", async () => {
  const r = await crossValidate(data, 'test-distance', {}, options);
  assert.deepEqual(r.cv.accuracy!.folds, [1 / 3, 1 / 3, 1 / 3]);
  assert.deepEqual(r.cv.f1!.folds, [0.5, 0.5, 0.5]);
});

test('with a 1% target FPR on held-out normal rows: no normal row is flagged, every attack is: accuracy and f1 1', async () => {
  const r = await crossValidate(data, 'test-distance', {}, { ...options, detectorThreshold: { targetFpr: 0.01, calibrationFraction: 0.2 } });
  assert.deepEqual(r.cv.accuracy!.folds, [1, 1, 1]);
  assert.deepEqual(r.cv.f1!.folds, [1, 1, 1]);
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pathBias, pathContributions } from '../../src/explain/tree-path.js';
import { forestFromState } from '../../src/models/trees/flat-tree.js';
import { getModelSpec } from '../../src/models/index.js';
import { createMatrix } from '../../src/frame/matrix.js';
import { Rng } from '../../src/util/rng.js';
import type { ModelState } from '../../src/models/estimator.js';

describe('tree path contributions (Saabas)', () => {
  it('a hand-built stump credits the split feature with the whole move from the root value', () => {
    // root: x0 <= 0.5 ? leaf A (P(class1) = 0.2) : leaf B (0.9); root value = 0.6 (cover-weighted)
    const forest = {
      nOutputs: 2,
      treeStart: Int32Array.from([0, 3]),
      feature: Int32Array.from([0, -1, -1]),
      threshold: Float32Array.from([0.5, 0, 0]),
      left: Int32Array.from([1, -1, -1]),
      right: Int32Array.from([2, -1, -1]),
      value: Float32Array.from([0.4, 0.6, 0.8, 0.2, 0.1, 0.9]),
      cover: Float32Array.from([10, 3, 7]),
    };
    const X = createMatrix(2, 2, undefined, Float32Array.from([0, 5, 1, 5]));
    const c = pathContributions(forest, X, () => 1, 1);
    assert.ok(Math.abs(c.data[0] - (0.2 - 0.6)) < 1e-6);
    assert.ok(Math.abs(c.data[2] - (0.9 - 0.6)) < 1e-6);
    assert.equal(c.data[1], 0, 'an unused feature gets nothing');
    assert.ok(Math.abs(pathBias(forest, 1, 1) - 0.6) < 1e-6);
  });

  it('bias + contributions equal the random forest probability of the explained class', async () => {
    const rng = new Rng(3);
    const rows = 400;
    const X = createMatrix(rows, 4);
    const codes = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < 4; j++) X.data[i * 4 + j] = rng.normal();
      codes[i] = X.data[i * 4] + 0.5 * X.data[i * 4 + 1] > 0 ? 1 : 0;
    }
    const spec = getModelSpec('rf');
    const rf = await spec.create({ n_estimators: 20, random_state: 1 }).fit(X, { codes, classes: ['normal', 'attack'] }) as import('../../src/models/estimator.js').Classifier;
    const forest = forestFromState(rf.getState().forest as ModelState);
    const trees = forest.treeStart.length - 1;
    const proba = await rf.predictProba(X);
    const contrib = pathContributions(forest, X, () => 1, 1 / trees);
    const bias = pathBias(forest, 1, 1 / trees);
    for (let i = 0; i < rows; i++) {
      let sum = bias;
      for (let j = 0; j < 4; j++) sum += contrib.data[i * 4 + j];
      assert.ok(Math.abs(sum - proba.data[i * 2 + 1]) < 1e-4, `row ${i}: ${sum} vs ${proba.data[i * 2 + 1]}`);
    }
  });
});

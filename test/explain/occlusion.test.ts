// Occlusion explanations against hand-computed values: for a linear score w·x the contribution of feature j is
// exactly w_j (x_j − reference_j), and a one-hot group's contribution is the sum over its columns.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matrixFromRows, type Matrix } from '../../src/frame/matrix.js';
import { columnMedians, explainRows, globalImportances, identityGroups, topContributions } from '../../src/explain/index.js';
import { occlusion } from '../../src/explain/occlusion.js';
import { getModelSpec } from '../../src/models/index.js';
import type { Classifier } from '../../src/models/estimator.js';
import { Rng } from '../../src/util/rng.js';

const w = [2, -1, 0.5, 3];
const linear = async (X: Matrix): Promise<Float64Array> =>
  Float64Array.from({ length: X.rows }, (_, i) => w.reduce((s, wj, j) => s + wj * X.data[i * X.cols + j], 0));

describe('occlusion', () => {
  const X = matrixFromRows([
    [1, 2, 3, 4],
    [0, 0, 0, 0],
    [-1, 5, 2, 1],
  ]);
  const reference = Float32Array.from([0.5, 1, 1, 0]);

  it('gives w_j (x_j - reference_j) for a linear score', async () => {
    const c = await occlusion(X, reference, identityGroups(4), (B) => linear(B), 2);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < 4; j++) {
        const expected = w[j] * (X.data[i * 4 + j] - reference[j]);
        assert.ok(Math.abs(c.data[i * 4 + j] - expected) < 1e-6, `row ${i} feature ${j}: ${c.data[i * 4 + j]} vs ${expected}`);
      }
    }
  });

  it('occludes grouped columns together (one-hot groups sum)', async () => {
    const groups = { columnFeature: Int32Array.from([0, 1, 1, 2]), nFeatures: 3 };
    const model = getModelSpec('logreg').create();
    const c = await explainRows(X, { model, reference, groups, score: linear });
    assert.equal(c.cols, 3);
    // row 0: group 1 = columns 1 and 2: -1·(2-1) + 0.5·(3-1) = 0
    assert.ok(Math.abs(c.data[1] - 0) < 1e-6);
    // row 2: group 1: -1·(5-1) + 0.5·(2-1) = -3.5; group 2: 3·(1-0) = 3
    assert.ok(Math.abs(c.data[2 * 3 + 1] + 3.5) < 1e-6);
    assert.ok(Math.abs(c.data[2 * 3 + 2] - 3) < 1e-6);
  });

  it('ranks the top contributions by absolute value', () => {
    const c = matrixFromRows([[0.1, -0.9, 0.5, 0]]);
    const top = topContributions(c, 0, ['a', 'b', 'c', 'd'], 3);
    assert.deepEqual(top.map((t) => t.feature), ['b', 'c', 'a']);
    assert.ok(Math.abs(top[0].contribution + 0.9) < 1e-6);
  });

  it('leaves out features that contribute nothing: a row where no feature moves the output has no top features', () => {
    const c = matrixFromRows([
      [0, 0, 0, 0],
      [0, 0.25, 0, 0],
    ]);
    assert.deepEqual(topContributions(c, 0, ['a', 'b', 'c', 'd'], 3), []);
    assert.deepEqual(topContributions(c, 1, ['a', 'b', 'c', 'd'], 3), [{ feature: 'b', contribution: 0.25 }]);
  });

  it('computes column medians', () => {
    const m = columnMedians(matrixFromRows([[1, 10], [3, 30], [2, 20], [4, 40]]));
    assert.deepEqual([...m], [2.5, 25]);
  });

  it('uses a tree model’s exact contributions, summed per group, and global importances sum to 1', async () => {
    const rng = new Rng(3);
    const rows: number[][] = [];
    const codes: number[] = [];
    for (let i = 0; i < 300; i++) {
      const c = i % 2;
      codes.push(c);
      rows.push([c * 2 + rng.normal() * 0.5, rng.normal(), rng.normal(), rng.normal()]);
    }
    const X = matrixFromRows(rows);
    const model = (await (getModelSpec('rf').create({ n_estimators: 10 }) as Classifier).fit(X, { codes: Int32Array.from(codes), classes: ['normal', 'attack'] }));
    assert.ok(model.explain, 'random forests explain exactly');
    const exact = await model.explain(X);
    const groups = { columnFeature: Int32Array.from([0, 1, 1, 2]), nFeatures: 3 };
    const c = await explainRows(X, { model, reference: columnMedians(X), groups, shap: true });
    for (let i = 0; i < 5; i++) {
      assert.ok(Math.abs(c.data[i * 3] - exact.data[i * 4]) < 1e-6);
      assert.ok(Math.abs(c.data[i * 3 + 1] - (exact.data[i * 4 + 1] + exact.data[i * 4 + 2])) < 1e-6);
    }
    const proba = await model.predictProba(X);
    const fast = await explainRows(X, { model, reference: columnMedians(X), groups });
    for (let i = 0; i < 5; i++) {
      const cls = proba.data[i * 2 + 1] > proba.data[i * 2] ? 1 : 0;
      const total = fast.data[i * 3] + fast.data[i * 3 + 1] + fast.data[i * 3 + 2];
      const full = exact.data.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - full) < 1e-4, 'path contributions and TreeSHAP explain the same output (bias + sum = probability)');
      assert.ok(proba.data[i * 2 + cls] > 0, 'explains the predicted class');
    }
    const g = await globalImportances(X, { model, reference: columnMedians(X), groups });
    assert.ok(Math.abs(g.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(g[0] > g[1] && g[0] > g[2], 'the informative feature leads');
  });
});

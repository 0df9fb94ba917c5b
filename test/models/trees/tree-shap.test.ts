// TreeSHAP against brute-force Shapley values of the same path-dependent value function, and the efficiency
// property (Σ φ + expected value = model output) for every tree model.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMatrix, type Matrix } from '../../../src/frame/matrix.js';
import type { Labels } from '../../../src/frame/labels.js';
import { Rng } from '../../../src/util/rng.js';
import { treeShap } from '../../../src/explain/tree-shap.js';
import { DecisionTree } from '../../../src/models/decision-tree.js';
import { RandomForest } from '../../../src/models/random-forest.js';
import { GradientBoosting } from '../../../src/models/gbdt.js';
import { IsolationForest } from '../../../src/models/iforest.js';
import { forestFromState, type FlatForest } from '../../../src/models/trees/flat-tree.js';
import type { ModelState } from '../../../src/models/estimator.js';

function data(rows: number, cols: number, nClasses: number, seed: number): { X: Matrix; y: Labels } {
  const rng = new Rng(seed);
  const X = createMatrix(rows, cols);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) X.data[i * cols + j] = rng.normal();
    const s = X.data[i * cols] + 0.5 * X.data[i * cols + 1] * X.data[i * cols + 2] + 0.3 * rng.normal();
    codes[i] = nClasses === 2 ? (s > 0 ? 1 : 0) : Math.min(nClasses - 1, Math.max(0, Math.floor(s + nClasses / 2)));
  }
  return { X, y: { codes, classes: Array.from({ length: nClasses }, (_, k) => `c${k}`) } };
}

/** E[f(x) | x_S] under the tree's cover distribution: unknown features follow both children weighted by cover. */
function conditional(forest: FlatForest, root: number, x: Float32Array, known: Set<number>, output: number): number {
  const walk = (node: number): number => {
    const f = forest.feature[node];
    if (f < 0) return forest.value[node * forest.nOutputs + output];
    const l = forest.left[node];
    const r = forest.right[node];
    if (known.has(f)) return walk(x[f] <= forest.threshold[node] ? l : r);
    return (forest.cover[l] * walk(l) + forest.cover[r] * walk(r)) / forest.cover[node];
  };
  return walk(root);
}

/** Exact Shapley values by enumerating all feature subsets (M ≤ 8). */
function bruteShapley(forest: FlatForest, x: Float32Array, M: number, output: number): number[] {
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const phi = new Array<number>(M).fill(0);
  const trees = forest.treeStart.length - 1;
  for (let mask = 0; mask < 1 << M; mask++) {
    const known = new Set<number>();
    for (let j = 0; j < M; j++) if (mask & (1 << j)) known.add(j);
    let v = 0;
    for (let t = 0; t < trees; t++) v += conditional(forest, forest.treeStart[t], x, known, output);
    for (let j = 0; j < M; j++) {
      if (known.has(j)) continue;
      const withJ = new Set(known).add(j);
      let vj = 0;
      for (let t = 0; t < trees; t++) vj += conditional(forest, forest.treeStart[t], x, withJ, output);
      const s = known.size;
      phi[j] += ((fact(s) * fact(M - s - 1)) / fact(M)) * (vj - v);
    }
  }
  return phi;
}

const sumRow = (m: Matrix, i: number): number => m.data.subarray(i * m.cols, (i + 1) * m.cols).reduce((s, v) => s + v, 0);

describe('TreeSHAP', () => {
  it('equals brute-force Shapley values of the path-dependent value function', async () => {
    const { X, y } = data(300, 4, 2, 1);
    const model = await new DecisionTree({ max_depth: 5 }).fit(X, y);
    const forest = forestFromState((model.getState() as { forest: ModelState }).forest);
    const probe = data(5, 4, 2, 2).X;
    const { phi } = treeShap(forest, probe, 1, 1);
    for (let i = 0; i < probe.rows; i++) {
      const expected = bruteShapley(forest, probe.data.subarray(i * 4, (i + 1) * 4), 4, 1);
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(phi[i * 4 + j] - expected[j]) < 1e-6, `row ${i} feature ${j}: ${phi[i * 4 + j]} vs ${expected[j]}`);
    }
  });

  it('rf: contributions + expected value = predicted probability of the class', async () => {
    const { X, y } = data(400, 5, 2, 3);
    const model = await new RandomForest({ n_estimators: 20 }).fit(X, y);
    const probe = data(20, 5, 2, 4).X;
    const proba = await model.predictProba(probe);
    const phi = await model.explain(probe, 1);
    const base = model.expectedValue(1);
    for (let i = 0; i < probe.rows; i++) assert.ok(Math.abs(sumRow(phi, i) + base - proba.data[i * 2 + 1]) < 1e-4);
  });

  it('gbdt: contributions + expected value = raw score, binary and multi-class, default class = predicted', async () => {
    for (const K of [2, 3]) {
      const { X, y } = data(600, 4, K, 5);
      const model = await new GradientBoosting({ max_iter: 15 }).fit(X, y);
      const probe = data(15, 4, K, 6).X;
      const raw = model.decisionFunction(probe);
      const pred = (await model.predict(probe)).codes;
      const phi = await model.explain(probe);
      for (let i = 0; i < probe.rows; i++) {
        const k = pred[i];
        const target = K === 2 ? (k === 1 ? raw[i] : -raw[i]) : raw[i * K + k];
        assert.ok(Math.abs(sumRow(phi, i) + model.expectedValue(k) - target) < 1e-3, `K=${K} row ${i}`);
      }
    }
  });

  it('iforest: contributions + expected value = log2 of the anomaly score', async () => {
    const { X } = data(500, 3, 2, 7);
    const model = await new IsolationForest({ n_estimators: 30 }).fit(X);
    const probe = data(10, 3, 2, 8).X;
    const scores = await model.scoreSamples(probe);
    const phi = await model.explain(probe);
    for (let i = 0; i < probe.rows; i++) assert.ok(Math.abs(sumRow(phi, i) + model.expectedValue() - Math.log2(scores[i])) < 1e-4);
  });
});

// Tree core, decision tree, random forest and gradient boosting against hand-computed truth.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMatrix, matrixFromRows, type Matrix } from '../../../src/frame/matrix.js';
import type { Labels } from '../../../src/frame/labels.js';
import { ParameterError, UserError } from '../../../src/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { binMatrix, binOf, fitBinEdges, MAX_BINS } from '../../../src/models/trees/binning.js';
import { DecisionTree } from '../../../src/models/decision-tree.js';
import { RandomForest } from '../../../src/models/random-forest.js';
import { GradientBoosting } from '../../../src/models/gbdt.js';

const labels = (codes: number[], classes = ['no', 'yes']): Labels => ({ codes: Int32Array.from(codes), classes });

/** Two overlapping Gaussian classes in `cols` dimensions (class 1 shifted by `shift` on the first two features). */
function noisy(rows: number, cols: number, shift: number, seed: number): { X: Matrix; y: Labels } {
  const rng = new Rng(seed);
  const X = createMatrix(rows, cols);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    codes[i] = rng.next() < 0.5 ? 1 : 0;
    for (let j = 0; j < cols; j++) X.data[i * cols + j] = rng.normal() + (j < 2 ? shift * codes[i] : 0);
  }
  return { X, y: { codes, classes: ['normal', 'attack'] } };
}

const accuracyOf = (pred: Labels, y: Labels): number => pred.codes.reduce((s, c, i) => s + (c === y.codes[i] ? 1 : 0), 0) / y.codes.length;

describe('binning', () => {
  it('puts edges midway between distinct values and maps raw values consistently with split thresholds', () => {
    const X = matrixFromRows([[1], [2], [2], [4], [8]]);
    const { nBins, edges } = fitBinEdges(X, 256, 0);
    assert.equal(nBins[0], 4);
    assert.deepEqual(Array.from(edges.subarray(0, 3)), [1.5, 3, 6]);
    assert.deepEqual(Array.from(binMatrix(X, nBins, edges).bins), [0, 1, 1, 2, 3]);
  });

  it('caps continuous features at max_bins quantile bins, each bin test equal to the raw threshold test', () => {
    const rng = new Rng(3);
    const X = createMatrix(5000, 1);
    for (let i = 0; i < 5000; i++) X.data[i] = rng.normal();
    const { nBins, edges } = fitBinEdges(X, 64, 0);
    assert.ok(nBins[0] <= 64 && nBins[0] >= 60, `bins ${nBins[0]}`);
    const binned = binMatrix(X, nBins, edges);
    for (let i = 0; i < 5000; i += 7) {
      const b = binned.bins[i];
      assert.equal(b, binOf(edges, 0, nBins[0] - 1, X.data[i]));
      if (b > 0) assert.ok(X.data[i] > edges[b - 1]);
      if (b < nBins[0] - 1) assert.ok(X.data[i] <= edges[b]);
    }
    // Quantile bins hold roughly equal counts (5000 / 64 ≈ 78).
    const counts = new Array<number>(nBins[0]).fill(0);
    for (const b of binned.bins) counts[b]++;
    assert.ok(Math.max(...counts) < 3 * (5000 / 64), `largest bin ${Math.max(...counts)}`);
    assert.ok(MAX_BINS === 256);
  });

  it('learns edges and bins in one pass exactly as fitBinEdges then binMatrix', async () => {
    const { fitAndBinMatrix } = await import('../../../src/models/trees/binning.js');
    const rng = new Rng(5);
    const rows = 3000;
    const cols = 4;
    const X = createMatrix(rows, cols);
    // A continuous column, one with runs of zeros and > 256 distinct values, a binary one, a constant one.
    for (let i = 0; i < rows; i++) {
      X.data[i * cols] = rng.normal();
      X.data[i * cols + 1] = rng.next() < 0.6 ? 0 : rng.normal() * 100;
      X.data[i * cols + 2] = rng.next() < 0.3 ? 1 : 0;
      X.data[i * cols + 3] = 7;
    }
    const { nBins, edges } = fitBinEdges(X, 256, 0);
    const once = fitAndBinMatrix(X, 256, 0);
    assert.deepEqual(once.nBins, nBins);
    assert.deepEqual(once.edges, edges);
    assert.deepEqual(once.bins, binMatrix(X, nBins, edges).bins);
    // Above 200,000 rows the edges come from a seeded sample of the rows.
    const big = createMatrix(210_000, 1);
    for (let i = 0; i < big.rows; i++) big.data[i] = rng.next() < 0.5 ? 0 : rng.normal();
    const sampled = fitBinEdges(big, 256, 1);
    const bigOnce = fitAndBinMatrix(big, 256, 1);
    assert.deepEqual(bigOnce.edges, sampled.edges);
    assert.deepEqual(bigOnce.bins, binMatrix(big, sampled.nBins, sampled.edges).bins);
  });
});

describe('dt', () => {
  it('finds the hand-computed best split: x <= 6.5 separates the classes', async () => {
    const X = matrixFromRows([[1], [2], [3], [4], [5], [6], [7], [8], [9], [10]]);
    const model = await new DecisionTree().fit(X, labels([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]));
    assert.deepEqual(model.size, { nodes: 3, depth: 1 });
    const state = model.getState() as { forest: { feature: Int32Array; threshold: Float32Array } };
    assert.equal(state.forest.feature[0], 0);
    assert.equal(state.forest.threshold[0], 6.5);
    assert.deepEqual(Array.from((await model.predict(matrixFromRows([[6.4], [6.6]]))).codes), [0, 1]);
  });

  it('chooses the split with the lowest weighted gini (hand-computed) and reports it in the importances', async () => {
    // Root [3 no, 5 yes], gini 30/64. Feature 0 at <= 0.5 gives children [3, 1] and [0, 4]: weighted gini
    // 4/8 · 0.375 = 0.1875. Feature 1 gives [2, 2] and [1, 3]: 4/8 · 0.5 + 4/8 · 0.375 = 0.4375. Feature 0 wins.
    // Weighted impurity decreases: root 8 · 30/64 − 4 · 0.375 = 2.25 (f0); the left child [3, 1] then splits on f1
    // into [2, 0] and [1, 1]: 4 · 0.375 − 2 · 0.5 = 0.5 (f1). Importances: 2.25 / 2.75 and 0.5 / 2.75.
    const X = matrixFromRows([[0, 0], [0, 0], [0, 1], [0, 1], [1, 0], [1, 0], [1, 1], [1, 1]]);
    const y = labels([0, 0, 0, 1, 1, 1, 1, 1]);
    const model = await new DecisionTree({ max_depth: 1 }).fit(X, y);
    const state = model.getState() as { forest: { feature: Int32Array } };
    assert.equal(state.forest.feature[0], 0);
    assert.deepEqual(Array.from(model.featureImportances()), [1, 0]);
    const deep = await new DecisionTree().fit(X, y);
    const imp = deep.featureImportances();
    // The remaining impure leaf (rows 2, 3: same x, labels 0 and 1) cannot be split.
    assert.ok(Math.abs(imp[0] - 2.25 / 2.75) < 1e-9, `f0 importance ${imp[0]}`);
    assert.ok(Math.abs(imp[0] + imp[1] - 1) < 1e-12);
  });

  it('class_weight balanced moves the decision toward the rare class', async () => {
    // One feature, overlapping classes: 90 of class 0 at 0..89, 10 of class 1 at 80..89.
    const rows: number[][] = [];
    const codes: number[] = [];
    for (let i = 0; i < 100; i++) {
      rows.push([i < 90 ? i : i - 10]);
      codes.push(i < 90 ? 0 : 1);
    }
    const X = matrixFromRows(rows);
    const plain = await new DecisionTree({ max_depth: 1 }).fit(X, labels(codes));
    const balanced = await new DecisionTree({ max_depth: 1, class_weight: 'balanced' }).fit(X, labels(codes));
    const probe = matrixFromRows([[85]]);
    assert.equal((await plain.predict(probe)).codes[0], 0);
    assert.equal((await balanced.predict(probe)).codes[0], 1);
  });

  it('rejects out-of-range hyper-parameters, naming the parameter and the range', () => {
    assert.throws(() => new DecisionTree({ max_depth: -1 }), (e: unknown) => e instanceof ParameterError && /max_depth=-1.*an integer in \[1, inf\)/.test(e.message));
    assert.throws(() => new DecisionTree({ criterion: 'mse' }), ParameterError);
    assert.throws(() => new RandomForest({ n_estimators: 0 }), /n_estimators/);
    assert.throws(() => new GradientBoosting({ learning_rate: 0 }), /learning_rate/);
  });
});

describe('rf', () => {
  it('importances sum to 1 and favour the informative features', async () => {
    const { X, y } = noisy(600, 6, 2, 1);
    const model = await new RandomForest({ n_estimators: 30 }).fit(X, y);
    const imp = model.featureImportances();
    assert.ok(Math.abs(imp.reduce((s, v) => s + v, 0) - 1) < 1e-9);
    for (let j = 2; j < 6; j++) assert.ok(imp[0] > imp[j] && imp[1] > imp[j], `importances ${Array.from(imp)}`);
  });

  it('out-of-bag accuracy (on request) tracks held-out accuracy, with one history point per tree; none by default', async () => {
    const train = noisy(2000, 5, 1.5, 2);
    const test = noisy(2000, 5, 1.5, 3);
    const model = await new RandomForest({ n_estimators: 60, n_jobs: 1, oob_score: true }).fit(train.X, train.y);
    const held = accuracyOf(await model.predict(test.X), test.y);
    assert.equal(model.history?.unit, 'trees');
    assert.equal(model.history?.series.oob_score.length, 60);
    assert.ok(Math.abs(model.oobScore - held) < 0.03, `oob ${model.oobScore} vs held-out ${held}`);
    const plain = await new RandomForest({ n_estimators: 5, n_jobs: 1 }).fit(train.X, train.y);
    assert.ok(Number.isNaN(plain.oobScore) && plain.history === undefined);
  });

  it('sends each out-of-bag row to the leaf its raw values reach, and reused work arrays change nothing', async () => {
    const { growForestTree } = await import('../../../src/models/trees/forest-grow.js');
    const { sparseColumns, rowMajorBins } = await import('../../../src/models/trees/binning.js');
    const rng = new Rng(12);
    const shared = (rows: number) => {
      const cols = 6;
      const X = createMatrix(rows, cols);
      const codes = new Int32Array(rows);
      // Columns 0-2 dense, 3-5 mostly zero (sparse histograms); rows are few enough per node for row-major reads.
      for (let i = 0; i < rows; i++) {
        codes[i] = rng.next() < 0.4 ? 1 : 0;
        for (let j = 0; j < cols; j++) X.data[i * cols + j] = j < 3 ? rng.normal() + codes[i] : rng.next() < 0.1 ? rng.int(3) + 1 : 0;
      }
      const { nBins, edges } = fitBinEdges(X, 256, 0);
      const binned = binMatrix(X, nBins, edges);
      const data = { ...binned, y: codes, nClasses: 2, sparse: sparseColumns(binned), rowBins: rowMajorBins(binned) };
      const params = { criterion: 'gini' as const, maxDepth: Infinity, minSamplesSplit: 2, minSamplesLeaf: 1, maxFeatures: 2 };
      return { X, task: { data, baseWeight: new Float64Array(rows).fill(1), params, bootstrap: true, oob: true } };
    };
    const { X, task } = shared(5000);
    const first = growForestTree(task, { seed: 7 });
    const { feature, threshold, left, right } = first.tree;
    assert.equal(new Set(first.oobRows).size, first.oobRows.length);
    // About e^-1 of the rows are left out of a bootstrap sample.
    assert.ok(Math.abs(first.oobRows.length / 5000 - Math.exp(-1)) < 0.03, `${first.oobRows.length} out-of-bag rows`);
    for (let j = 0; j < first.oobRows.length; j++) {
      const row = first.oobRows[j];
      let v = 0;
      while (feature[v] >= 0) v = X.data[row * 6 + feature[v]] <= threshold[v] ? left[v] : right[v];
      assert.equal(first.oobLeaves[j], v, `row ${row}`);
    }
    growForestTree(shared(700).task, { seed: 3 });
    const again = growForestTree(task, { seed: 7 });
    assert.deepEqual(again.tree, first.tree);
    assert.deepEqual(again.oobRows, first.oobRows);
    assert.deepEqual(again.oobLeaves, first.oobLeaves);
  });

  it('gives the same forest on worker threads as on the main thread', async () => {
    const { X, y } = noisy(4000, 4, 1, 4);
    const serial = await new RandomForest({ n_estimators: 100, n_jobs: 1, max_depth: 6, oob_score: true }).fit(X, y);
    const parallel = await new RandomForest({ n_estimators: 100, n_jobs: 2, max_depth: 6, oob_score: true }).fit(X, y);
    const probe = noisy(200, 4, 1, 5).X;
    assert.deepEqual((await parallel.predictProba(probe)).data, (await serial.predictProba(probe)).data);
    assert.equal(parallel.oobScore, serial.oobScore);
  });
});

describe('gbdt', () => {
  it('training loss decreases every round and early stopping fires on a validation split', async () => {
    const { X, y } = noisy(3000, 4, 1, 6);
    const model = await new GradientBoosting({ max_iter: 400, early_stopping: true, n_iter_no_change: 5, learning_rate: 0.3 }).fit(X, y);
    const h = model.history?.series;
    assert.ok(h && h.train_loss.length === model.nIterations);
    for (let i = 1; i < h.train_loss.length; i++) assert.ok(h.train_loss[i] <= h.train_loss[i - 1] + 1e-9, `round ${i}`);
    assert.ok(model.nIterations < 400, `stopped after ${model.nIterations}`);
    assert.equal(h.val_loss.length, model.nIterations);
    assert.equal(h.val_accuracy.length, model.nIterations);
    // The validation loss stopped improving: its best is at least n_iter_no_change rounds before the end.
    const best = h.val_loss.indexOf(Math.min(...h.val_loss));
    assert.ok(best <= model.nIterations - 5);
  });

  it('uses options.validation when given and learns a multi-class problem', async () => {
    const rng = new Rng(9);
    const X = createMatrix(900, 2);
    const codes = new Int32Array(900);
    for (let i = 0; i < 900; i++) {
      codes[i] = i % 3;
      X.data[i * 2] = rng.normal() + 4 * codes[i];
      X.data[i * 2 + 1] = rng.normal();
    }
    const y: Labels = { codes, classes: ['a', 'b', 'c'] };
    const model = await new GradientBoosting({ max_iter: 30 }).fit(X, y, { validation: { X, y } });
    assert.equal(model.history?.series.val_accuracy.length, 30);
    assert.ok(accuracyOf(await model.predict(X), y) > 0.95);
    assert.ok(Math.abs(model.featureImportances().reduce((s, v) => s + v, 0) - 1) < 1e-9);
    assert.ok(model.featureImportances()[0] > 0.9);
  });

  it('a single training class is a clear error', async () => {
    const X = matrixFromRows([[1], [2], [3]]);
    await assert.rejects(new GradientBoosting().fit(X, labels([1, 1, 1])), (e: unknown) => e instanceof UserError && /single class \('yes'\)/.test(e.message));
  });
});

describe('gbdt histograms', () => {
  it('two threads give the same leaf histograms as one (sums of the same rows)', async () => {
    const { SerialHistograms } = await import('../../../src/models/trees/boost-hist.js');
    const { ParallelHistograms } = await import('../../../src/models/trees/boost-parallel.js');
    const { sparseColumns, rowLayout } = await import('../../../src/models/trees/binning.js');
    const rng = new Rng(11);
    const rows = 3000;
    const cols = 6;
    const X = createMatrix(rows, cols);
    // Columns 0-2 dense, 3-5 mostly zero (sparse path).
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) X.data[i * cols + j] = j < 3 ? rng.normal() : rng.next() < 0.1 ? rng.int(4) + 1 : 0;
    const { nBins, edges } = fitBinEdges(X, 32, 0);
    const binned = binMatrix(X, nBins, edges, true);
    const sparse = sparseColumns(binned);
    const shared = <T extends Float32Array | Int32Array | Uint8Array>(a: T): T => {
      const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
      out.set(a as never);
      return out;
    };
    const grad = shared(Float32Array.from({ length: rows }, () => rng.normal()));
    const hess = shared(Float32Array.from({ length: rows }, () => rng.next()));
    const index = shared(Int32Array.from({ length: rows }, (_, i) => i));
    const ctx = { rows, cols, bins: binned.bins, nBins, sparse, layout: rowLayout(binned, sparse), grad, hess, index, sampled: shared(new Uint8Array(rows).fill(1)), active: shared(new Uint8Array(cols).fill(1)) };
    const serial = new SerialHistograms(ctx);
    const parallel = await ParallelHistograms.start(ctx);
    try {
      let g = 0;
      let h = 0;
      for (let i = 0; i < rows; i++) {
        g += grad[i];
        h += hess[i];
      }
      const close = (a: Float64Array, b: Float64Array): void => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `bin ${i}: ${v} vs ${b[i]}`));
      close(parallel.build(0, rows, true, g, h), serial.build(0, rows, true, g, h));
      // A leaf of scattered rows: every third row, moved to the front of the index.
      const leaf = Int32Array.from({ length: rows / 3 }, (_, j) => 3 * j);
      index.set(leaf);
      g = 0;
      h = 0;
      for (const i of leaf) {
        g += grad[i];
        h += hess[i];
      }
      const single = serial.build(0, leaf.length, false, g, h);
      close(parallel.build(0, leaf.length, false, g, h), single);
      // Counts of feature 0's bins add up to the leaf size.
      let count = 0;
      for (let b = 0; b < nBins[0]; b++) count += single[b * 3 + 2];
      assert.equal(count, leaf.length);
    } finally {
      await parallel.close();
    }
  });
});

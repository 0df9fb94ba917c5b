// Logistic regression, linear SVM and Platt calibration against scikit-learn 1.2 fixtures
// (scripts/fixtures/linear.py → test/fixtures/sklearn/linear.json), plus behaviour checks.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { matrixFromRows, type Matrix } from '../../../src/frame/matrix.js';
import type { Labels } from '../../../src/frame/labels.js';
import { ParameterError, UserError } from '../../../src/errors.js';
import { LogisticRegression } from '../../../src/models/logreg.js';
import { LinearSvm } from '../../../src/models/linear-svm.js';
import { FoldSolver } from '../../../src/models/optim/svm-folds.js';
import { OffsetSparseRows } from '../../../src/models/nn/offset-sparse.js';
import { fitPlatt, plattProbability } from '../../../src/models/calibration.js';
import { Rng } from '../../../src/util/rng.js';

interface LogRegCase {
  name: string;
  params: { C: number; class_weight: string | null };
  X: number[][];
  y: number[];
  sampleWeight: number[] | null;
  coef: number[][];
  intercept: number[];
  Xtest: number[][];
  proba: number[][];
}
interface SvmCase {
  name: string;
  params: { C: number; loss: string };
  X: number[][];
  y: number[];
  coef: number[][];
  intercept: number[];
  Xtest: number[][];
  decision: number[][] | number[];
}
interface PlattCase {
  name: string;
  f: number[];
  y: number[];
  a: number;
  b: number;
}

const fixture = JSON.parse(readFileSync(new URL('../../../../test/fixtures/sklearn/linear.json', import.meta.url), 'utf8')) as {
  logreg: LogRegCase[];
  svm: SvmCase[];
  platt: PlattCase[];
};

function labels(y: number[]): Labels {
  const k = Math.max(...y) + 1;
  return { codes: Int32Array.from(y), classes: Array.from({ length: k }, (_, c) => `c${c}`) };
}

/** Our coef is cols × k (input-major); sklearn's is k × cols. */
function coefAt(coef: Float64Array, k: number, cls: number, j: number): number {
  return coef[j * k + cls];
}

function blobs(rows: number, cols: number, nClasses: number, seed: number): { X: Matrix; y: Labels } {
  const rng = new Rng(seed);
  const data: number[][] = [];
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    codes[i] = i % nClasses;
    data.push(Array.from({ length: cols }, () => 1.5 * codes[i] + rng.normal()));
  }
  return { X: matrixFromRows(data), y: { codes, classes: Array.from({ length: nClasses }, (_, c) => `k${c}`) } };
}

describe('logreg matches scikit-learn LogisticRegression(lbfgs)', () => {
  for (const c of fixture.logreg) {
    it(c.name, async () => {
      const model = new LogisticRegression({ C: c.params.C, class_weight: c.params.class_weight, tol: 1e-9, max_iter: 5000 });
      await model.fit(matrixFromRows(c.X), labels(c.y), c.sampleWeight ? { sampleWeight: Float64Array.from(c.sampleWeight) } : {});
      const k = c.coef.length;
      // Both solvers reach the unique optimum of a strictly convex objective; what is left is the stopping tolerance
      // (ours: relative decrease 2.2e-9 or |g| ≤ 1e-9), far below 1e-4 on coefficients of size ~1.
      for (let cls = 0; cls < k; cls++) {
        for (let j = 0; j < c.X[0].length; j++) {
          assert.ok(Math.abs(coefAt(model.coef, k, cls, j) - c.coef[cls][j]) < 1e-4, `coef[${cls}][${j}] ${coefAt(model.coef, k, cls, j)} vs ${c.coef[cls][j]}`);
        }
        assert.ok(Math.abs(model.intercept[cls] - c.intercept[cls]) < 1e-4, `intercept[${cls}]`);
      }
      const proba = await model.predictProba(matrixFromRows(c.Xtest));
      c.proba.forEach((row, i) => row.forEach((p, j) => assert.ok(Math.abs(proba.data[i * row.length + j] - p) < 1e-5, `proba[${i}][${j}]`)));
    });
  }

  it('records a decreasing objective and validation curves per iteration', async () => {
    const { X, y } = blobs(300, 4, 3, 1);
    const valid = blobs(90, 4, 3, 2);
    const model = await new LogisticRegression({ max_iter: 30 }).fit(X, y, { validation: valid });
    const h = model.history?.series ?? {};
    assert.equal(h.train_loss.length, model.nIter);
    assert.equal(h.val_loss.length, model.nIter);
    assert.equal(h.val_accuracy.length, model.nIter);
    assert.ok(h.train_loss[h.train_loss.length - 1] < h.train_loss[0], 'training loss falls');
    assert.ok(h.val_accuracy[h.val_accuracy.length - 1] > 0.6);
  });

  it('reaches the optimum (zero gradient of the penalised loss) on sparse and on dense binary data', async () => {
    // Sparse rows (most entries at their column's mode) take the offset-sparse products, dense rows the SIMD ones;
    // both must stop where Xᵀ(p − y) + w / C = 0 and Σ(p − y) = 0, checked here in plain arithmetic.
    const rng = new Rng(5);
    for (const density of [0.08, 0.9]) {
      const rows = 600;
      const cols = 12;
      const data: number[][] = [];
      const codes = new Int32Array(rows);
      for (let i = 0; i < rows; i++) {
        const row = Array.from({ length: cols }, () => (rng.next() < density ? rng.normal() : 0));
        codes[i] = row[0] + row[1] - row[2] + 0.5 * rng.normal() > 0 ? 1 : 0;
        data.push(row);
      }
      const X = matrixFromRows(data);
      const model = await new LogisticRegression({ C: 0.5, tol: 1e-10, max_iter: 5000 }).fit(X, { codes, classes: ['a', 'b'] });
      const gradient = Array.from(model.coef, (w) => w / 0.5);
      let interceptGradient = 0;
      for (let i = 0; i < rows; i++) {
        let z = model.intercept[0];
        for (let j = 0; j < cols; j++) z += X.data[i * cols + j] * model.coef[j];
        const residual = 1 / (1 + Math.exp(-z)) - codes[i];
        interceptGradient += residual;
        for (let j = 0; j < cols; j++) gradient[j] += X.data[i * cols + j] * residual;
      }
      // L-BFGS also stops on a relative decrease of 2.2e-9 (scipy's factr), which leaves |g| ≲ 2e-3 here (~100 at w = 0).
      for (const g of [...gradient, interceptGradient]) assert.ok(Math.abs(g) < 1e-2, `density ${density}: gradient ${g}`);
    }
  });

  it('gives identical coefficients with the worker-thread shard and without (large inputs are split in two)', async () => {
    const { X, y } = blobs(42000, 3, 2, 13);
    const fit = async (threads: string): Promise<LogisticRegression> => {
      const saved = process.env.FLOWSENTRY_THREADS;
      process.env.FLOWSENTRY_THREADS = threads;
      try {
        return await new LogisticRegression({ max_iter: 15 }).fit(X, y);
      } finally {
        if (saved === undefined) delete process.env.FLOWSENTRY_THREADS;
        else process.env.FLOWSENTRY_THREADS = saved;
      }
    };
    const [one, two] = [await fit('1'), await fit('2')];
    assert.deepEqual(two.coef, one.coef);
    assert.deepEqual(two.intercept, one.intercept);
    assert.equal(two.nIter, one.nIter);
  });

  it('rejects out-of-range parameters and single-class training', async () => {
    assert.throws(() => new LogisticRegression({ C: 0 }), ParameterError);
    assert.throws(() => new LogisticRegression({ max_iter: 0 }), /max_iter/);
    assert.throws(() => new LogisticRegression({ class_weight: 'even' }), /class_weight/);
    const X = matrixFromRows([[1], [2], [3]]);
    await assert.rejects(new LogisticRegression().fit(X, { codes: Int32Array.from([1, 1, 1]), classes: ['a', 'b'] }), /single class \('b'\)/);
    await assert.rejects(new LogisticRegression().fit(X, labels([0, 1, 0]), { sampleWeight: Float64Array.from([1, -1, 1]) }), UserError);
  });
});

describe('svm matches scikit-learn LinearSVC (dual coordinate descent)', () => {
  for (const c of fixture.svm) {
    it(c.name, async () => {
      const model = new LinearSvm({ C: c.params.C, loss: c.params.loss, tol: 1e-10, max_iter: 200000, calibration_cv: 2 });
      await model.fit(matrixFromRows(c.X), labels(c.y));
      const k = c.coef.length;
      // The L2-regularised primal is strictly convex in (w, b), so the optimum is unique; LIBLINEAR's and our dual
      // solvers both stop at a projected-gradient gap of 1e-10, leaving differences far below 1e-4.
      for (let cls = 0; cls < k; cls++) {
        for (let j = 0; j < c.X[0].length; j++) {
          assert.ok(Math.abs(coefAt(model.coef, k, cls, j) - c.coef[cls][j]) < 1e-4, `coef[${cls}][${j}] ${coefAt(model.coef, k, cls, j)} vs ${c.coef[cls][j]}`);
        }
        assert.ok(Math.abs(model.intercept[cls] - c.intercept[cls]) < 1e-4, `intercept[${cls}] ${model.intercept[cls]} vs ${c.intercept[cls]}`);
      }
      const decision = model.decisionFunction(matrixFromRows(c.Xtest));
      const expected = c.decision.flat();
      expected.forEach((v, i) => assert.ok(Math.abs(decision[i] - v) < 1e-3, `decision ${i}`));
    });
  }

  it('gives calibrated probabilities in [0, 1], monotone in the decision value', async () => {
    const { X, y } = blobs(400, 3, 2, 3);
    const model = await new LinearSvm().fit(X, y);
    const test = blobs(300, 3, 2, 4).X;
    const f = model.decisionFunction(test);
    const p = await model.predictProba(test);
    const order = Array.from(f.keys()).sort((a, b) => f[a] - f[b]);
    for (let t = 0; t < order.length; t++) {
      const pi = p.data[2 * order[t] + 1];
      assert.ok(pi >= 0 && pi <= 1);
      assert.ok(Math.abs(p.data[2 * order[t]] + pi - 1) < 1e-6);
      if (t > 0) assert.ok(pi >= p.data[2 * order[t - 1] + 1] - 1e-7, 'probability rises with the decision value');
    }
    assert.ok(p.data[2 * order[0] + 1] < 0.2 && p.data[2 * order[order.length - 1] + 1] > 0.8, 'spans the range');
  });

  it('is deterministic by seed, keeps per-epoch history and balances classes', async () => {
    const { X, y } = blobs(300, 4, 3, 5);
    const a = await new LinearSvm({ random_state: 7, max_iter: 50 }).fit(X, y, { validation: blobs(60, 4, 3, 6) });
    const b = await new LinearSvm({ random_state: 7, max_iter: 50 }).fit(X, y);
    assert.deepEqual(a.coef, b.coef);
    assert.deepEqual(a.sigmoids, b.sigmoids);
    const h = a.history?.series ?? {};
    assert.equal(h.train_loss.length, a.nIter);
    assert.equal(h.val_accuracy.length, a.nIter);
    assert.ok(h.train_loss[h.train_loss.length - 1] <= h.train_loss[0]);
    // 'balanced' on an imbalanced set raises the minority class' recall.
    const codes = Int32Array.from({ length: 400 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const rng = new Rng(9);
    const Xi = matrixFromRows(Array.from(codes, (c) => [c * 1.2 + rng.normal(), rng.normal()]));
    const yi = { codes, classes: ['normal', 'attack'] };
    const recall = async (m: LinearSvm): Promise<number> => {
      const p = await m.predict(Xi);
      return p.codes.reduce((s, v, i) => s + (v === 1 && codes[i] === 1 ? 1 : 0), 0) / 40;
    };
    const plain = await recall(await new LinearSvm().fit(Xi, yi));
    const balanced = await recall(await new LinearSvm({ class_weight: 'balanced' }).fit(Xi, yi));
    assert.ok(balanced > plain, `balanced recall ${balanced} > plain ${plain}`);
  });

  it('gives the same model with the calibration folds shared with a worker thread and without', async () => {
    // 4000 rows × 10 columns × 100 fold epochs × 5 folds reaches the two-thread threshold.
    const { X, y } = blobs(4000, 10, 3, 21);
    const fit = async (threads: string): Promise<LinearSvm> => {
      const saved = process.env.FLOWSENTRY_THREADS;
      process.env.FLOWSENTRY_THREADS = threads;
      try {
        return await new LinearSvm().fit(X, y);
      } finally {
        if (saved === undefined) delete process.env.FLOWSENTRY_THREADS;
        else process.env.FLOWSENTRY_THREADS = saved;
      }
    };
    const [one, two] = [await fit('1'), await fit('2')];
    assert.deepEqual(two.coef, one.coef);
    assert.deepEqual(two.sigmoids, one.sigmoids);
  });

  it('a calibration fold worker that exits before it replies is an error, not a wait forever', async () => {
    const { X, y } = blobs(4000, 10, 2, 22);
    const S = new OffsetSparseRows(X);
    const sign = Int8Array.from(y.codes, (c) => (c === 1 ? 1 : -1));
    const fold = (maxIter: number) => ({ loss: 'squared_hinge' as const, cost: new Float64Array(4000).fill(1), sign, interceptScaling: 1, fitIntercept: true, tol: 0, maxIter, seed: 0, rows: null, alpha0: null });
    const solver = FoldSolver.start(S, true);
    // fold 0 (here) is one epoch; fold 1 (the worker's) far longer, so the worker is terminated before it replies
    const solving = solver.solve([fold(1), fold(100_000)], undefined);
    await solver.close();
    await assert.rejects(solving, /calibration fold worker exited with code \d+/);
  });

  it('rejects out-of-range parameters', () => {
    assert.throws(() => new LinearSvm({ C: -1 }), ParameterError);
    assert.throws(() => new LinearSvm({ loss: 'log' }), /loss/);
    assert.throws(() => new LinearSvm({ calibration_cv: 1 }), /calibration_cv/);
  });
});

describe('Platt calibration matches scikit-learn _sigmoid_calibration', () => {
  for (const c of fixture.platt) {
    it(c.name, () => {
      const s = fitPlatt(Float64Array.from(c.f), Uint8Array.from(c.y));
      // Both minimise the same smoothed log-likelihood (sklearn by BFGS, we by Newton); the optimum agrees to ~1e-5.
      assert.ok(Math.abs(s.a - c.a) < 1e-3, `a ${s.a} vs ${c.a}`);
      assert.ok(Math.abs(s.b - c.b) < 1e-3, `b ${s.b} vs ${c.b}`);
      assert.ok(plattProbability(5, s) > plattProbability(-5, s));
    });
  }
});

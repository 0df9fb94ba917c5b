// Linear support vector machine, as scikit-learn's LinearSVC: L2-regularised hinge or squared-hinge loss solved by
// dual coordinate descent (Hsieh et al. 2008, src/models/optim/dual-cd.ts), one-vs-rest for more than two classes,
// regularised intercept through an extra feature of value intercept_scaling. predict() takes the largest decision
// value (as LinearSVC). predictProba() is Platt-calibrated (src/models/calibration.ts): the sigmoid is fitted on
// out-of-fold decision values from `calibration_cv` stratified folds of the TRAINING data (CalibratedClassifierCV
// with ensemble=False); fold models start from the full model's dual solution restricted to their rows and run at most
// min(full model epochs, max(20, max_iter / 10)) epochs; on large inputs every second fold is solved by a worker thread
// (src/models/optim/svm-folds.ts), with the same results.
// Cost: O(epochs · nnz) per class, nnz on offset-sparse rows.

import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import { alignLabels, argmaxLabels, type Labels } from '../frame/labels.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type Params, SEED_RULE } from './estimator.js';
import { LinearClassifier } from './linear-model.js';
import type { ModelSpec } from './registry.js';
import { checkClassifierFit, partition, rowWeights, stratifiedFolds } from './nn/fit-utils.js';
import { OffsetSparseRows } from './nn/offset-sparse.js';
import { linearScores } from './nn/linear-algebra.js';
import { solveDualCd } from './optim/dual-cd.js';
import { FoldSolver } from './optim/svm-folds.js';
import { defaultThreads } from '../util/worker-pool.js';
import { fitPlatt, plattProbability, type PlattSigmoid } from './calibration.js';

const NAME = 'svm';

/** From this many nonzeros × fold epochs × folds, the calibration folds are shared with a second thread. */
const PARALLEL_FOLD_WORK = 20_000_000;

const DEFAULTS = {
  C: 1.0,
  loss: 'squared_hinge' as string,
  tol: 1e-4,
  max_iter: 1000,
  fit_intercept: true as boolean,
  intercept_scaling: 1.0,
  class_weight: null as string | null,
  calibration_cv: 5,
  random_state: 0,
};
type SvmParams = typeof DEFAULTS;

const RULES = {
  C: { type: 'float', min: 0, exclusiveMin: true },
  loss: { type: 'choice', values: ['squared_hinge', 'hinge'] },
  tol: { type: 'float', min: 0, exclusiveMin: true },
  max_iter: { type: 'int', min: 1 },
  fit_intercept: { type: 'bool' },
  intercept_scaling: { type: 'float', min: 0, exclusiveMin: true },
  class_weight: { type: 'choice', values: [null, 'balanced'] },
  calibration_cv: { type: 'int', min: 2, max: 20 },
  random_state: SEED_RULE,
} as const;

export class LinearSvm extends LinearClassifier implements Classifier {
  readonly name = NAME;
  readonly params: Readonly<SvmParams>;
  /** Platt sigmoid per problem: [a0, b0, a1, b1, ...]. */
  sigmoids: Float64Array = new Float64Array(0);

  constructor(params: Partial<SvmParams> = {}) {
    super();
    this.params = resolveParams(NAME, DEFAULTS, RULES, params);
  }

  /** One-vs-rest problems: one (class 1 vs 0) for two classes, else one per class. */
  protected get outputs(): number {
    return this.classes.length === 2 ? 1 : this.classes.length;
  }

  async fit(X: Matrix, y: Labels, options: FitOptions = {}): Promise<this> {
    const counts = checkClassifierFit(NAME, X, y, options);
    const weights = rowWeights(y, counts, this.params.class_weight, options.sampleWeight);
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    const { rows, cols } = X;
    const K = this.outputs;
    const S = new OffsetSparseRows(X);
    const validation = options.validation?.y ? { X: options.validation.X, y: alignLabels(options.validation.y, this.classes) } : undefined;
    if (validation) checkInput(validation.X, cols, NAME);
    const cost = new Float64Array(rows);
    for (let i = 0; i < rows; i++) cost[i] = this.params.C * (weights ? weights[i] : 1);
    const coef = new Float64Array(cols * K);
    const intercept = new Float64Array(K);
    const sigmoids = new Float64Array(2 * K);
    const folds = partition(stratifiedFolds(y.codes, this.classes.length, this.params.calibration_cv, this.params.random_state), this.params.calibration_cv);
    const scratch = new Float64Array(1);
    const perProblem: Record<string, number[]>[] = [];
    let maxEpochs = 0;
    const foldEpochs = Math.min(this.params.max_iter, Math.max(20, Math.ceil(this.params.max_iter / 10)));
    const foldWork = S.colIndex.length * foldEpochs * this.params.calibration_cv;
    const foldSolver = FoldSolver.start(S, defaultThreads() > 1 && foldWork >= PARALLEL_FOLD_WORK);
    try {
      for (let k = 0; k < K; k++) {
        const positiveCode = K === 1 ? 1 : k;
        const sign = new Int8Array(rows);
        for (let i = 0; i < rows; i++) sign[i] = y.codes[i] === positiveCode ? 1 : -1;
        const series: Record<string, number[]> = { train_loss: [], train_accuracy: [] };
        if (validation) Object.assign(series, { val_loss: [], val_accuracy: [] });
        const base = {
          loss: this.params.loss as 'hinge' | 'squared_hinge',
          cost,
          sign,
          interceptScaling: this.params.intercept_scaling,
          fitIntercept: this.params.fit_intercept,
          tol: this.params.tol,
          maxIter: this.params.max_iter,
          seed: this.params.random_state,
          signal: options.signal,
        };
        const full = solveDualCd(S, {
          ...base,
          rows: null,
          alpha0: null,
          onEpoch: (_epoch, w, b, loss, accuracy) => {
            series.train_loss.push(loss);
            series.train_accuracy.push(accuracy);
            if (validation) {
              const f = linearScores(validation.X, w, Float64Array.of(b), 1);
              const vSign = Int8Array.from(validation.y.codes, (c) => (c === positiveCode ? 1 : -1));
              const [vLoss, vAcc] = this.hingeStats(f, vSign);
              series.val_loss.push(vLoss);
              series.val_accuracy.push(vAcc);
            }
          },
        });
        perProblem.push(series);
        maxEpochs = Math.max(maxEpochs, full.epochs);
        for (let j = 0; j < cols; j++) coef[j * K + k] = full.w[j];
        intercept[k] = full.b;
        // Out-of-fold decision values for the Platt sigmoid.
        const oof = new Float64Array(rows);
        const { signal, ...plain } = base;
        const foldProblems = folds.map((_, f) => ({
          ...plain,
          maxIter: Math.min(foldEpochs, full.epochs),
          rows: Int32Array.from(folds.flatMap((rowsOf, g) => (g === f ? [] : Array.from(rowsOf))).sort((a, b) => a - b)),
          alpha0: full.alpha,
        }));
        const solutions = await foldSolver.solve(foldProblems, signal);
        for (let f = 0; f < folds.length; f++) {
          const fold = solutions[f];
          const held = folds[f];
          const out = new Float64Array(held.length);
          S.multiply(held, 0, held.length, fold.w, 1, Float64Array.of(fold.b), out, scratch);
          for (let t = 0; t < held.length; t++) oof[held[t]] = out[t];
        }
        const positive = Uint8Array.from(sign, (s) => (s > 0 ? 1 : 0));
        const sig = fitPlatt(oof, positive, weights);
        sigmoids[2 * k] = sig.a;
        sigmoids[2 * k + 1] = sig.b;
        options.onProgress?.(k + 1, K);
      }
    } finally {
      await foldSolver.close();
    }
    this.coef = coef;
    this.intercept = intercept;
    this.sigmoids = sigmoids;
    this.nIter = maxEpochs;
    this.history = { unit: 'epoch', series: averageSeries(perProblem) };
    return this;
  }

  /** Mean loss and accuracy of decision values against ±1 labels. */
  private hingeStats(f: Float64Array, sign: Int8Array): [number, number] {
    const squared = this.params.loss === 'squared_hinge';
    let loss = 0;
    let total = 0;
    let correct = 0;
    for (let i = 0; i < sign.length; i++) {
      const margin = Math.max(0, 1 - sign[i] * f[i]);
      loss += squared ? margin * margin : margin;
      total += 1;
      if ((f[i] > 0 ? 1 : -1) === sign[i]) correct++;
    }
    return [loss / Math.max(total, 1e-300), correct / Math.max(1, sign.length)];
  }

  async predict(X: Matrix): Promise<Labels> {
    const f = this.decisionFunction(X);
    const K = this.outputs;
    if (K === 1) return { codes: Int32Array.from(f, (v) => (v > 0 ? 1 : 0)), classes: this.classes };
    return argmaxLabels(createMatrix(X.rows, K, undefined, Float32Array.from(f)), this.classes);
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const f = this.decisionFunction(X);
    const K = this.outputs;
    const n = this.classes.length;
    const out = new Float32Array(X.rows * n);
    const sig: PlattSigmoid[] = Array.from({ length: K }, (_, k) => ({ a: this.sigmoids[2 * k], b: this.sigmoids[2 * k + 1] }));
    for (let i = 0; i < X.rows; i++) {
      if (K === 1) {
        const p = plattProbability(f[i], sig[0]);
        out[2 * i] = 1 - p;
        out[2 * i + 1] = p;
        continue;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += plattProbability(f[i * K + k], sig[k]);
      for (let k = 0; k < K; k++) out[i * n + k] = sum > 0 ? plattProbability(f[i * K + k], sig[k]) / sum : 1 / n;
    }
    return createMatrix(X.rows, n, undefined, out);
  }

  getState(): ModelState {
    return { params: { ...this.params }, ...this.linearState(), sigmoids: this.sigmoids };
  }

  static fromState(state: ModelState): LinearSvm {
    const model = new LinearSvm(state.params as Partial<SvmParams>);
    model.restoreLinearState(state);
    model.sigmoids = state.sigmoids as Float64Array;
    return model;
  }
}

/** Per-epoch mean over the one-vs-rest problems; a problem that stopped early keeps its last value. */
function averageSeries(problems: Record<string, number[]>[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const key of Object.keys(problems[0] ?? {})) {
    const length = Math.max(...problems.map((p) => p[key].length));
    out[key] = Array.from({ length }, (_, e) => problems.reduce((s, p) => s + (p[key][Math.min(e, p[key].length - 1)] ?? 0), 0) / problems.length);
  }
  return out;
}

export const spec: ModelSpec<LinearSvm> = {
  name: NAME,
  kind: 'classifier',
  title: 'Linear SVM (dual coordinate descent, one-vs-rest, Platt-calibrated)',
  create: (params?: Params) => new LinearSvm(params as Partial<SvmParams>),
  fromState: (state) => LinearSvm.fromState(state),
  searchSpace: { C: [0.01, 0.1, 1, 10], loss: ['squared_hinge', 'hinge'], class_weight: [null, 'balanced'] },
  testParams: { calibration_cv: 3 },
};

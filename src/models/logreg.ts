// L2-regularised logistic regression, as scikit-learn 1.2's LogisticRegression(solver='lbfgs'): minimises
//   Σ_i w_i · logloss_i + ‖W‖² / (2C)   (intercept not penalised)
// with L-BFGS (src/models/optim/lbfgs.ts), stopping at max |gradient| ≤ tol or max_iter iterations. Two classes use one
// sigmoid weight vector (sklearn's 'auto' picks this for binary y); more classes use the multinomial softmax with one
// vector per class. Each objective evaluation is O(nnz · k) on offset-sparse rows (src/models/nn/offset-sparse.ts),
// split over two threads for large inputs (src/models/optim/logistic-shard.ts).

import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import { alignLabels, argmaxLabels, type Labels } from '../frame/labels.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type Params } from './estimator.js';
import { LinearClassifier } from './linear-model.js';
import type { ModelSpec } from './registry.js';
import { checkClassifierFit, rowWeights, sigmoid, softmaxInPlace } from './nn/fit-utils.js';
import { minimizeLbfgs } from './optim/lbfgs.js';
import { LogisticShards } from './optim/logistic-shard.js';

const NAME = 'logreg';

const DEFAULTS = {
  C: 1.0,
  max_iter: 100,
  tol: 1e-4,
  fit_intercept: true as boolean,
  class_weight: null as string | null,
  multi_class: 'auto' as string,
};
type LogRegParams = typeof DEFAULTS;

const RULES = {
  C: { type: 'float', min: 0, exclusiveMin: true },
  max_iter: { type: 'int', min: 1 },
  tol: { type: 'float', min: 0, exclusiveMin: true },
  fit_intercept: { type: 'bool' },
  class_weight: { type: 'choice', values: [null, 'balanced'] },
  multi_class: { type: 'choice', values: ['auto', 'multinomial'] },
} as const;

export class LogisticRegression extends LinearClassifier implements Classifier {
  readonly name = NAME;
  readonly params: Readonly<LogRegParams>;
  /** Objective evaluations (iterations plus line-search steps). */
  evaluations = 0;

  constructor(params: Partial<LogRegParams> = {}) {
    super();
    this.params = resolveParams(NAME, DEFAULTS, RULES, params);
  }

  /** 1 for the binary sigmoid, k for multinomial. */
  protected get outputs(): number {
    return this.classes.length === 2 && this.params.multi_class === 'auto' ? 1 : this.classes.length;
  }

  async fit(X: Matrix, y: Labels, options: FitOptions = {}): Promise<this> {
    const counts = checkClassifierFit(NAME, X, y, options);
    const weights = rowWeights(y, counts, this.params.class_weight, options.sampleWeight);
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    const k = this.outputs;
    const { rows, cols } = X;
    const fitIntercept = this.params.fit_intercept;
    const l2 = 1 / this.params.C;
    const nW = cols * k;
    let totalWeight = rows;
    if (weights) totalWeight = weights.reduce((s, w) => s + w, 0);
    let lastDataLoss = 0;
    let lastCorrect = 0;
    let evaluations = 0;
    let lastX: Float64Array = new Float64Array(0);
    const shards = await LogisticShards.create(X, y.codes, weights, k, fitIntercept);
    const partial = new Float64Array(2 + nW + k);

    const objective = (x: Float64Array, grad: Float64Array): number => {
      lastX = x;
      evaluations++;
      shards.evaluate(x, fitIntercept, partial);
      lastDataLoss = partial[0];
      lastCorrect = partial[1];
      let penalty = 0;
      for (let j = 0; j < nW; j++) {
        penalty += x[j] * x[j];
        grad[j] = partial[2 + j] + l2 * x[j];
      }
      if (fitIntercept) grad.set(partial.subarray(2 + nW, 2 + nW + k), nW);
      return partial[0] + 0.5 * l2 * penalty;
    };

    const series: Record<string, number[]> = { train_loss: [], train_accuracy: [] };
    const validation = options.validation?.y ? { X: options.validation.X, y: alignLabels(options.validation.y, this.classes) } : undefined;
    if (validation) {
      checkInput(validation.X, cols, NAME);
      series.val_loss = [];
      series.val_accuracy = [];
    }
    const x0 = new Float64Array(nW + (fitIntercept ? k : 0));
    let result;
    try {
      result = minimizeLbfgs(objective, x0, {
        maxIter: this.params.max_iter,
        gtol: this.params.tol,
        signal: options.signal,
        onIteration: (iteration) => {
          series.train_loss.push(lastDataLoss / totalWeight);
          series.train_accuracy.push(lastCorrect / rows);
          if (validation) {
            this.setSolution(lastX, nW, k);
            const [loss, acc] = this.lossAndAccuracy(validation.X, validation.y);
            series.val_loss.push(loss);
            series.val_accuracy.push(acc);
          }
          options.onProgress?.(iteration, this.params.max_iter);
        },
      });
    } finally {
      await shards.close();
    }
    this.setSolution(result.x, nW, k);
    this.nIter = result.iterations;
    this.evaluations = evaluations;
    this.history = { unit: 'iteration', series };
    return this;
  }

  private setSolution(x: Float64Array, nW: number, k: number): void {
    this.coef = Float64Array.from(x.subarray(0, nW));
    this.intercept = this.params.fit_intercept ? Float64Array.from(x.subarray(nW, nW + k)) : new Float64Array(k);
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const z = this.decisionFunction(X);
    return createMatrix(X.rows, this.classes.length, undefined, this.probabilities(z, X.rows));
  }

  async predict(X: Matrix): Promise<Labels> {
    return argmaxLabels(await this.predictProba(X), this.classes);
  }

  private probabilities(z: Float64Array, rows: number): Float32Array {
    const k = this.outputs;
    const n = this.classes.length;
    const out = new Float32Array(rows * n);
    if (k === 1) {
      for (let i = 0; i < rows; i++) {
        const p = sigmoid(z[i]);
        out[2 * i] = 1 - p;
        out[2 * i + 1] = p;
      }
    } else {
      for (let i = 0; i < rows; i++) softmaxInPlace(z, i * k, k);
      out.set(z);
    }
    return out;
  }

  private lossAndAccuracy(X: Matrix, y: Labels): [number, number] {
    const z = this.decisionFunction(X);
    const p = this.probabilities(z, X.rows);
    const n = this.classes.length;
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < X.rows; i++) {
      const yi = y.codes[i];
      loss -= Math.log(Math.max(p[i * n + yi], 1e-15));
      let best = 0;
      for (let c = 1; c < n; c++) if (p[i * n + c] > p[i * n + best]) best = c;
      if (best === yi) correct++;
    }
    return [loss / Math.max(1, X.rows), correct / Math.max(1, X.rows)];
  }

  getState(): ModelState {
    return { params: { ...this.params }, ...this.linearState() };
  }

  static fromState(state: ModelState): LogisticRegression {
    const model = new LogisticRegression(state.params as Partial<LogRegParams>);
    model.restoreLinearState(state);
    return model;
  }
}

export const spec: ModelSpec<LogisticRegression> = {
  name: NAME,
  kind: 'classifier',
  title: 'Logistic regression (L2, multinomial, L-BFGS)',
  create: (params?: Params) => new LogisticRegression(params as Partial<LogRegParams>),
  fromState: (state) => LogisticRegression.fromState(state),
  searchSpace: { C: [0.01, 0.1, 1, 10, 100], class_weight: [null, 'balanced'] },
  testParams: { max_iter: 50 },
};

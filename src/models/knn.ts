// k-nearest-neighbour classifier (Cover & Hart 1967), with scikit-learn's KNeighborsClassifier semantics: uniform or
// inverse-distance votes (a zero distance takes all the weight), probabilities = normalised votes, ties to the
// lower class. Exact search via src/models/neighbors (blocked brute force, sparse mode-shifted path, workers).
// Fit O(n·d) (indexing); predict O(queries × n × d) worst case.

import { UserError } from '../errors.js';
import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import type { Labels } from '../frame/labels.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type ParamRule } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { NeighborIndex, sharedRows, type Metric, type SearchAlgorithm } from './neighbors/search.js';

type KnnParams = {
  n_neighbors: number;
  weights: 'uniform' | 'distance';
  metric: Metric;
  algorithm: SearchAlgorithm;
}

const defaults: KnnParams = { n_neighbors: 5, weights: 'uniform', metric: 'euclidean', algorithm: 'auto' };
const rules: { [K in keyof KnnParams]: ParamRule } = {
  n_neighbors: { type: 'int', min: 1 },
  weights: { type: 'choice', values: ['uniform', 'distance'] },
  metric: { type: 'choice', values: ['euclidean', 'manhattan', 'cosine'] },
  algorithm: { type: 'choice', values: ['auto', 'dense', 'sparse', 'projection', 'clusters'] },
};

export class KNeighborsClassifier implements Classifier {
  readonly kind = 'classifier' as const;
  readonly name = 'knn';
  readonly params: Readonly<KnnParams>;
  classes: readonly string[] = [];
  nFeatures: number | undefined;
  private train: Matrix | undefined;
  private codes: Int32Array = new Int32Array(0);
  private index: NeighborIndex | undefined;

  constructor(params: Partial<KnnParams> = {}) {
    this.params = resolveParams('knn', defaults, rules, params);
  }

  async fit(X: Matrix, y: Labels, options: FitOptions = {}): Promise<this> {
    checkInput(X, undefined, 'knn');
    if (y.codes.length !== X.rows) throw new UserError(`knn: ${X.rows} rows but ${y.codes.length} labels`);
    if (new Set(y.codes).size < 2) {
      throw new UserError(`knn: training labels hold a single class (${y.classes[y.codes[0]] ?? 'none'}); a classifier needs at least two — use an anomaly detector (--task anomaly) for normal-only data`);
    }
    if (this.params.n_neighbors > X.rows) throw new UserError(`knn: n_neighbors=${this.params.n_neighbors} exceeds the ${X.rows} training rows`);
    this.setData(createMatrix(X.rows, X.cols, X.columns, sharedRows(X.data)), Int32Array.from(y.codes), y.classes);
    options.onProgress?.(1, 1);
    return this;
  }

  private setData(X: Matrix, codes: Int32Array, classes: readonly string[]): void {
    this.train = X;
    this.codes = codes;
    this.classes = [...classes];
    this.nFeatures = X.cols;
    this.index = NeighborIndex.build(X, this.params.metric, { algorithm: this.params.algorithm });
  }

  /** The k nearest training rows of each row of X (indices into the training rows, and distances). */
  async kneighbors(X: Matrix): Promise<{ indices: Int32Array; distances: Float64Array }> {
    if (!this.index) throw new UserError('knn: the model is not fitted');
    checkInput(X, this.nFeatures, 'knn');
    return this.index.kneighbors(X, this.params.n_neighbors);
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const { indices, distances } = await this.kneighbors(X);
    const k = this.params.n_neighbors;
    const nc = this.classes.length;
    const out = createMatrix(X.rows, nc, this.classes);
    const p = out.data;
    const byDistance = this.params.weights === 'distance';
    const votes = new Float64Array(nc);
    for (let r = 0; r < X.rows; r++) {
      votes.fill(0);
      let exactHit = false;
      if (byDistance) for (let c = 0; c < k; c++) if (distances[r * k + c] === 0) exactHit = true;
      for (let c = 0; c < k; c++) {
        const d = distances[r * k + c];
        const w = !byDistance ? 1 : exactHit ? (d === 0 ? 1 : 0) : 1 / d;
        votes[this.codes[indices[r * k + c]]] += w;
      }
      let total = 0;
      for (let j = 0; j < nc; j++) total += votes[j];
      if (total === 0) total = 1;
      for (let j = 0; j < nc; j++) p[r * nc + j] = votes[j] / total;
    }
    return out;
  }

  async predict(X: Matrix): Promise<Labels> {
    const proba = await this.predictProba(X);
    const nc = proba.cols;
    const codes = new Int32Array(X.rows);
    for (let r = 0; r < X.rows; r++) {
      let best = 0;
      for (let j = 1; j < nc; j++) if (proba.data[r * nc + j] > proba.data[r * nc + best]) best = j;
      codes[r] = best;
    }
    return { codes, classes: this.classes };
  }

  getState(): ModelState {
    if (!this.train) throw new UserError('knn: the model is not fitted');
    return { params: { ...this.params }, rows: this.train.rows, cols: this.train.cols, data: this.train.data, codes: this.codes, classes: [...this.classes] };
  }

  static fromState(state: ModelState): KNeighborsClassifier {
    const model = new KNeighborsClassifier(state.params as Partial<KnnParams>);
    model.setData(createMatrix(state.rows as number, state.cols as number, undefined, state.data as Float32Array), state.codes as Int32Array, state.classes as string[]);
    return model;
  }
}

export const spec: ModelSpec<KNeighborsClassifier> = {
  name: 'knn',
  kind: 'classifier',
  title: 'k-nearest neighbours (exact, blocked brute force / sparse path, worker threads)',
  create: (params) => new KNeighborsClassifier(params as Partial<KnnParams>),
  fromState: (state) => KNeighborsClassifier.fromState(state),
  searchSpace: { n_neighbors: [1, 3, 5, 9, 15], weights: ['uniform', 'distance'], metric: ['euclidean', 'manhattan'] },
  testParams: { n_neighbors: 5 },
};

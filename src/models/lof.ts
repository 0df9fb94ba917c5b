// Local Outlier Factor (Breunig, Kriegel, Ng, Sander, SIGMOD 2000), with scikit-learn's LocalOutlierFactor semantics.
// Score direction: scoreSamples returns the LOF itself (= −score_samples in scikit-learn): ≈1 for inliers,
// higher = more anomalous. Outlier mode: `trainingScores()` / `fitPredict()` give the LOF of the training rows
// (each row's neighbours exclude itself). Novelty mode: `scoreSamples(X)` scores new rows against the training rows.
// Neighbours come from the neighbour index (neighbors/search.ts: cluster index, sparse or SIMD scan, the SIMD scan in
// sorted-projection order): fit is one k-NN query per training row, scoring one per query row, each O(n · d) only in
// the worst case (no bound prunes a row), as brute force.

import { UserError } from '../errors.js';
import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import { DetectorBase, checkEnoughRows, contaminationRule } from './detector-base.js';
import { resolveParams, type FitOptions, type ModelState, type ParamRule } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { nativeNeighbors } from './neighbors/native.js';
import { NeighborIndex, sharedRows, type Metric, type SearchAlgorithm } from './neighbors/search.js';

type LofParams = {
  n_neighbors: number;
  metric: Metric;
  contamination: number | 'auto';
  algorithm: SearchAlgorithm;
}

const defaults: LofParams = { n_neighbors: 20, metric: 'euclidean', contamination: 'auto', algorithm: 'auto' };
const rules: { [K in keyof LofParams]: ParamRule } = {
  n_neighbors: { type: 'int', min: 1 },
  metric: { type: 'choice', values: ['euclidean', 'manhattan', 'cosine'] },
  contamination: contaminationRule,
  algorithm: { type: 'choice', values: ['auto', 'dense', 'sparse', 'projection', 'clusters'] },
};

/** scikit-learn's offset for contamination='auto': LOF above 1.5 is an outlier. */
const AUTO_THRESHOLD = 1.5;

/**
 * checkInput, its scan for NaN and infinities in the native addon when it is loaded (cold JavaScript took 1–4 ms of
 * a CIC-IDS2017 fit or scoring, allocating heap numbers).
 */
function checkRows(X: Matrix, expectedCols: number | undefined): void {
  const loaded = nativeNeighbors();
  checkInput(X, expectedCols, 'lof', 'neighbors' in loaded ? (data) => loaded.neighbors.allFinite(data) : undefined);
}

export class LocalOutlierFactor extends DetectorBase {
  readonly name = 'lof';
  readonly params: Readonly<LofParams>;
  nFeatures: number | undefined;
  private train: Matrix | undefined;
  private index: NeighborIndex | undefined;
  /** Effective k = min(n_neighbors, rows − 1). */
  private k = 0;
  /** k-distance of each training row. */
  private kDistance: Float64Array = new Float64Array(0);
  /** Local reachability density of each training row. */
  private lrd: Float64Array = new Float64Array(0);
  private trainScores: Float64Array = new Float64Array(0);

  constructor(params: Partial<LofParams> = {}) {
    super();
    this.params = resolveParams('lof', defaults, rules, params);
  }

  async fit(X: Matrix, options: FitOptions = {}): Promise<this> {
    checkRows(X, undefined);
    checkEnoughRows('lof', X.rows, 2);
    const train = createMatrix(X.rows, X.cols, X.columns, sharedRows(X.data));
    this.setTrain(train, Math.min(this.params.n_neighbors, X.rows - 1));
    const index = this.index as NeighborIndex;
    const { indices, distances } = await index.kneighbors(undefined, this.k);
    const k = this.k;
    const n = X.rows;
    this.kDistance = new Float64Array(n);
    for (let i = 0; i < n; i++) this.kDistance[i] = distances[i * k + k - 1];
    ({ lrd: this.lrd, factors: this.trainScores } = this.localFactors(indices, distances, n, undefined));
    this.calibrate(this.trainScores, this.params.contamination, AUTO_THRESHOLD);
    options.onProgress?.(1, 1);
    return this;
  }

  private setTrain(train: Matrix, k: number): void {
    this.train = train;
    this.nFeatures = train.cols;
    this.k = k;
    this.index = NeighborIndex.build(train, this.params.metric, { algorithm: this.params.algorithm });
  }

  /**
   * The lrd and LOF of `rows` rows from their neighbours, against the training rows' lrd (undefined: the rows are the
   * training rows, each against the others' fresh lrd). In the native addon when it is loaded (the same float64
   * operations: these loops run once per fit and per scoring, mostly before the JIT has compiled them).
   */
  private localFactors(indices: Int32Array, distances: Float64Array, rows: number, trainLrd: Float64Array | undefined): { lrd: Float64Array; factors: Float64Array } {
    const lrd = new Float64Array(rows);
    const factors = new Float64Array(rows);
    const loaded = nativeNeighbors();
    if ('neighbors' in loaded) {
      loaded.neighbors.localOutlierFactors(indices, distances, rows, this.k, this.kDistance, trainLrd ?? lrd, lrd, factors);
    } else {
      this.reachabilityDensity(indices, distances, rows, lrd);
      this.factors(indices, trainLrd ?? lrd, lrd, factors);
    }
    return { lrd, factors };
  }

  /** lrd(p) = 1 / (mean over neighbours o of max(k-distance(o), d(p, o)) + 1e-10), as scikit-learn; into out. */
  private reachabilityDensity(indices: Int32Array, distances: Float64Array, rows: number, out: Float64Array): void {
    // Locals, not `this.` in the loops (cold code).
    const k = this.k;
    const kDistance = this.kDistance;
    for (let r = 0, o = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < k; c++, o++) {
        const reach = kDistance[indices[o]];
        const d = distances[o];
        sum += d > reach ? d : reach;
      }
      out[r] = 1 / (sum / k + 1e-10);
    }
  }

  /** LOF(p) = mean over neighbours o of lrd(o) / lrd(p) (neighbours' lrd from lrd, the rows' own from lrdRows); into out. */
  private factors(indices: Int32Array, lrd: Float64Array, lrdRows: Float64Array, out: Float64Array): void {
    const k = this.k;
    for (let r = 0, o = 0; r < lrdRows.length; r++) {
      const own = lrdRows[r];
      let sum = 0;
      for (let c = 0; c < k; c++, o++) sum += lrd[indices[o]] / own;
      out[r] = sum / k;
    }
  }

  /** Novelty mode: LOF of new rows relative to the training rows (higher = more anomalous). */
  async scoreSamples(X: Matrix): Promise<Float64Array> {
    if (!this.index) throw new UserError('lof: the model is not fitted');
    checkRows(X, this.nFeatures);
    const { indices, distances } = await this.index.kneighbors(X, this.k);
    return this.localFactors(indices, distances, X.rows, this.lrd).factors;
  }

  /** Outlier mode: the LOF of each training row, its neighbours excluding itself (scikit-learn's −negative_outlier_factor_). */
  trainingScores(): Float64Array {
    return this.trainScores;
  }

  /** Outlier mode in one call: fits on X and flags its own outliers (0 normal, 1 anomaly). */
  async fitPredict(X: Matrix, options?: FitOptions): Promise<Uint8Array> {
    await this.fit(X, options);
    return Uint8Array.from(this.trainScores, (s) => (s >= this.threshold ? 1 : 0));
  }

  getState(): ModelState {
    if (!this.train) throw new UserError('lof: the model is not fitted');
    return {
      params: { ...this.params },
      rows: this.train.rows,
      cols: this.train.cols,
      data: this.train.data,
      k: this.k,
      kDistance: this.kDistance,
      lrd: this.lrd,
      trainScores: this.trainScores,
      ...this.detectorState(),
    };
  }

  static fromState(state: ModelState): LocalOutlierFactor {
    const model = new LocalOutlierFactor(state.params as Partial<LofParams>);
    model.setTrain(createMatrix(state.rows as number, state.cols as number, undefined, state.data as Float32Array), state.k as number);
    model.kDistance = state.kDistance as Float64Array;
    model.lrd = state.lrd as Float64Array;
    model.trainScores = state.trainScores as Float64Array;
    model.restoreDetectorState(state);
    return model;
  }
}

export const spec: ModelSpec<LocalOutlierFactor> = {
  name: 'lof',
  kind: 'detector',
  title: 'Local Outlier Factor (Breunig et al. 2000), novelty and outlier modes',
  create: (params) => new LocalOutlierFactor(params as Partial<LofParams>),
  fromState: (state) => LocalOutlierFactor.fromState(state),
  searchSpace: { n_neighbors: [10, 20, 35, 50] },
  testParams: { n_neighbors: 10, contamination: 0.05 },
};

// DBSCAN (Ester, Kriegel, Sander, Xu, KDD 1996) as an anomaly detector, with scikit-learn's DBSCAN clusters: a core
// row has ≥ min_samples rows (itself included) within eps; clusters are the eps-connected components of core rows,
// numbered by their first core row; a border row joins the lowest-numbered cluster with a core row within eps
// (what scikit-learn's depth-first expansion yields); the rest is noise (-1).
// Score direction: distance to the nearest core row divided by eps; ≤ 1 is normal (core rows score 0), higher =
// more anomalous; the 'auto' threshold flags exactly the rows outside eps of every core row (noise).
// Cost: O(n² · d) brute-force radius passes (counts, core components, border labels); scoring O(rows × cores × d).

import { UserError } from '../errors.js';
import { checkInput, createMatrix, takeRows, type Matrix } from '../frame/matrix.js';
import { DetectorBase, checkEnoughRows, contaminationRule } from './detector-base.js';
import { resolveParams, type FitOptions, type ModelState, type ParamRule } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { NeighborIndex, type Metric, type SearchAlgorithm } from './neighbors/search.js';

type DbscanParams = {
  eps: number;
  min_samples: number;
  metric: Metric;
  contamination: number | 'auto';
  algorithm: SearchAlgorithm;
}

const defaults: DbscanParams = { eps: 0.5, min_samples: 5, metric: 'euclidean', contamination: 'auto', algorithm: 'auto' };
const rules: { [K in keyof DbscanParams]: ParamRule } = {
  eps: { type: 'float', min: 0, exclusiveMin: true },
  min_samples: { type: 'int', min: 1 },
  metric: { type: 'choice', values: ['euclidean', 'manhattan', 'cosine'] },
  contamination: contaminationRule,
  algorithm: { type: 'choice', values: ['auto', 'dense', 'sparse', 'projection', 'clusters'] },
};

/** Just above 1: a row exactly eps from a core row is still inside its neighbourhood. */
const AUTO_THRESHOLD = 1 + 2 ** -40;

export class DbscanDetector extends DetectorBase {
  readonly name = 'dbscan';
  readonly params: Readonly<DbscanParams>;
  nFeatures: number | undefined;
  /** Cluster of each training row (-1 = noise), as scikit-learn's labels_. */
  labels: Int32Array = new Int32Array(0);
  /** Training-row indices of the core rows, ascending (scikit-learn's core_sample_indices_). */
  coreSampleIndices: Int32Array = new Int32Array(0);
  private cores: Matrix | undefined;
  private coreIndex: NeighborIndex | undefined;

  constructor(params: Partial<DbscanParams> = {}) {
    super();
    this.params = resolveParams('dbscan', defaults, rules, params);
  }

  async fit(X: Matrix, options: FitOptions = {}): Promise<this> {
    checkInput(X, undefined, 'dbscan');
    checkEnoughRows('dbscan', X.rows, 1);
    const { eps, min_samples: minSamples, metric, algorithm } = this.params;
    const n = X.rows;
    const counts = await NeighborIndex.build(X, metric, { algorithm }).radiusCount(undefined, eps);
    const coreRows: number[] = [];
    const otherRows: number[] = [];
    for (let i = 0; i < n; i++) (counts[i] >= minSamples ? coreRows : otherRows).push(i);
    if (coreRows.length === 0) {
      // a core row counts itself among its min_samples: the k-distance to its (min_samples − 1)-th nearest other row
      const suggestion = await suggestEps(X, minSamples - 1, metric);
      throw new UserError(`dbscan: no core rows with eps=${eps} and min_samples=${minSamples} (every row is noise); try eps≈${suggestion.eps.toPrecision(3)} (k-distance knee; train takes it as --param dbscan.eps=${suggestion.eps.toPrecision(3)})`);
    }
    options.onProgress?.(1, 3);
    this.setCores(takeRows(X, coreRows), Int32Array.from(coreRows));
    const coreIndex = this.coreIndex as NeighborIndex;
    const components = await coreIndex.radiusComponents(eps);
    options.onProgress?.(2, 3);
    const coreLabels = new Int32Array(coreRows.length);
    const labelOfRoot = new Map<number, number>();
    for (let c = 0; c < coreRows.length; c++) {
      let label = labelOfRoot.get(components[c]);
      if (label === undefined) {
        label = labelOfRoot.size;
        labelOfRoot.set(components[c], label);
      }
      coreLabels[c] = label;
    }
    this.labels = new Int32Array(n);
    coreRows.forEach((row, c) => (this.labels[row] = coreLabels[c]));
    const scores = new Float64Array(n);
    if (otherRows.length > 0) {
      const others = takeRows(X, otherRows);
      const borderLabels = await coreIndex.radiusMinValue(others, eps, coreLabels);
      const nearest = await coreIndex.kneighbors(others, 1);
      otherRows.forEach((row, o) => {
        this.labels[row] = borderLabels[o];
        scores[row] = nearest.distances[o] / eps;
      });
    }
    this.calibrate(scores, this.params.contamination, AUTO_THRESHOLD);
    options.onProgress?.(3, 3);
    return this;
  }

  private setCores(cores: Matrix, coreSampleIndices: Int32Array): void {
    this.cores = cores;
    this.coreSampleIndices = coreSampleIndices;
    this.nFeatures = cores.cols;
    this.coreIndex = NeighborIndex.build(cores, this.params.metric, { algorithm: this.params.algorithm });
  }

  async scoreSamples(X: Matrix): Promise<Float64Array> {
    if (!this.coreIndex) throw new UserError('dbscan: the model is not fitted');
    checkInput(X, this.nFeatures, 'dbscan');
    const { distances } = await this.coreIndex.kneighbors(X, 1);
    return distances.map((d) => d / this.params.eps);
  }

  getState(): ModelState {
    if (!this.cores) throw new UserError('dbscan: the model is not fitted');
    return {
      params: { ...this.params },
      cores: this.cores.data,
      rows: this.cores.rows,
      cols: this.cores.cols,
      coreSampleIndices: this.coreSampleIndices,
      labels: this.labels,
      ...this.detectorState(),
    };
  }

  static fromState(state: ModelState): DbscanDetector {
    const model = new DbscanDetector(state.params as Partial<DbscanParams>);
    model.setCores(createMatrix(state.rows as number, state.cols as number, undefined, state.cores as Float32Array), state.coreSampleIndices as Int32Array);
    model.labels = state.labels as Int32Array;
    model.restoreDetectorState(state);
    return model;
  }
}

/**
 * The k-distance eps helper (Ester et al. 1996, §4.2): each row's distance to its k-th nearest other row, sorted
 * ascending, and the knee of that curve (the point farthest below the chord from first to last, as in Kneedle).
 * Use k = min_samples − 1 to match DBSCAN's count of the row itself.
 */
export async function suggestEps(X: Matrix, k: number, metric: Metric = 'euclidean'): Promise<{ eps: number; kDistances: Float64Array }> {
  checkInput(X, undefined, 'dbscan');
  const kk = Math.max(1, Math.min(k, X.rows - 1));
  if (X.rows < 2) throw new UserError(`dbscan: suggestEps needs at least 2 rows, got ${X.rows}`);
  const { distances } = await NeighborIndex.build(X, metric).kneighbors(undefined, kk);
  const kDistances = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) kDistances[i] = distances[i * kk + kk - 1];
  kDistances.sort();
  const n = kDistances.length;
  const first = kDistances[0];
  const last = kDistances[n - 1];
  let knee = n - 1;
  let bestGap = 0;
  for (let i = 0; i < n; i++) {
    const chord = first + ((last - first) * i) / Math.max(1, n - 1);
    const gap = chord - kDistances[i];
    if (gap > bestGap) {
      bestGap = gap;
      knee = i;
    }
  }
  const eps = kDistances[knee] > 0 ? kDistances[knee] : last > 0 ? last : 1;
  return { eps, kDistances };
}

export const spec: ModelSpec<DbscanDetector> = {
  name: 'dbscan',
  kind: 'detector',
  title: 'DBSCAN (Ester et al. 1996): distance to the nearest core row / eps',
  create: (params) => new DbscanDetector(params as Partial<DbscanParams>),
  fromState: (state) => DbscanDetector.fromState(state),
  searchSpace: { eps: [0.25, 0.5, 1, 2, 4], min_samples: [3, 5, 10, 20] },
  testParams: { eps: 1.5, min_samples: 5 },
};

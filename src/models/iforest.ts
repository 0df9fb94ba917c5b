// `iforest`: Isolation Forest (Liu, Ting & Zhou 2008; 2012) with scikit-learn IsolationForest's semantics:
// each tree isolates a subsample of max_samples rows ('auto' = min(256, n), drawn without replacement) by random
// features and uniform random thresholds, up to depth ceil(log2(max_samples)); a row's path length is its leaf depth
// plus c(leaf size), c(n) = 2H(n−1) − 2(n−1)/n the mean unsuccessful-search length of a BST.
// Score: s(x) = 2^(−E[h(x)] / c(max_samples)) in (0, 1]; HIGHER = MORE ANOMALOUS (scikit-learn's score_samples is
// the negation). contamination 'auto' thresholds at s = 0.5, as scikit-learn's offset_ = −0.5 does.
// Fit: O(trees · ψ log ψ); score: O(rows · trees · log ψ), over worker threads for large inputs.

import { checkInput, takeRows, type Matrix } from '../frame/matrix.js';
import { resolveParams, type FitOptions, type ModelState, type ParamRule, SEED_RULE } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { checkEnoughRows, contaminationRule, DetectorBase } from './detector-base.js';
import { Rng } from '../util/rng.js';
import { TreeBuffer, concatTrees, forestFromState, forestState, type FlatForest, type FlatTree } from './trees/flat-tree.js';
import { sumLeaves } from './trees/forest-predict.js';
import { treeShap } from '../explain/tree-shap.js';
import { createMatrix } from '../frame/matrix.js';
import { notFitted } from './trees/common.js';

const DEFAULTS = {
  n_estimators: 100,
  max_samples: 'auto' as string | number,
  max_features: 1,
  contamination: 'auto' as string | number,
  n_jobs: null as number | null,
  random_state: 0,
};
export type IsolationForestParams = typeof DEFAULTS;

const RULES: { [K in keyof IsolationForestParams]: ParamRule } = {
  n_estimators: { type: 'int', min: 1 },
  max_samples: { type: 'int-or-choice', min: 1, values: ['auto'] },
  max_features: { type: 'float', min: 0, max: 1, exclusiveMin: true },
  contamination: contaminationRule,
  n_jobs: { type: 'int', min: 1, nullable: true },
  random_state: SEED_RULE,
};

const EULER_GAMMA = 0.5772156649015329;
/** Training rows scored for the score normalisation when contamination is 'auto'. */
const CALIBRATION_ROWS = 20_000;

/** Average path length of an unsuccessful BST search among n points (Liu et al. 2008, eq. 1). */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export class IsolationForest extends DetectorBase {
  readonly name = 'iforest';
  readonly params: Readonly<IsolationForestParams>;
  nFeatures: number | undefined;
  private forest: FlatForest | undefined;
  /** c(ψ) of the subsample size the trees were grown on. */
  private normalizer = 1;

  constructor(params: Partial<IsolationForestParams> = {}) {
    super();
    this.params = resolveParams('iforest', DEFAULTS, RULES, params);
  }

  async fit(X: Matrix, options?: FitOptions): Promise<this> {
    checkInput(X, undefined, 'iforest');
    checkEnoughRows('iforest', X.rows, 2);
    const p = this.params;
    const psi = p.max_samples === 'auto' ? Math.min(256, X.rows) : Math.min(Number(p.max_samples), X.rows);
    const maxDepth = Math.ceil(Math.log2(Math.max(2, psi)));
    const nFeat = Math.max(1, Math.round(p.max_features * X.cols));
    const rng = new Rng(p.random_state);
    const trees: FlatTree[] = [];
    const pool = new Int32Array(X.rows);
    const featurePool = new Int32Array(X.cols);
    for (let t = 0; t < p.n_estimators; t++) {
      if (options?.signal?.aborted) throw new Error('aborted');
      const treeRng = rng.fork();
      const sample = drawWithoutReplacement(pool, psi, treeRng);
      const features = nFeat < X.cols ? Int32Array.from(drawWithoutReplacement(featurePool, nFeat, treeRng)) : null;
      trees.push(growIsolationTree(X, sample, features, maxDepth, treeRng));
      options?.onProgress?.(t + 1, p.n_estimators);
    }
    this.forest = concatTrees(trees, 1);
    this.normalizer = averagePathLength(psi);
    this.nFeatures = X.cols;
    // With 'auto' the threshold is fixed; the training scores only shape the [0, 1] normalisation, for which a
    // seeded sample of rows is enough. A numeric contamination needs the quantile of every training score.
    const reference = p.contamination === 'auto' && X.rows > CALIBRATION_ROWS ? takeRows(X, drawWithoutReplacement(new Int32Array(X.rows), CALIBRATION_ROWS, rng).sort()) : X;
    this.calibrate(await this.scoreSamples(reference), p.contamination, 0.5);
    return this;
  }

  async scoreSamples(X: Matrix): Promise<Float64Array> {
    const forest = this.fitted();
    checkInput(X, this.nFeatures, 'iforest');
    const sums = await sumLeaves(forest, X, this.params.n_jobs ?? undefined);
    const trees = forest.treeStart.length - 1;
    const scale = -1 / (trees * this.normalizer);
    for (let i = 0; i < sums.length; i++) sums[i] = 2 ** (sums[i] * scale);
    return sums;
  }

  /**
   * Exact TreeSHAP of log2 of the anomaly score, −E[h(x)]/c(ψ): positive contributions make a row more anomalous,
   * and Σ φ + expectedValue() = log2(score).
   */
  async explain(X: Matrix): Promise<Matrix> {
    const forest = this.fitted();
    checkInput(X, this.nFeatures, 'iforest');
    const out = createMatrix(X.rows, X.cols, X.columns);
    out.data.set(treeShap(forest, X, 0, this.logScale()).phi);
    return out;
  }

  /** log2 of the score of a row of "average" path length under the training subsamples. */
  expectedValue(): number {
    return treeShap(this.fitted(), createMatrix(0, this.nFeatures ?? 0), 0, this.logScale()).expectedValue;
  }

  private logScale(): number {
    const forest = this.fitted();
    return -1 / ((forest.treeStart.length - 1) * this.normalizer);
  }

  getState(): ModelState {
    return { params: { ...this.params }, nFeatures: this.nFeatures ?? 0, forest: forestState(this.fitted()), normalizer: this.normalizer, ...this.detectorState() };
  }

  static fromState(state: ModelState): IsolationForest {
    const m = new IsolationForest(state.params as Partial<IsolationForestParams>);
    m.nFeatures = state.nFeatures as number;
    m.forest = forestFromState(state.forest as ModelState);
    m.normalizer = state.normalizer as number;
    m.restoreDetectorState(state);
    return m;
  }

  private fitted(): FlatForest {
    if (!this.forest) throw notFitted('iforest');
    return this.forest;
  }
}

/** The first k entries of a seeded partial Fisher–Yates shuffle of 0..pool.length−1. */
function drawWithoutReplacement(pool: Int32Array, k: number, rng: Rng): Int32Array {
  for (let i = 0; i < pool.length; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool.length - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, k);
}

/**
 * One isolation tree on the sampled rows. Like scikit-learn's random splitter, features are drawn in random order
 * until one is not constant in the node; the threshold is uniform in [min, max). Leaves hold the path length
 * depth + c(size); cover is the node's sample count.
 */
function growIsolationTree(X: Matrix, sample: Int32Array, features: Int32Array | null, maxDepth: number, rng: Rng): FlatTree {
  const { cols, data } = X;
  const candidates = features ?? Int32Array.from({ length: cols }, (_, f) => f);
  const order = Int32Array.from(candidates);
  const tree = new TreeBuffer(1, 2 * sample.length);
  const stack: { node: number; start: number; end: number; depth: number }[] = [{ node: tree.addNode(sample.length), start: 0, end: sample.length, depth: 0 }];
  while (stack.length > 0) {
    const { node, start, end, depth } = stack.pop() as { node: number; start: number; end: number; depth: number };
    const size = end - start;
    tree.value[node] = depth + averagePathLength(size);
    if (depth >= maxDepth || size <= 1) continue;
    let feature = -1;
    let lo = 0;
    let hi = 0;
    for (let drawn = 0; drawn < order.length && feature < 0; drawn++) {
      const j = drawn + rng.int(order.length - drawn);
      const f = order[j];
      order[j] = order[drawn];
      order[drawn] = f;
      let min = Infinity;
      let max = -Infinity;
      for (let r = start; r < end; r++) {
        const v = data[sample[r] * cols + f];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (max > min) {
        feature = f;
        lo = min;
        hi = max;
      }
    }
    if (feature < 0) continue;
    let threshold = Math.fround(lo + rng.next() * (hi - lo));
    if (threshold >= hi) threshold = lo;
    let mid = start;
    for (let r = start; r < end; r++) {
      if (data[sample[r] * cols + feature] <= threshold) {
        const t = sample[mid];
        sample[mid] = sample[r];
        sample[r] = t;
        mid++;
      }
    }
    const left = tree.addNode(mid - start);
    const right = tree.addNode(end - mid);
    tree.split(node, feature, 0, threshold, left, right);
    stack.push({ node: right, start: mid, end, depth: depth + 1 }, { node: left, start, end: mid, depth: depth + 1 });
  }
  return tree.toTree();
}

export const spec: ModelSpec<IsolationForest> = {
  name: 'iforest',
  kind: 'detector',
  title: 'Isolation Forest (Liu, Ting & Zhou 2008)',
  create: (params) => new IsolationForest(params as Partial<IsolationForestParams>),
  fromState: (state) => IsolationForest.fromState(state),
  searchSpace: { n_estimators: [100, 200], max_samples: ['auto', 512], max_features: [0.5, 1] },
  testParams: { n_estimators: 50 },
};

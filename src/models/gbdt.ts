// `gbdt`: histogram-based gradient-boosted trees (Friedman 2001; second-order leaf-wise trees as XGBoost, Chen &
// Guestrin 2016, and LightGBM, Ke et al. 2017) with scikit-learn HistGradientBoostingClassifier's parameter names
// and defaults. Binary logistic loss (one tree per round) or multi-class softmax (one tree per class per round),
// L2 on leaf values, min hessian per child, row and column subsampling, class weights, early stopping on a
// validation split (options.validation or a seeded stratified split of the training rows), and per-iteration
// train/validation loss and accuracy. Explanations are exact TreeSHAP of the raw score (log-odds / logits).
// Fit: O(rounds · classes · rows · features); predict: O(rows · rounds · classes · depth).

import { checkInput, createMatrix, takeRows, type Matrix } from '../frame/matrix.js';
import { alignLabels, type Labels } from '../frame/labels.js';
import { stratifiedHoldout } from '../frame/splits.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type ParamRule, type TrainingHistory, SEED_RULE } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { TreeClassifier } from './trees/tree-classifier.js';
import { Rng } from '../util/rng.js';
import { binMatrix, fitBinEdges, MAX_BINS, rowLayout, sparseColumns } from './trees/binning.js';
import { SerialHistograms, type HistogramContext } from './trees/boost-hist.js';
import { ParallelHistograms } from './trees/boost-parallel.js';
import { defaultThreads } from '../util/worker-pool.js';
import { buildBoostTree } from './trees/boost-tree.js';
import { accumulateLeaves, concatTrees, leafOfBinned, normalizeImportances, type FlatForest, type FlatTree } from './trees/flat-tree.js';
import { checkClassIndex, checkTraining, classWeightRule, rowWeights } from './trees/common.js';
import { treeShap } from '../explain/tree-shap.js';

const DEFAULTS = {
  learning_rate: 0.1,
  max_iter: 100,
  max_leaf_nodes: 31 as number | null,
  max_depth: null as number | null,
  min_samples_leaf: 20,
  min_child_weight: 1e-3,
  l2_regularization: 0,
  subsample: 1,
  colsample: 1,
  max_bins: 255,
  early_stopping: 'auto' as string | boolean,
  validation_fraction: 0.1,
  n_iter_no_change: 10,
  tol: 1e-7,
  class_weight: null as string | null,
  n_jobs: null as number | null,
  random_state: 0,
};
export type GbdtParams = typeof DEFAULTS;

const RULES: { [K in keyof GbdtParams]: ParamRule } = {
  learning_rate: { type: 'float', min: 0, exclusiveMin: true },
  max_iter: { type: 'int', min: 1 },
  max_leaf_nodes: { type: 'int', min: 2, nullable: true },
  max_depth: { type: 'int', min: 1, nullable: true },
  min_samples_leaf: { type: 'int', min: 1 },
  min_child_weight: { type: 'float', min: 0 },
  l2_regularization: { type: 'float', min: 0 },
  subsample: { type: 'float', min: 0, max: 1, exclusiveMin: true },
  colsample: { type: 'float', min: 0, max: 1, exclusiveMin: true },
  max_bins: { type: 'int', min: 2, max: MAX_BINS },
  early_stopping: { type: 'choice', values: ['auto', true, false] },
  validation_fraction: { type: 'float', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
  n_iter_no_change: { type: 'int', min: 1 },
  tol: { type: 'float', min: 0 },
  class_weight: classWeightRule,
  n_jobs: { type: 'int', min: 1, nullable: true },
  random_state: SEED_RULE,
};

/** Above this many rows × features, leaf histograms are filled by two threads. */
const PARALLEL_WORK = 2_000_000;

/** scikit-learn turns early stopping on by default above this many rows. */
const AUTO_EARLY_STOPPING_ROWS = 10_000;
/** Smallest leaf-value bound tried for a round that raises the training loss (the round then all but vanishes). */
const MIN_LEAF_BOUND = 1e-6;

export class GradientBoosting extends TreeClassifier implements Classifier {
  readonly name = 'gbdt';
  readonly params: Readonly<GbdtParams>;
  history: TrainingHistory | undefined;
  /** Boosting rounds actually run (fewer than max_iter when early stopping fired). */
  nIterations = 0;
  /** Raw score before any tree, per output (log-odds or log-priors). */
  private baseline: Float64Array = new Float64Array(0);

  constructor(params: Partial<GbdtParams> = {}) {
    super();
    this.params = resolveParams('gbdt', DEFAULTS, RULES, params);
  }

  /** Trees per round: 1 for two classes (logistic), one per class otherwise (softmax). */
  private get outputs(): number {
    return this.classes.length === 2 ? 1 : this.classes.length;
  }

  async fit(X: Matrix, y: Labels, options?: FitOptions): Promise<this> {
    const counts = checkTraining('gbdt', X, y);
    const p = this.params;
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    const K = y.classes.length;
    const T = this.outputs;
    const rng = new Rng(p.random_state);

    // Training / validation rows.
    let trainX = X;
    let trainY = y.codes;
    let valX: Matrix | undefined;
    let valY: Int32Array | undefined;
    let sampleWeight = options?.sampleWeight;
    const early = p.early_stopping === true || (p.early_stopping === 'auto' && X.rows > AUTO_EARLY_STOPPING_ROWS);
    if (options?.validation?.y) {
      checkInput(options.validation.X, X.cols, 'gbdt');
      valX = options.validation.X;
      valY = alignLabels(options.validation.y, y.classes).codes;
    } else if (early) {
      const { kept: train, held: validation } = stratifiedHoldout(y.codes, K, p.validation_fraction, rng);
      trainX = takeRows(X, train);
      trainY = Int32Array.from(train, (i) => y.codes[i]);
      valX = takeRows(X, validation);
      valY = Int32Array.from(validation, (i) => y.codes[i]);
      if (sampleWeight) sampleWeight = Float64Array.from(train, (i) => (sampleWeight as Float64Array)[i]);
    }
    const trainLabels: Labels = { codes: trainY, classes: y.classes };
    const weights = rowWeights(trainLabels, classCounts(trainY, K, counts), p.class_weight, sampleWeight ? { sampleWeight } : undefined);

    const { nBins, edges } = fitBinEdges(trainX, p.max_bins, p.random_state);
    const threads = p.n_jobs ?? defaultThreads();
    const parallel = threads > 1 && trainX.rows * trainX.cols >= PARALLEL_WORK;
    const binned = binMatrix(trainX, nBins, edges, parallel);
    const sparse = sparseColumns(binned);
    const valBinned = valX ? binMatrix(valX, nBins, edges) : undefined;
    const n = trainX.rows;

    // Baseline: log-odds of the positive class, or log class priors (weighted).
    const prior = new Float64Array(K);
    let totalWeight = 0;
    for (let i = 0; i < n; i++) {
      prior[trainY[i]] += weights[i];
      totalWeight += weights[i];
    }
    const eps = 1e-12;
    this.baseline = new Float64Array(T);
    if (T === 1) {
      const p1 = Math.min(1 - eps, Math.max(eps, prior[1] / totalWeight));
      this.baseline[0] = Math.log(p1 / (1 - p1));
    } else {
      for (let k = 0; k < K; k++) this.baseline[k] = Math.log(Math.max(eps, prior[k] / totalWeight));
    }

    const raw = new Float64Array(n * T);
    for (let i = 0; i < n; i++) raw.set(this.baseline, i * T);
    const valRaw = valBinned ? new Float64Array(valBinned.rows * T) : undefined;
    if (valRaw && valBinned) for (let i = 0; i < valBinned.rows; i++) valRaw.set(this.baseline, i * T);

    // Arrays the histogram helper thread reads live in shared memory.
    const grad = sharedOrNot(new Float32Array(n), parallel);
    const hess = sharedOrNot(new Float32Array(n), parallel);
    const indexAll = sharedOrNot(new Int32Array(n), parallel);
    const ctx: HistogramContext = {
      rows: n,
      cols: X.cols,
      bins: binned.bins,
      nBins,
      sparse,
      layout: rowLayout(binned, sparse),
      grad,
      hess,
      index: indexAll,
      sampled: sharedOrNot(new Uint8Array(n), parallel),
      active: sharedOrNot(new Uint8Array(X.cols), parallel),
    };
    const proba = new Float64Array(n * K);
    const trees: FlatTree[] = [];
    const series: Record<string, number[]> = { train_loss: [], train_accuracy: [] };
    if (valRaw) {
      series.val_loss = [];
      series.val_accuracy = [];
    }
    const importance = new Float64Array(X.cols);
    const treeParams = {
      maxLeaves: p.max_leaf_nodes ?? Infinity,
      maxDepth: p.max_depth ?? Infinity,
      minSamplesLeaf: p.min_samples_leaf,
      minChildWeight: p.min_child_weight,
      l2: p.l2_regularization,
      learningRate: p.learning_rate,
    };
    if (!Number.isFinite(treeParams.maxLeaves) && !Number.isFinite(treeParams.maxDepth)) treeParams.maxLeaves = 31;
    const sampleSize = Math.max(1, Math.round(p.subsample * n));
    const colCount = Math.max(1, Math.round(p.colsample * X.cols));
    let bestVal = Infinity;
    let sinceBest = 0;
    // Raw scores before the round, to shrink a round that raises the weighted training loss (the objective).
    const rawBefore = new Float64Array(n * T);
    const valBefore = valRaw ? new Float64Array(valRaw.length) : undefined;
    // with equal weights the objective is the training loss computed each round anyway (no second pass of logs)
    const equalWeights = weights.every((w) => w === weights[0]);
    const objectiveOf = (loss: number): number => (equalWeights ? loss : weightedLoss(proba, trainY, weights, K));
    let objective = objectiveOf(lossAndAccuracy(raw, trainY, n, K, proba).loss);
    const histograms = parallel ? await ParallelHistograms.start(ctx) : new SerialHistograms(ctx);
    try {
      for (let iter = 0; iter < p.max_iter; iter++) {
        if (options?.signal?.aborted) throw new Error('aborted');
        // `proba` holds the probabilities of `raw` (set above, then by each round's loss below)
        const roundStart = trees.length;
        rawBefore.set(raw);
        if (valRaw && valBefore) valBefore.set(valRaw);
        const sample = sampleSize < n ? sampleRows(n, sampleSize, rng) : identity(n);
        const mask = colCount < X.cols ? sampleColumns(X.cols, colCount, rng) : null;
        ctx.sampled.fill(0);
        for (let r = 0; r < sample.length; r++) ctx.sampled[sample[r]] = 1;
        for (let f = 0; f < X.cols; f++) ctx.active[f] = mask ? mask[f] : 1;
        for (let k = 0; k < T; k++) {
          const target = T === 1 ? 1 : k;
          for (let i = 0; i < n; i++) {
            const pk = proba[i * K + target];
            const w = weights[i];
            grad[i] = w * (pk - (trainY[i] === target ? 1 : 0));
            hess[i] = w * Math.max(pk * (1 - pk), 1e-16);
          }
          const rows = indexAll.subarray(0, sample.length);
          rows.set(sample);
          const { tree, leafStart, leafEnd } = buildBoostTree(binned, grad, hess, rows, treeParams, mask, importance, histograms);
          trees.push(tree);
          if (sampleSize < n) {
            for (let i = 0; i < n; i++) raw[i * T + k] += tree.value[leafOfBinned(tree, binned.bins, n, i)];
          } else {
            for (let node = 0; node < leafStart.length; node++) {
              if (leafStart[node] < 0) continue;
              const v = tree.value[node];
              for (let r = leafStart[node]; r < leafEnd[node]; r++) raw[rows[r] * T + k] += v;
            }
          }
          if (valRaw && valBinned) for (let i = 0; i < valBinned.rows; i++) valRaw[i * T + k] += tree.value[leafOfBinned(tree, valBinned.bins, valBinned.rows, i)];
        }
        let train = lossAndAccuracy(raw, trainY, n, K, proba);
        let roundObjective = objectiveOf(train.loss);
        // A Newton step −G/H with l2 0 is unbounded where a rare class's rows share a leaf (H ≈ Σ p(1 − p), p ≈ its
        // prior): such a round can raise the loss, and repeated it diverges (scikit-learn 1.2 does). Then the
        // round's leaf values are clipped to a bound halved until the loss does not rise: the extreme leaves shrink,
        // the others keep their step. A round that lowers the loss is kept as it is.
        if (roundObjective > objective * (1 + 1e-9)) {
          const round = trees.slice(roundStart);
          const original = round.map((tree) => Float32Array.from(tree.value));
          let bound = original.reduce((m, values) => values.reduce((a, v) => Math.max(a, Math.abs(v)), m), 0);
          while (roundObjective > objective * (1 + 1e-9) && bound > MIN_LEAF_BOUND) {
            bound /= 2;
            round.forEach((tree, t) => {
              for (let node = 0; node < tree.value.length; node++) tree.value[node] = Math.max(-bound, Math.min(bound, original[t][node]));
            });
            redoRound(raw, rawBefore, round, binned.bins, n, T);
            train = lossAndAccuracy(raw, trainY, n, K, proba);
            roundObjective = objectiveOf(train.loss);
          }
          if (valRaw && valBefore && valBinned) redoRound(valRaw, valBefore, round, valBinned.bins, valBinned.rows, T);
        }
        objective = roundObjective;
        series.train_loss.push(train.loss);
        series.train_accuracy.push(train.accuracy);
        this.nIterations = iter + 1;
        options?.onProgress?.(iter + 1, p.max_iter);
        if (valRaw && valY && valBinned) {
          const val = lossAndAccuracy(valRaw, valY, valBinned.rows, K, new Float64Array(valBinned.rows * K));
          series.val_loss.push(val.loss);
          series.val_accuracy.push(val.accuracy);
          if (early) {
            if (val.loss < bestVal - p.tol) {
              bestVal = val.loss;
              sinceBest = 0;
            } else if (++sinceBest >= p.n_iter_no_change) break;
          }
        }
      }
    } finally {
      if (histograms instanceof ParallelHistograms) await histograms.close();
    }
    this.forest = concatTrees(trees, 1);
    this.importances = normalizeImportances(importance);
    this.history = { unit: 'iteration', series };
    return this;
  }

  /** Raw scores (log-odds for two classes, logits otherwise): rows × outputs. */
  decisionFunction(X: Matrix): Float64Array {
    const forest = this.fitted();
    checkInput(X, this.nFeatures, 'gbdt');
    const T = this.outputs;
    const raw = new Float64Array(X.rows * T);
    for (let i = 0; i < X.rows; i++) raw.set(this.baseline, i * T);
    accumulateLeaves(forest, X, raw, 1, (t) => t % T);
    return raw;
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const raw = this.decisionFunction(X);
    const K = this.classes.length;
    const out = new Float64Array(X.rows * K);
    probabilities(raw, out, X.rows, K);
    return createMatrix(X.rows, K, undefined, Float32Array.from(out));
  }

  /**
   * Exact TreeSHAP of the raw score of `classIndex` (log-odds of that class for two classes, its logit otherwise);
   * default: each row's predicted class. Σ φ + expectedValue(classIndex) = that raw score.
   */
  async explain(X: Matrix, classIndex?: number): Promise<Matrix> {
    const forest = this.fitted();
    checkInput(X, this.nFeatures, 'gbdt');
    const K = this.classes.length;
    checkClassIndex('gbdt', classIndex, K);
    const out = createMatrix(X.rows, X.cols, X.columns);
    const predicted = classIndex === undefined ? (await this.predict(X)).codes : null;
    for (let k = 0; k < K; k++) {
      const rowsOfK: number[] = [];
      for (let i = 0; i < X.rows; i++) if ((predicted ? predicted[i] : classIndex) === k) rowsOfK.push(i);
      if (rowsOfK.length === 0) continue;
      const sub = rowsOfK.length === X.rows ? X : takeRows(X, rowsOfK);
      const phi = this.shapOf(forest, sub, k);
      rowsOfK.forEach((r, j) => out.data.set(phi.subarray(j * X.cols, (j + 1) * X.cols), r * X.cols));
    }
    return out;
  }

  /** The raw score SHAP values start from (baseline + mean tree output under the training distribution). */
  expectedValue(classIndex: number): number {
    const forest = this.fitted();
    const T = this.outputs;
    const { output, sign } = this.outputOf(classIndex);
    const e = treeShap(forest, createMatrix(0, this.nFeatures ?? 0), 0, 1, (t) => t % T === output).expectedValue;
    return sign * (this.baseline[output] + e);
  }

  private outputOf(classIndex: number): { output: number; sign: number } {
    // Two classes: one log-odds output for class 1; class 0's log-odds is its negation.
    if (this.outputs === 1) return { output: 0, sign: classIndex === 1 ? 1 : -1 };
    return { output: classIndex, sign: 1 };
  }

  private shapOf(forest: FlatForest, X: Matrix, classIndex: number): Float64Array {
    const T = this.outputs;
    const { output, sign } = this.outputOf(classIndex);
    const phi = treeShap(forest, X, 0, sign, (t) => t % T === output).phi;
    return phi;
  }

  getState(): ModelState {
    const state: ModelState = { params: { ...this.params }, ...this.treeState(), baseline: this.baseline, nIterations: this.nIterations };
    if (this.history) state.history = { unit: this.history.unit, series: { ...this.history.series } };
    return state;
  }

  static fromState(state: ModelState): GradientBoosting {
    const m = new GradientBoosting(state.params as Partial<GbdtParams>);
    m.restoreTreeState(state);
    m.baseline = state.baseline as Float64Array;
    m.nIterations = state.nIterations as number;
    if (state.history) m.history = state.history as unknown as TrainingHistory;
    return m;
  }
}

/** Class probabilities from raw scores: sigmoid for one output, softmax otherwise. */
function probabilities(raw: Float64Array, out: Float64Array, rows: number, K: number): void {
  if (K === 2) {
    for (let i = 0; i < rows; i++) {
      const p1 = 1 / (1 + Math.exp(-raw[i]));
      out[i * 2] = 1 - p1;
      out[i * 2 + 1] = p1;
    }
    return;
  }
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, raw[i * K + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(raw[i * K + k] - max);
      out[i * K + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) out[i * K + k] /= sum;
  }
}

/** raw = before + the round's trees (tree t adds to output t mod T) on binned rows. */
function redoRound(raw: Float64Array, before: Float64Array, round: readonly FlatTree[], bins: Uint8Array, rows: number, T: number): void {
  raw.set(before);
  round.forEach((tree, t) => {
    for (let i = 0; i < rows; i++) raw[i * T + (t % T)] += tree.value[leafOfBinned(tree, bins, rows, i)];
  });
}

/** The boosting objective: log-loss of `proba` weighted by the rows' (class and sample) weights. */
function weightedLoss(proba: Float64Array, y: Int32Array, weights: ArrayLike<number>, K: number): number {
  let loss = 0;
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    loss -= weights[i] * Math.log(Math.max(1e-15, proba[i * K + y[i]]));
    total += weights[i];
  }
  return total > 0 ? loss / total : 0;
}

/** Mean log-loss and accuracy of raw scores against labels. */
function lossAndAccuracy(raw: Float64Array, y: Int32Array, rows: number, K: number, scratch: Float64Array): { loss: number; accuracy: number } {
  probabilities(raw, scratch, rows, K);
  let loss = 0;
  let right = 0;
  for (let i = 0; i < rows; i++) {
    loss -= Math.log(Math.max(1e-15, scratch[i * K + y[i]]));
    let best = 0;
    for (let k = 1; k < K; k++) if (scratch[i * K + k] > scratch[i * K + best]) best = k;
    if (best === y[i]) right++;
  }
  return { loss: loss / Math.max(1, rows), accuracy: right / Math.max(1, rows) };
}

function classCounts(y: Int32Array, K: number, fallback: Float64Array): Float64Array {
  const counts = new Float64Array(K);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts.some((c) => c > 0) ? counts : fallback;
}

function sharedOrNot<T extends Float32Array | Int32Array | Uint8Array>(a: T, shared: boolean): T {
  if (!shared) return a;
  const ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  return new ctor(new SharedArrayBuffer(a.byteLength));
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** `k` distinct rows of n, ascending (seeded). */
function sampleRows(n: number, k: number, rng: Rng): Int32Array {
  const a = identity(n);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.subarray(0, k).sort();
}

function sampleColumns(cols: number, k: number, rng: Rng): Uint8Array {
  const mask = new Uint8Array(cols);
  for (const f of sampleRows(cols, k, rng)) mask[f] = 1;
  return mask;
}

export const spec: ModelSpec<GradientBoosting> = {
  name: 'gbdt',
  kind: 'classifier',
  title: 'Gradient-boosted trees (histogram-based, leaf-wise, logistic / softmax loss)',
  create: (params) => new GradientBoosting(params as Partial<GbdtParams>),
  fromState: (state) => GradientBoosting.fromState(state),
  searchSpace: { learning_rate: [0.05, 0.1, 0.2], max_leaf_nodes: [15, 31, 63], l2_regularization: [0, 1], max_iter: [100, 200] },
  testParams: { max_iter: 20, min_samples_leaf: 5 },
};

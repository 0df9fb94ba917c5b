// `rf`: random forest classifier (Breiman 2001) with scikit-learn RandomForestClassifier's semantics: bootstrap
// samples, max_features='sqrt' drawn per node, fully grown CART trees, probabilities averaged over trees, an
// out-of-bag accuracy (kept per number of trees as `history`), impurity importances and exact TreeSHAP.
// Trees are grown in worker threads over the binned data in SharedArrayBuffers; the binning itself is shared between
// this thread and the workers while they start (trees/forest-prep.ts).
// Fit: O(trees · depth · rows · √features / threads); predict: O(rows · trees · depth).

import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import type { Labels } from '../frame/labels.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type ParamRule, type TrainingHistory, SEED_RULE } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { TreeClassifier } from './trees/tree-classifier.js';
import { Rng } from '../util/rng.js';
import { defaultThreads, runInWorkers } from '../util/worker-pool.js';
import { fitAndBinMatrix, MAX_BINS, rowMajorBins, sparseColumns } from './trees/binning.js';
import { growForestTree, releaseForestWork, type ForestShared, type ForestTask, type ForestTreeResult } from './trees/forest-grow.js';
import { createPrep, prepareOnMain, type ForestSetup } from './trees/forest-prep.js';
import type { ClassTreeParams } from './trees/class-tree.js';
import { sumLeaves } from './trees/forest-predict.js';
import { concatTrees, normalizeImportances } from './trees/flat-tree.js';
import { checkTraining, classWeightRule, maxFeaturesRule, resolveMaxFeatures, rowWeights, toMatrix } from './trees/common.js';
import { explainForestProba } from './decision-tree.js';
import { treeShap } from '../explain/tree-shap.js';

const DEFAULTS = {
  n_estimators: 100,
  criterion: 'gini',
  max_depth: null as number | null,
  min_samples_split: 2,
  min_samples_leaf: 1,
  max_features: 'sqrt' as string | number,
  bootstrap: true,
  // scikit-learn's default; the out-of-bag score (and its per-tree history) costs ~10% of the fit.
  oob_score: false,
  class_weight: null as string | null,
  max_bins: 256,
  n_jobs: null as number | null,
  random_state: 0,
};
export type RandomForestParams = typeof DEFAULTS;

const RULES: { [K in keyof RandomForestParams]: ParamRule } = {
  n_estimators: { type: 'int', min: 1 },
  criterion: { type: 'choice', values: ['gini', 'entropy'] },
  max_depth: { type: 'int', min: 1, nullable: true },
  min_samples_split: { type: 'int', min: 2 },
  min_samples_leaf: { type: 'int', min: 1 },
  max_features: maxFeaturesRule,
  bootstrap: { type: 'bool' },
  oob_score: { type: 'bool' },
  class_weight: classWeightRule,
  max_bins: { type: 'int', min: 2, max: MAX_BINS },
  n_jobs: { type: 'int', min: 1, nullable: true },
  random_state: SEED_RULE,
};

/** Below this many rows × trees, worker start-up costs more than it saves (training, prediction). */
const PARALLEL_WORK = 400_000;
const PARALLEL_PREDICT = 1_000_000;

export class RandomForest extends TreeClassifier implements Classifier {
  readonly name = 'rf';
  readonly params: Readonly<RandomForestParams>;
  history: TrainingHistory | undefined;
  /** Out-of-bag accuracy of the whole forest (NaN without bootstrap / oob_score). */
  oobScore = Number.NaN;

  constructor(params: Partial<RandomForestParams> = {}) {
    super();
    this.params = resolveParams('rf', DEFAULTS, RULES, params);
  }

  async fit(X: Matrix, y: Labels, options?: FitOptions): Promise<this> {
    const counts = checkTraining('rf', X, y);
    const p = this.params;
    const K = y.classes.length;
    const threads = p.n_jobs ?? defaultThreads();
    const parallel = threads > 1 && X.rows * p.n_estimators >= PARALLEL_WORK;
    const params: ClassTreeParams = {
      criterion: p.criterion as 'gini' | 'entropy',
      maxDepth: p.max_depth ?? Infinity,
      minSamplesSplit: p.min_samples_split,
      minSamplesLeaf: p.min_samples_leaf,
      maxFeatures: resolveMaxFeatures(p.max_features, X.cols),
    };
    const weights = rowWeights(y, counts, p.class_weight, options);
    const oob = p.bootstrap && p.oob_score;
    const rng = new Rng(p.random_state);
    const tasks: ForestTask[] = Array.from({ length: p.n_estimators }, () => ({ seed: rng.nextUint32() }));
    let results: ForestTreeResult[];
    if (parallel) {
      // The workers start at once and share the binning with this thread (trees/forest-prep.ts).
      const shared = <T extends Int32Array | Float64Array>(a: T): T => {
        const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
        out.set(a);
        return out;
      };
      const setup: ForestSetup = { prep: createPrep(X, p.max_bins, p.random_state), y: shared(y.codes), nClasses: K, baseWeight: shared(weights), params, bootstrap: p.bootstrap, oob };
      const pending = runInWorkers<ForestTask, ForestTreeResult>(new URL('./trees/forest-worker.js', import.meta.url), setup, tasks, {
        threads,
        signal: options?.signal,
        onResult: options?.onProgress,
      });
      try {
        prepareOnMain(setup.prep, X);
      } catch (err) {
        pending.catch(() => undefined);
        throw err;
      }
      results = await pending;
    } else {
      const binned = fitAndBinMatrix(X, p.max_bins, p.random_state);
      const shared: ForestShared = {
        data: { ...binned, y: y.codes, nClasses: K, sparse: sparseColumns(binned), rowBins: rowMajorBins(binned) },
        baseWeight: weights,
        params,
        bootstrap: p.bootstrap,
        oob,
      };
      results = [];
      try {
        for (const task of tasks) {
          if (options?.signal?.aborted) throw new Error('aborted');
          results.push(growForestTree(shared, task));
          options?.onProgress?.(results.length, tasks.length);
        }
      } finally {
        releaseForestWork();
      }
    }

    this.forest = concatTrees(
      results.map((r) => r.tree),
      K,
    );
    const importance = new Float64Array(X.cols);
    for (const r of results) {
      const imp = normalizeImportances(r.importance);
      for (let f = 0; f < X.cols; f++) importance[f] += imp[f];
    }
    this.importances = normalizeImportances(importance);
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    if (oob) this.computeOob(results, y.codes, K);
    return this;
  }

  /** OOB accuracy after each tree: rows are scored only by the trees that did not see them. */
  private computeOob(results: readonly ForestTreeResult[], y: Int32Array, K: number): void {
    const n = y.length;
    const sums = new Float64Array(n * K);
    const seen = new Uint8Array(n);
    const correct = new Uint8Array(n);
    let scored = 0;
    let right = 0;
    const curve: number[] = [];
    for (const r of results) {
      const { value } = r.tree;
      for (let j = 0; j < r.oobRows.length; j++) {
        const i = r.oobRows[j];
        const leaf = r.oobLeaves[j] * K;
        let best = 0;
        for (let k = 0; k < K; k++) {
          sums[i * K + k] += value[leaf + k];
          if (sums[i * K + k] > sums[i * K + best]) best = k;
        }
        if (!seen[i]) {
          seen[i] = 1;
          scored++;
        }
        const now = best === y[i] ? 1 : 0;
        right += now - correct[i];
        correct[i] = now;
      }
      curve.push(scored > 0 ? right / scored : Number.NaN);
    }
    this.oobScore = curve[curve.length - 1];
    this.history = { unit: 'trees', series: { oob_score: curve } };
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const forest = this.fitted();
    checkInput(X, this.nFeatures, 'rf');
    const K = this.classes.length;
    const out = await sumLeaves(forest, X, this.params.n_jobs ?? undefined, PARALLEL_PREDICT);
    const scale = 1 / (forest.treeStart.length - 1);
    for (let i = 0; i < out.length; i++) out[i] *= scale;
    return toMatrix(out, X.rows, K);
  }

  /** Exact TreeSHAP of the forest's probability of `classIndex` (default: each row's predicted class). */
  async explain(X: Matrix, classIndex?: number): Promise<Matrix> {
    return explainForestProba('rf', this.fitted(), X, this.nFeatures, this.classes.length, classIndex);
  }

  /** The probability SHAP values start from: Σ φ + expectedValue = predicted probability. */
  expectedValue(classIndex: number): number {
    const f = this.fitted();
    return treeShap(f, createMatrix(0, this.nFeatures ?? 0), classIndex, 1 / (f.treeStart.length - 1)).expectedValue;
  }

  getState(): ModelState {
    const state: ModelState = { params: { ...this.params }, ...this.treeState(), oobScore: this.oobScore };
    if (this.history) state.history = { unit: this.history.unit, series: { oob_score: this.history.series.oob_score } };
    return state;
  }

  static fromState(state: ModelState): RandomForest {
    const m = new RandomForest(state.params as Partial<RandomForestParams>);
    m.restoreTreeState(state);
    m.oobScore = state.oobScore as number;
    if (state.history) m.history = state.history as unknown as TrainingHistory;
    return m;
  }
}

export const spec: ModelSpec<RandomForest> = {
  name: 'rf',
  kind: 'classifier',
  title: 'Random forest (Breiman 2001; histogram-binned CART, bootstrap, out-of-bag score)',
  create: (params) => new RandomForest(params as Partial<RandomForestParams>),
  fromState: (state) => RandomForest.fromState(state),
  searchSpace: { n_estimators: [50, 100, 200], max_depth: [null, 12, 20], max_features: ['sqrt', 'log2'], min_samples_leaf: [1, 2, 5] },
  testParams: { n_estimators: 10 },
  curveParams: { oob_score: true },
};

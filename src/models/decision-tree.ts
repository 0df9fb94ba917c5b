// `dt`: a CART decision tree classifier (Breiman et al. 1984) with scikit-learn DecisionTreeClassifier's parameters,
// grown on ≤ 256 quantile bins per feature (trees/class-tree.ts). Probabilities are the weighted class fractions of
// the leaf. Importances are the normalised weighted impurity decrease; explanations are exact TreeSHAP.
// Fit: O(depth · rows · features) with histogram subtraction; predict: O(rows · depth).

import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import { argmaxLabels, type Labels } from '../frame/labels.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type ParamRule, SEED_RULE } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { TreeClassifier } from './trees/tree-classifier.js';
import { Rng } from '../util/rng.js';
import { fitAndBinMatrix, MAX_BINS, sparseColumns } from './trees/binning.js';
import { buildClassTree } from './trees/class-tree.js';
import { accumulateLeaves, concatTrees, normalizeImportances, type FlatForest } from './trees/flat-tree.js';
import { checkClassIndex, checkTraining, classWeightRule, maxFeaturesRule, resolveMaxFeatures, rowWeights, toMatrix } from './trees/common.js';
import { treeShap } from '../explain/tree-shap.js';

const DEFAULTS = {
  criterion: 'gini',
  max_depth: null as number | null,
  min_samples_split: 2,
  min_samples_leaf: 1,
  max_features: 'all' as string | number,
  class_weight: null as string | null,
  max_bins: 256,
  random_state: 0,
};
export type DecisionTreeParams = typeof DEFAULTS;

const RULES: { [K in keyof DecisionTreeParams]: ParamRule } = {
  criterion: { type: 'choice', values: ['gini', 'entropy'] },
  max_depth: { type: 'int', min: 1, nullable: true },
  min_samples_split: { type: 'int', min: 2 },
  min_samples_leaf: { type: 'int', min: 1 },
  max_features: maxFeaturesRule,
  class_weight: classWeightRule,
  max_bins: { type: 'int', min: 2, max: MAX_BINS },
  random_state: SEED_RULE,
};

export class DecisionTree extends TreeClassifier implements Classifier {
  readonly name = 'dt';
  readonly params: Readonly<DecisionTreeParams>;

  constructor(params: Partial<DecisionTreeParams> = {}) {
    super();
    this.params = resolveParams('dt', DEFAULTS, RULES, params);
  }

  async fit(X: Matrix, y: Labels, options?: FitOptions): Promise<this> {
    const counts = checkTraining('dt', X, y);
    const p = this.params;
    const binned = fitAndBinMatrix(X, p.max_bins, p.random_state);
    const importance = new Float64Array(X.cols);
    const tree = buildClassTree(
      { ...binned, y: y.codes, nClasses: y.classes.length, sparse: sparseColumns(binned) },
      rowWeights(y, counts, p.class_weight, options),
      {
        criterion: p.criterion as 'gini' | 'entropy',
        maxDepth: p.max_depth ?? Infinity,
        minSamplesSplit: p.min_samples_split,
        minSamplesLeaf: p.min_samples_leaf,
        maxFeatures: resolveMaxFeatures(p.max_features, X.cols),
      },
      new Rng(p.random_state),
      importance,
    );
    this.forest = concatTrees([tree], y.classes.length);
    this.importances = normalizeImportances(importance);
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    options?.onProgress?.(1, 1);
    return this;
  }

  /** Number of nodes and depth of the fitted tree. */
  get size(): { nodes: number; depth: number } {
    const f = this.fitted();
    const depth = (node: number): number => (f.feature[node] < 0 ? 0 : 1 + Math.max(depth(f.left[node]), depth(f.right[node])));
    return { nodes: f.feature.length, depth: depth(0) };
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const forest = this.fitted();
    checkInput(X, this.nFeatures, 'dt');
    const out = new Float64Array(X.rows * this.classes.length);
    accumulateLeaves(forest, X, out, 1);
    return toMatrix(out, X.rows, this.classes.length);
  }

  /** Exact TreeSHAP of the probability of `classIndex` (default: each row's predicted class). */
  async explain(X: Matrix, classIndex?: number): Promise<Matrix> {
    return explainForestProba('dt', this.fitted(), X, this.nFeatures, this.classes.length, classIndex);
  }

  /** Probability of the class averaged over the training distribution: SHAP values sum to proba - this. */
  expectedValue(classIndex: number): number {
    const f = this.fitted();
    return f.value[classIndex];
  }

  getState(): ModelState {
    return { params: { ...this.params }, ...this.treeState() };
  }

  static fromState(state: ModelState): DecisionTree {
    const m = new DecisionTree(state.params as Partial<DecisionTreeParams>);
    m.restoreTreeState(state);
    return m;
  }
}

/** TreeSHAP of a forest whose leaves hold class probabilities and whose output is their mean over trees. */
export async function explainForestProba(model: string, forest: FlatForest, X: Matrix, nFeatures: number | undefined, nClasses: number, classIndex?: number): Promise<Matrix> {
  checkInput(X, nFeatures, model);
  checkClassIndex(model, classIndex, nClasses);
  const trees = forest.treeStart.length - 1;
  const out = createMatrix(X.rows, X.cols, X.columns);
  if (classIndex !== undefined) {
    out.data.set(treeShap(forest, X, classIndex, 1 / trees).phi);
    return out;
  }
  const proba = new Float64Array(X.rows * nClasses);
  accumulateLeaves(forest, X, proba, 1 / trees);
  const predicted = argmaxLabels(toMatrix(proba, X.rows, nClasses), []).codes;
  for (let k = 0; k < nClasses; k++) {
    const rowsOfK: number[] = [];
    for (let i = 0; i < X.rows; i++) if (predicted[i] === k) rowsOfK.push(i);
    if (rowsOfK.length === 0) continue;
    const sub = createMatrix(rowsOfK.length, X.cols);
    rowsOfK.forEach((r, j) => sub.data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), j * X.cols));
    const phi = treeShap(forest, sub, k, 1 / trees).phi;
    rowsOfK.forEach((r, j) => out.data.set(phi.subarray(j * X.cols, (j + 1) * X.cols), r * X.cols));
  }
  return out;
}

export const spec: ModelSpec<DecisionTree> = {
  name: 'dt',
  kind: 'classifier',
  title: 'Decision tree (CART, histogram-binned, gini/entropy)',
  create: (params) => new DecisionTree(params as Partial<DecisionTreeParams>),
  fromState: (state) => DecisionTree.fromState(state),
  searchSpace: { max_depth: [4, 8, 12, 16, null], min_samples_leaf: [1, 2, 5, 10], criterion: ['gini', 'entropy'] },
  testParams: {},
};

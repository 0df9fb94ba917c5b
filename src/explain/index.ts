// Explanations: per-prediction feature contributions and global importances, whatever the model.
// Random forests and decision trees use path contributions (./tree-path.ts); other models with an exact method
// (`explain()`, see src/models/estimator.ts: TreeSHAP for gbdt and iforest) use it; the rest are explained by
// occlusion against training medians (./occlusion.ts). Contributions are reported per input feature: model columns
// derived from one feature (one-hot groups) are summed, which keeps additive methods (SHAP, path contributions) exact.

import { createMatrix, type Matrix } from '../frame/matrix.js';
import type { Classifier, Estimator, ModelState } from '../models/estimator.js';
import { forestFromState, treeCount, type FlatForest } from '../models/trees/flat-tree.js';
import { DetectorBase } from '../models/detector-base.js';
import { pathContributions } from './tree-path.js';
import { identityGroups, occlusion, type FeatureGroups } from './occlusion.js';
import { explainInParallel, worthParallel } from './shap-workers.js';

export { columnMedians, identityGroups, type FeatureGroups } from './occlusion.js';

export interface ExplainContext {
  model: Estimator;
  /** Training medians of the model input columns (occlusion reference). */
  reference: Float32Array;
  groups?: FeatureGroups;
  /** For occlusion of classifiers: the explained class per row (default: the predicted class, as exact explainers do). */
  classIndex?: Int32Array;
  /** Explains this score instead of the model's own output (e.g. a hybrid's combined score). */
  score?: (X: Matrix) => Promise<Float64Array>;
  /**
   * Random forests and decision trees are explained by path contributions (./tree-path.ts: exact decomposition,
   * O(trees · depth) per row) unless this asks for TreeSHAP (Shapley values, O(trees · leaves · depth²) per row).
   */
  shap?: boolean;
  /** Where a one-time notice goes (explanation helper threads failed); default: stderr. */
  log?: (line: string) => void;
}

/** The flat forest of a classifier whose tree nodes hold class probabilities (rf, dt), or undefined. */
function probabilityForest(model: Estimator): FlatForest | undefined {
  if (model.kind !== 'classifier' || (model.name !== 'rf' && model.name !== 'dt')) return undefined;
  return forestFromState(model.getState().forest as ModelState);
}

function sumGroups(m: Matrix, groups: FeatureGroups): Matrix {
  if (groups.nFeatures === m.cols) {
    let identity = true;
    for (let c = 0; c < m.cols && identity; c++) identity = groups.columnFeature[c] === c;
    if (identity) return m;
  }
  const out = createMatrix(m.rows, groups.nFeatures);
  for (let i = 0; i < m.rows; i++) {
    for (let c = 0; c < m.cols; c++) out.data[i * groups.nFeatures + groups.columnFeature[c]] += m.data[i * m.cols + c];
  }
  return out;
}

/** rows × input-features contributions to each row's explained output. */
export async function explainRows(X: Matrix, ctx: ExplainContext): Promise<Matrix> {
  const groups = ctx.groups ?? identityGroups(X.cols);
  const { model } = ctx;
  const forest = ctx.score || ctx.shap ? undefined : probabilityForest(model);
  if (forest) {
    const cls = ctx.classIndex ?? (await (model as Classifier).predict(X)).codes;
    return sumGroups(pathContributions(forest, X, (i) => cls[i], 1 / treeCount(forest)), groups);
  }
  if (!ctx.score && model.explain) return sumGroups(worthParallel(model, X.rows) ? await explainInParallel(model, X, undefined, ctx.log) : await model.explain(X), groups);
  let score: (B: Matrix, firstRow: number, variants: number) => Promise<Float64Array>;
  if (ctx.score) {
    const own = ctx.score;
    score = (B) => own(B);
  } else if (model.kind === 'detector') {
    // the detector's own score, as exact explainers give: a feedback memory's cap or floor is reported apart (Alert.decidedByFeedback)
    score = (B) => (model instanceof DetectorBase ? model.ownScores(B) : model.scoreSamples(B));
  } else {
    let target = ctx.classIndex;
    if (!target) target = (await model.predict(X)).codes;
    const cls = target;
    score = async (B, firstRow, variants) => {
      const p = await model.predictProba(B);
      const out = new Float64Array(B.rows);
      for (let r = 0; r < B.rows; r++) out[r] = p.data[r * p.cols + cls[firstRow + Math.floor(r / variants)]];
      return out;
    };
  }
  return occlusion(X, ctx.reference, groups, score);
}

export interface TopFeature {
  feature: string;
  contribution: number;
}

/**
 * The k features with the largest absolute contribution in row i. Features that contribute nothing are left out: when
 * no single feature moves the output (a kNN row whose neighbours all agree, a saturated probability) the list is
 * empty rather than the first columns with 0.
 */
export function topContributions(contrib: Matrix, i: number, names: readonly string[], k = 3): TopFeature[] {
  const row = contrib.data.subarray(i * contrib.cols, (i + 1) * contrib.cols);
  const idx = Array.from({ length: contrib.cols }, (_, j) => j).filter((j) => row[j] !== 0 && !Number.isNaN(row[j]));
  idx.sort((a, b) => Math.abs(row[b]) - Math.abs(row[a]) || a - b);
  return idx.slice(0, Math.min(k, idx.length)).map((j) => ({ feature: names[j], contribution: row[j] }));
}

/**
 * Global importances (sum 1, one per input feature): the model's own when it has them (summed per group), otherwise
 * the mean absolute per-row contribution over a sample of rows.
 */
export async function globalImportances(X: Matrix, ctx: ExplainContext, sampleRows = 200): Promise<Float64Array> {
  const groups = ctx.groups ?? identityGroups(X.cols);
  const out = new Float64Array(groups.nFeatures);
  const own = ctx.score ? undefined : ctx.model.featureImportances?.();
  if (own && own.length === X.cols) {
    for (let c = 0; c < X.cols; c++) out[groups.columnFeature[c]] += own[c];
  } else {
    const step = Math.max(1, Math.floor(X.rows / sampleRows));
    const pick: number[] = [];
    for (let i = 0; i < X.rows && pick.length < sampleRows; i += step) pick.push(i);
    const sample = createMatrix(pick.length, X.cols, X.columns);
    pick.forEach((r, k) => sample.data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), k * X.cols));
    const contrib = await explainRows(sample, { ...ctx, classIndex: undefined });
    for (let i = 0; i < contrib.rows; i++) for (let f = 0; f < contrib.cols; f++) out[f] += Math.abs(contrib.data[i * contrib.cols + f]);
  }
  let total = 0;
  for (const v of out) total += v;
  if (total > 0) for (let f = 0; f < out.length; f++) out[f] /= total;
  return out;
}

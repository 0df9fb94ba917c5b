// Ranking metrics with scikit-learn 1.2 semantics: ROC curve (with drop_intermediate), ROC-AUC by the trapezoidal
// rule (binary and one-vs-rest macro), precision-recall curve and average precision (the step-function integral,
// no interpolation). Each curve sorts the scores once: O(n log n).

export interface RocCurve {
  readonly fpr: Float64Array;
  readonly tpr: Float64Array;
  /** Decreasing; the first is max(score) + 1 (sklearn 1.2) so that the curve starts at (0, 0). */
  readonly thresholds: Float64Array;
}

export interface PrCurve {
  /** Decreasing recall order, ending with precision 1 at recall 0 (as sklearn). */
  readonly precision: Float64Array;
  readonly recall: Float64Array;
  /** Increasing. */
  readonly thresholds: Float64Array;
}

/**
 * Counts of false and true positives at each distinct score, from the highest score down (sklearn's
 * _binary_clf_curve). Positive and negative scores are sorted apart with the native numeric sort and merged, which
 * is several times faster than sorting an index array with a comparator.
 */
export function binaryClfCurve(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): { fps: Float64Array; tps: Float64Array; thresholds: Float64Array } {
  const n = scores.length;
  if (isPositive.length !== n) throw new Error(`y_true has ${isPositive.length} rows but scores has ${n}`);
  let nPos = 0;
  for (let i = 0; i < n; i++) if (isPositive[i]) nPos++;
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(n - nPos);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    const v = scores[i];
    if (Number.isNaN(v)) throw new Error(`score of row ${i} is NaN`);
    if (isPositive[i]) pos[p++] = v;
    else neg[q++] = v;
  }
  pos.sort();
  neg.sort();
  const fps = new Float64Array(n);
  const tps = new Float64Array(n);
  const thresholds = new Float64Array(n);
  let m = 0;
  let i = nPos - 1;
  let j = n - nPos - 1;
  let tp = 0;
  let fp = 0;
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? neg[j] : j < 0 ? pos[i] : Math.max(pos[i], neg[j]);
    for (; i >= 0 && pos[i] === v; i--) tp++;
    for (; j >= 0 && neg[j] === v; j--) fp++;
    tps[m] = tp;
    fps[m] = fp;
    thresholds[m++] = v;
  }
  return { fps: fps.slice(0, m), tps: tps.slice(0, m), thresholds: thresholds.slice(0, m) };
}

/** Receiver operating characteristic; `isPositive[i]` says whether row i belongs to the positive class. */
export function rocCurve(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>, dropIntermediate = true): RocCurve {
  let { fps, tps, thresholds } = binaryClfCurve(isPositive, scores);
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      // a corner: the second difference of fps or tps is not zero
      if (fps[i + 1] - 2 * fps[i] + fps[i - 1] !== 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] !== 0) keep.push(i);
    }
    keep.push(fps.length - 1);
    fps = Float64Array.from(keep, (i) => fps[i]);
    tps = Float64Array.from(keep, (i) => tps[i]);
    thresholds = Float64Array.from(keep, (i) => thresholds[i]);
  }
  const m = fps.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thr = new Float64Array(m);
  const negatives = m > 1 ? fps[m - 2] : 0;
  const positives = m > 1 ? tps[m - 2] : 0;
  thr[0] = m > 1 ? thresholds[0] + 1 : Number.POSITIVE_INFINITY;
  for (let i = 1; i < m; i++) {
    fpr[i] = negatives > 0 ? fps[i - 1] / negatives : Number.NaN;
    tpr[i] = positives > 0 ? tps[i - 1] / positives : Number.NaN;
    thr[i] = thresholds[i - 1];
  }
  if (negatives <= 0) fpr[0] = Number.NaN;
  if (positives <= 0) tpr[0] = Number.NaN;
  return { fpr, tpr, thresholds: thr };
}

/** Area under a curve by the trapezoidal rule (numpy.trapz(y, x)); x must be monotone. */
export function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

/** Binary ROC-AUC. Undefined (NaN; sklearn raises) when y_true holds a single class. */
export function rocAuc(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  let pos = 0;
  for (let i = 0; i < isPositive.length; i++) if (isPositive[i]) pos++;
  if (pos === 0 || pos === isPositive.length) return Number.NaN;
  const c = rocCurve(isPositive, scores);
  return auc(c.fpr, c.tpr);
}

/** One column of a row-major rows × k score matrix. */
function column(scores: ArrayLike<number>, k: number, j: number): Float64Array {
  const n = scores.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scores[i * k + j];
  return out;
}

function oneVsRest(yTrue: ArrayLike<number>, k: number, score: (isPositive: Uint8Array, j: number) => number, presentOnly: boolean): number {
  let sum = 0;
  let used = 0;
  for (let j = 0; j < k; j++) {
    const isPositive = new Uint8Array(yTrue.length);
    let pos = 0;
    for (let i = 0; i < yTrue.length; i++) {
      if (yTrue[i] === j) {
        isPositive[i] = 1;
        pos++;
      }
    }
    if (presentOnly && (pos === 0 || pos === yTrue.length)) continue;
    sum += score(isPositive, j);
    used++;
  }
  return used === 0 ? Number.NaN : sum / used;
}

/**
 * One-vs-rest macro ROC-AUC over k classes (sklearn's roc_auc_score(multi_class='ovr', average='macro')).
 * `scores` is row-major rows × k. sklearn raises when a class is absent from y_true; here that gives NaN, unless
 * `presentOnly` averages over the classes that have both positives and negatives (what cross-validation folds need).
 */
export function rocAucOvr(yTrue: ArrayLike<number>, scores: ArrayLike<number>, k: number, presentOnly = false): number {
  return oneVsRest(yTrue, k, (isPositive, j) => rocAuc(isPositive, column(scores, k, j)), presentOnly);
}

/** Precision-recall pairs for decreasing thresholds (sklearn's precision_recall_curve). */
export function precisionRecallCurve(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): PrCurve {
  const { fps, tps, thresholds } = binaryClfCurve(isPositive, scores);
  const m = tps.length;
  const positives = m > 0 ? tps[m - 1] : 0;
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  const thr = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    const i = m - 1 - r;
    const predicted = tps[i] + fps[i];
    precision[r] = predicted !== 0 ? tps[i] / predicted : 0;
    recall[r] = positives === 0 ? 1 : tps[i] / positives;
    thr[r] = thresholds[i];
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds: thr };
}

/** Average precision: Σ (R_n − R_{n−1}) P_n over thresholds (sklearn's average_precision_score). */
export function averagePrecision(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(isPositive, scores);
  let sum = 0;
  for (let i = 0; i + 1 < recall.length; i++) sum += (recall[i + 1] - recall[i]) * precision[i];
  return -sum;
}

/** Macro average precision over one-vs-rest columns (sklearn: average_precision_score(label_binarize(y), P)). */
export function averagePrecisionOvr(yTrue: ArrayLike<number>, scores: ArrayLike<number>, k: number, presentOnly = false): number {
  return oneVsRest(yTrue, k, (isPositive, j) => averagePrecision(isPositive, column(scores, k, j)), presentOnly);
}

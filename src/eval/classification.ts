// Classification metrics computed from a confusion matrix, with scikit-learn's semantics (sklearn.metrics
// accuracy_score, confusion_matrix, precision_recall_fscore_support, classification_report, version 1.2).
// Zero division (a class never predicted, or absent from y_true) gives 0, as sklearn's zero_division="warn" does;
// the affected classes are listed in `zeroDivision` instead of a warning. O(n + k²) for n rows and k classes.

export interface ClassScores {
  /** Per class, in class-code order. */
  readonly precision: Float64Array;
  readonly recall: Float64Array;
  readonly f1: Float64Array;
  readonly support: Float64Array;
  readonly macro: { precision: number; recall: number; f1: number };
  readonly weighted: { precision: number; recall: number; f1: number };
  readonly accuracy: number;
  /** Class codes included (sklearn's default: classes present in y_true or y_pred). */
  readonly labels: Int32Array;
  /** Classes whose precision or recall was 0/0 and was set to 0. */
  readonly zeroDivision: { precision: number[]; recall: number[] };
}

function checkLengths(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) throw new Error(`y_true has ${yTrue.length} rows but y_pred has ${yPred.length}`);
}

function classCount(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < yTrue.length; i++) k = Math.max(k, yTrue[i] + 1, yPred[i] + 1);
  return k;
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return yTrue.length === 0 ? 0 : hits / yTrue.length;
}

/** k × k counts, rows = true class, columns = predicted class. `nClasses` defaults to the largest code + 1. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, nClasses?: number): number[][] {
  checkLengths(yTrue, yPred);
  const k = nClasses ?? classCount(yTrue, yPred);
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) cm[yTrue[i]][yPred[i]]++;
  return cm;
}

/**
 * Precision, recall, F1 and support per class with macro and weighted averages.
 * `labels` restricts/extends the classes reported (sklearn's `labels=`); by default the classes present in
 * y_true or y_pred, in code order.
 */
export function classScores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, nClasses?: number, labels?: ArrayLike<number>): ClassScores {
  checkLengths(yTrue, yPred);
  const k = Math.max(nClasses ?? 0, classCount(yTrue, yPred), labels ? Math.max(-1, ...Array.from(labels)) + 1 : 0);
  const tp = new Float64Array(k);
  const predicted = new Float64Array(k);
  const actual = new Float64Array(k);
  for (let i = 0; i < yTrue.length; i++) {
    actual[yTrue[i]]++;
    predicted[yPred[i]]++;
    if (yTrue[i] === yPred[i]) tp[yTrue[i]]++;
  }
  return scoresFromCounts(tp, predicted, actual, accuracy(yTrue, yPred), labels);
}

/** The same scores from a confusion matrix (rows = true class, columns = predicted), as confusionMatrix gives it. */
export function classScoresFromConfusion(matrix: readonly (readonly number[])[]): ClassScores {
  const k = matrix.length;
  const tp = new Float64Array(k);
  const predicted = new Float64Array(k);
  const actual = new Float64Array(k);
  let total = 0;
  let correct = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const n = matrix[t][p];
      actual[t] += n;
      predicted[p] += n;
      total += n;
      if (t === p) correct += n;
    }
    tp[t] = matrix[t][t];
  }
  return scoresFromCounts(tp, predicted, actual, total === 0 ? 0 : correct / total);
}

/** Per-class and averaged scores from per-class true positives, predicted and actual counts. */
function scoresFromCounts(tp: Float64Array, predicted: Float64Array, actual: Float64Array, accuracyValue: number, labels?: ArrayLike<number>): ClassScores {
  const k = tp.length;
  let used: Int32Array;
  if (labels) used = Int32Array.from(labels);
  else {
    const present: number[] = [];
    for (let c = 0; c < k; c++) if (actual[c] > 0 || predicted[c] > 0) present.push(c);
    used = Int32Array.from(present);
  }
  const m = used.length;
  const precision = new Float64Array(m);
  const recall = new Float64Array(m);
  const f1 = new Float64Array(m);
  const support = new Float64Array(m);
  const zeroDivision = { precision: [] as number[], recall: [] as number[] };
  for (let j = 0; j < m; j++) {
    const c = used[j];
    if (predicted[c] > 0) precision[j] = tp[c] / predicted[c];
    else zeroDivision.precision.push(c);
    if (actual[c] > 0) recall[j] = tp[c] / actual[c];
    else zeroDivision.recall.push(c);
    const denom = precision[j] + recall[j];
    f1[j] = denom === 0 ? 0 : (2 * precision[j] * recall[j]) / denom;
    support[j] = actual[c];
  }
  const mean = (a: Float64Array): number => (m === 0 ? 0 : a.reduce((s, v) => s + v, 0) / m);
  const totalSupport = support.reduce((s, v) => s + v, 0);
  const weightedMean = (a: Float64Array): number => (totalSupport === 0 ? 0 : a.reduce((s, v, j) => s + v * support[j], 0) / totalSupport);
  return {
    precision,
    recall,
    f1,
    support,
    macro: { precision: mean(precision), recall: mean(recall), f1: mean(f1) },
    weighted: { precision: weightedMean(precision), recall: weightedMean(recall), f1: weightedMean(f1) },
    accuracy: accuracyValue,
    labels: used,
    zeroDivision,
  };
}

/** Binary precision, recall and F1 of one class (sklearn's average='binary' with pos_label). */
export function binaryScores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, positive: number): { precision: number; recall: number; f1: number } {
  checkLengths(yTrue, yPred);
  let tp = 0;
  let predicted = 0;
  let actual = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === positive;
    const p = yPred[i] === positive;
    if (t) actual++;
    if (p) predicted++;
    if (t && p) tp++;
  }
  const precision = predicted > 0 ? tp / predicted : 0;
  const recall = actual > 0 ? tp / actual : 0;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Python's `format(x, '.{d}f')`: round half to even on the exact binary value. JavaScript's toFixed rounds an exact
 * tie (0.125 → 0.13) upwards, Python to even (0.12); they agree everywhere else.
 */
export function formatFixed(x: number, digits: number): string {
  const fixed = x.toFixed(digits);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return fixed;
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const tail = exact.slice(exact.indexOf('.') + 1 + digits);
  if (!/^50*$/.test(tail)) return fixed;
  const down = (x < 0 ? '-' : '') + exact.slice(0, exact.indexOf('.') + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(down[down.length - 1]);
  return lastDigit % 2 === 0 ? down : fixed;
}

const pad = (s: string, width: number): string => s.padStart(width);

/**
 * The text of sklearn's classification_report for scores from classScores or classScoresFromConfusion: one row per
 * class (classes present in y_true or y_pred, in code order; sklearn sorts names, so pass sorted class names for an
 * identical report), then accuracy, macro and weighted averages.
 */
export function classificationReport(s: ClassScores, classNames: readonly string[], digits = 2): string {
  const names = Array.from(s.labels, (c) => classNames[c] ?? String(c));
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const num = (v: number): string => ' ' + pad(formatFixed(v, digits), 9);
  const int = (v: number): string => ' ' + pad(String(v), 9);
  let out = pad('', width) + ' ' + ['precision', 'recall', 'f1-score', 'support'].map((h) => ' ' + pad(h, 9)).join('') + '\n\n';
  names.forEach((name, j) => {
    out += pad(name, width) + ' ' + num(s.precision[j]) + num(s.recall[j]) + num(s.f1[j]) + int(s.support[j]) + '\n';
  });
  out += '\n';
  const total = s.support.reduce((a, v) => a + v, 0);
  out += pad('accuracy', width) + ' ' + ' ' + pad('', 9) + ' ' + pad('', 9) + num(s.accuracy) + int(total) + '\n';
  out += pad('macro avg', width) + ' ' + num(s.macro.precision) + num(s.macro.recall) + num(s.macro.f1) + int(total) + '\n';
  out += pad('weighted avg', width) + ' ' + num(s.weighted.precision) + num(s.weighted.recall) + num(s.weighted.f1) + int(total) + '\n';
  return out;
}

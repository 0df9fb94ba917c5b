// The named metrics that cross-validation, search and `train --metric` rank candidates by, computed from a
// classifier's probabilities or a detector's scores with the sklearn-equal functions of this folder.
// - accuracy
// - f1: F1 of the attack (positive) class. With several attack classes and a normal class, F1 of "is an attack"
//   (any attack class predicted for any attack row counts as detected); without a normal class, macro F1.
// - macro_f1: unweighted mean of per-class F1 (classes present in y_true or y_pred, as sklearn).
// - roc_auc: binary ROC-AUC of the attack class, or one-vs-rest macro over the classes present in the fold.
// - pr_auc: average precision of the attack class, or one-vs-rest macro over the classes present in the fold.
// A metric that is undefined on a fold (e.g. ROC-AUC with one class) is NaN.

import { accuracy, binaryScores, classScores } from './classification.js';
import { averagePrecision, averagePrecisionOvr, rocAuc, rocAucOvr } from './curves.js';

export const CV_METRICS = ['accuracy', 'f1', 'macro_f1', 'roc_auc', 'pr_auc'] as const;
export type CvMetric = (typeof CV_METRICS)[number];

const NORMAL_NAME = /^(normal|benign|background|0)$/i;

/** Code of the normal class (named normal, benign, background or 0), or −1. */
export function normalClassIndex(classes: readonly string[]): number {
  return classes.findIndex((c) => NORMAL_NAME.test(c.trim()));
}

/** The attack class of a binary task: the class that is not normal (class 1 when neither or both look normal). */
export function positiveClassIndex(classes: readonly string[]): number {
  if (classes.length !== 2) return -1;
  const normal = classes.map((c) => NORMAL_NAME.test(c.trim()));
  if (normal[0] !== normal[1]) return normal[0] ? 1 : 0;
  return 1;
}

export interface TaskClasses {
  readonly classes: readonly string[];
  /** Attack class of a binary task (−1 for multi-class). */
  readonly positive: number;
  /** Normal class (−1 when none). */
  readonly normal: number;
}

export function describeClasses(classes: readonly string[], positive?: number): TaskClasses {
  const pos = positive ?? positiveClassIndex(classes);
  const normal = classes.length === 2 ? 1 - pos : normalClassIndex(classes);
  return { classes, positive: pos, normal };
}

/**
 * What precision, recall, f1 and fpr measure for these classes, for the line under a leaderboard or an evaluation:
 * the attack class of a binary task, "is an attack" for multi-class tasks with a normal class, macro averages otherwise.
 */
export function metricScope(classes: readonly string[], positiveClass: string | null): string {
  if (positiveClass) return `precision/recall/f1/fpr are for class '${positiveClass}'`;
  const normal = classes.length === 2 ? -1 : normalClassIndex(classes);
  if (normal >= 0) return `precision/recall/f1/fpr are for "is an attack" (any class but '${classes[normal]}'); macro_f1 averages over classes`;
  return 'precision/recall/f1 are macro averages over classes';
}

/** Scores a classifier's output on one fold. `proba` is row-major rows × classes. */
export function scoreClassifier(yTrue: Int32Array, yPred: Int32Array, proba: Float32Array, task: TaskClasses, metrics: readonly CvMetric[]): Record<string, number> {
  const k = task.classes.length;
  const out: Record<string, number> = {};
  for (const m of metrics) {
    switch (m) {
      case 'accuracy':
        out[m] = accuracy(yTrue, yPred);
        break;
      case 'f1':
        if (k === 2) out[m] = binaryScores(yTrue, yPred, task.positive).f1;
        else if (task.normal >= 0) out[m] = binaryScores(isAttack(yTrue, task.normal), isAttack(yPred, task.normal), 1).f1;
        else out[m] = classScores(yTrue, yPred, k).macro.f1;
        break;
      case 'macro_f1':
        out[m] = classScores(yTrue, yPred, k).macro.f1;
        break;
      case 'roc_auc':
        out[m] = k === 2 ? rocAuc(isClass(yTrue, task.positive), column(proba, k, task.positive)) : rocAucOvr(yTrue, proba, k, true);
        break;
      case 'pr_auc':
        out[m] = k === 2 ? averagePrecision(isClass(yTrue, task.positive), column(proba, k, task.positive)) : averagePrecisionOvr(yTrue, proba, k, true);
        break;
    }
  }
  return out;
}

/** Scores a detector on one fold: `attack[i]` marks attack rows, `flagged` is its 0/1 prediction. */
export function scoreDetector(attack: Uint8Array, scores: Float64Array, flagged: Uint8Array, metrics: readonly CvMetric[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics) {
    switch (m) {
      case 'accuracy':
        out[m] = accuracy(attack, flagged);
        break;
      case 'f1':
        out[m] = binaryScores(attack, flagged, 1).f1;
        break;
      case 'macro_f1':
        out[m] = classScores(attack, flagged, 2).macro.f1;
        break;
      case 'roc_auc':
        out[m] = rocAuc(attack, scores);
        break;
      case 'pr_auc':
        out[m] = averagePrecision(attack, scores);
        break;
    }
  }
  return out;
}

/** 1 where the code is not the normal class. */
export function isAttack(codes: Int32Array, normal: number): Uint8Array {
  return Uint8Array.from(codes, (c) => (c !== normal ? 1 : 0));
}

function isClass(codes: Int32Array, c: number): Uint8Array {
  return Uint8Array.from(codes, (v) => (v === c ? 1 : 0));
}

function column(proba: Float32Array, k: number, j: number): Float64Array {
  const n = proba.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = proba[i * k + j];
  return out;
}

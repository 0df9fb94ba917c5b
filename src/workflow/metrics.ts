// Test-set metrics and curves of one fitted candidate, in the shape of src/workflow/run-result.ts, from the
// sklearn-equal functions of src/eval. Binary and anomaly tasks report precision, recall, F1 and FPR of the attack
// class; multi-class tasks with a normal class report them for "is an attack" (any attack class predicted for an
// attack row counts, as src/eval/scoring.ts does for CV) and the FPR of "any attack predicted for a normal row";
// without a normal class, macro precision / recall / F1. Curves rank rows by their attack score (P(attack), 1 − P(normal), or the
// anomaly score). O(n log n) for the curves.

import { binaryScores, classScores, confusionMatrix } from '../eval/classification.js';
import { averagePrecision, averagePrecisionOvr, precisionRecallCurve, rocAuc, rocAucOvr, rocCurve } from '../eval/curves.js';
import type { Curve, TestMetrics, ThresholdCurve } from './run-result.js';

export interface Outputs {
  /** Predicted class codes. */
  pred: Int32Array;
  /** rows × classes probabilities (classifiers). */
  proba?: Float32Array;
  /** Higher = more likely an attack (null when there is no normal class to rank against). */
  attackScore: Float64Array | null;
}

export interface ClassInfo {
  classes: readonly string[];
  /** The normal class, or −1. */
  normal: number;
  /** The attack class of a binary task, or −1. */
  positive: number;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

function isAttackRow(y: Int32Array, info: ClassInfo): Uint8Array {
  return Uint8Array.from(y, (c) => (info.positive >= 0 ? (c === info.positive ? 1 : 0) : c !== info.normal ? 1 : 0));
}

function hasBoth(flags: Uint8Array): boolean {
  let pos = 0;
  for (const f of flags) pos += f;
  return pos > 0 && pos < flags.length;
}

export function testMetrics(y: Int32Array, out: Outputs, info: ClassInfo): TestMetrics {
  const k = info.classes.length;
  const all = classScores(y, out.pred, k);
  let precision: number;
  let recall: number;
  let f1: number;
  let fpr: number = Number.NaN;
  let rocAucValue = Number.NaN;
  let prAuc = Number.NaN;
  if (info.positive >= 0) {
    ({ precision, recall, f1 } = binaryScores(y, out.pred, info.positive));
  } else if (info.normal >= 0) {
    const attack = (codes: Int32Array): Uint8Array => Uint8Array.from(codes, (c) => (c !== info.normal ? 1 : 0));
    ({ precision, recall, f1 } = binaryScores(attack(y), attack(out.pred), 1));
  } else {
    ({ precision, recall, f1 } = all.macro);
  }
  if (info.normal >= 0) {
    let normals = 0;
    let flagged = 0;
    for (let i = 0; i < y.length; i++) {
      if (y[i] !== info.normal) continue;
      normals++;
      if (out.pred[i] !== info.normal) flagged++;
    }
    fpr = normals > 0 ? flagged / normals : Number.NaN;
  }
  if (k === 2 && out.attackScore) {
    const attack = isAttackRow(y, info);
    if (hasBoth(attack)) {
      rocAucValue = rocAuc(attack, out.attackScore);
      prAuc = averagePrecision(attack, out.attackScore);
    }
  } else if (out.proba) {
    rocAucValue = rocAucOvr(y, out.proba, k, true);
    prAuc = averagePrecisionOvr(y, out.proba, k, true);
  }
  return {
    accuracy: orNull(all.accuracy),
    precision: orNull(precision),
    recall: orNull(recall),
    f1: orNull(f1),
    roc_auc: orNull(rocAucValue),
    pr_auc: orNull(prAuc),
    fpr: orNull(fpr),
    macro_f1: orNull(all.macro.f1),
    weighted_f1: orNull(all.weighted.f1),
  };
}

/** Keeps at most `max` points, always the first and last. */
function thin(x: ArrayLike<number>, y: ArrayLike<number>, max = 200): { x: number[]; y: number[] } {
  const n = x.length;
  if (n <= max) return { x: Array.from(x), y: Array.from(y) };
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (n - 1)) / (max - 1));
    xs.push(x[i]);
    ys.push(y[i]);
  }
  return { x: xs, y: ys };
}

export interface TestCurves {
  roc: Curve | null;
  pr: Curve | null;
  thresholdCurve: ThresholdCurve | null;
  confusion: number[][];
}

export function testCurves(y: Int32Array, out: Outputs, info: ClassInfo, chosenThreshold: number | null): TestCurves {
  const confusion = confusionMatrix(y, out.pred, info.classes.length);
  if (!out.attackScore || (info.positive < 0 && info.normal < 0)) return { roc: null, pr: null, thresholdCurve: null, confusion };
  const attack = isAttackRow(y, info);
  if (!hasBoth(attack)) return { roc: null, pr: null, thresholdCurve: null, confusion };
  const roc = rocCurve(attack, out.attackScore);
  const pr = precisionRecallCurve(attack, out.attackScore);
  const r = thin(roc.fpr, roc.tpr);
  const p = thin(pr.recall, pr.precision);
  // threshold curve: ascending thresholds (skip sklearn's max+1 sentinel)
  const m = roc.thresholds.length;
  const thresholds: number[] = [];
  const fpr: number[] = [];
  const dr: number[] = [];
  for (let i = m - 1; i >= 1; i--) {
    thresholds.push(roc.thresholds[i]);
    fpr.push(roc.fpr[i]);
    dr.push(roc.tpr[i]);
  }
  const t = thin(thresholds, fpr);
  const d = thin(thresholds, dr);
  return {
    roc: { x: r.x, y: r.y, auc: rocAuc(attack, out.attackScore) },
    pr: { x: p.x, y: p.y, auc: averagePrecision(attack, out.attackScore) },
    thresholdCurve: { thresholds: t.x, fpr: t.y, detectionRate: d.y, chosen: chosenThreshold },
    confusion,
  };
}

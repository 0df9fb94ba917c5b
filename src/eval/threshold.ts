// Detector operating points: false-positive rate and detection rate at a score threshold, and the threshold that
// meets a target false-positive rate on scores of normal traffic. A row is flagged when score >= threshold
// (the Detector contract). O(n) per threshold, O(n log n) to choose one.

export interface OperatingPoint {
  readonly threshold: number;
  /** Normal rows flagged / normal rows. */
  readonly fpr: number;
  /** Attack rows flagged / attack rows (recall of the attack class). */
  readonly detectionRate: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly trueNegatives: number;
  readonly falseNegatives: number;
}

/** Rates at `threshold`; `isAttack[i]` marks attack rows. A rate whose denominator is 0 is 0 (sklearn's zero_division). */
export function ratesAtThreshold(isAttack: ArrayLike<boolean | number>, scores: ArrayLike<number>, threshold: number): OperatingPoint {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i] >= threshold;
    if (isAttack[i]) {
      if (flagged) tp++;
      else fn++;
    } else if (flagged) fp++;
    else tn++;
  }
  return {
    threshold,
    fpr: fp + tn > 0 ? fp / (fp + tn) : 0,
    detectionRate: tp + fn > 0 ? tp / (tp + fn) : 0,
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
  };
}

/** The smallest double greater than x. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/**
 * The lowest threshold whose false-positive rate on `normalScores` is at most `targetFpr`.
 * Tie rule: rows with equal scores are never split, because they are flagged together; when allowing a tied group
 * would exceed the target, the threshold rises just above that score (nextUp), so the achieved FPR is ≤ the target
 * and may be below it. With target 0 the threshold is just above the highest normal score.
 * Returns the threshold and the FPR it achieves on these scores.
 */
export function thresholdForFpr(normalScores: ArrayLike<number>, targetFpr: number): { threshold: number; fpr: number } {
  if (!(targetFpr >= 0 && targetFpr <= 1)) throw new RangeError(`target FPR must be in [0, 1], got ${targetFpr}`);
  const n = normalScores.length;
  if (n === 0) throw new RangeError('no normal scores to set a threshold on');
  const sorted = Float64Array.from(normalScores).sort().reverse();
  if (Number.isNaN(sorted[0]) || Number.isNaN(sorted[n - 1])) throw new RangeError('normal scores contain NaN');
  const allowed = Math.floor(targetFpr * n + 1e-9);
  if (allowed >= n) return { threshold: sorted[n - 1], fpr: 1 };
  // sorted[allowed] is the highest score that must stay unflagged: the threshold goes just above it.
  const mustPass = sorted[allowed];
  let flagged = 0;
  while (flagged < n && sorted[flagged] > mustPass) flagged++;
  return { threshold: nextUp(mustPass), fpr: flagged / n };
}

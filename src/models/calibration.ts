// Score calibration.
// Platt scaling (Platt 1999): P(y = 1 | f) = 1 / (1 + exp(A·f + B)), fitted by maximum likelihood on smoothed targets
// t+ = (N+ + 1) / (N+ + 2), t− = 1 / (N− + 2), with the safeguarded Newton method of Lin, Lin & Weng (2007, "A note on
// Platt's probabilistic outputs for support vector machines"). O(n) per Newton step, a few dozen steps at most.
// With A < 0 the probability rises monotonically with the decision value.
// Alert thresholds for a target false-positive rate from held-out normal rows: the split-conformal quantile (Vovk,
// Gammerman & Shafer 2005, "Algorithmic Learning in a Random World"; Lei, G'Sell, Rinaldo, Tibshirani & Wasserman 2018,
// "Distribution-free predictive inference for regression", split conformal), valid for any number of rows.

import { nextUp } from '../eval/threshold.js';

export interface PlattSigmoid {
  a: number;
  b: number;
}

/** Fits A, B on decision values `f` with binary targets `positive` (1 = positive) and optional row weights. */
export function fitPlatt(f: Float64Array, positive: Uint8Array, weight: Float64Array | null = null): PlattSigmoid {
  const n = f.length;
  let nPos = 0;
  let nNeg = 0;
  for (let i = 0; i < n; i++) {
    const w = weight ? weight[i] : 1;
    if (positive[i]) nPos += w;
    else nNeg += w;
  }
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = positive[i] ? hi : lo;
  const minStep = 1e-10;
  const sigma = 1e-12;
  const eps = 1e-5;
  let a = 0;
  let b = Math.log((nNeg + 1) / (nPos + 1));
  const objective = (A: number, B: number): number => {
    let fval = 0;
    for (let i = 0; i < n; i++) {
      const w = weight ? weight[i] : 1;
      const z = f[i] * A + B;
      fval += w * (z >= 0 ? t[i] * z + Math.log1p(Math.exp(-z)) : (t[i] - 1) * z + Math.log1p(Math.exp(z)));
    }
    return fval;
  };
  let fval = objective(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const w = weight ? weight[i] : 1;
      const z = f[i] * a + b;
      const e = Math.exp(-Math.abs(z));
      const p = z >= 0 ? e / (1 + e) : 1 / (1 + e);
      const q = 1 - p;
      const d2 = w * p * q;
      h11 += f[i] * f[i] * d2;
      h22 += d2;
      h21 += f[i] * d2;
      const d1 = w * (t[i] - p);
      g1 += f[i] * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const newA = a + step * dA;
      const newB = b + step * dB;
      const newF = objective(newA, newB);
      if (newF < fval + 1e-4 * step * gd) {
        a = newA;
        b = newB;
        fval = newF;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break;
  }
  return { a, b };
}

export function plattProbability(f: number, s: PlattSigmoid): number {
  const z = f * s.a + s.b;
  return z >= 0 ? Math.exp(-z) / (1 + Math.exp(-z)) : 1 / (1 + Math.exp(z));
}

/**
 * The alert threshold (flagged ⇔ score ≥ threshold) for a false-positive rate of at most `targetFpr` on new normal
 * rows, from the scores of n held-out normal rows: just above their ⌈(n + 1)(1 − targetFpr)⌉-th smallest, so a new row
 * exchangeable with them scores above it with probability at most targetFpr, whatever n (the plain (1 − targetFpr)
 * quantile of 36 rows flags about 2 in 37 new ones for a 2% target). Tied scores are never split. When that rank
 * exceeds n (n + 1 < 1 / targetFpr) no threshold from n rows can promise the target: it goes just above the largest
 * score, the least rate n rows can promise, 1 / (n + 1).
 */
export function conformalThreshold(normalScores: ArrayLike<number>, targetFpr: number): number {
  if (!(targetFpr > 0 && targetFpr < 1)) throw new RangeError(`target FPR must be in (0, 1), got ${targetFpr}`);
  const n = normalScores.length;
  if (n === 0) throw new RangeError('no normal scores to set a threshold on');
  const sorted = Float64Array.from(normalScores).sort();
  if (Number.isNaN(sorted[n - 1])) throw new RangeError('normal scores contain NaN');
  // the 1e-9 keeps an exact product such as 100 × 0.99 from rounding up to the next rank
  const rank = Math.ceil((n + 1) * (1 - targetFpr) - 1e-9);
  return nextUp(sorted[Math.min(rank, n) - 1]);
}

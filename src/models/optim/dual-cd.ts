// Dual coordinate descent for the L2-regularised linear SVM (Hsieh, Chang, Lin, Keerthi, Sundararajan, ICML 2008,
// Algorithm 3 with shrinking; the method of LIBLINEAR and so of scikit-learn's LinearSVC):
//   min_α ½ αᵀ(Q + D)α − 1ᵀα,  0 ≤ α_i ≤ U_i,   Q_ij = y_i y_j x_iᵀx_j
// hinge: U_i = C_i, D_ii = 0;  squared hinge: U_i = ∞, D_ii = 1 / (2 C_i). The bias is an extra feature of value
// `interceptScaling` (regularised, as in LIBLINEAR). Rows are offset-sparse (x_i = m + s_i) and w is kept lazily as
// u + c·m, so each coordinate step costs O(nnz_i) instead of O(cols). Cost per epoch: O(nnz of the active rows).

import type { OffsetSparseRows } from '../nn/offset-sparse.js';
import { Rng } from '../../util/rng.js';

export interface DualCdOptions {
  loss: 'hinge' | 'squared_hinge';
  /** Per-row C_i = C · weight_i (rows with C_i = 0 are left out). */
  cost: Float64Array;
  /** Labels ±1. */
  sign: Int8Array;
  interceptScaling: number;
  fitIntercept: boolean;
  tol: number;
  maxIter: number;
  seed: number;
  /** Rows to train on (all when null). */
  rows: Int32Array | null;
  /** Starting dual variables indexed by row (warm start), or null for zeros. */
  alpha0: Float64Array | null;
  /** After each epoch: current weights and intercept. */
  onEpoch?: (epoch: number, w: Float64Array, b: number) => void;
  signal?: AbortSignal;
}

export interface DualCdResult {
  w: Float64Array;
  b: number;
  /** Dual variables indexed by row (0 for rows not trained on). */
  alpha: Float64Array;
  epochs: number;
  converged: boolean;
}

export function solveDualCd(S: OffsetSparseRows, o: DualCdOptions): DualCdResult {
  const { cols, offset, rowStart, colIndex, values, squaredNorms } = S;
  const train = o.rows ?? Int32Array.from({ length: S.rows }, (_, i) => i);
  const active = Int32Array.from(train.filter((i) => o.cost[i] > 0));
  const l = active.length;
  const squared = o.loss === 'squared_hinge';
  const bScale = o.fitIntercept ? o.interceptScaling : 0;
  const alpha = new Float64Array(S.rows);
  const upper = new Float64Array(S.rows);
  const diag = new Float64Array(S.rows);
  const qd = new Float64Array(S.rows);
  const offsetDot = new Float64Array(S.rows);
  let offsetNorm = 0;
  for (let j = 0; j < cols; j++) offsetNorm += offset[j] * offset[j];
  const u = new Float64Array(cols);
  let c = 0;
  let wb = 0;
  for (let t = 0; t < l; t++) {
    const i = active[t];
    upper[i] = squared ? Infinity : o.cost[i];
    diag[i] = squared ? 0.5 / o.cost[i] : 0;
    qd[i] = squaredNorms[i] + bScale * bScale + diag[i];
    let ms = 0;
    for (let p = rowStart[i]; p < rowStart[i + 1]; p++) ms += offset[colIndex[p]] * values[p];
    offsetDot[i] = ms;
    const a0 = o.alpha0 ? Math.min(Math.max(o.alpha0[i], 0), upper[i]) : 0;
    if (a0 > 0) {
      alpha[i] = a0;
      const d = a0 * o.sign[i];
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) u[colIndex[p]] += d * values[p];
      c += d;
      wb += d * bScale;
    }
  }
  const rng = new Rng(o.seed);
  const order = Int32Array.from(active);
  let activeSize = l;
  let pgMaxOld = Infinity;
  let pgMinOld = -Infinity;
  let epoch = 0;
  let converged = false;
  const w = new Float64Array(cols);
  const materialise = (): void => {
    for (let j = 0; j < cols; j++) w[j] = u[j] + c * offset[j];
  };
  while (epoch < o.maxIter) {
    if (o.signal?.aborted) throw new Error('aborted');
    let um = 0;
    for (let j = 0; j < cols; j++) um += u[j] * offset[j];
    for (let t = 0; t < activeSize; t++) {
      const s = t + rng.int(activeSize - t);
      const tmp = order[t];
      order[t] = order[s];
      order[s] = tmp;
    }
    let pgMaxNew = -Infinity;
    let pgMinNew = Infinity;
    for (let t = 0; t < activeSize; t++) {
      const i = order[t];
      const yi = o.sign[i];
      let us = 0;
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) us += u[colIndex[p]] * values[p];
      const f = um + us + c * (offsetNorm + offsetDot[i]) + wb * bScale;
      const G = yi * f - 1 + diag[i] * alpha[i];
      let pg = 0;
      const a = alpha[i];
      if (a === 0) {
        if (G > pgMaxOld) {
          activeSize--;
          order[t] = order[activeSize];
          order[activeSize] = i;
          t--;
          continue;
        }
        if (G < 0) pg = G;
      } else if (a === upper[i]) {
        if (G < pgMinOld) {
          activeSize--;
          order[t] = order[activeSize];
          order[activeSize] = i;
          t--;
          continue;
        }
        if (G > 0) pg = G;
      } else {
        pg = G;
      }
      if (pg > pgMaxNew) pgMaxNew = pg;
      if (pg < pgMinNew) pgMinNew = pg;
      if (Math.abs(pg) > 1e-12) {
        const next = Math.min(Math.max(a - G / qd[i], 0), upper[i]);
        const d = (next - a) * yi;
        alpha[i] = next;
        for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) u[colIndex[p]] += d * values[p];
        um += d * offsetDot[i];
        c += d;
        wb += d * bScale;
      }
    }
    epoch++;
    if (o.onEpoch) {
      materialise();
      o.onEpoch(epoch, w, wb * bScale);
    }
    if (pgMaxNew - pgMinNew <= o.tol) {
      if (activeSize === l) {
        converged = true;
        break;
      }
      activeSize = l;
      pgMaxOld = Infinity;
      pgMinOld = -Infinity;
      continue;
    }
    pgMaxOld = pgMaxNew <= 0 ? Infinity : pgMaxNew;
    pgMinOld = pgMinNew >= 0 ? -Infinity : pgMinNew;
  }
  materialise();
  return { w, b: wb * bScale, alpha, epochs: epoch, converged };
}

// Dual coordinate descent for the L2-regularised linear SVM (Hsieh, Chang, Lin, Keerthi, Sundararajan, ICML 2008,
// Algorithm 3 with shrinking; the method of LIBLINEAR and so of scikit-learn's LinearSVC):
//   min_α ½ αᵀ(Q + D)α − 1ᵀα,  0 ≤ α_i ≤ U_i,   Q_ij = y_i y_j x_iᵀx_j
// hinge: U_i = C_i, D_ii = 0;  squared hinge: U_i = ∞, D_ii = 1 / (2 C_i). The bias is an extra feature of value
// `interceptScaling` (regularised, as in LIBLINEAR). Rows are offset-sparse (x_i = m + s_i) and w is kept lazily as
// u + c·m, so each coordinate step costs O(nnz_i) instead of O(cols). Rows are visited in random order, so each row is one
// contiguous block (a 64-byte record of its scalars, then its (Float32 value, Int32 column) pairs): a row costs about
// one cache miss instead of ten, which is what bounds an epoch.
// Cost per epoch: O(nnz of the active rows).

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
  /**
   * After each epoch: current weights and intercept, and the training loss (C_i-weighted mean hinge / squared hinge)
   * and accuracy, each row taken at its margin when the epoch last visited it (shrunk rows keep their last margin), so
   * tracking costs no extra pass over the data.
   */
  onEpoch?: (epoch: number, w: Float64Array, b: number, loss: number, accuracy: number) => void;
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
  let offsetNorm = 0;
  for (let j = 0; j < cols; j++) offsetNorm += offset[j] * offset[j];
  let nnz = 0;
  for (let t = 0; t < l; t++) nnz += rowStart[active[t] + 1] - rowStart[active[t]];
  const buffer = new ArrayBuffer(l * RECORD * 8 + nnz * 8);
  const record = new Float64Array(buffer);
  const pairValue = new Float32Array(buffer);
  const pairColumn = new Int32Array(buffer);
  /** Start (in doubles) of each row's block. */
  const blockOf = new Int32Array(l);
  const u = new Float64Array(cols);
  let c = 0;
  let wb = 0;
  let q = 0;
  for (let t = 0; t < l; t++) {
    const i = active[t];
    const r = q;
    blockOf[t] = r;
    const upper = squared ? Infinity : o.cost[i];
    const diag = squared ? 0.5 / o.cost[i] : 0;
    const count = rowStart[i + 1] - rowStart[i];
    let ms = 0;
    let f = 2 * (r + RECORD);
    for (let p = rowStart[i]; p < rowStart[i + 1]; p++, f += 2) {
      pairValue[f] = values[p];
      pairColumn[f + 1] = colIndex[p];
      ms += offset[colIndex[p]] * values[p];
    }
    record[r + UPPER] = upper;
    record[r + DIAG] = diag;
    record[r + QD] = squaredNorms[i] + bScale * bScale + diag;
    record[r + OFFSET_DOT] = ms;
    record[r + SIGN] = o.sign[i];
    record[r + COUNT] = count;
    record[r + INDEX] = t;
    const a0 = o.alpha0 ? Math.min(Math.max(o.alpha0[i], 0), upper) : 0;
    record[r + ALPHA] = a0;
    if (a0 > 0) {
      const d = a0 * o.sign[i];
      let g = 2 * (r + RECORD);
      for (let k = 0; k < count; k++, g += 2) u[pairColumn[g + 1]] += d * pairValue[g];
      c += d;
      wb += d * bScale;
    }
    q = r + RECORD + count;
  }
  const rng = new Rng(o.seed);
  const order = Int32Array.from(blockOf);
  let activeSize = l;
  let pgMaxOld = Infinity;
  let pgMinOld = -Infinity;
  let epoch = 0;
  let converged = false;
  const w = new Float64Array(cols);
  const state = new Float64Array(3);
  let um0 = 0;
  for (let j = 0; j < cols; j++) um0 += u[j] * offset[j];
  const track = o.onEpoch ? startTracking(record, blockOf, pairValue, pairColumn, u, um0, c, wb, offsetNorm, bScale, squared, active, o.cost) : null;
  const bounds = new Float64Array(2);
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
    state[0] = um;
    state[1] = c;
    state[2] = wb;
    activeSize = epochPass(order, activeSize, record, pairValue, pairColumn, u, offsetNorm, bScale, pgMaxOld, pgMinOld, state, bounds, track);
    c = state[1];
    wb = state[2];
    epoch++;
    if (o.onEpoch) {
      materialise();
      const t = track as Tracking;
      o.onEpoch(epoch, w, wb * bScale, t.totals[0] / t.totalCost, t.totals[1] / l);
    }
    if (bounds[0] - bounds[1] <= o.tol) {
      if (activeSize === l) {
        converged = true;
        break;
      }
      activeSize = l;
      pgMaxOld = Infinity;
      pgMinOld = -Infinity;
      continue;
    }
    pgMaxOld = bounds[0] <= 0 ? Infinity : bounds[0];
    pgMinOld = bounds[1] >= 0 ? -Infinity : bounds[1];
  }
  materialise();
  const alpha = new Float64Array(S.rows);
  for (let t = 0; t < l; t++) alpha[active[t]] = record[blockOf[t] + ALPHA];
  return { w, b: wb * bScale, alpha, epochs: epoch, converged };
}

/** Per-row record layout, in doubles (one cache line); the row's pairs follow it. */
const RECORD = 8;
const ALPHA = 0;
const QD = 1;
const OFFSET_DOT = 2;
const SIGN = 3;
const UPPER = 4;
const DIAG = 5;
const COUNT = 6;
const INDEX = 7;

/**
 * One pass of coordinate steps over order[0 .. activeSize), shrinking rows whose gradient says they will stay at a
 * bound. state = [u·m, c, w_b] (read and updated), bounds ← [max, min] projected gradient. Returns the new active size.
 */
function epochPass(
  order: Int32Array,
  activeSize: number,
  record: Float64Array,
  pairValue: Float32Array,
  pairColumn: Int32Array,
  u: Float64Array,
  offsetNorm: number,
  bScale: number,
  pgMaxOld: number,
  pgMinOld: number,
  state: Float64Array,
  bounds: Float64Array,
  track: Tracking | null,
): number {
  let um = state[0];
  let c = state[1];
  let wb = state[2];
  let pgMaxNew = -Infinity;
  let pgMinNew = Infinity;
  for (let t = 0; t < activeSize; t++) {
    const r = order[t];
    const yi = record[r + SIGN];
    const start = 2 * (r + RECORD);
    const end = start + 2 * record[r + COUNT];
    // Two partial sums halve the chain of dependent additions, which bounds a row on dense data.
    let us0 = 0;
    let us1 = 0;
    let p = start;
    for (; p + 4 <= end; p += 4) {
      us0 += u[pairColumn[p + 1]] * pairValue[p];
      us1 += u[pairColumn[p + 3]] * pairValue[p + 2];
    }
    if (p < end) us0 += u[pairColumn[p + 1]] * pairValue[p];
    const f = um + (us0 + us1) + c * (offsetNorm + record[r + OFFSET_DOT]) + wb * bScale;
    const a = record[r + ALPHA];
    const upper = record[r + UPPER];
    const G = yi * f - 1 + record[r + DIAG] * a;
    if (track) {
      const t = record[r + INDEX];
      const hinge = 1 - yi * f > 0 ? 1 - yi * f : 0;
      const loss = track.cost[t] * (track.squared ? hinge * hinge : hinge);
      const right = (f > 0 ? 1 : -1) === yi ? 1 : 0;
      track.totals[0] += loss - track.loss[t];
      track.totals[1] += right - track.right[t];
      track.loss[t] = loss;
      track.right[t] = right;
    }
    let pg = 0;
    if (a === 0) {
      if (G > pgMaxOld) {
        activeSize--;
        const tmp = order[t];
        order[t] = order[activeSize];
        order[activeSize] = tmp;
        t--;
        continue;
      }
      if (G < 0) pg = G;
    } else if (a === upper) {
      if (G < pgMinOld) {
        activeSize--;
        const tmp = order[t];
        order[t] = order[activeSize];
        order[activeSize] = tmp;
        t--;
        continue;
      }
      if (G > 0) pg = G;
    } else {
      pg = G;
    }
    if (pg > pgMaxNew) pgMaxNew = pg;
    if (pg < pgMinNew) pgMinNew = pg;
    if (pg > 1e-12 || pg < -1e-12) {
      let next = a - G / record[r + QD];
      if (next < 0) next = 0;
      else if (next > upper) next = upper;
      const d = (next - a) * yi;
      record[r + ALPHA] = next;
      for (let p = start; p < end; p += 2) u[pairColumn[p + 1]] += d * pairValue[p];
      um += d * record[r + OFFSET_DOT];
      c += d;
      wb += d * bScale;
    }
  }
  state[0] = um;
  state[1] = c;
  state[2] = wb;
  bounds[0] = pgMaxNew;
  bounds[1] = pgMinNew;
  return activeSize;
}

/** Per-row loss and correctness at the last visited margin, and their totals. */
interface Tracking {
  loss: Float64Array;
  right: Uint8Array;
  cost: Float64Array;
  squared: boolean;
  totalCost: number;
  totals: Float64Array;
}

/** Margins of every row at the starting weights (one pass), to seed the running loss and accuracy. */
function startTracking(
  record: Float64Array,
  blockOf: Int32Array,
  pairValue: Float32Array,
  pairColumn: Int32Array,
  u: Float64Array,
  um: number,
  c: number,
  wb: number,
  offsetNorm: number,
  bScale: number,
  squared: boolean,
  active: Int32Array,
  rowCost: Float64Array,
): Tracking {
  const l = blockOf.length;
  const track: Tracking = { loss: new Float64Array(l), right: new Uint8Array(l), cost: new Float64Array(l), squared, totalCost: 0, totals: new Float64Array(2) };
  for (let t = 0; t < l; t++) {
    const r = blockOf[t];
    const start = 2 * (r + RECORD);
    const end = start + 2 * record[r + COUNT];
    let us = 0;
    for (let p = start; p < end; p += 2) us += u[pairColumn[p + 1]] * pairValue[p];
    const f = um + us + c * (offsetNorm + record[r + OFFSET_DOT]) + wb * bScale;
    const yi = record[r + SIGN];
    const hinge = Math.max(0, 1 - yi * f);
    track.cost[t] = rowCost[active[t]];
    track.loss[t] = track.cost[t] * (squared ? hinge * hinge : hinge);
    track.right[t] = (f > 0 ? 1 : -1) === yi ? 1 : 0;
    track.totalCost += track.cost[t];
    track.totals[0] += track.loss[t];
    track.totals[1] += track.right[t];
  }
  return track;
}

// Offset-sparse rows: every column's most frequent value (estimated on a strided sample) is taken out as a per-column
// offset m, and what remains, x_ij − m_j, is stored in CSR form. One-hot + standard-scaled data (NSL-KDD: 122 columns,
// ~11 non-offset values per row) becomes ~10× sparser than dense. The remainders are stored as Float32 (relative
// rounding ≤ 6e-8, and ‖x_i‖² is computed from what is stored, so solvers see one consistent matrix):
//   X·W = 1·(mᵀW) + S·W      and      Xᵀ·D = m ⊗ (1ᵀD) + Sᵀ·D.
// Building: O(rows·cols). Products: O(nnz·k + cols·k) instead of O(rows·cols·k).

import type { Matrix } from '../../frame/matrix.js';

const MODE_SAMPLE = 2048;

export class OffsetSparseRows {
  readonly rows: number;
  readonly cols: number;
  /** Per-column offset (the column's sampled mode). */
  readonly offset: Float64Array;
  /** CSR row pointers (rows + 1). */
  readonly rowStart: Int32Array;
  readonly colIndex: Int32Array;
  /** x_ij − offset_j, rounded to Float32. */
  readonly values: Float32Array;
  /** Per-row ‖m + s_i‖² of the stored row. */
  readonly squaredNorms: Float64Array;

  constructor(X: Matrix) {
    const { rows, cols, data } = X;
    this.rows = rows;
    this.cols = cols;
    this.offset = sampledModes(X);
    const offset = this.offset;
    this.rowStart = new Int32Array(rows + 1);
    this.squaredNorms = new Float64Array(rows);
    let capacity = Math.max(16, Math.ceil(rows * Math.min(cols, 16)));
    let colIndex = new Int32Array(capacity);
    let values = new Float32Array(capacity);
    let offsetNorm = 0;
    for (let j = 0; j < cols; j++) offsetNorm += offset[j] * offset[j];
    let p = 0;
    for (let i = 0; i < rows; i++) {
      if (p + cols > capacity) {
        capacity = Math.max(capacity * 2, p + cols);
        const grownIndex = new Int32Array(capacity);
        grownIndex.set(colIndex.subarray(0, p));
        colIndex = grownIndex;
        const grownValues = new Float32Array(capacity);
        grownValues.set(values.subarray(0, p));
        values = grownValues;
      }
      const base = i * cols;
      let norm = offsetNorm;
      for (let j = 0; j < cols; j++) {
        const x = data[base + j];
        const m = offset[j];
        if (x !== m) {
          colIndex[p] = j;
          values[p] = x - m;
          const stored = m + values[p];
          norm += stored * stored - m * m;
          p++;
        }
      }
      this.rowStart[i + 1] = p;
      this.squaredNorms[i] = norm;
    }
    this.colIndex = colIndex.slice(0, p);
    this.values = values.slice(0, p);
  }

  get density(): number {
    return this.values.length / Math.max(1, this.rows * this.cols);
  }

  /**
   * out[r·k + c] = Σ_j X[idx[r], j]·W[j·k + c] + bias[c] for r < count, over rows idx[start .. start+count).
   * W is cols × k (input-major, as scikit-learn stores coefs_). `base` is scratch of length k.
   */
  multiply(idx: Int32Array, start: number, count: number, W: Float64Array, k: number, bias: Float64Array | null, out: Float64Array, base: Float64Array): void {
    const { offset, cols, rowStart, colIndex, values } = this;
    if (k === 1) return this.multiplyVector(idx, start, count, W, bias === null ? 0 : bias[0], out);
    for (let c = 0; c < k; c++) base[c] = bias === null ? 0 : bias[c];
    for (let j = 0; j < cols; j++) {
      const m = offset[j];
      if (m === 0) continue;
      const w = j * k;
      for (let c = 0; c < k; c++) base[c] += m * W[w + c];
    }
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      const o = r * k;
      for (let c = 0; c < k; c++) out[o + c] = base[c];
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) {
        const v = values[p];
        const w = colIndex[p] * k;
        for (let c = 0; c < k; c++) out[o + c] += v * W[w + c];
      }
    }
  }

  /**
   * G[j·k + c] += Σ_r X[idx[r], j]·D[r·k + c] over rows idx[start .. start+count). `colSum` is scratch of length k.
   */
  multiplyTransposedAdd(idx: Int32Array, start: number, count: number, D: Float64Array, k: number, G: Float64Array, colSum: Float64Array): void {
    const { offset, cols, rowStart, colIndex, values } = this;
    if (k === 1) {
      colSum[0] = this.multiplyTransposedVectorAdd(idx, start, count, D, G);
      return;
    }
    colSum.fill(0, 0, k);
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      const o = r * k;
      for (let c = 0; c < k; c++) colSum[c] += D[o + c];
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) {
        const v = values[p];
        const g = colIndex[p] * k;
        for (let c = 0; c < k; c++) G[g + c] += v * D[o + c];
      }
    }
    for (let j = 0; j < cols; j++) {
      const m = offset[j];
      if (m === 0) continue;
      const g = j * k;
      for (let c = 0; c < k; c++) G[g + c] += m * colSum[c];
    }
  }

  private multiplyVector(idx: Int32Array, start: number, count: number, w: Float64Array, bias: number, out: Float64Array): void {
    const { offset, cols, rowStart, colIndex, values } = this;
    let base = bias;
    for (let j = 0; j < cols; j++) base += offset[j] * w[j];
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      let s = base;
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) s += values[p] * w[colIndex[p]];
      out[r] = s;
    }
  }

  /** g += Xᵀd over the rows; returns Σd. */
  private multiplyTransposedVectorAdd(idx: Int32Array, start: number, count: number, d: Float64Array, g: Float64Array): number {
    const { offset, cols, rowStart, colIndex, values } = this;
    let sum = 0;
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      const v = d[r];
      sum += v;
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) g[colIndex[p]] += values[p] * v;
    }
    for (let j = 0; j < cols; j++) g[j] += offset[j] * sum;
    return sum;
  }

  /** Row i as dense values into out[o .. o+cols). */
  denseRow(i: number, out: Float64Array, o: number): void {
    const { offset, cols, rowStart, colIndex, values } = this;
    for (let j = 0; j < cols; j++) out[o + j] = offset[j];
    for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) out[o + colIndex[p]] += values[p];
  }
}

/** Identity row order 0..n-1. */
export function identityIndex(n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/** Per-column mode over a strided sample of at most MODE_SAMPLE rows (any offset is exact; the mode is sparsest). */
function sampledModes(X: Matrix): Float64Array {
  const { rows, cols, data } = X;
  const offset = new Float64Array(cols);
  if (rows === 0) return offset;
  const take = Math.min(rows, MODE_SAMPLE);
  const column = new Float32Array(take);
  for (let j = 0; j < cols; j++) {
    for (let s = 0; s < take; s++) column[s] = data[Math.floor((s * rows) / take) * cols + j];
    column.sort();
    let best = column[0];
    let bestRun = 0;
    let run = 0;
    for (let s = 0; s < take; s++) {
      run = s > 0 && column[s] === column[s - 1] ? run + 1 : 1;
      if (run > bestRun) {
        bestRun = run;
        best = column[s];
      }
    }
    offset[j] = bestRun > 1 ? best : 0;
  }
  return offset;
}

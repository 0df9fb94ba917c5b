// Offset-sparse rows: every column's most frequent value (estimated on a strided sample) is taken out as a per-column
// offset m, and what remains, x_ij − m_j, is stored in CSR form. One-hot + standard-scaled data (NSL-KDD: 122 columns,
// ~11 non-offset values per row) becomes ~10× sparser than dense. The remainders are stored as Float32 (relative
// rounding ≤ 6e-8, and ‖x_i‖² is computed from what is stored, so solvers see one consistent matrix):
//   X·W = 1·(mᵀW) + S·W      and      Xᵀ·D = m ⊗ (1ᵀD) + Sᵀ·D.
// Building: O(rows·cols). Products: O(nnz·k + cols·k) instead of O(rows·cols·k).

import type { Matrix } from '../../frame/matrix.js';
import type { SimdArena } from './simd.js';

const MODE_SAMPLE = 2048;

export interface OffsetSparseParts {
  rows: number;
  cols: number;
  offset: Float64Array;
  rowStart: Int32Array;
  colIndex: Int32Array;
  values: Float32Array;
  squaredNorms: Float64Array;
}

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
  /** Scratch for multiplyTransposedAdd: the batch's remainders grouped by column. */
  private readonly batchColumnStart: Int32Array;
  private readonly batchFill: Int32Array;
  private batchRow = new Int32Array(0);
  private batchValue = new Float64Array(0);

  /** From a matrix, or from the parts of one built before (as another thread receives them). */
  constructor(source: Matrix | OffsetSparseParts) {
    this.rows = source.rows;
    this.cols = source.cols;
    this.batchColumnStart = new Int32Array(source.cols + 1);
    this.batchFill = new Int32Array(source.cols);
    if (!('data' in source)) {
      ({ offset: this.offset, rowStart: this.rowStart, colIndex: this.colIndex, values: this.values, squaredNorms: this.squaredNorms } = source);
      return;
    }
    const { rows, cols, data } = source;
    this.offset = sampledModes(source);
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

  /** The stored form, for new OffsetSparseRows(parts) elsewhere. */
  parts(): OffsetSparseParts {
    const { rows, cols, offset, rowStart, colIndex, values, squaredNorms } = this;
    return { rows, cols, offset, rowStart, colIndex, values, squaredNorms };
  }

  get density(): number {
    return this.values.length / Math.max(1, this.rows * this.cols);
  }

  /**
   * out[r·k + c] = Σ_j X[idx[r], j]·W[j·k + c] + bias[c] for r < count, over rows idx[start .. start+count).
   * W is cols × k (input-major, as scikit-learn stores coefs_). `base` is scratch of length k. When W, out and base
   * live in `simd`'s memory, groups of four remainders go through its WebAssembly kernel (same results).
   */
  multiply(idx: Int32Array, start: number, count: number, W: Float64Array, k: number, bias: Float64Array | null, out: Float64Array, base: Float64Array, simd: SimdArena | null = null): void {
    const { offset, cols, rowStart, colIndex, values } = this;
    if (k === 1) return this.multiplyVector(idx, start, count, W, bias === null ? 0 : bias[0], out);
    for (let c = 0; c < k; c++) base[c] = bias === null ? 0 : bias[c];
    for (let j = 0; j < cols; j++) {
      const m = offset[j];
      if (m === 0) continue;
      const w = j * k;
      for (let c = 0; c < k; c++) base[c] += m * W[w + c];
    }
    if (simd && simd.holds(W, out, base)) {
      this.multiplySimd(idx, start, count, W, k, out, base, simd);
      return;
    }
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      const o = r * k;
      let p = rowStart[i];
      const end = rowStart[i + 1];
      // Four remainders per sweep over the output row: five loads and one store per four multiply-adds.
      if (end - p >= 4) {
        const v0 = values[p];
        const v1 = values[p + 1];
        const v2 = values[p + 2];
        const v3 = values[p + 3];
        const w0 = colIndex[p] * k;
        const w1 = colIndex[p + 1] * k;
        const w2 = colIndex[p + 2] * k;
        const w3 = colIndex[p + 3] * k;
        for (let c = 0; c < k; c++) out[o + c] = base[c] + (v0 * W[w0 + c] + v1 * W[w1 + c] + v2 * W[w2 + c] + v3 * W[w3 + c]);
        p += 4;
      } else {
        for (let c = 0; c < k; c++) out[o + c] = base[c];
      }
      for (; p + 4 <= end; p += 4) {
        const v0 = values[p];
        const v1 = values[p + 1];
        const v2 = values[p + 2];
        const v3 = values[p + 3];
        const w0 = colIndex[p] * k;
        const w1 = colIndex[p + 1] * k;
        const w2 = colIndex[p + 2] * k;
        const w3 = colIndex[p + 3] * k;
        for (let c = 0; c < k; c++) out[o + c] += v0 * W[w0 + c] + v1 * W[w1 + c] + v2 * W[w2 + c] + v3 * W[w3 + c];
      }
      const left = end - p;
      if (left > 0) {
        // The last 1-3 remainders, padded with zero coefficients exactly as the SIMD path does (identical results).
        const w0 = colIndex[p] * k;
        const w1 = left > 1 ? colIndex[p + 1] * k : w0;
        const w2 = left > 2 ? colIndex[p + 2] * k : w0;
        const v0 = values[p];
        const v1 = left > 1 ? values[p + 1] : 0;
        const v2 = left > 2 ? values[p + 2] : 0;
        for (let c = 0; c < k; c++) out[o + c] += v0 * W[w0 + c] + v1 * W[w1 + c] + v2 * W[w2 + c] + 0 * W[w0 + c];
      }
    }
  }

  /**
   * G[j·k + c] += Σ_r X[idx[r], j]·D[r·k + c] over rows idx[start .. start+count). `colSum` is scratch of length k.
   */
  multiplyTransposedAdd(idx: Int32Array, start: number, count: number, D: Float64Array, k: number, G: Float64Array, colSum: Float64Array, simd: SimdArena | null = null): void {
    const { offset, cols, rowStart, colIndex, values } = this;
    if (k === 1) {
      colSum[0] = this.multiplyTransposedVectorAdd(idx, start, count, D, G);
      return;
    }
    const useSimd = simd !== null && simd.holds(D, G);
    const sumsSimd = useSimd && (simd as SimdArena).holds(colSum);
    colSum.fill(0, 0, k);
    for (let r = 0; r < count; r++) {
      const o = r * k;
      if (sumsSimd) (simd as SimdArena).add(colSum.byteOffset, D.byteOffset + o * 8, k);
      else for (let c = 0; c < k; c++) colSum[c] += D[o + c];
    }
    // Transpose the batch's remainders by column (counting sort), then sweep each gradient row once per four entries.
    const cStart = this.batchColumnStart;
    cStart.fill(0);
    let total = 0;
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) cStart[colIndex[p] + 1]++;
      total += rowStart[i + 1] - rowStart[i];
    }
    for (let j = 0; j < cols; j++) cStart[j + 1] += cStart[j];
    if (this.batchRow.length < total) {
      this.batchRow = new Int32Array(total);
      this.batchValue = new Float64Array(total);
    }
    const bRow = this.batchRow;
    const bValue = this.batchValue;
    const fill = this.batchFill;
    fill.set(cStart.subarray(0, cols));
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      for (let p = rowStart[i], end = rowStart[i + 1]; p < end; p++) {
        const at = fill[colIndex[p]]++;
        bRow[at] = r * k;
        bValue[at] = values[p];
      }
    }
    for (let j = 0; j < cols; j++) {
      const g = j * k;
      let e = cStart[j];
      const end = cStart[j + 1];
      if (useSimd) {
        const gPtr = G.byteOffset + g * 8;
        const dPtr = D.byteOffset;
        const fma4 = (simd as SimdArena).fma4;
        for (; e + 4 <= end; e += 4) {
          fma4(gPtr, gPtr, dPtr + bRow[e] * 8, dPtr + bRow[e + 1] * 8, dPtr + bRow[e + 2] * 8, dPtr + bRow[e + 3] * 8, bValue[e], bValue[e + 1], bValue[e + 2], bValue[e + 3], k);
        }
        const left = end - e;
        if (left > 0) {
          const d0 = dPtr + bRow[e] * 8;
          fma4(gPtr, gPtr, d0, left > 1 ? dPtr + bRow[e + 1] * 8 : d0, left > 2 ? dPtr + bRow[e + 2] * 8 : d0, d0, bValue[e], left > 1 ? bValue[e + 1] : 0, left > 2 ? bValue[e + 2] : 0, 0, k);
          e = end;
        }
      }
      for (; e + 4 <= end; e += 4) {
        const v0 = bValue[e];
        const v1 = bValue[e + 1];
        const v2 = bValue[e + 2];
        const v3 = bValue[e + 3];
        const d0 = bRow[e];
        const d1 = bRow[e + 1];
        const d2 = bRow[e + 2];
        const d3 = bRow[e + 3];
        for (let c = 0; c < k; c++) G[g + c] += v0 * D[d0 + c] + v1 * D[d1 + c] + v2 * D[d2 + c] + v3 * D[d3 + c];
      }
      const left = end - e;
      if (left > 0) {
        const d0 = bRow[e];
        const d1 = left > 1 ? bRow[e + 1] : d0;
        const d2 = left > 2 ? bRow[e + 2] : d0;
        const v0 = bValue[e];
        const v1 = left > 1 ? bValue[e + 1] : 0;
        const v2 = left > 2 ? bValue[e + 2] : 0;
        for (let c = 0; c < k; c++) G[g + c] += v0 * D[d0 + c] + v1 * D[d1 + c] + v2 * D[d2 + c] + 0 * D[d0 + c];
      }
    }
    for (let j = 0; j < cols; j++) {
      const m = offset[j];
      if (m === 0) continue;
      const g = j * k;
      for (let c = 0; c < k; c++) G[g + c] += m * colSum[c];
    }
  }

  /** multiply() with W, out and base in the SIMD arena. */
  private multiplySimd(idx: Int32Array, start: number, count: number, W: Float64Array, k: number, out: Float64Array, base: Float64Array, simd: SimdArena): void {
    const { rowStart, colIndex, values } = this;
    const fma4 = simd.fma4;
    const wPtr = W.byteOffset;
    const rowBytes = k * 8;
    for (let r = 0; r < count; r++) {
      const i = idx[start + r];
      const o = r * k;
      const outPtr = out.byteOffset + o * 8;
      let p = rowStart[i];
      const end = rowStart[i + 1];
      let src = base.byteOffset;
      for (; p + 4 <= end; p += 4) {
        fma4(outPtr, src, wPtr + colIndex[p] * rowBytes, wPtr + colIndex[p + 1] * rowBytes, wPtr + colIndex[p + 2] * rowBytes, wPtr + colIndex[p + 3] * rowBytes, values[p], values[p + 1], values[p + 2], values[p + 3], k);
        src = outPtr;
      }
      const left = end - p;
      if (left > 0) {
        // One padded call for the last 1-3 remainders (zero coefficients add exactly nothing).
        const w0 = wPtr + colIndex[p] * rowBytes;
        fma4(outPtr, src, w0, left > 1 ? wPtr + colIndex[p + 1] * rowBytes : w0, left > 2 ? wPtr + colIndex[p + 2] * rowBytes : w0, w0, values[p], left > 1 ? values[p + 1] : 0, left > 2 ? values[p + 2] : 0, 0, k);
      } else if (src !== outPtr) {
        for (let c = 0; c < k; c++) out[o + c] = base[c];
      }
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

  /**
   * g = Xᵀd over ALL rows in order (d has one value per row); returns Σd. Reads a column-major copy built on first use,
   * so each g_j is a private sum (row-order scatters into g stall on repeated columns).
   */
  multiplyTransposedAll(d: Float64Array, g: Float64Array): number {
    if (!this.columns) this.columns = this.buildColumns();
    const { colStart, rowIndex, colValues } = this.columns;
    const { offset, cols, rows } = this;
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += d[i];
    for (let j = 0; j < cols; j++) {
      let s0 = 0;
      let s1 = 0;
      let p = colStart[j];
      const end = colStart[j + 1];
      for (; p + 2 <= end; p += 2) {
        s0 += colValues[p] * d[rowIndex[p]];
        s1 += colValues[p + 1] * d[rowIndex[p + 1]];
      }
      if (p < end) s0 += colValues[p] * d[rowIndex[p]];
      g[j] = s0 + s1 + offset[j] * sum;
    }
    return sum;
  }

  private columns: { colStart: Int32Array; rowIndex: Int32Array; colValues: Float32Array } | undefined;

  private buildColumns(): { colStart: Int32Array; rowIndex: Int32Array; colValues: Float32Array } {
    const { cols, rows, rowStart, colIndex, values } = this;
    const colStart = new Int32Array(cols + 1);
    for (let p = 0; p < colIndex.length; p++) colStart[colIndex[p] + 1]++;
    for (let j = 0; j < cols; j++) colStart[j + 1] += colStart[j];
    const fill = colStart.slice(0, cols);
    const rowIndex = new Int32Array(colIndex.length);
    const colValues = new Float32Array(colIndex.length);
    for (let i = 0; i < rows; i++) {
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) {
        const at = fill[colIndex[p]]++;
        rowIndex[at] = i;
        colValues[at] = values[p];
      }
    }
    return { colStart, rowIndex, colValues };
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

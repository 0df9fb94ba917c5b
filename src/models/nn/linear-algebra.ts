// Dense Float64 kernels for small and medium matrices (row-major), written so V8 keeps them monomorphic: register-
// blocked over four rows so each loaded weight row serves four outputs. Accumulation is in Float64 throughout.
// All are O(m·k·n).

import type { Matrix } from '../../frame/matrix.js';

/** C[m×n] = A[m×k]·B[k×n] + bias (broadcast over rows; bias may be null). */
export function matmul(A: Float64Array, B: Float64Array, bias: Float64Array | null, C: Float64Array, m: number, k: number, n: number): void {
  if (n === 1) {
    // One output (binary logistic layer): plain dot products.
    const b0 = bias === null ? 0 : bias[0];
    for (let i = 0; i < m; i++) {
      const a = i * k;
      let s0 = b0;
      let s1 = 0;
      let p = 0;
      for (; p + 2 <= k; p += 2) {
        s0 += A[a + p] * B[p];
        s1 += A[a + p + 1] * B[p + 1];
      }
      if (p < k) s0 += A[a + p] * B[p];
      C[i] = s0 + s1;
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    const o = i * n;
    if (bias === null) C.fill(0, o, o + n);
    else for (let j = 0; j < n; j++) C[o + j] = bias[j];
  }
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const c0 = i * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    for (let p = 0; p < k; p++) {
      const x0 = A[a0 + p];
      const x1 = A[a1 + p];
      const x2 = A[a2 + p];
      const x3 = A[a3 + p];
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue;
      const b = p * n;
      for (let j = 0; j < n; j++) {
        const w = B[b + j];
        C[c0 + j] += x0 * w;
        C[c1 + j] += x1 * w;
        C[c2 + j] += x2 * w;
        C[c3 + j] += x3 * w;
      }
    }
  }
  for (; i < m; i++) {
    const a = i * k;
    const c = i * n;
    for (let p = 0; p < k; p++) {
      const x = A[a + p];
      if (x === 0) continue;
      const b = p * n;
      for (let j = 0; j < n; j++) C[c + j] += x * B[b + j];
    }
  }
}

/** G[k×n] += A[m×k]ᵀ·D[m×n] (weight gradients). */
export function matmulTransposedAAdd(A: Float64Array, D: Float64Array, G: Float64Array, m: number, k: number, n: number): void {
  if (n === 1) {
    for (let i = 0; i < m; i++) {
      const d = D[i];
      if (d === 0) continue;
      const a = i * k;
      for (let p = 0; p < k; p++) G[p] += A[a + p] * d;
    }
    return;
  }
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const d0 = i * n;
    const d1 = d0 + n;
    const d2 = d1 + n;
    const d3 = d2 + n;
    for (let p = 0; p < k; p++) {
      const x0 = A[a0 + p];
      const x1 = A[a1 + p];
      const x2 = A[a2 + p];
      const x3 = A[a3 + p];
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue;
      const g = p * n;
      for (let j = 0; j < n; j++) G[g + j] += x0 * D[d0 + j] + x1 * D[d1 + j] + x2 * D[d2 + j] + x3 * D[d3 + j];
    }
  }
  for (; i < m; i++) {
    const a = i * k;
    const d = i * n;
    for (let p = 0; p < k; p++) {
      const x = A[a + p];
      if (x === 0) continue;
      const g = p * n;
      for (let j = 0; j < n; j++) G[g + j] += x * D[d + j];
    }
  }
}

/** E[m×k] = D[m×n]·B[k×n]ᵀ (back-propagation through a layer whose weights B are k×n). */
export function matmulTransposedB(D: Float64Array, B: Float64Array, E: Float64Array, m: number, k: number, n: number): void {
  if (n === 1) {
    for (let i = 0; i < m; i++) {
      const d = D[i];
      const e = i * k;
      for (let p = 0; p < k; p++) E[e + p] = d * B[p];
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    const d = i * n;
    const e = i * k;
    for (let p = 0; p < k; p++) {
      const b = p * n;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      for (; j + 2 <= n; j += 2) {
        s0 += D[d + j] * B[b + j];
        s1 += D[d + j + 1] * B[b + j + 1];
      }
      if (j < n) s0 += D[d + j] * B[b + j];
      E[e + p] = s0 + s1;
    }
  }
}

/** Scores of a linear model: out[i·k + c] = Σ_j X_ij·coef[j·k + c] + intercept[c]. */
export function linearScores(X: Matrix, coef: Float64Array, intercept: Float64Array, k: number): Float64Array {
  const { rows, cols, data } = X;
  const out = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) {
    const o = i * k;
    for (let c = 0; c < k; c++) out[o + c] = intercept[c];
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const x = data[base + j];
      if (x === 0) continue;
      const w = j * k;
      for (let c = 0; c < k; c++) out[o + c] += x * coef[w + c];
    }
  }
  return out;
}

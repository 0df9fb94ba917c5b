// Dense-layer products through the WebAssembly f64x2 kernel of simd.ts (dst = src + Σ₄ v·row), for the hidden and
// output layers of an MLP / autoencoder whose buffers live in the kernel's arena. Same products as linear-algebra.ts,
// summed in groups of four (so results agree with it to rounding, not bit for bit). All O(m·k·n).

import type { SimdArena } from './simd.js';

/** C[m×n] = A[m×k]·B[k×n] + bias. */
export function simdMatmul(s: SimdArena, A: Float64Array, B: Float64Array, bias: Float64Array, C: Float64Array, m: number, k: number, n: number): void {
  const fma4 = s.fma4;
  const rowBytes = n * 8;
  const b = B.byteOffset;
  for (let i = 0; i < m; i++) {
    const a = i * k;
    const c = C.byteOffset + i * rowBytes;
    let src = bias.byteOffset;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      fma4(c, src, b + p * rowBytes, b + (p + 1) * rowBytes, b + (p + 2) * rowBytes, b + (p + 3) * rowBytes, A[a + p], A[a + p + 1], A[a + p + 2], A[a + p + 3], n);
      src = c;
    }
    const left = k - p;
    if (left > 0) {
      const w0 = b + p * rowBytes;
      fma4(c, src, w0, left > 1 ? w0 + rowBytes : w0, left > 2 ? w0 + 2 * rowBytes : w0, w0, A[a + p], left > 1 ? A[a + p + 1] : 0, left > 2 ? A[a + p + 2] : 0, 0, n);
    }
  }
}

/** G[k×n] += A[m×k]ᵀ·D[m×n]; groups of four rows whose A entries are all zero (ReLU) are skipped. */
export function simdMatmulTransposedAAdd(s: SimdArena, A: Float64Array, D: Float64Array, G: Float64Array, m: number, k: number, n: number): void {
  const fma4 = s.fma4;
  const rowBytes = n * 8;
  const d = D.byteOffset;
  for (let p = 0; p < k; p++) {
    const g = G.byteOffset + p * rowBytes;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const x0 = A[i * k + p];
      const x1 = A[(i + 1) * k + p];
      const x2 = A[(i + 2) * k + p];
      const x3 = A[(i + 3) * k + p];
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue;
      fma4(g, g, d + i * rowBytes, d + (i + 1) * rowBytes, d + (i + 2) * rowBytes, d + (i + 3) * rowBytes, x0, x1, x2, x3, n);
    }
    const left = m - i;
    if (left > 0) {
      const d0 = d + i * rowBytes;
      fma4(g, g, d0, left > 1 ? d0 + rowBytes : d0, left > 2 ? d0 + 2 * rowBytes : d0, d0, A[i * k + p], left > 1 ? A[(i + 1) * k + p] : 0, left > 2 ? A[(i + 2) * k + p] : 0, 0, n);
    }
  }
}

/** E[m×k] = D[m×n]·B[k×n]ᵀ: simdMatmul over Bᵀ (n×k, written into `transposed`) with a zero row of length ≥ k as bias. */
export function simdMatmulTransposedB(s: SimdArena, D: Float64Array, B: Float64Array, transposed: Float64Array, zero: Float64Array, E: Float64Array, m: number, k: number, n: number): void {
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) transposed[j * k + p] = B[p * n + j];
  simdMatmul(s, D, transposed, zero, E, m, n, k);
}

// The reference k-means (Lloyd 1982) the fast one (Hamerly's bounds, skipped centres, kernels) must reproduce exactly,
// and the Gaussian blobs both k-means test files cluster.

import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import type { Rng } from '../../src/util/rng.js';
import { assign, type Clustering } from '../../src/models/kmeans.js';

/**
 * Lloyd as written in the paper's terms: every row to its nearest centre (lowest index on ties) each iteration,
 * centres to means, an emptied cluster re-seeded at the farthest row, stopping once the squared shift is <= tol.
 */
export function plainLloyd(X: Matrix, centres: Float64Array, maxIter: number, tol: number): Clustering {
  const { rows: n, cols: d, data } = X;
  const k = centres.length / d;
  let current = assign(X, centres, k);
  for (let iter = 0; iter < maxIter; iter++) {
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[current.labels[i]]++;
      for (let j = 0; j < d; j++) sums[current.labels[i] * d + j] += data[i * d + j];
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        let far = 0;
        for (let i = 1; i < n; i++) if (current.sqDist[i] > current.sqDist[far]) far = i;
        for (let j = 0; j < d; j++) sums[c * d + j] = data[far * d + j];
        counts[c] = 1;
        current.sqDist[far] = 0;
      }
      for (let j = 0; j < d; j++) {
        const v = sums[c * d + j] / counts[c];
        shift += (v - centres[c * d + j]) ** 2;
        centres[c * d + j] = v;
      }
    }
    current = assign(X, centres, k);
    if (shift <= tol) break;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += current.sqDist[i];
  return { centers: centres, labels: current.labels, sqDist: current.sqDist, inertia };
}

/** n rows of d columns around `centres` random means (sd 3), each row one mean plus normal noise of sd `spread`. */
export function blobs(rng: Rng, n: number, d: number, centres: number, spread: number): Matrix {
  const X = createMatrix(n, d);
  const means = Array.from({ length: centres * d }, () => rng.normal() * 3);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres);
    for (let j = 0; j < d; j++) X.data[i * d + j] = means[c * d + j] + rng.normal() * spread;
  }
  return X;
}

// Exact k-NN in sorted-projection order for the SIMD dense path, after Friedman, Baskett & Shustek's sorted-coordinate
// search (ACM TOMS 1975): rows are sorted by their coordinate on the leading principal direction u of the sampled rows
// nearest their median (projection.ts's subspace iteration with one direction: power iteration), and a query
// measures runs of rows outward from its own coordinate through the SIMD kernel, on each side until the coordinate
// gap alone keeps every further row out of its top-k heap (|u·(x − q)| ≤ ‖x − q‖₂ ≤ ‖x − q‖₁ for a unit u). Near
// rows come first, so the heap's threshold also tightens early and fewer rows reach it. Queries go in order of their
// own coordinate, and each one's heap starts capped by its predecessor's candidates (TopKReducer.seedFrom).
// The heap and its exact re-check are the scan's (TopKReducer), so answers equal the brute force's, ties included.
// Build O(s·d·ITERATIONS + n·d + n log n) for s = min(n, SAMPLE_ROWS); a query costs O(window·d), window = the
// rows between its two stopping points.

import { TopKReducer, type SearchData } from './kernels.js';
import { coordinateOrder, principalDirections } from './projection.js';
import { SimdScan } from './simd.js';

export interface SortedRows {
  /** Unit direction (d values). */
  direction: Float64Array;
  /** Position → row, by ascending coordinate. */
  order: Int32Array;
  /** Coordinate u·x of the row at each position (ascending). */
  keys: Float64Array;
  /** Largest row norm (scales the rounding bound of the coordinates). */
  maxNorm: number;
}

const ITERATIONS = 8;
const SAMPLE_ROWS = 512;
/**
 * Share of the sampled rows, farthest from their coordinate-wise median, left out of the direction's covariance: on
 * CIC-IDS2017's normal rows a few outliers made a direction that spreads the others little the leading one, and
 * queries measured twice the rows (test 1,967 → 929 of 2,100, self 1,242 → 617).
 */
const TRIM = 0.02;
/** Rows of a query's first run on each side; runs double up to MAX_RUN. */
const FIRST_RUN = 16;
const MAX_RUN = 256;

export function buildSorted(data: Float32Array, n: number, d: number): SortedRows {
  // The direction only steers the pruning (any unit vector gives exact answers): evenly spaced sample rows suffice.
  const direction = principalDirections(data, n, d, 1, SAMPLE_ROWS, ITERATIONS, TRIM);
  const raw = new Float64Array(n);
  let maxNorm = 0;
  for (let i = 0; i < n; i++) {
    let key = 0;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j];
      key += v * direction[j];
      norm += v * v;
    }
    raw[i] = key;
    if (norm > maxNorm) maxNorm = norm;
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[a] - raw[b] || a - b);
  const keys = Float64Array.from(order, (row) => raw[row]);
  return { direction, order, keys, maxNorm: Math.sqrt(maxNorm) };
}

/** First position in keys[lo .. hi) with a key ≥ x (hi when none). */
function firstAtLeast(keys: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Fills the reducer's heaps for queries q0 .. q1 in sorted-projection order (see the file comment). */
export function sortedKnn(s: SearchData, sorted: SortedRows, queries: Float32Array, q0: number, q1: number, reducer: TopKReducer): void {
  const { n, d } = s;
  const { direction, order, keys } = sorted;
  const kernel = SimdScan.ordered(s, order, MAX_RUN);
  const rel = kernel.relativeError;
  const euclidean = s.metric === 'euclidean';
  // Queries go in order of their own coordinate, so that each one's heap can be capped from its predecessor's
  // candidates (seedFrom): neighbouring queries along u mostly share their nearest rows.
  const queryKeys = new Float64Array(q1 - q0);
  const visit = coordinateOrder(direction, queries, q0, q1, d, queryKeys);
  for (let t = 0; t < visit.length; t++) {
    const q = visit[t];
    if (t > 0) reducer.seedFrom(visit[t - 1], q, rel);
    let qNorm = 0;
    for (let j = 0; j < d; j++) qNorm += queries[q * d + j] * queries[q * d + j];
    const key = queryKeys[q - q0];
    kernel.loadQueries(queries, q, 1, d);
    // Rounding of both coordinates (d products and sums each, |Σ u_j·x_j| terms ≤ ‖x‖) and of ‖u‖ = 1.
    const slack = 4 * d * 2 ** -53 * (sorted.maxNorm + Math.sqrt(qNorm)) + 1e-300;
    let right = firstAtLeast(keys, 0, n, key);
    let left = right;
    let run = FIRST_RUN;
    while (left > 0 || right < n) {
      // Largest coordinate gap whose rows may still hold a float32 value the heap takes: a row's value v is at
      // least e·(1 − rel) − 1e-30 for its exact reduced distance e ≥ gap² (euclidean) or ≥ gap (manhattan).
      const admits = (reducer.admits(q) + 1e-30) / (1 - rel);
      const reach = (euclidean ? Math.sqrt(admits) : admits) * (1 + 1e-12) + slack;
      const hiEnd = Math.min(n, right + run);
      const rightEnd = reach === Number.POSITIVE_INFINITY ? hiEnd : firstAtLeast(keys, right, hiEnd, key + reach);
      if (rightEnd > right) reducer.consumeKernel(q, right, rightEnd - right, kernel, 0, order);
      right = rightEnd < hiEnd ? n : rightEnd;
      const loStart = Math.max(0, left - run);
      const leftStart = reach === Number.POSITIVE_INFINITY ? loStart : firstAtLeast(keys, loStart, left, key - reach);
      if (left > leftStart) reducer.consumeKernel(q, leftStart, left - leftStart, kernel, 0, order);
      left = leftStart > loStart ? 0 : leftStart;
      if (run < MAX_RUN) run *= 2;
    }
  }
}

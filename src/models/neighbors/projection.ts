// Exact euclidean search by sorted principal projections: Friedman, Baskett & Shustek's sorted-coordinate search
// (ACM TOMS 1975) on a principal-component axis, plus partial-distance early abandoning over the leading
// principal components (a projection onto orthonormal directions never lengthens a vector, so a partial sum is a
// lower bound). Survivors get the exact float64 distance in the original space, so answers equal the dense brute
// force's, ties included. Directions: subspace iteration on the covariance of ≤ SAMPLE_ROWS sampled rows
// (`principalDirections`, shared with sorted.ts).
// Build O(n·d·m + s·d² + iters·d²·m); a query costs O(window × m) with window ≪ n on clustered data and O(n·m)
// at worst (queries far from every row).

import { Rng } from '../../util/rng.js';
import { exactReduced, offer, type SearchData } from './kernels.js';

export interface Projection {
  /** Number of leading directions kept. */
  m: number;
  /** m × d orthonormal directions, row-major (direction j is basis[j * d .. j * d + d)). */
  basis: Float64Array;
  /** Position → row, rows sorted by their first coordinate. */
  order: Int32Array;
  /** Projected coordinates, n × m in position order. */
  coords: Float64Array;
  /** Norm of each row's residual outside the kept directions, in position order. */
  residual: Float64Array;
  /** Largest squared row norm (scales the rounding tolerance). */
  maxNorm2: number;
}

const MAX_DIRECTIONS = 32;
const SAMPLE_ROWS = 4000;
const ITERATIONS = 25;
/** Partial sums are checked against the bound after these many coordinates. */
const CHECKS = [2, 4, 8, 16, 24, 32];

export function buildProjection(data: Float32Array, n: number, d: number): Projection {
  const m = Math.min(d, MAX_DIRECTIONS);
  const basis = principalDirections(data, n, d, m);
  const basisT = transpose(basis, d, m);
  const raw = new Float64Array(n * m);
  const rawResidual = new Float64Array(n);
  let maxNorm2 = 0;
  for (let i = 0; i < n; i++) {
    rawResidual[i] = projectRow(data, i * d, d, basisT, m, raw, i * m);
    let norm2 = 0;
    for (let f = 0; f < d; f++) norm2 += data[i * d + f] * data[i * d + f];
    if (norm2 > maxNorm2) maxNorm2 = norm2;
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[a * m] - raw[b * m] || a - b);
  const coords = new Float64Array(n * m);
  const residual = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    coords.set(raw.subarray(order[p] * m, order[p] * m + m), p * m);
    residual[p] = rawResidual[order[p]];
  }
  return { m, basis: basisT, order, coords, residual, maxNorm2 };
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/**
 * Projects row `off` of `src` onto the m directions (basisT: m × d, row-major) into out[outOff ..], and returns
 * the norm of the residual x − V·Vᵀx, computed directly (not as a difference of squared norms) to stay accurate.
 */
function projectRow(src: Float32Array, off: number, d: number, basisT: Float64Array, m: number, out: Float64Array, outOff: number): number {
  for (let j = 0; j < m; j++) {
    const b = j * d;
    let sum = 0;
    for (let f = 0; f < d; f++) sum += src[off + f] * basisT[b + f];
    out[outOff + j] = sum;
  }
  let residual = 0;
  for (let f = 0; f < d; f++) {
    let back = 0;
    for (let j = 0; j < m; j++) back += out[outOff + j] * basisT[j * d + f];
    const r = src[off + f] - back;
    residual += r * r;
  }
  return Math.sqrt(residual);
}

/**
 * Leading eigenvectors of the covariance of `sampleRows` evenly spaced rows (d × m, row-major: direction j is column
 * j), by subspace iteration, orthonormal to rounding and ordered by captured variance. The covariance C is applied
 * either formed (s·d²/2 once, then d²·m per step) or as Σ c·(cᵀB) over the centred sample rows c (2·s·d·m per
 * step), whichever costs less: the sorted-projection order wants one direction from a small sample, the projection
 * index up to 32 from a large one. With `trim`, that share of the sample rows farthest from the coordinate-wise
 * median is left out (`centralRows`). Also serves sorted.ts.
 */
export function principalDirections(data: Float32Array, n: number, d: number, m: number, sampleRows = SAMPLE_ROWS, iterations = ITERATIONS, trim = 0): Float64Array {
  const sampled = Math.min(n, sampleRows);
  let rows: Int32Array = Int32Array.from({ length: sampled }, (_, t) => Math.floor((t * n) / sampled));
  if (trim > 0) rows = centralRows(data, d, rows, trim);
  const s = rows.length;
  const mean = new Float64Array(d);
  const centred = new Float64Array(s * d);
  for (let t = 0; t < s; t++) {
    const i = rows[t];
    for (let f = 0; f < d; f++) {
      centred[t * d + f] = data[i * d + f];
      mean[f] += data[i * d + f] / s;
    }
  }
  for (let t = 0; t < s; t++) for (let f = 0; f < d; f++) centred[t * d + f] -= mean[f];
  const formed = (s * d * d) / 2 + iterations * d * d * m < 2 * iterations * s * d * m;
  const apply = formed ? covarianceProduct(formedCovariance(centred, s, d), d, m) : centredProduct(centred, s, d, m);
  const rng = new Rng(1975);
  let basis: Float64Array = new Float64Array(d * m);
  for (let i = 0; i < basis.length; i++) basis[i] = rng.normal();
  orthonormalize(basis, d, m);
  for (let it = 0; it < iterations; it++) {
    basis = apply(basis);
    orthonormalize(basis, d, m);
  }
  // Order directions by captured variance (Rayleigh quotient), largest first.
  const image = apply(basis);
  const variance = new Float64Array(m);
  for (let j = 0; j < m; j++) for (let a = 0; a < d; a++) variance[j] += basis[a * m + j] * image[a * m + j];
  const rank = Array.from({ length: m }, (_, j) => j).sort((x, y) => variance[y] - variance[x]);
  const sorted = new Float64Array(d * m);
  for (let a = 0; a < d; a++) for (let j = 0; j < m; j++) sorted[a * m + j] = basis[a * m + rank[j]];
  orthonormalize(sorted, d, m);
  return sorted;
}

/**
 * The rows of `rows` within the (1 − trim) quantile of squared distance to their coordinate-wise median: a few
 * outlying rows can give a direction a large variance with little spread of the other rows along it (CIC-IDS2017's
 * normal rows: the leading direction of evenly spaced samples flipped between two of near-equal variance, one of
 * which halves what the sorted-projection search prunes).
 */
function centralRows(data: Float32Array, d: number, rows: Int32Array, trim: number): Int32Array {
  const s = rows.length;
  const median = new Float64Array(d);
  const column = new Float64Array(s);
  for (let f = 0; f < d; f++) {
    for (let t = 0; t < s; t++) column[t] = data[rows[t] * d + f];
    column.sort();
    median[f] = column[s >> 1];
  }
  const far = new Float64Array(s);
  for (let t = 0; t < s; t++) {
    let sum = 0;
    for (let f = 0; f < d; f++) sum += (data[rows[t] * d + f] - median[f]) ** 2;
    far[t] = sum;
  }
  const limit = Float64Array.from(far).sort()[Math.max(0, Math.ceil((1 - trim) * s) - 1)];
  return rows.filter((_, t) => far[t] <= limit);
}

/** Σ c·cᵀ over the s centred rows (d × d, both triangles). */
function formedCovariance(centred: Float64Array, s: number, d: number): Float64Array {
  const cov = new Float64Array(d * d);
  for (let t = 0; t < s; t++) {
    const o = t * d;
    for (let a = 0; a < d; a++) {
      const ca = centred[o + a];
      if (ca === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ca * centred[o + b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b];
  return cov;
}

/** B ↦ C·B for a formed d × d covariance C and a d × m row-major B. */
function covarianceProduct(cov: Float64Array, d: number, m: number): (basis: Float64Array) => Float64Array {
  return (basis) => {
    const next = new Float64Array(d * m);
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        const c = cov[a * d + b];
        if (c === 0) continue;
        for (let j = 0; j < m; j++) next[a * m + j] += c * basis[b * m + j];
      }
    }
    return next;
  };
}

/** B ↦ Σ c·(cᵀB) over the s centred rows c, without forming the covariance. */
function centredProduct(centred: Float64Array, s: number, d: number, m: number): (basis: Float64Array) => Float64Array {
  const dots = new Float64Array(m);
  return (basis) => {
    const next = new Float64Array(d * m);
    for (let t = 0; t < s; t++) {
      const o = t * d;
      dots.fill(0);
      for (let a = 0; a < d; a++) {
        const c = centred[o + a];
        if (c !== 0) for (let j = 0; j < m; j++) dots[j] += c * basis[a * m + j];
      }
      for (let a = 0; a < d; a++) {
        const c = centred[o + a];
        if (c !== 0) for (let j = 0; j < m; j++) next[a * m + j] += c * dots[j];
      }
    }
    return next;
  };
}

/**
 * Queries q0 .. q1 of `queries` (width d) in order of their coordinate on `direction` (ties: lower number), and
 * those coordinates (keys[q − q0]): neighbouring queries along a principal direction are often near each other.
 */
export function coordinateOrder(direction: Float64Array, queries: Float32Array, q0: number, q1: number, d: number, keys: Float64Array): Int32Array {
  for (let q = q0; q < q1; q++) {
    let key = 0;
    for (let j = 0; j < d; j++) key += queries[q * d + j] * direction[j];
    keys[q - q0] = key;
  }
  return Int32Array.from({ length: q1 - q0 }, (_, i) => q0 + i).sort((a, b) => keys[a - q0] - keys[b - q0] || a - b);
}

/**
 * Modified Gram–Schmidt with re-orthogonalisation on the m columns of a d × m row-major matrix; a column that
 * vanishes (lies in the span of the earlier ones) is replaced by the first unit axis that does not.
 */
function orthonormalize(v: Float64Array, d: number, m: number): void {
  const sweep = (j: number): number => {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let a = 0; a < d; a++) dot += v[a * m + j] * v[a * m + p];
        for (let a = 0; a < d; a++) v[a * m + j] -= dot * v[a * m + p];
      }
    }
    let norm = 0;
    for (let a = 0; a < d; a++) norm += v[a * m + j] * v[a * m + j];
    return Math.sqrt(norm);
  };
  for (let j = 0; j < m; j++) {
    let norm = sweep(j);
    for (let axis = 0; norm < 1e-8 && axis < d; axis++) {
      for (let a = 0; a < d; a++) v[a * m + j] = a === axis ? 1 : 0;
      norm = sweep(j);
    }
    for (let a = 0; a < d; a++) v[a * m + j] /= norm;
  }
}

/** Reusable per-thread buffers for queries. */
export class ProjectionSearcher {
  private readonly qc: Float64Array;
  private readonly keys: Float64Array;
  private qResidual = 0;
  private qNorm2 = 0;

  constructor(
    private readonly s: SearchData,
    private readonly p: Projection,
    private readonly queries: Float32Array,
  ) {
    this.qc = new Float64Array(p.m);
    this.keys = new Float64Array(s.n);
    for (let i = 0; i < s.n; i++) this.keys[i] = p.coords[i * p.m];
  }

  private project(q: number): void {
    const d = this.s.d;
    this.qResidual = projectRow(this.queries, q * d, d, this.p.basis, this.p.m, this.qc, 0);
    let norm2 = 0;
    for (let f = 0; f < d; f++) norm2 += this.queries[q * d + f] * this.queries[q * d + f];
    this.qNorm2 = norm2;
  }

  /**
   * Lower bound of the squared distance: (residual norm gap)² plus the squared differences over the leading
   * coordinates, abandoned as soon as it exceeds `bound`.
   */
  private partial(pos: number, bound: number): number {
    const { m, coords } = this.p;
    const qc = this.qc;
    const base = pos * m;
    const gap = this.p.residual[pos] - this.qResidual;
    let sum = gap * gap;
    if (sum > bound) return sum;
    let j = 0;
    for (const stop of CHECKS) {
      const end = stop < m ? stop : m;
      for (; j < end; j++) {
        const diff = coords[base + j] - qc[j];
        sum += diff * diff;
      }
      if (sum > bound || end === m) return sum;
    }
    return sum;
  }

  private lowerBound(key: number): number {
    let lo = 0;
    let hi = this.s.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Tolerance on lower bounds for float64 rounding of the projections and residuals. */
  private tol(bound: number): number {
    return 1e-9 * (bound + this.qNorm2 + this.p.maxNorm2 + 1);
  }

  /**
   * The k nearest rows of query q, skipping row `skip`, into the max-heap hd/hi[base .. base+k) on
   * (distance², index), as TopKReducer keeps it. Returns the heap size, or -1 when more than `budget` exact
   * distances were needed (a query far from every row, where the lower bounds cannot prune): a scan is cheaper.
   */
  knn(q: number, k: number, skip: number, hd: Float64Array, hi: Int32Array, base: number, budget: number): number {
    this.project(q);
    const n = this.s.n;
    const key = this.qc[0];
    let right = this.lowerBound(key);
    let left = right - 1;
    let size = 0;
    let bound = Number.POSITIVE_INFINITY;
    let slack = 0;
    const order = this.p.order;
    while (left >= 0 || right < n) {
      const gapL = left >= 0 ? key - this.keys[left] : Number.POSITIVE_INFINITY;
      const gapR = right < n ? this.keys[right] - key : Number.POSITIVE_INFINITY;
      const takeLeft = gapL <= gapR;
      const pos = takeLeft ? left-- : right++;
      const gap = takeLeft ? gapL : gapR;
      if (gap * gap > bound + slack) break;
      const row = order[pos];
      if (row === skip) continue;
      if (size === k && this.partial(pos, bound + slack) > bound + slack) continue;
      if (--budget < 0) return -1;
      const exact = exactReduced(this.s, this.queries, q, row);
      size = offer(hd, hi, base, k, size, exact, row);
      if (size === k) {
        bound = hd[base];
        slack = this.tol(bound);
      }
    }
    return size;
  }

  /** Calls visit(row, distance²) for every row within squared radius r2 of query q (inclusive). */
  radius(q: number, r2: number, visit: (row: number, reduced: number) => void): void {
    this.project(q);
    const key = this.qc[0];
    const slack = this.tol(r2);
    const reach = Math.sqrt(r2 + slack);
    const n = this.s.n;
    const order = this.p.order;
    const bound = r2 + slack;
    for (let pos = this.lowerBound(key - reach); pos < n && this.keys[pos] <= key + reach; pos++) {
      if (this.partial(pos, bound) > bound) continue;
      const row = order[pos];
      const exact = exactReduced(this.s, this.queries, q, row);
      if (exact <= r2) visit(row, exact);
    }
  }
}

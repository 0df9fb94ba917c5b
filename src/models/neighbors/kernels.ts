// Exact brute-force distance kernels for neighbour search, and the reducers that turn distance rows into answers
// (top-k by a bounded max-heap, radius counts, radius components, radius minimum of a value).
//
// Scan paths, all O(queries × rows × features) in the worst case:
// - dense: cache-blocked tiles (QUERY_BLOCK queries × ROW_BLOCK rows), through the WebAssembly SIMD kernel
//   (float32, simd.ts) or in JavaScript with float64 accumulation (exact to float64 rounding);
// - sparse (euclidean only): the distance is translation invariant, so each column is shifted by its most frequent
//   value; one-hot and mostly-zero columns then become sparse and ‖x−q‖² = ‖x‖² + ‖q‖² − 2·x·q costs
//   O(Σ_{j∈nz(q)} nnz(column j) + rows) per query (column-major scatter), accumulated in float64.
// Approximate paths report their error bound; the top-k candidates (k plus slack) and radius borderline cases are
// re-checked exactly, so every path returns the float64 answer. Exact duplicates come out at exactly 0 because
// both sums run over the same columns in the same order.

import type { Clusters } from './clusters.js';
import type { Projection, ProjectionSearcher } from './projection.js';
import type { SortedRows } from './sorted.js';
import { ROW_GROUP, SimdScan } from './simd.js';

export type Metric = 'euclidean' | 'manhattan' | 'cosine';

/** The searchable rows, as plain typed arrays (SharedArrayBuffer-backed when searched from workers). */
export interface SearchData {
  n: number;
  d: number;
  metric: Metric;
  /** Row-major n × d. */
  data: Float32Array;
  /** Cosine: L2 norms of the rows. Sparse euclidean: squared norms of the shifted rows. Otherwise empty. */
  rowNorms: Float64Array;
  /** Column-major shifted non-zeros (sparse euclidean path), or null. */
  sparse: SparseColumns | null;
  /** Sorted principal projections (projection euclidean path), or null. */
  projection: Projection | null;
  /** Cluster partition with triangle-inequality bounds (euclidean/manhattan k-NN and radius queries), or null. */
  clusters: Clusters | null;
  /** Rows sorted by a principal coordinate (SIMD dense k-NN in that order), or null. */
  sorted: SortedRows | null;
  /** Dense euclidean/manhattan scans run the WebAssembly SIMD kernel (float32, re-checked exactly). */
  simd: boolean;
}

export interface SparseColumns {
  shift: Float64Array;
  colPtr: Int32Array;
  rowIdx: Int32Array;
  values: Float64Array;
}

/** Receives distance rows. Euclidean distances are squared here ("reduced"); the others are the distances. */
export interface Reducer {
  /**
   * dist[off .. off+len) are the reduced distances of query q to rows t0 .. t0+len; each is within
   * tol + relTol · value of the exact one (both 0 for exact kernels).
   */
  consume(q: number, t0: number, dist: Float64Array, off: number, len: number, tol: number, relTol: number): void;
}

const QUERY_BLOCK = 16;
/** A projection k-NN query falls back to a scan after n / this many exact distances. */
const SCAN_FALLBACK_FRACTION = 50;
const ROW_BLOCK = 256;

/** Exact reduced distance between query row q (of `queries`) and indexed row i, in float64. */
export function exactReduced(s: SearchData, queries: Float32Array, q: number, i: number): number {
  const d = s.d;
  const x = s.data;
  const qo = q * d;
  const xo = i * d;
  if (s.metric !== 'cosine') return reducedDistance(s.metric, x, xo, queries, qo, d);
  let dot = 0;
  let nx = 0;
  let nq = 0;
  for (let j = 0; j < d; j++) {
    const a = x[xo + j];
    const b = queries[qo + j];
    dot += a * b;
    nx += a * a;
    nq += b * b;
  }
  return cosineFrom(dot, Math.sqrt(nx), Math.sqrt(nq));
}

/** Reduced euclidean (squared) or manhattan distance between x[xo ..) and queries[qo ..), d values each, in float64. */
export function reducedDistance(metric: 'euclidean' | 'manhattan', x: Float32Array, xo: number, queries: Float32Array, qo: number, d: number): number {
  let sum = 0;
  if (metric === 'manhattan') {
    for (let j = 0; j < d; j++) sum += Math.abs(x[xo + j] - queries[qo + j]);
  } else {
    for (let j = 0; j < d; j++) {
      const diff = x[xo + j] - queries[qo + j];
      sum += diff * diff;
    }
  }
  return sum;
}

/**
 * exact[p] = the exact reduced distance between query q and row ids[base + p], for the `count` positions p in
 * `positions`. Four rows at a time, each summed in the order of `reducedDistance` (so the values are the same),
 * the four independent sums hiding the floating-point add latency.
 */
export function exactBatch(s: SearchData, queries: Float32Array, q: number, ids: Int32Array, base: number, positions: Int32Array, count: number, exact: Float64Array): void {
  const { d, data: x } = s;
  const qo = q * d;
  let t = 0;
  if (s.metric !== 'cosine') {
    const euclidean = s.metric === 'euclidean';
    for (; t + 4 <= count; t += 4) {
      const a = ids[base + positions[t]] * d;
      const b = ids[base + positions[t + 1]] * d;
      const c = ids[base + positions[t + 2]] * d;
      const e = ids[base + positions[t + 3]] * d;
      let sa = 0;
      let sb = 0;
      let sc = 0;
      let se = 0;
      if (euclidean) {
        for (let j = 0; j < d; j++) {
          const v = queries[qo + j];
          const da = x[a + j] - v;
          const db = x[b + j] - v;
          const dc = x[c + j] - v;
          const de = x[e + j] - v;
          sa += da * da;
          sb += db * db;
          sc += dc * dc;
          se += de * de;
        }
      } else {
        for (let j = 0; j < d; j++) {
          const v = queries[qo + j];
          sa += Math.abs(x[a + j] - v);
          sb += Math.abs(x[b + j] - v);
          sc += Math.abs(x[c + j] - v);
          se += Math.abs(x[e + j] - v);
        }
      }
      exact[positions[t]] = sa;
      exact[positions[t + 1]] = sb;
      exact[positions[t + 2]] = sc;
      exact[positions[t + 3]] = se;
    }
  }
  for (; t < count; t++) exact[positions[t]] = exactReduced(s, queries, q, ids[base + positions[t]]);
}

/**
 * An upper bound on query q's k-th smallest exact reduced distance: the k-th smallest over the rows ids[base ..
 * base + count) and row `also` (−1: none), row `skip` left out (any k rows bound it so); +∞ when fewer than k
 * remain. `exact` holds count + 1 values, `positions` the numbers 0 .. count − 1.
 */
export function kthWithin(
  s: SearchData, queries: Float32Array, q: number, ids: Int32Array, base: number, count: number, also: number, skip: number, k: number, exact: Float64Array, positions: Int32Array,
): number {
  exactBatch(s, queries, q, ids, base, positions, count, exact);
  let m = count;
  for (let c = 0; c < count; c++) if (ids[base + c] === skip) exact[c] = Number.POSITIVE_INFINITY;
  if (also >= 0 && also !== skip) exact[m++] = exactReduced(s, queries, q, also);
  return k > 0 && k <= m ? exact.subarray(0, m).sort()[k - 1] : Number.POSITIVE_INFINITY;
}

/** The numbers 0 .. length − 1. */
export function identity(length: number): Int32Array {
  return Int32Array.from({ length }, (_, i) => i);
}

/** Cosine distance as scikit-learn computes it: zero vectors have distance 1, results clipped to [0, 2]. */
function cosineFrom(dot: number, nx: number, nq: number): number {
  if (nx === 0 || nq === 0) return 1;
  const v = 1 - dot / (nx * nq);
  return v < 0 ? 0 : v > 2 ? 2 : v;
}

/** Converts a reduced distance to the metric's distance. */
export function toDistance(metric: Metric, reduced: number): number {
  return metric === 'euclidean' ? Math.sqrt(reduced) : reduced;
}

/** Converts a distance to the reduced form compared by reducers. */
export function toReduced(metric: Metric, distance: number): number {
  return metric === 'euclidean' ? distance * distance : distance;
}

/** Streams the reduced distances of queries q0 .. q1 to every indexed row into `reducer`. */
export function scan(s: SearchData, queries: Float32Array, q0: number, q1: number, reducer: Reducer): void {
  if (s.sparse) scanSparse(s, s.sparse, queries, q0, q1, reducer);
  else scanDense(s, queries, q0, q1, reducer);
}

function scanSparse(s: SearchData, sp: SparseColumns, queries: Float32Array, q0: number, q1: number, reducer: Reducer): void {
  const { n, d } = s;
  const { shift, colPtr, rowIdx, values } = sp;
  const norms = s.rowNorms;
  let maxNorm = 0;
  for (let i = 0; i < n; i++) if (norms[i] > maxNorm) maxNorm = norms[i];
  const acc = new Float64Array(n);
  for (let q = q0; q < q1; q++) {
    const qo = q * d;
    let nq = 0;
    for (let j = 0; j < d; j++) {
      const v = queries[qo + j] - shift[j];
      if (v === 0) continue;
      nq += v * v;
      const end = colPtr[j + 1];
      for (let p = colPtr[j]; p < end; p++) acc[rowIdx[p]] += v * values[p];
    }
    if (reducer instanceof TopKReducer) {
      reducer.consumeSparse(q, norms, nq, acc, 1e-9 * (maxNorm + nq) + 1e-12);
      continue;
    }
    for (let i = 0; i < n; i++) {
      const r = norms[i] + nq - 2 * acc[i];
      acc[i] = r > 0 ? r : 0;
    }
    reducer.consume(q, 0, acc, 0, n, 1e-9 * (maxNorm + nq) + 1e-12, 0);
    acc.fill(0);
  }
}

function scanDense(s: SearchData, queries: Float32Array, q0: number, q1: number, reducer: Reducer): void {
  if (s.simd) return scanSimd(s, queries, q0, q1, reducer);
  const { n, d, metric } = s;
  const x = s.data;
  const tile = new Float64Array(QUERY_BLOCK * ROW_BLOCK);
  const qNorms = new Float64Array(QUERY_BLOCK);
  for (let qb = q0; qb < q1; qb += QUERY_BLOCK) {
    const qe = Math.min(q1, qb + QUERY_BLOCK);
    const nqb = qe - qb;
    if (metric === 'cosine') {
      for (let qq = 0; qq < nqb; qq++) {
        const qo = (qb + qq) * d;
        let sum = 0;
        for (let j = 0; j < d; j++) sum += queries[qo + j] * queries[qo + j];
        qNorms[qq] = Math.sqrt(sum);
      }
    }
    for (let t0 = 0; t0 < n; t0 += ROW_BLOCK) {
      const t1 = Math.min(n, t0 + ROW_BLOCK);
      const len = t1 - t0;
      for (let t = t0; t < t1; t++) {
        const xo = t * d;
        const col = t - t0;
        for (let qq = 0; qq < nqb; qq++) {
          const qo = (qb + qq) * d;
          let sum = 0;
          if (metric === 'euclidean') {
            for (let j = 0; j < d; j++) {
              const diff = x[xo + j] - queries[qo + j];
              sum += diff * diff;
            }
          } else if (metric === 'manhattan') {
            for (let j = 0; j < d; j++) sum += Math.abs(x[xo + j] - queries[qo + j]);
          } else {
            for (let j = 0; j < d; j++) sum += x[xo + j] * queries[qo + j];
            sum = cosineFrom(sum, s.rowNorms[t], qNorms[qq]);
          }
          tile[qq * ROW_BLOCK + col] = sum;
        }
      }
      for (let qq = 0; qq < nqb; qq++) reducer.consume(qb + qq, t0, tile, qq * ROW_BLOCK, len, 0, 0);
    }
  }
}

/** The dense scan through the WebAssembly SIMD kernel: same blocking, float32 results with a relative error bound. */
function scanSimd(s: SearchData, queries: Float32Array, q0: number, q1: number, reducer: Reducer): void {
  const kernel = SimdScan.for(s, QUERY_BLOCK, ROW_BLOCK);
  const tile = new Float64Array(QUERY_BLOCK * ROW_BLOCK);
  const rel = kernel.relativeError;
  for (let qb = q0; qb < q1; qb += QUERY_BLOCK) {
    const nqb = Math.min(q1, qb + QUERY_BLOCK) - qb;
    kernel.loadQueries(queries, qb, nqb, s.d);
    for (let t0 = 0; t0 < s.n; t0 += ROW_BLOCK) {
      const len = Math.min(s.n, t0 + ROW_BLOCK) - t0;
      if (reducer instanceof TopKReducer) {
        for (let qq = 0; qq < nqb; qq++) reducer.consumeKernel(qb + qq, t0, len, kernel, qq);
        continue;
      }
      for (let qq = 0; qq < nqb; qq++) kernel.run(qq, t0, len, tile, qq * ROW_BLOCK);
      for (let qq = 0; qq < nqb; qq++) reducer.consume(qb + qq, t0, tile, qq * ROW_BLOCK, len, 1e-30, rel);
    }
  }
}

/**
 * k nearest rows per query by a bounded max-heap on (distance, index), ties broken by the lower index. With
 * `excludeSelf`, query q never returns row q (queries are the indexed rows themselves). Approximate distances
 * (tol > 0) keep `slack` extra candidates that are re-checked exactly in `finish`.
 */
export class TopKReducer implements Reducer {
  private readonly cap: number;
  private readonly heapDist: Float64Array;
  private readonly heapIdx: Int32Array;
  private readonly size: Int32Array;
  /**
   * Per query, the largest value the heap takes while it is not yet full (+∞ unless `seedFrom` set it): an upper
   * bound on the float32 value of every row within a known upper bound of the cap-th exact distance.
   */
  private readonly ceiling: Float64Array;
  /** seedFrom's scratch: exact distances to a predecessor's candidates, and the positions 0 .. cap − 1. */
  private readonly seedExact: Float64Array;
  private readonly seedPositions: Int32Array;
  private approximate = false;
  /** Largest error terms seen: a value v stands for an exact distance ≥ (v − absTol) / (1 + relTol). */
  private absTol = 0;
  private relTol = 0;

  constructor(
    private readonly s: SearchData,
    private readonly queries: Float32Array,
    private readonly q0: number,
    q1: number,
    private readonly k: number,
    private readonly excludeSelf: boolean,
  ) {
    const available = s.n - (excludeSelf ? 1 : 0);
    this.cap = Math.min(available, s.sparse || s.simd ? k + Math.max(8, k >> 2) : k);
    this.heapDist = new Float64Array((q1 - q0) * this.cap);
    this.heapIdx = new Int32Array((q1 - q0) * this.cap);
    this.size = new Int32Array(q1 - q0);
    this.ceiling = new Float64Array(q1 - q0).fill(Number.POSITIVE_INFINITY);
    this.seedExact = new Float64Array(this.cap + 1);
    this.seedPositions = identity(this.cap);
  }

  consume(q: number, t0: number, dist: Float64Array, off: number, len: number, tol: number, relTol: number): void {
    if (tol > 0 || relTol > 0) {
      this.approximate = true;
      if (tol > this.absTol) this.absTol = tol;
      if (relTol > this.relTol) this.relTol = relTol;
    }
    const cap = this.cap;
    if (cap === 0) return;
    const base = (q - this.q0) * cap;
    const hd = this.heapDist;
    const hi = this.heapIdx;
    let size = this.size[q - this.q0];
    let worst = size === cap ? hd[base] : this.ceiling[q - this.q0];
    const skip = this.excludeSelf ? q : -1;
    for (let c = 0; c < len; c++) {
      const v = dist[off + c];
      if (v > worst) continue;
      const idx = t0 + c;
      if (idx === skip) continue;
      size = offer(hd, hi, base, cap, size, v, idx);
      if (size === cap) worst = hd[base];
    }
    this.size[q - this.q0] = size;
  }

  /**
   * The SIMD scan's heap test fused with the kernel: query slot `slot` against the kernel's rows t0 .. t0+len (row
   * order[t] for position t when the kernel holds the rows reordered), where only the groups of rows holding a
   * value ≤ the heap's current top (rounded up to float32) reach this loop.
   */
  consumeKernel(q: number, t0: number, len: number, kernel: SimdScan, slot: number, order: Int32Array | null = null): void {
    const relTol = kernel.relativeError;
    this.approximate = true;
    if (this.absTol < 1e-30) this.absTol = 1e-30;
    if (relTol > this.relTol) this.relTol = relTol;
    const cap = this.cap;
    if (cap === 0) return;
    const base = (q - this.q0) * cap;
    const hd = this.heapDist;
    const hi = this.heapIdx;
    let size = this.size[q - this.q0];
    let worst = size === cap ? hd[base] : this.ceiling[q - this.q0];
    // A float32 value v ≤ worst is ≤ this float32 threshold too, so the kernel drops no row the heap would take.
    const listed = kernel.runBelow(slot, t0, len, Math.fround(worst * (1 + 2 ** -22)));
    const values = kernel.results;
    const groups = kernel.groups;
    const skip = this.excludeSelf ? q : -1;
    for (let g = 0; g < listed; g++) {
      const first = groups[g] * ROW_GROUP;
      const end = Math.min(len, first + ROW_GROUP);
      for (let c = first; c < end; c++) {
        const v = values[c];
        if (v > worst) continue;
        const idx = order ? order[t0 + c] : t0 + c;
        if (idx === skip) continue;
        size = offer(hd, hi, base, cap, size, v, idx);
        if (size === cap) worst = hd[base];
      }
    }
    this.size[q - this.q0] = size;
  }

  /** The largest value query q's heap can still take (its ceiling until it is full); a larger one is skipped. */
  admits(q: number): number {
    const cap = this.cap;
    return this.size[q - this.q0] === cap && cap > 0 ? this.heapDist[(q - this.q0) * cap] : this.ceiling[q - this.q0];
  }

  /**
   * Caps query q's heap (still empty) from the candidates of an already searched query p, before q's own search:
   * the k-th smallest exact distance from q to p's candidates (and to p itself when the queries are the indexed
   * rows, q left out) bounds q's k-th distance from above (`kthWithin`). Values above that bound's float32 image
   * (relative error `relTol`, absolute 1e-30, as the kernel's) are then never taken; every row within the bound
   * still is, so a heap that does not fill holds all of q's possible answers, and one that fills keeps the scan's
   * rule (rows left out have values at or above its top).
   */
  seedFrom(p: number, q: number, relTol: number): void {
    const cap = this.cap;
    if (cap === 0) return;
    const self = this.excludeSelf;
    const bound = kthWithin(this.s, this.queries, q, this.heapIdx, (p - this.q0) * cap, this.size[p - this.q0], self ? p : -1, self ? q : -1, this.k, this.seedExact, this.seedPositions);
    if (bound < Number.POSITIVE_INFINITY) this.ceiling[q - this.q0] = (bound * (1 + relTol) + 1e-30) * (1 + 1e-12);
  }



  /**
   * The sparse scan's last step fused with the heap test in one pass: distances ‖x‖² + ‖q‖² − 2·x·q from the
   * accumulated dot products (approximate, re-checked in `finish`), resetting the accumulator for the next query.
   */
  consumeSparse(q: number, norms: Float64Array, nq: number, acc: Float64Array, tol: number): void {
    this.approximate = true;
    if (tol > this.absTol) this.absTol = tol;
    const cap = this.cap;
    const n = acc.length;
    if (cap === 0) {
      acc.fill(0);
      return;
    }
    const base = (q - this.q0) * cap;
    const hd = this.heapDist;
    const hi = this.heapIdx;
    let size = this.size[q - this.q0];
    let worst = size === cap ? hd[base] : Number.POSITIVE_INFINITY;
    const skip = this.excludeSelf ? q : -1;
    for (let i = 0; i < n; i++) {
      let v = norms[i] + nq - 2 * acc[i];
      acc[i] = 0;
      if (v > worst || i === skip) continue;
      if (v < 0) v = 0;
      size = offer(hd, hi, base, cap, size, v, i);
      if (size === cap) worst = hd[base];
    }
    this.size[q - this.q0] = size;
  }

  /** Fills the heaps from the projection search (exact distances) instead of a scan. */
  fromProjection(searcher: ProjectionSearcher, q1: number): void {
    const budget = Math.max(256, Math.ceil(this.s.n / SCAN_FALLBACK_FRACTION));
    for (let q = this.q0; q < q1; q++) {
      const size = searcher.knn(q, this.cap, this.excludeSelf ? q : -1, this.heapDist, this.heapIdx, (q - this.q0) * this.cap, budget);
      this.size[q - this.q0] = Math.max(0, size);
      if (size < 0) scan(this.s, this.queries, q, q + 1, this);
    }
  }

  /** Writes the k nearest of each query, sorted by (distance, index), as metric distances. */
  finish(outIdx: Int32Array, outDist: Float64Array, outOffset: number): void {
    const { cap, k } = this;
    const count = this.size.length;
    const order = new Int32Array(cap);
    const exact = new Float64Array(cap);
    const wanted = new Int32Array(cap);
    const { absTol, relTol } = this;
    for (let r = 0; r < count; r++) {
      const base = r * cap;
      const size = this.size[r];
      const hd = this.heapDist;
      const hi = this.heapIdx;
      for (let c = 0; c < size; c++) order[c] = c;
      sortByValue(order, size, hd, hi, base);
      // The k-th exact distance is at most `reach` (the k smallest approximate values' upper bound); a candidate
      // whose lower bound passes it cannot be among the k nearest and needs no exact distance.
      const reach = size >= k && this.approximate ? (hd[base + order[k - 1]] + absTol) / (1 - relTol) : Number.POSITIVE_INFINITY;
      let pending = 0;
      for (let c = 0; c < size; c++) {
        const v = hd[base + c];
        if (!this.approximate) exact[c] = v;
        else if ((v - absTol) / (1 + relTol) > reach) exact[c] = Number.POSITIVE_INFINITY;
        else wanted[pending++] = c;
      }
      exactBatch(this.s, this.queries, this.q0 + r, hi, base, wanted, pending, exact);
      sortByValue(order, size, exact, hi, base, 0);
      let live: ArrayLike<number> = order;
      let ids: ArrayLike<number> = hi;
      let idBase = base;
      let found = size;
      // Rows left out of a full heap had values ≥ its top; if one of them may still be within the k-th exact
      // distance (a flood of float32 near-ties), the query is answered by an exact scan instead.
      if (this.approximate && size === cap && size > k && exact[live[k - 1]] >= (this.heapDist[base] - this.absTol) / (1 + this.relTol)) {
        ids = this.rescan(this.q0 + r, exact[live[k - 1]], exact);
        live = Array.from({ length: ids.length }, (_, c) => c);
        idBase = 0;
        found = ids.length;
      }
      const o = (outOffset + r) * k;
      for (let c = 0; c < k; c++) {
        if (c < found) {
          outIdx[o + c] = ids[idBase + live[c]];
          outDist[o + c] = toDistance(this.s.metric, exact[live[c]]);
        } else {
          outIdx[o + c] = -1;
          outDist[o + c] = Number.POSITIVE_INFINITY;
        }
      }
    }
  }

  /**
   * The k nearest rows of query q, ascending (ties: lower row), from a second scan that keeps every row whose
   * approximate value can stand for an exact distance ≤ kth; fills `exact` with their exact distances.
   */
  private rescan(q: number, kth: number, exact: Float64Array): Int32Array {
    const near: number[] = [];
    const collect: Reducer = {
      consume: (_q, t0, dist, off, len, tol, relTol) => {
        const limit = kth * (1 + relTol) + tol;
        for (let c = 0; c < len; c++) if (dist[off + c] <= limit && !(this.excludeSelf && t0 + c === q)) near.push(t0 + c);
      },
    };
    scan(this.s, this.queries, q, q + 1, collect);
    const values = new Map(near.map((i) => [i, exactReduced(this.s, this.queries, q, i)]));
    const ranked = near.sort((a, b) => (values.get(a) as number) - (values.get(b) as number) || a - b).slice(0, this.k);
    ranked.forEach((i, t) => (exact[t] = values.get(i) as number));
    return Int32Array.from(ranked);
  }
}

/**
 * Sorts order[0 .. size) (positions of candidates) by (values[valueBase + p], ids[base + p]) ascending; insertion
 * sort, the lists being short (k plus slack).
 */
function sortByValue(order: Int32Array, size: number, values: Float64Array, ids: Int32Array, base: number, valueBase = base): void {
  for (let a = 1; a < size; a++) {
    const p = order[a];
    const v = values[valueBase + p];
    const id = ids[base + p];
    let b = a - 1;
    while (b >= 0) {
      const o = order[b];
      const w = values[valueBase + o];
      if (w < v || (w === v && ids[base + o] < id)) break;
      order[b + 1] = o;
      b--;
    }
    order[b + 1] = p;
  }
}

/**
 * Offers (v, idx) to a max-heap of `size` entries holding at most `cap`: pushed while there is room, else it replaces
 * the top when smaller (ties: lower index). Returns the new size; the heap's top is then hd[base].
 */
export function offer(hd: Float64Array, hi: Int32Array, base: number, cap: number, size: number, v: number, idx: number): number {
  if (size < cap) {
    siftUp(hd, hi, base, size, v, idx);
    return size + 1;
  }
  replaceTop(hd, hi, base, cap, v, idx);
  return size;
}

export function siftUp(hd: Float64Array, hi: Int32Array, base: number, pos: number, v: number, idx: number): void {
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    const pv = hd[base + parent];
    if (pv < v || (pv === v && hi[base + parent] < idx)) {
      hd[base + pos] = pv;
      hi[base + pos] = hi[base + parent];
      pos = parent;
    } else break;
  }
  hd[base + pos] = v;
  hi[base + pos] = idx;
}

/** Replaces the heap maximum when (v, idx) is smaller, restoring the max-heap order. */
export function replaceTop(hd: Float64Array, hi: Int32Array, base: number, size: number, v: number, idx: number): void {
  if (v > hd[base] || (v === hd[base] && idx >= hi[base])) return;
  let pos = 0;
  for (;;) {
    const l = 2 * pos + 1;
    if (l >= size) break;
    let child = l;
    const r = l + 1;
    if (r < size && (hd[base + r] > hd[base + l] || (hd[base + r] === hd[base + l] && hi[base + r] > hi[base + l]))) child = r;
    const cv = hd[base + child];
    if (cv > v || (cv === v && hi[base + child] > idx)) {
      hd[base + pos] = cv;
      hi[base + pos] = hi[base + child];
      pos = child;
    } else break;
  }
  hd[base + pos] = v;
  hi[base + pos] = idx;
}

/** Decides d ≤ r for a reduced distance that may carry an error of `tol`, re-checking borderline cases exactly. */
function withinRadius(s: SearchData, queries: Float32Array, q: number, i: number, v: number, r: number, tol: number): boolean {
  if (v < r - tol) return true;
  if (v > r + tol) return false;
  return tol === 0 ? v <= r : exactReduced(s, queries, q, i) <= r;
}

/** Number of indexed rows within the radius (inclusive, the query itself counted when it is indexed). */
export class RadiusCountReducer implements Reducer {
  readonly counts: Int32Array;
  constructor(
    private readonly s: SearchData,
    private readonly queries: Float32Array,
    private readonly q0: number,
    q1: number,
    private readonly reducedRadius: number,
  ) {
    this.counts = new Int32Array(q1 - q0);
  }

  consume(q: number, t0: number, dist: Float64Array, off: number, len: number, absTol: number, relTol: number): void {
    const r = this.reducedRadius;
    const tol = absTol + 2 * relTol * r;
    let count = 0;
    for (let c = 0; c < len; c++) {
      const v = dist[off + c];
      if (v <= r + tol && withinRadius(this.s, this.queries, q, t0 + c, v, r, tol)) count++;
    }
    this.counts[q - this.q0] += count;
  }

  take(q: number): void {
    this.counts[q - this.q0]++;
  }
}

/**
 * Links every query (an indexed row) to the indexed rows within the radius, through a union-find over all rows;
 * `edges()` returns (row, root) pairs that preserve the connectivity found, so partial results merge.
 */
export class RadiusComponentsReducer implements Reducer {
  private readonly parent: Int32Array;
  private readonly touched: Uint8Array;
  constructor(
    private readonly s: SearchData,
    private readonly queries: Float32Array,
    private readonly reducedRadius: number,
  ) {
    this.parent = new Int32Array(s.n).map((_, i) => i);
    this.touched = new Uint8Array(s.n);
  }

  consume(q: number, t0: number, dist: Float64Array, off: number, len: number, absTol: number, relTol: number): void {
    const r = this.reducedRadius;
    const tol = absTol + 2 * relTol * r;
    for (let c = 0; c < len; c++) {
      const v = dist[off + c];
      const i = t0 + c;
      if (i === q || v > r + tol || !withinRadius(this.s, this.queries, q, i, v, r, tol)) continue;
      this.take(q, i);
    }
  }

  take(q: number, i: number): void {
    if (i === q) return;
    union(this.parent, q, i);
    this.touched[q] = 1;
    this.touched[i] = 1;
  }

  edges(): Int32Array {
    const out: number[] = [];
    for (let i = 0; i < this.parent.length; i++) {
      if (!this.touched[i]) continue;
      const root = find(this.parent, i);
      if (root !== i) out.push(i, root);
    }
    return Int32Array.from(out);
  }
}

export function find(parent: Int32Array, i: number): number {
  let root = i;
  while (parent[root] !== root) root = parent[root];
  while (parent[i] !== root) {
    const next = parent[i];
    parent[i] = root;
    i = next;
  }
  return root;
}

export function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra === rb) return;
  if (ra < rb) parent[rb] = ra;
  else parent[ra] = rb;
}

/** Smallest `values[i]` over indexed rows i within the radius, or -1 when there are none. */
export class RadiusMinValueReducer implements Reducer {
  readonly mins: Int32Array;
  constructor(
    private readonly s: SearchData,
    private readonly queries: Float32Array,
    private readonly q0: number,
    q1: number,
    private readonly reducedRadius: number,
    private readonly values: Int32Array,
  ) {
    this.mins = new Int32Array(q1 - q0).fill(-1);
  }

  consume(q: number, t0: number, dist: Float64Array, off: number, len: number, absTol: number, relTol: number): void {
    const r = this.reducedRadius;
    const tol = absTol + 2 * relTol * r;
    let best = this.mins[q - this.q0];
    for (let c = 0; c < len; c++) {
      const v = dist[off + c];
      if (v > r + tol) continue;
      const value = this.values[t0 + c];
      if ((best === -1 || value < best) && withinRadius(this.s, this.queries, q, t0 + c, v, r, tol)) best = value;
    }
    this.mins[q - this.q0] = best;
  }

  take(q: number, i: number): void {
    const value = this.values[i];
    const best = this.mins[q - this.q0];
    if (best === -1 || value < best) this.mins[q - this.q0] = value;
  }
}

// Exact k-NN and radius search over a cluster partition with triangle-inequality bounds, after Fukunaga & Narendra,
// "A branch and bound algorithm for computing k-nearest neighbors" (IEEE Trans. Computers, 1975): a cluster with
// centre c and radius r holds no row nearer to q than d(q, c) − r, and a row x of it none nearer than
// |d(q, c) − d(x, c)|. A k-NN query visits the clusters whose lower bound is within its current k-th distance,
// nearest centre first (near rows fill its heap early), and stops when no cluster left can qualify. Rows that pass the bounds are measured in float32 by the WebAssembly SIMD kernel (when
// available) and the possible answers get the exact float64 distance, so answers equal the brute force's, ties
// included.
// Partition: top-down bisection (a 2-means hyperplane fitted on a sample of each node) down to LEAF_ROWS rows.
// Euclidean centre distances come from ‖q−c‖² = ‖q‖² + ‖c‖² − 2·q·c over the query's columns that differ from the
// column modes (few on one-hot data), with the rounding of that expansion added to the slack of every bound.
// Runs of √C consecutive clusters (neighbours in the bisection order) form groups with their own centre and radius:
// a query measures the groups first and a group's clusters only when the group's bound is reached.
// Build O(n·d·log(n / LEAF_ROWS)); a query costs O((√C + expanded clusters)·nnz(q) + visited·d) for C clusters,
// O(n·d) at worst.

import { exactBatch, offer, reducedDistance, replaceTop, siftUp, type SearchData } from './kernels.js';
import { ROW_GROUP, SimdScan, SparseDots, type KernelRows } from './simd.js';

export interface Clusters {
  count: number;
  /** Cluster c holds positions start[c] .. start[c+1]. */
  start: Int32Array;
  /** Position → row; a cluster's positions are ordered by increasing distance to its centre. */
  order: Int32Array;
  /** Rows of the largest cluster. */
  maxSize: number;
  /** Filter k-NN candidates with the WebAssembly SIMD kernel. */
  simd: boolean;
  /** The kernel's rows in cluster order, shared with helper threads (set on the copy of the index sent to them). */
  kernel?: KernelRows;
  /** Distance of the row at each position to its cluster's centre. */
  spread: Float64Array;
  /** count × d centres (the clusters' means). */
  centers: Float64Array;
  /** Column-major d × count centres minus the column modes, and their squared norms (euclidean centre distances). */
  shiftedT: Float64Array;
  shiftedNorms: Float64Array;
  /** Groups of consecutive clusters: group g holds clusters groupFirst[g] .. groupFirst[g+1]. */
  groups: number;
  groupFirst: Int32Array;
  groupCenters: Float64Array;
  groupShiftedT: Float64Array;
  groupShiftedNorms: Float64Array;
  /** Largest distance of a group's rows to its centre. */
  groupRadius: Float64Array;
  /** Largest squared norm of a shifted centre (scales the rounding slack of the expansion). */
  maxShiftedNorm: number;
  /** Mean work per query measured at build (ClusterSearcher.work), for the worker decision. */
  probeWork: number;
  /** The column modes subtracted above. */
  shift: Float64Array;
  radius: Float64Array;
  /** Largest radius (scales the rounding slack). */
  maxRadius: number;
}

/** Largest cluster (bisection stops below it); measured on NSL-KDD, 64–128 balance centre and row distances. */
const LEAF_ROWS = 128;
/** A float64 JavaScript row distance costs about this many WebAssembly SIMD float32 ones (measured, d = 77–185). */
export const SIMD_SPEEDUP = 15;
/** Rows of a node that fit its 2-means split. */
const SPLIT_SAMPLE = 96;
const SPLIT_ITERATIONS = 3;

type Metric = 'euclidean' | 'manhattan';

function distanceTo(metric: Metric, data: Float32Array, off: number, center: Float64Array, coff: number, d: number): number {
  let sum = 0;
  if (metric === 'manhattan') {
    for (let j = 0; j < d; j++) sum += Math.abs(data[off + j] - center[coff + j]);
    return sum;
  }
  for (let j = 0; j < d; j++) {
    const diff = data[off + j] - center[coff + j];
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/** The rows minus the column modes, row-major sparse (CSR), with their squared norms: the partition works on these. */
interface ShiftedRows {
  d: number;
  ptr: Int32Array;
  col: Int32Array;
  val: Float64Array;
  norm2: Float64Array;
}

function shiftedRows(data: Float32Array, n: number, d: number, shift: Float64Array): ShiftedRows {
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let nnz = 0;
    for (let j = 0; j < d; j++) if (data[i * d + j] !== shift[j]) nnz++;
    ptr[i + 1] = ptr[i] + nnz;
  }
  const col = new Int32Array(ptr[n]);
  const val = new Float64Array(ptr[n]);
  const norm2 = new Float64Array(n);
  for (let i = 0, p = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j] - shift[j];
      if (v === 0) continue;
      col[p] = j;
      val[p++] = v;
      norm2[i] += v * v;
    }
  }
  return { d, ptr, col, val, norm2 };
}

function dot(x: ShiftedRows, row: number, w: Float64Array): number {
  let sum = 0;
  for (let p = x.ptr[row]; p < x.ptr[row + 1]; p++) sum += x.val[p] * w[x.col[p]];
  return sum;
}

/**
 * The centre (mean) of rows rows[a..b) into centre `c` of `centers` (c · d .. c · d + d, the shift added back), its
 * shifted coordinates into column c of `shiftedT` (d × `columns`) and their squared norm into shiftedNorms[c].
 */
function centreOf(x: ShiftedRows, rows: Int32Array, a: number, b: number, shift: Float64Array, centers: Float64Array, c: number, shiftedT: Float64Array, columns: number, shiftedNorms: Float64Array): void {
  const d = x.d;
  const co = c * d;
  for (let p = a; p < b; p++) for (let q = x.ptr[rows[p]]; q < x.ptr[rows[p] + 1]; q++) centers[co + x.col[q]] += x.val[q];
  for (let j = 0; j < d; j++) {
    const v = centers[co + j] / (b - a);
    shiftedT[j * columns + c] = v;
    shiftedNorms[c] += v * v;
    centers[co + j] = v + shift[j];
  }
}

/** Clusters of the n × d rows; `shift` holds the column modes (any per-column constants stay exact). */
export function buildClusters(data: Float32Array, n: number, d: number, metric: Metric, shift: Float64Array, simd: boolean): Clusters {
  const x = shiftedRows(data, n, d, shift);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const key = new Float64Array(n);
  const bounds: number[] = [];
  const stack: number[] = [0, n];
  while (stack.length > 0) {
    const b = stack.pop() as number;
    const a = stack.pop() as number;
    const mid = b - a > LEAF_ROWS ? split(x, perm, key, a, b) : -1;
    if (mid < 0) bounds.push(a);
    else stack.push(mid, b, a, mid);
  }
  const count = bounds.length;
  const start = Int32Array.from([...bounds, n]);
  const centers = new Float64Array(count * d);
  const radius = new Float64Array(count);
  const spread = new Float64Array(n);
  const order = new Int32Array(n);
  const shiftedT = new Float64Array(d * count);
  const shiftedNorms = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    const a = start[c];
    const b = start[c + 1];
    const co = c * d;
    centreOf(x, perm, a, b, shift, centers, c, shiftedT, count, shiftedNorms);
    for (let p = a; p < b; p++) key[p] = distanceTo(metric, data, perm[p] * d, centers, co, d);
    const members = Array.from({ length: b - a }, (_, t) => a + t).sort((u, v) => key[u] - key[v] || perm[u] - perm[v]);
    for (let t = 0; t < members.length; t++) {
      order[a + t] = perm[members[t]];
      spread[a + t] = key[members[t]];
    }
    radius[c] = spread[b - 1];
  }
  const maxRadius = radius.reduce((u, v) => Math.max(u, v), 0);
  let maxSize = 0;
  for (let c = 0; c < count; c++) maxSize = Math.max(maxSize, start[c + 1] - start[c]);
  const per = Math.max(1, Math.round(Math.sqrt(count)));
  const groups = Math.ceil(count / per);
  const groupFirst = Int32Array.from({ length: groups + 1 }, (_, g) => Math.min(count, g * per));
  const groupCenters = new Float64Array(groups * d);
  const groupShiftedT = new Float64Array(d * groups);
  const groupShiftedNorms = new Float64Array(groups);
  const groupRadius = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    const a = start[groupFirst[g]];
    const b = start[groupFirst[g + 1]];
    const go = g * d;
    centreOf(x, order, a, b, shift, groupCenters, g, groupShiftedT, groups, groupShiftedNorms);
    for (let p = a; p < b; p++) groupRadius[g] = Math.max(groupRadius[g], distanceTo(metric, data, order[p] * d, groupCenters, go, d));
  }
  const maxShiftedNorm = Math.max(shiftedNorms.reduce((u, v) => Math.max(u, v), 0), groupShiftedNorms.reduce((u, v) => Math.max(u, v), 0));
  return {
    count, start, order, spread, centers, shiftedT, shiftedNorms, shift, radius, maxRadius, maxSize, simd,
    groups, groupFirst, groupCenters, groupShiftedT, groupShiftedNorms, groupRadius, maxShiftedNorm, probeWork: 0,
  };
}

/** ‖x_row − c‖² through the expansion (partition only: rounding just moves a row across a split). */
function squaredGap(x: ShiftedRows, row: number, c: Float64Array, cNorm2: number): number {
  return x.norm2[row] + cNorm2 - 2 * dot(x, row, c);
}

function norm2(v: Float64Array): number {
  let sum = 0;
  for (const e of v) sum += e * e;
  return sum;
}

/** The row farthest from `c`, or -1 when every row equals it. */
function farthest(x: ShiftedRows, rows: Int32Array, c: Float64Array): number {
  const cNorm2 = norm2(c);
  let best = -1;
  let bestGap = 0;
  for (const row of rows) {
    const gap = squaredGap(x, row, c, cNorm2);
    if (gap > bestGap) {
      bestGap = gap;
      best = row;
    }
  }
  return best;
}

function setRow(x: ShiftedRows, row: number, out: Float64Array): void {
  out.fill(0);
  for (let p = x.ptr[row]; p < x.ptr[row + 1]; p++) out[x.col[p]] = x.val[p];
}

/**
 * Splits positions a .. b of perm in two by the hyperplane between two 2-means centres fitted on a sample (seeded
 * with the sampled row farthest from the mean and the row farthest from that); returns the split position, or -1
 * when all rows of the node are equal. Lopsided splits are kept: they peel off small tight groups and outliers,
 * which prune better than balanced cuts (measured on NSL-KDD: 0.21 vs 0.56 ms per query).
 */
function split(x: ShiftedRows, perm: Int32Array, key: Float64Array, a: number, b: number): number {
  const d = x.d;
  const m = b - a;
  const full = perm.subarray(a, b);
  const sample = m <= SPLIT_SAMPLE ? full : Int32Array.from({ length: SPLIT_SAMPLE }, (_, t) => perm[a + Math.floor((t * m) / SPLIT_SAMPLE)]);
  const c1 = new Float64Array(d);
  const c2 = new Float64Array(d);
  for (const row of sample) for (let p = x.ptr[row]; p < x.ptr[row + 1]; p++) c1[x.col[p]] += x.val[p] / sample.length;
  const seed1 = farthest(x, sample, c1);
  setRow(x, seed1 < 0 ? sample[0] : seed1, c1);
  let seed2 = farthest(x, sample, c1);
  if (seed2 < 0) seed2 = farthest(x, full, c1);
  if (seed2 < 0) return -1;
  setRow(x, seed2, c2);
  for (let it = 0; it < SPLIT_ITERATIONS; it++) {
    const norm1 = norm2(c1);
    const norm2nd = norm2(c2);
    const s1 = new Float64Array(d);
    const s2 = new Float64Array(d);
    let k1 = 0;
    let k2 = 0;
    for (const row of sample) {
      const near1 = squaredGap(x, row, c1, norm1) <= squaredGap(x, row, c2, norm2nd);
      const sum = near1 ? s1 : s2;
      if (near1) k1++;
      else k2++;
      for (let p = x.ptr[row]; p < x.ptr[row + 1]; p++) sum[x.col[p]] += x.val[p];
    }
    if (k1 === 0 || k2 === 0) break;
    for (let j = 0; j < d; j++) {
      c1[j] = s1[j] / k1;
      c2[j] = s2[j] / k2;
    }
  }
  // x is nearer c2 when x·(c2 − c1) > (‖c2‖² − ‖c1‖²) / 2.
  const offset = (norm2(c2) - norm2(c1)) / 2;
  for (let j = 0; j < d; j++) c2[j] -= c1[j];
  for (let p = a; p < b; p++) key[p] = dot(x, perm[p], c2) - offset;
  let lo = a;
  let hi = b - 1;
  while (lo <= hi) {
    if (key[lo] <= 0) lo++;
    else {
      swap(perm, key, lo, hi);
      hi--;
    }
  }
  if (lo > a && lo < b) return lo;
  // Every row fell on one side (rounding): split at the median of the projections instead.
  const byKey = Array.from({ length: m }, (_, t) => a + t).sort((u, v) => key[u] - key[v]);
  const rows = byKey.map((p) => perm[p]);
  perm.set(rows, a);
  return a + (m >> 1);
}

function swap(perm: Int32Array, key: Float64Array, x: number, y: number): void {
  const r = perm[x];
  perm[x] = perm[y];
  perm[y] = r;
  const k = key[x];
  key[x] = key[y];
  key[y] = k;
}

/**
 * Per-thread query state over one cluster index. Distances are euclidean or manhattan; heaps hold reduced ones.
 * With SIMD, k-NN candidates that pass the bounds are first measured in float32 over whole runs of a cluster (rows
 * copied in cluster order, columns by decreasing variance so that a group of rows beyond the heap's threshold stops
 * after a quarter or half of them) and only those that can enter the heap, allowing for the float32 error, get the exact
 * float64 distance.
 */
export class ClusterSearcher {
  private readonly gap: Float64Array;
  private readonly groupGap: Float64Array;
  /** Min-heap of groups (id −1 − g) and clusters (id c) on their lower bounds. */
  private readonly heapKey: Float64Array;
  private readonly heapId: Int32Array;
  private heapSize = 0;
  /** Min-heap of clusters taken from the first heap (lower bound within the k-th distance) on their centre distance. */
  private readonly readyKey: Float64Array;
  private readonly readyId: Int32Array;
  private readySize = 0;
  /** The query's columns that differ from the modes, their shifted values, and its shifted squared norm. */
  private readonly qCols: Int32Array;
  private readonly qVals: Float64Array;
  private qNnz = 0;
  private qNorm = 0;
  private queryRow = 0;
  private readonly picked: Int32Array;
  private readonly metric: Metric;
  private readonly d: number;
  /** Float32 kernel over the rows in position order, columns by decreasing variance (early exits), or null. */
  private readonly simd: SimdScan | null;
  /** With SIMD (euclidean): the shifted centres of clusters and groups in WebAssembly memory, for centre distances. */
  private readonly clusterDots: SparseDots | null;
  private readonly groupDots: SparseDots | null;
  private readonly approx: Float64Array;
  private readonly search: SearchData;
  /** knn's candidate heap on float32 values, and their exact values; positions of those that get an exact value. */
  private candDist = new Float64Array(0);
  private candRow = new Int32Array(0);
  private candWanted = new Int32Array(0);
  private qTol = 0;
  /**
   * Cost of the last knn call in exact row distances: centre distances (d(q, c) costs nnz(q) + 10 of d row
   * elements), rows measured in float32 (1 / SIMD_SPEEDUP each) and exact distances.
   */
  work = 0;

  constructor(
    private readonly c: Clusters,
    s: SearchData,
    private readonly queries: Float32Array,
  ) {
    this.metric = s.metric as Metric;
    this.d = s.d;
    this.gap = new Float64Array(c.count);
    this.groupGap = new Float64Array(c.groups);
    this.heapKey = new Float64Array(c.count + c.groups);
    this.heapId = new Int32Array(c.count + c.groups);
    this.readyKey = new Float64Array(c.count);
    this.readyId = new Int32Array(c.count);
    this.qCols = new Int32Array(s.d);
    this.qVals = new Float64Array(s.d);
    this.picked = new Int32Array(c.count);
    this.simd = c.simd ? SimdScan.ordered(s, c.order, c.maxSize, c.kernel) : null;
    const dots = c.simd && this.metric === 'euclidean';
    this.clusterDots = dots ? SparseDots.for(c.shiftedT, s.d, c.count) : null;
    this.groupDots = dots ? SparseDots.for(c.groupShiftedT, s.d, c.groups) : null;
    this.approx = new Float64Array(this.simd ? c.maxSize : 0);
    this.search = s;
  }

  /** Per centre of a level, the cost of d(q, c) in exact row distances. */
  private centreCost(): number {
    return this.metric === 'euclidean' ? (this.qNnz + 10) / this.d : 1;
  }

  /**
   * The query's non-mode columns, its distances to the group centres, the rounding slack of every bound, and the
   * groups' lower bounds d(q, g) − R into the heap. Sets `work` to the cost.
   */
  private prepare(q: number): void {
    const c = this.c;
    const d = this.d;
    const qs = this.queries;
    const qo = q * d;
    this.queryRow = q;
    let qScale = 0;
    let nnz = 0;
    let qNorm = 0;
    for (let j = 0; j < d; j++) {
      qScale += Math.abs(qs[qo + j]);
      const v = qs[qo + j] - c.shift[j];
      if (v === 0) continue;
      this.qCols[nnz] = j;
      this.qVals[nnz++] = v;
      qNorm += v * v;
    }
    this.qNnz = nnz;
    this.qNorm = qNorm;
    this.clusterDots?.load(this.qCols, this.qVals, nnz);
    this.groupDots?.load(this.qCols, this.qVals, nnz);
    this.centreGaps(this.groupGap, 0, c.groups, c.groups, c.groupShiftedT, c.groupShiftedNorms, c.groupCenters, this.groupDots);
    // A cluster's centre lies within its group's radius of the group's centre, so no gap exceeds g + R.
    let maxGap = 0;
    for (let g = 0; g < c.groups; g++) {
      maxGap = Math.max(maxGap, this.groupGap[g] + c.groupRadius[g]);
      this.heapKey[g] = this.groupGap[g] - c.groupRadius[g];
      this.heapId[g] = -1 - g;
    }
    this.heapSize = c.groups;
    this.readySize = 0;
    for (let i = (c.groups >> 1) - 1; i >= 0; i--) siftDown(this.heapKey, this.heapId, this.heapSize, i);
    // Rounding of the expansion: |error of g²| ≤ 1e-13 · (‖q‖² + ‖c‖² + 1), so g moves by at most its root.
    const slack = this.metric === 'euclidean' ? Math.sqrt(1e-13 * (qNorm + c.maxShiftedNorm + 1)) : 0;
    this.qTol = slack + 1e-9 * (maxGap + qScale + c.maxRadius + 1);
    this.work = c.groups * this.centreCost();
  }

  /** Distances of the query to centres c0 .. c1 of a level (count centres) into out[c0 .. c1). */
  private centreGaps(
    out: Float64Array, c0: number, c1: number, count: number, shiftedT: Float64Array, norms: Float64Array, centers: Float64Array, dots: SparseDots | null,
  ): void {
    if (this.metric !== 'euclidean') {
      for (let c = c0; c < c1; c++) out[c] = distanceTo(this.metric, this.queries, this.queryRow * this.d, centers, c * this.d, this.d);
      return;
    }
    if (c1 <= c0) return;
    if (dots) {
      const dot = dots.run(c0, c1);
      for (let c = c0; c < c1; c++) {
        const g2 = this.qNorm + norms[c] - 2 * dot[c - c0];
        out[c] = g2 > 0 ? Math.sqrt(g2) : 0;
      }
      return;
    }
    out.fill(0, c0, c1);
    for (let t = 0; t < this.qNnz; t++) {
      const v = this.qVals[t];
      const col = this.qCols[t] * count;
      for (let c = c0; c < c1; c++) out[c] += v * shiftedT[col + c];
    }
    for (let c = c0; c < c1; c++) {
      const g2 = this.qNorm + norms[c] - 2 * out[c];
      out[c] = g2 > 0 ? Math.sqrt(g2) : 0;
    }
  }

  /**
   * The next cluster whose lower bound d(q, c) − r is within `bound`, nearest centre first, or -1 when none is left
   * (near rows fill the heap of candidates early, so its bound tightens sooner than in lower-bound order). Clusters
   * and groups leave the lower-bound heap only up to the nearest ready centre distance: no cluster still there can
   * have a nearer centre (its centre distance is at least its lower bound, a group's clusters' at least the group's).
   * Groups taken are opened (their clusters measured and queued). Radius searches, whose bound is fixed, take
   * clusters in lower-bound order instead (`nearestFirst` false).
   */
  private nextCluster(bound: number, nearestFirst = true): number {
    const c = this.c;
    for (;;) {
      const limit = this.readySize > 0 && this.readyKey[0] < bound ? this.readyKey[0] : bound;
      if (this.heapSize > 0 && this.heapKey[0] <= limit) {
        const id = this.heapId[0];
        this.heapSize = popMin(this.heapKey, this.heapId, this.heapSize);
        if (id >= 0) {
          if (!nearestFirst) return id;
          this.readySize = pushMin(this.readyKey, this.readyId, this.readySize, this.gap[id], id);
          continue;
        }
        const g = -1 - id;
        const c0 = c.groupFirst[g];
        const c1 = c.groupFirst[g + 1];
        this.centreGaps(this.gap, c0, c1, c.count, c.shiftedT, c.shiftedNorms, c.centers, this.clusterDots);
        this.work += (c1 - c0) * this.centreCost();
        for (let cl = c0; cl < c1; cl++) {
          const key = this.gap[cl] - c.radius[cl];
          if (key <= bound) this.heapSize = pushMin(this.heapKey, this.heapId, this.heapSize, key, cl);
        }
        continue;
      }
      if (this.readySize === 0) return -1;
      const id = this.readyId[0];
      this.readySize = popMin(this.readyKey, this.readyId, this.readySize);
      if (this.gap[id] - c.radius[id] <= bound) return id;
    }
  }


  private exact(pos: number, q: number): number {
    return reducedDistance(this.metric, this.search.data, this.c.order[pos] * this.d, this.queries, q * this.d, this.d);
  }

  /**
   * The k nearest rows of query q, skipping row `skip`, into hd/hi[base ..) as (reduced distance, row) pairs,
   * ascending (ties: lower row). Returns their number, or -1 once the work passed `budget` (a query far from every cluster,
   * where a scan is cheaper). With SIMD the search keeps k + slack candidates on float32 values and re-checks them
   * exactly at the end; when a row it left out may still be within the k-th exact distance (float32 near-ties), the
   * query is searched again with exact values in the heap.
   */
  knn(q: number, k: number, skip: number, hd: Float64Array, hi: Int32Array, base: number, budget: number): number {
    const simd = this.simd;
    if (!simd) return this.knnExact(q, k, skip, hd, hi, base, budget);
    const cap = k + Math.max(4, k >> 2);
    if (this.candDist.length < cap) {
      this.candDist = new Float64Array(cap);
      this.candRow = new Int32Array(cap);
      this.candWanted = new Int32Array(cap);
    }
    const ad = this.candDist;
    const ai = this.candRow;
    this.prepare(q);
    const { start, order, spread } = this.c;
    const euclidean = this.metric === 'euclidean';
    const values = simd.results;
    const groups = simd.groups;
    simd.loadQueries(this.queries, q, 1, this.d);
    const inflate = 1 + 2 * simd.relativeError;
    const filterCost = 1 / SIMD_SPEEDUP;
    let size = 0;
    let bound = Number.POSITIVE_INFINITY;
    for (let c = this.nextCluster(bound); c >= 0; c = this.nextCluster(bound)) {
      const g = this.gap[c];
      const first = firstAtLeast(spread, start[c], start[c + 1], g - bound);
      const end = firstAbove(spread, first, start[c + 1], g + bound);
      if (end === first) continue;
      // Only groups of rows with a float32 value that can enter the heap come back from the kernel.
      const listed = simd.runBelow(0, first, end - first, size < cap ? Number.POSITIVE_INFINITY : Math.fround(ad[0] * (1 + 2 ** -22)));
      this.work += (end - first) * filterCost;
      if (this.work > budget) return -1;
      for (let t = 0; t < listed; t++) {
        const groupEnd = Math.min(end, first + (groups[t] + 1) * ROW_GROUP);
        for (let p = first + groups[t] * ROW_GROUP; p < groupEnd; p++) {
          const s = spread[p];
          if (s - g > bound || g - s > bound) continue;
          const row = order[p];
          if (row === skip) continue;
          const v = values[p - first];
          if (size < cap) siftUp(ad, ai, 0, size++, v, row);
          else if (v < ad[0] || (v === ad[0] && row < ai[0])) replaceTop(ad, ai, 0, cap, v, row);
          else continue;
          // Every kept row is within ad[0] · inflate (exactly); rows beyond cannot displace them.
          if (size === cap) bound = (euclidean ? Math.sqrt(ad[0] * inflate) : ad[0] * inflate) + this.qTol;
        }
      }
    }
    const top = ad[0];
    this.work += size;
    const kept = Math.min(k, size);
    // The k-th smallest float32 value bounds the k-th exact distance from above (with its error); a candidate whose
    // value stands for a larger exact distance cannot be among the k nearest and gets no exact value.
    sortPairs(ad, ai, 0, size);
    const reach = ad[kept - 1] * inflate + 1e-30;
    const wanted = this.candWanted;
    let pending = 0;
    for (let c = 0; c < size; c++) {
      if (ad[c] / inflate - 1e-30 > reach) ad[c] = Number.POSITIVE_INFINITY;
      else wanted[pending++] = c;
    }
    exactBatch(this.search, this.queries, q, ai, 0, wanted, pending, ad);
    sortPairs(ad, ai, 0, size);
    // Rows left out had float32 values ≥ the final heap top, hence exact ones ≥ top / inflate.
    if (size === cap && !(ad[kept - 1] < top / inflate)) return this.knnExact(q, k, skip, hd, hi, base, budget);
    for (let c = 0; c < kept; c++) {
      hd[base + c] = ad[c];
      hi[base + c] = ai[c];
    }
    return kept;
  }

  /** knn with exact values in a max-heap at hd/hi[base ..), sorted at the end; the float32 kernel only filters. */
  private knnExact(q: number, k: number, skip: number, hd: Float64Array, hi: Int32Array, base: number, budget: number): number {
    this.prepare(q);
    const { start, order, spread } = this.c;
    const euclidean = this.metric === 'euclidean';
    const simd = this.simd;
    const approx = this.approx;
    if (simd) simd.loadQueries(this.queries, q, 1, this.d);
    // A float32 value above this cannot belong to a row within `bound` (relative error, with margin).
    const inflate = simd ? 1 + 2 * simd.relativeError : 1;
    const filterCost = 1 / SIMD_SPEEDUP;
    let size = 0;
    let bound = Number.POSITIVE_INFINITY;
    let cutoff = Number.POSITIVE_INFINITY;
    for (let c = this.nextCluster(bound); c >= 0; c = this.nextCluster(bound)) {
      const g = this.gap[c];
      // Rows with spread outside g ± bound cannot qualify; spreads ascend, so find the run by binary search.
      let p = size === k ? firstAtLeast(spread, start[c], start[c + 1], g - bound) : start[c];
      const end = size === k ? firstAbove(spread, p, start[c + 1], g + bound) : start[c + 1];
      const first = p;
      const filtered = simd !== null && size === k && end > p;
      if (filtered) simd.run(0, p, end - p, approx, 0);
      for (; p < end; p++) {
        const s = spread[p];
        if (s - g > bound) break;
        if (g - s > bound) continue;
        const row = order[p];
        if (row === skip) continue;
        if (filtered) {
          this.work += filterCost;
          if (approx[p - first] > cutoff) continue;
        }
        if (++this.work > budget) return -1;
        const exact = this.exact(p, q);
        size = offer(hd, hi, base, k, size, exact, row);
        if (size === k) {
          bound = (euclidean ? Math.sqrt(hd[base]) : hd[base]) + this.qTol;
          cutoff = (euclidean ? bound * bound : bound) * inflate + 1e-30;
        }
      }
    }
    sortPairs(hd, hi, base, size);
    return size;
  }

  /**
   * Calls visit(row) for every row within reduced radius r of query q (inclusive). A cluster within the radius as a
   * whole is taken without distances; in the others, the run of rows that pass the bounds goes through the float32
   * kernel and only rows within its error of the radius get an exact distance. Returns false without visiting when
   * the work would pass `budget` (a scan is cheaper).
   */
  radius(q: number, r: number, budget: number, visit: (row: number) => void): boolean {
    this.prepare(q);
    const { start, order, spread, radius } = this.c;
    const reach = this.metric === 'euclidean' ? Math.sqrt(r) : r;
    const bound = reach + this.qTol;
    const inside = reach - this.qTol;
    const simd = this.simd;
    const rowCost = simd ? 1 / SIMD_SPEEDUP : 1;
    const picked = this.picked;
    let count = 0;
    for (let c = this.nextCluster(bound, false); c >= 0; c = this.nextCluster(bound, false)) {
      const g = this.gap[c];
      picked[count++] = c;
      if (g + radius[c] <= inside) this.work += (start[c + 1] - start[c]) / SIMD_SPEEDUP;
      else this.work += (firstAbove(spread, start[c], start[c + 1], g + bound) - firstAtLeast(spread, start[c], start[c + 1], g - bound)) * rowCost;
      if (this.work > budget) return false;
    }
    if (simd) simd.loadQueries(this.queries, q, 1, this.d);
    const approx = this.approx;
    const surelyIn = r * (1 - 2 * (simd?.relativeError ?? 0)) - 1e-30;
    const surelyOut = r * (1 + 2 * (simd?.relativeError ?? 0)) + 1e-30;
    for (let t = 0; t < count; t++) {
      const c = picked[t];
      const g = this.gap[c];
      if (g + radius[c] <= inside) {
        for (let p = start[c]; p < start[c + 1]; p++) visit(order[p]);
        continue;
      }
      const first = firstAtLeast(spread, start[c], start[c + 1], g - bound);
      const end = firstAbove(spread, first, start[c + 1], g + bound);
      if (simd && end > first) simd.run(0, first, end - first, approx, 0);
      for (let p = first; p < end; p++) {
        if (simd) {
          const v = approx[p - first];
          if (v > surelyOut) continue;
          if (v < surelyIn) {
            visit(order[p]);
            continue;
          }
        }
        if (this.exact(p, q) <= r) visit(order[p]);
      }
    }
    return true;
  }
}

/** Pushes (key, id) on the min-heap keys/ids of `size` entries; returns the new size. */
function pushMin(keys: Float64Array, ids: Int32Array, size: number, key: number, id: number): number {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (keys[parent] <= key) break;
    keys[i] = keys[parent];
    ids[i] = ids[parent];
    i = parent;
  }
  keys[i] = key;
  ids[i] = id;
  return size + 1;
}

/** Removes the minimum of the min-heap keys/ids of `size` (> 0) entries; returns the new size. */
function popMin(keys: Float64Array, ids: Int32Array, size: number): number {
  const last = size - 1;
  if (last > 0) {
    keys[0] = keys[last];
    ids[0] = ids[last];
    siftDown(keys, ids, last, 0);
  }
  return last;
}

function siftDown(keys: Float64Array, ids: Int32Array, size: number, i: number): void {
  const key = keys[i];
  const id = ids[i];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && keys[child + 1] < keys[child]) child++;
    if (keys[child] >= key) break;
    keys[i] = keys[child];
    ids[i] = ids[child];
    i = child;
  }
  keys[i] = key;
  ids[i] = id;
}

/** Sorts the (value, row) pairs at base .. base+size by value, then row, by insertion (a few dozen pairs). */
function sortPairs(values: Float64Array, rows: Int32Array, base: number, size: number): void {
  for (let c = 1; c < size; c++) {
    const v = values[base + c];
    const row = rows[base + c];
    let t = c;
    for (; t > 0 && (values[base + t - 1] > v || (values[base + t - 1] === v && rows[base + t - 1] > row)); t--) {
      values[base + t] = values[base + t - 1];
      rows[base + t] = rows[base + t - 1];
    }
    values[base + t] = v;
    rows[base + t] = row;
  }
}

/** First position in a .. b (ascending values) whose value is > x, or b. */
function firstAbove(values: Float64Array, a: number, b: number, x: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position in a .. b (ascending values) whose value is ≥ x, or b. */
function firstAtLeast(values: Float64Array, a: number, b: number, x: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

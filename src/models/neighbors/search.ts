// Exact k-nearest-neighbour and radius search over a fixed set of rows, shared by knn, lof and dbscan (and usable by
// explainers: "nearest normal neighbours"). Three exact strategies, chosen by measured cost (see build):
// - dense brute force in cache-sized blocks through a WebAssembly SIMD kernel (simd.ts; float32, candidates
//   re-checked in float64), or in JavaScript float64 where SIMD is missing and for cosine;
// - the sparse mode-shifted euclidean scan (kernels.ts), which wins on one-hot data such as NSL-KDD;
// - a sorted principal-projection index with lower bounds (projection.ts), used without SIMD.
// Above CLUSTER_MIN_ROWS the cluster index (clusters.ts) is tried; where it does not pay, SIMD k-NN runs in
// sorted-projection order (sorted.ts). Bit-identical query rows are searched once. With the native addon built
// (native.ts), dense k-NN searches without the cluster index run in C instead, with the same answers.
// Large searches run on this thread plus helper worker_threads over SharedArrayBuffers (parallel.ts).
// Cost: O(queries × rows × features) dense, O(queries × (rows + Σ nnz of the query's columns)) sparse.

import { takeRows, type Matrix } from '../../frame/matrix.js';
import { defaultThreads } from '../../util/worker-pool.js';
import { ClusterSearcher, SIMD_SPEEDUP, buildClusters, type Clusters } from './clusters.js';
import { nativeNeighbors, type NativeIndex } from './native.js';
import { SearchHelpers } from './parallel.js';
import { ProjectionSearcher, buildProjection } from './projection.js';
import { SimdScan, simdAvailable } from './simd.js';
import { buildSorted, sortedKnn } from './sorted.js';
import {
  RadiusComponentsReducer,
  RadiusCountReducer,
  RadiusMinValueReducer,
  TopKReducer,
  find,
  toDistance,
  scan,
  toReduced,
  union,
  type Metric,
  type Reducer,
  type SearchData,
} from './kernels.js';

export type { Metric } from './kernels.js';
export type SearchAlgorithm = 'auto' | 'dense' | 'sparse' | 'projection' | 'clusters';

export interface NeighborResult {
  k: number;
  /** rows × k indices into the indexed rows, nearest first (ties: lower index first). */
  indices: Int32Array;
  /** rows × k metric distances, ascending. */
  distances: Float64Array;
}

/**
 * Work (units as in `helperThreads`, ~2 ns each in one thread for both the SIMD scan and the cluster search) from which
 * a search starts helper threads: a helper costs ~0.1 s wall and ~0.25 s CPU to start and warm up (UNSW-NB15), so
 * it pays on an idle core from ~0.4 s of one-thread work. With helpers still alive from the previous search, posting
 * the job costs ~1 ms, and WARM_PARALLEL_WORK applies.
 */
const PARALLEL_WORK = 2e8;
const WARM_PARALLEL_WORK = 1e7;
/**
 * Helpers are started before the cluster index is built when a scan's self-query work reaches this many times
 * PARALLEL_WORK: the index cuts a scan's work 19× on UNSW-NB15 and 35× on NSL-KDD, so such a search will likely use
 * them, and their start (~55–80 ms) then overlaps the build.
 */
const PRESTART_SCAN_RATIO = 20;
/**
 * Work (queries × rows × features) from which the native search runs on `threads` threads: a thread costs ~0.1 ms to
 * start, and CIC-IDS2017's LOF fit (3.4·10⁸) took 5 ms on one. Unlike the worker helpers (~0.1 s to start), they
 * start even when no core is spare: queries are handed out 64 at a time, so a thread that gets no core takes fewer.
 */
const NATIVE_PARALLEL_WORK = 5e7;
/** Without SIMD, the sparse path pays when the mode-shifted density is below this. */
const SPARSE_DENSITY = 0.3;
/** With SIMD, the sparse path pays when dense work / expected sparse work reaches this (see build). */
const SPARSE_RATIO = 12;
/** Chunks of queries per thread in a parallel search (a shared counter hands them out; the last one sets the tail). */
const CHUNKS_PER_THREAD = 32;
/** Queries are searched once per distinct row when the distinct rows are at most this share of them. */
const DISTINCT_SHARE = 0.9;
/** Without SIMD, from this many rows the projection index beats the JavaScript dense scan (10× on UNSW-NB15). */
const PROJECTION_MIN_ROWS = 512;
/** From this many rows the cluster index is built and tried (below, a scan is cheap anyway). */
const CLUSTER_MIN_ROWS = 4096;
/**
 * A scan computes a row distance this many times faster than the cluster search's exact float64 loop (SIMD
 * kernel: ~15×; the sparse scan on NSL-KDD about the same); a cluster query whose work passes n / this gives up for
 * a scan.
 */
const SCAN_SPEEDUP = SIMD_SPEEDUP;
/** Indexed rows self-queried at build to measure how hard the cluster bounds prune. */
const CLUSTER_PROBES = 48;
const PROBE_K = 10;
/** The largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

export type SearchTask =
  | { op: 'knn'; q0: number; q1: number; k: number; excludeSelf: boolean }
  | { op: 'count'; q0: number; q1: number; radius: number }
  | { op: 'components'; q0: number; q1: number; radius: number }
  | { op: 'min-value'; q0: number; q1: number; radius: number };

export interface SearchShared {
  search: SearchData;
  queries: Float32Array;
  /** knn outputs (rows × k), written in place by workers. */
  outIdx?: Int32Array;
  outDist?: Float64Array;
  values?: Int32Array;
}

/** Runs one task in this thread; the worker module calls the same function. */
export function runTask(shared: SearchShared, task: SearchTask): Int32Array | null {
  const { search, queries } = shared;
  const { q0, q1 } = task;
  const searcher = search.projection ? new ProjectionSearcher(search, search.projection, queries) : null;
  const radius2 = task.op === 'knn' ? 0 : toReduced(search.metric, task.radius);
  if (search.clusters) return clusterTask(shared, task, radius2);
  switch (task.op) {
    case 'knn': {
      const reducer = new TopKReducer(search, queries, q0, q1, task.k, task.excludeSelf);
      if (searcher) reducer.fromProjection(searcher, q1);
      else if (search.sorted) sortedKnn(search, search.sorted, queries, q0, q1, reducer);
      else scan(search, queries, q0, q1, reducer);
      reducer.finish(shared.outIdx as Int32Array, shared.outDist as Float64Array, q0);
      return null;
    }
    case 'count': {
      const reducer = new RadiusCountReducer(search, queries, q0, q1, radius2);
      if (searcher) for (let q = q0; q < q1; q++) searcher.radius(q, radius2, () => reducer.take(q));
      else scan(search, queries, q0, q1, reducer);
      return reducer.counts;
    }
    case 'components': {
      const reducer = new RadiusComponentsReducer(search, queries, radius2);
      if (searcher) for (let q = q0; q < q1; q++) searcher.radius(q, radius2, (row) => reducer.take(q, row));
      else scan(search, queries, q0, q1, reducer);
      return reducer.edges();
    }
    case 'min-value': {
      const reducer = new RadiusMinValueReducer(search, queries, q0, q1, radius2, shared.values as Int32Array);
      if (searcher) for (let q = q0; q < q1; q++) searcher.radius(q, radius2, (row) => reducer.take(q, row));
      else scan(search, queries, q0, q1, reducer);
      return reducer.mins;
    }
  }
}

/** A task through the cluster index; a query whose bounds prune too little is scanned instead. */
function clusterTask(shared: SearchShared, task: SearchTask, radius2: number): Int32Array | null {
  const { search, queries } = shared;
  const { q0, q1 } = task;
  const searcher = new ClusterSearcher(search.clusters as Clusters, search, queries);
  const budget = Math.ceil(search.n / scanSpeedup(search));
  const scanOne = (q: number, reducer: Reducer): void => scan(search, queries, q, q + 1, reducer);
  switch (task.op) {
    case 'knn': {
      const { k, excludeSelf } = task;
      const outIdx = shared.outIdx as Int32Array;
      const outDist = shared.outDist as Float64Array;
      const kk = Math.min(k, search.n - (excludeSelf ? 1 : 0));
      const hd = new Float64Array(kk);
      const hi = new Int32Array(kk);
      for (let q = q0; q < q1; q++) {
        const size = kk === 0 ? 0 : searcher.knn(q, kk, excludeSelf ? q : -1, hd, hi, 0, budget);
        if (size < 0) {
          const reducer = new TopKReducer(search, queries, q, q + 1, k, excludeSelf);
          scanOne(q, reducer);
          reducer.finish(outIdx, outDist, q);
          continue;
        }
        for (let c = 0; c < k; c++) {
          outIdx[q * k + c] = c < size ? hi[c] : -1;
          outDist[q * k + c] = c < size ? toDistance(search.metric, hd[c]) : Number.POSITIVE_INFINITY;
        }
      }
      return null;
    }
    case 'count': {
      const reducer = new RadiusCountReducer(search, queries, q0, q1, radius2);
      for (let q = q0; q < q1; q++) if (!searcher.radius(q, radius2, budget, () => reducer.take(q))) scanOne(q, reducer);
      return reducer.counts;
    }
    case 'components': {
      const reducer = new RadiusComponentsReducer(search, queries, radius2);
      for (let q = q0; q < q1; q++) if (!searcher.radius(q, radius2, budget, (row) => reducer.take(q, row))) scanOne(q, reducer);
      return reducer.edges();
    }
    case 'min-value': {
      const reducer = new RadiusMinValueReducer(search, queries, q0, q1, radius2, shared.values as Int32Array);
      for (let q = q0; q < q1; q++) if (!searcher.radius(q, radius2, budget, (row) => reducer.take(q, row))) scanOne(q, reducer);
      return reducer.mins;
    }
  }
}

/** Row distances a scan computes per exact float64 one: the JavaScript dense scan is that same loop. */
function scanSpeedup(s: SearchData): number {
  return s.simd || s.sparse ? SCAN_SPEEDUP : 1;
}

/**
 * The cluster index's mean work per query (in exact row distances, see ClusterSearcher.work), measured by
 * self-queries of a few spread-out indexed rows. It repays itself below 0.7× a scan's n / scanSpeedup, a margin for
 * the error of that model (measured within ±30% on NSL-KDD, UNSW-NB15 and CIC-IDS2017).
 */
function probeClusters(s: SearchData, clusters: Clusters): number {
  // Its kernel copy (per thread, cached with the cluster order) serves this thread's later searches.
  const searcher = new ClusterSearcher(clusters, s, s.data);
  const k = Math.min(PROBE_K, s.n - 1);
  const hd = new Float64Array(k);
  const hi = new Int32Array(k);
  let work = 0;
  const probes = Math.min(CLUSTER_PROBES, s.n);
  for (let t = 0; t < probes; t++) {
    const q = Math.floor(((t + 0.5) * s.n) / probes);
    searcher.knn(q, k, q, hd, hi, 0, s.n);
    work += searcher.work;
  }
  return work / probes;
}

/**
 * Whether every value is small enough for the float32 kernels: d squared differences of values within ±limit stay
 * below a quarter of float32's maximum, so no float32 distance overflows to Infinity (3.4e38 in a feature did, and
 * such rows got no neighbours). One pass, no allocation.
 */
function float32Safe(data: Float32Array, d: number): boolean {
  const limit = Math.sqrt(F32_MAX / (16 * Math.max(1, d)));
  for (let i = 0; i < data.length; i++) if (data[i] > limit || data[i] < -limit) return false;
  return true;
}

function usesFloat32(s: SearchData): boolean {
  return s.simd || s.clusters?.simd === true;
}

/** `src` in shared memory: itself when it is there already, else a copy (with `shared` false: `src`). */
function sharedCopy<T extends Float32Array | Float64Array | Int32Array>(src: T, shared: boolean): T {
  if (!shared || src.buffer instanceof SharedArrayBuffer) return src;
  const ctor = src.constructor as new (buf: SharedArrayBuffer) => T;
  const out = new ctor(new SharedArrayBuffer(src.byteLength));
  out.set(src as never);
  return out;
}

/**
 * A copy of rows to index, in shared memory: models keep their training rows this way, so that a parallel search's
 * helper threads read those rows instead of a second copy.
 */
export function sharedRows(data: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(data.byteLength));
  out.set(data);
  return out;
}

export interface IndexOptions {
  algorithm?: SearchAlgorithm;
  /** Worker threads for large searches (default: FLOWSENTRY_THREADS or the number of cores). */
  threads?: number;
  /** Use the WebAssembly SIMD kernel for dense scans when available (default true). */
  simd?: boolean;
  /** Work (queries × rows × features) from which searches use workers; tests lower it to exercise the parallel path. */
  parallelWork?: number;
  /** Dense SIMD k-NN searches run in the native addon when it is built (default true; native.ts). */
  native?: boolean;
}

export class NeighborIndex {
  private shared: SearchData | undefined;
  /** The rows as the native addon holds them, prepared by the first native search. */
  private nativeIndex: NativeIndex | undefined;
  /** SIMD k-NN runs in sorted-projection order (sorted.ts), built by the first k-NN search (radius searches scan). */
  private sortedPays = false;

  private constructor(
    readonly search: SearchData,
    private readonly threads: number,
    private readonly parallelWork: number,
    private readonly helpers: SearchHelpers,
    /** Threads from the default (not the `threads` option): helpers work only while a core is spare. */
    private readonly spareCoresOnly: boolean,
    private readonly useNative: boolean,
  ) {}

  get rows(): number {
    return this.search.n;
  }

  get algorithm(): 'dense' | 'sparse' | 'projection' | 'clusters' {
    return this.search.clusters ? 'clusters' : this.search.projection ? 'projection' : this.search.sparse ? 'sparse' : 'dense';
  }

  /** Indexes the rows of X (the data is referenced, not copied, until a parallel search needs shared memory). */
  static build(X: Matrix, metric: Metric, options: IndexOptions = {}): NeighborIndex {
    const { rows: n, cols: d, data } = X;
    let rowNorms = new Float64Array(0);
    let sparse: SearchData['sparse'] = null;
    const algorithm = options.algorithm ?? 'auto';
    if (metric === 'cosine') {
      rowNorms = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += data[i * d + j] * data[i * d + j];
        rowNorms[i] = Math.sqrt(s);
      }
    }
    const wantClusters = metric !== 'cosine' && (algorithm === 'clusters' || (algorithm === 'auto' && n >= CLUSTER_MIN_ROWS));
    const threads = options.threads ?? defaultThreads();
    const parallelWork = options.parallelWork ?? PARALLEL_WORK;
    const helpers = new SearchHelpers();
    if (wantClusters && threads > 1 && (n * n * d) / 8 >= PRESTART_SCAN_RATIO * parallelWork) helpers.start(threads - 1);
    // Only the sparse decision needs the modes of columns without a majority value when no cluster index is built,
    // and a lower bound on their non-mode counts (n / 2) settles it unless the sparse path might pay.
    const majorityOnly = !wantClusters && algorithm === 'auto';
    let { modes, nonMode }: { modes: Float64Array; nonMode: Float64Array } = { modes: new Float64Array(d), nonMode: new Float64Array(d) };
    let safe: boolean;
    const loaded = options.native !== false && majorityOnly && metric === 'euclidean' && n > 0 ? nativeNeighbors() : null;
    if (loaded && 'neighbors' in loaded) {
      // The same majority modes and float32 check in one native pass (cold JavaScript took ~5 ms on CIC-IDS2017).
      safe = loaded.neighbors.majorityModes(data, n, d, modes, nonMode);
    } else {
      safe = float32Safe(data, d);
      if (metric === 'euclidean' && n > 0 && (wantClusters || algorithm === 'sparse' || algorithm === 'auto')) ({ modes, nonMode } = columnModes(X, majorityOnly));
    }
    // With the native addon loaded for this (dense, cluster-free) index, the WebAssembly module is compiled on first
    // use instead of here (~1.5 ms cold, and its k-NN searches never need it): Node >= 20.19 always has WebAssembly SIMD.
    const nativeLoaded = loaded !== null && 'neighbors' in loaded;
    const simdUsable = options.simd !== false && safe && (nativeLoaded ? process.env.FLOWSENTRY_NO_SIMD !== '1' : simdAvailable());
    if (metric === 'euclidean' && (algorithm === 'sparse' || algorithm === 'auto') && n > 0) {
      // Expected work per query: the sparse path scatters Σ_j P(q_j ≠ mode) · nnz_j and makes 3 passes over n;
      // the SIMD dense scan does n · d lanes. Break-even measured at a ratio of ~12 (NSL-KDD 15.6: sparse 2× faster;
      // UNSW-NB15 8.7: SIMD 2× faster); without SIMD, sparse pays below SPARSE_DENSITY.
      const decide = ({ nnz, scatter }: { nnz: number; scatter: number }): boolean =>
        simdUsable ? (n * d) / (scatter + 3 * n) >= SPARSE_RATIO : nnz / data.length <= SPARSE_DENSITY;
      let counts = nonModeCounts(nonMode, n);
      let pays = decide(counts);
      if (pays && modes.some(Number.isNaN)) {
        ({ modes, nonMode } = columnModes(X, false));
        counts = nonModeCounts(nonMode, n);
        pays = decide(counts);
      }
      const shift = modes;
      const nnz = counts.nnz;
      if (algorithm === 'sparse' || pays) {
        sparse = toSparseColumns(X, shift, nnz);
        rowNorms = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < d; j++) {
            const v = data[i * d + j] - shift[j];
            if (v !== 0) s += v * v;
          }
          rowNorms[i] = s;
        }
      }
    }
    const simd = metric !== 'cosine' && !sparse && simdUsable;
    const search: SearchData = { n, d, metric, data, rowNorms, sparse, projection: null, clusters: null, sorted: null, simd };
    if (wantClusters) {
      const clusters = buildClusters(data, n, d, metric as 'euclidean' | 'manhattan', modes, simdUsable);
      clusters.probeWork = probeClusters(search, clusters);
      if (algorithm === 'clusters' || clusters.probeWork < (0.7 * n) / scanSpeedup(search)) search.clusters = clusters;
    }
    // Measured: with SIMD the dense scan matches or beats the projection index on NSL-KDD, UNSW-NB15 and
    // CIC-IDS2017, so it is chosen automatically only without SIMD (and when the cluster index does not pay).
    if (metric === 'euclidean' && (algorithm === 'projection' || (algorithm === 'auto' && !sparse && !simd && !search.clusters && n >= PROJECTION_MIN_ROWS))) {
      search.projection = buildProjection(data, n, d);
    }
    const index = new NeighborIndex(search, threads, parallelWork, helpers, options.threads === undefined, options.native !== false);
    index.sortedPays = simd && !search.clusters && algorithm === 'auto';
    return index;
  }

  /**
   * The k nearest indexed rows of each query row. With `queries` omitted, searches the indexed rows themselves and
   * leaves each row out of its own answer (scikit-learn's kneighbors(X=None)).
   */
  async kneighbors(queries: Matrix | undefined, k: number): Promise<NeighborResult> {
    // The native search answers every query row itself (an identical row costs it little: its bound starts from the
    // previous row's answer, and queries go in coordinate order).
    const native = this.nativeKnn(queries, k);
    if (native) return native;
    // Identical query rows get identical answers (each query's search depends on its row only): search each once.
    const distinct = queries ? distinctRows(queries) : null;
    if (queries && distinct && distinct.count <= DISTINCT_SHARE * queries.rows) {
      const once = await this.searchKnn(takeRows(queries, distinct.first.subarray(0, distinct.count)), k);
      const indices = new Int32Array(queries.rows * k);
      const distances = new Float64Array(queries.rows * k);
      for (let q = 0; q < queries.rows; q++) {
        const from = distinct.slot[q] * k;
        indices.set(once.indices.subarray(from, from + k), q * k);
        distances.set(once.distances.subarray(from, from + k), q * k);
      }
      return { k, indices, distances };
    }
    return this.searchKnn(queries, k);
  }

  private async searchKnn(queries: Matrix | undefined, k: number): Promise<NeighborResult> {
    const excludeSelf = queries === undefined;
    const nq = queries ? queries.rows : this.search.n;
    const s = this.search;
    if (this.sortedPays && !s.sorted) s.sorted = buildSorted(s.data, s.n, s.d);
    const helpers = this.helperThreads(nq);
    const outIdx = sharedCopy(new Int32Array(nq * k), helpers > 0);
    const outDist = sharedCopy(new Float64Array(nq * k), helpers > 0);
    await this.run(queries, (q0, q1) => ({ op: 'knn', q0, q1, k, excludeSelf }), { outIdx, outDist }, helpers);
    return { k, indices: outIdx, distances: outDist };
  }

  /**
   * The dense SIMD k-NN search in the native addon (same answers), or null where it does not apply: native off or no
   * addon, the cluster or projection index, a sparse or cosine search, queries too large for float32 distances.
   */
  private nativeKnn(queries: Matrix | undefined, k: number): NeighborResult | null {
    const s = this.search;
    if (!this.useNative || !s.simd || s.clusters || s.projection || s.d === 0 || (queries && queries.cols !== s.d)) return null;
    const loaded = nativeNeighbors();
    if (!('neighbors' in loaded)) return null;
    const addon = loaded.neighbors;
    this.nativeIndex ??= addon.prepare(s.data, s.n, s.d, s.metric === 'manhattan');
    const nq = queries ? queries.rows : s.n;
    const work = nq * s.n * s.d;
    const threads = this.threads < 2 || work < NATIVE_PARALLEL_WORK ? 1 : this.threads;
    const indices = new Int32Array(nq * k);
    const distances = new Float64Array(nq * k);
    const done = addon.knn(this.nativeIndex, queries ? queries.data : s.data, nq, k, queries === undefined, threads, 'auto', indices, distances);
    return done ? { k, indices, distances } : null;
  }

  /** Number of indexed rows within `radius` of each query (inclusive; the row itself counts when queries are omitted). */
  async radiusCount(queries: Matrix | undefined, radius: number): Promise<Int32Array> {
    const nq = queries ? queries.rows : this.search.n;
    const parts = await this.run(queries, (q0, q1) => ({ op: 'count', q0, q1, radius }), {}, this.helperThreads(nq));
    return concat(parts, nq);
  }

  /** Connected components of the indexed rows under "within radius": component[i] is the smallest row in i's one. */
  async radiusComponents(radius: number): Promise<Int32Array> {
    const parts = await this.run(undefined, (q0, q1) => ({ op: 'components', q0, q1, radius }), {}, this.helperThreads(this.search.n));
    const parent = new Int32Array(this.search.n).map((_, i) => i);
    for (const edges of parts) for (let e = 0; e < edges.length; e += 2) union(parent, edges[e], edges[e + 1]);
    for (let i = 0; i < parent.length; i++) parent[i] = find(parent, i);
    return parent;
  }

  /** Smallest `values[i]` over indexed rows i within `radius` of each query, or -1 when none is. */
  async radiusMinValue(queries: Matrix | undefined, radius: number, values: Int32Array): Promise<Int32Array> {
    const nq = queries ? queries.rows : this.search.n;
    const helpers = this.helperThreads(nq);
    const parts = await this.run(queries, (q0, q1) => ({ op: 'min-value', q0, q1, radius }), { values: sharedCopy(values, helpers > 0) }, helpers);
    return concat(parts, nq);
  }

  /** Helper threads for a search of nq queries: threads − 1 from the work threshold on, otherwise none. */
  private helperThreads(nq: number): number {
    const { n, d, sparse, simd, clusters } = this.search;
    // Cluster searches: measured exact row elements per query (probeWork · d); scans: distance lanes.
    const work = clusters ? nq * clusters.probeWork * d : nq * n * (sparse ? 8 : simd ? d / 8 : d);
    const threshold = this.helpers.warm ? Math.min(this.parallelWork, WARM_PARALLEL_WORK) : this.parallelWork;
    return this.threads < 2 || work < threshold || nq < 2 * this.threads ? 0 : this.threads - 1;
  }

  private async run(
    queries: Matrix | undefined,
    makeTask: (q0: number, q1: number) => SearchTask,
    extra: Partial<SearchShared>,
    helpers: number,
  ): Promise<Int32Array[]> {
    const nq = queries ? queries.rows : this.search.n;
    if (queries && queries.cols !== this.search.d) throw new Error(`query width ${queries.cols} != indexed width ${this.search.d}`);
    if (queries && usesFloat32(this.search) && !float32Safe(queries.data, this.search.d)) {
      // Float32 distances of these queries could overflow: this batch runs the float64 kernels, on this thread.
      const s = this.search;
      const exact: SearchData = { ...s, simd: false, sorted: null, clusters: s.clusters ? { ...s.clusters, simd: false } : null };
      const out = runTask({ search: exact, queries: queries.data, ...extra }, makeTask(0, nq));
      return out ? [out] : [];
    }
    if (helpers === 0) {
      const shared: SearchShared = { search: this.search, queries: queries ? queries.data : this.search.data, ...extra };
      const out = runTask(shared, makeTask(0, nq));
      return out ? [out] : [];
    }
    // This thread searches too, over its own (warm) copy; helpers use the same rows in shared memory.
    const local: SearchShared = { search: this.search, queries: queries ? queries.data : this.search.data, ...extra };
    const job = {
      queries: queries ? sharedCopy(queries.data, true) : null,
      ...extra,
      task: makeTask(0, nq),
      chunks: Math.min(nq, this.threads * CHUNKS_PER_THREAD),
      spareCoresOnly: this.spareCoresOnly,
    };
    const results = await this.helpers.run(local, this.sharedSearch(), job, helpers);
    return results.filter((r): r is Int32Array => r !== null);
  }

  /** The index in SharedArrayBuffers, made once and reused by later parallel searches. */
  private sharedSearch(): SearchData {
    const s = this.search;
    if (!this.shared || (s.sorted && !this.shared.sorted)) {
      this.shared = {
        ...s,
        data: sharedCopy(s.data, true),
        rowNorms: sharedCopy(s.rowNorms, true),
        projection: s.projection && {
          m: s.projection.m,
          basis: sharedCopy(s.projection.basis, true),
          order: sharedCopy(s.projection.order, true),
          coords: sharedCopy(s.projection.coords, true),
          residual: sharedCopy(s.projection.residual, true),
          maxNorm2: s.projection.maxNorm2,
        },
        clusters: s.clusters && {
          ...s.clusters,
          kernel: s.clusters.simd ? SimdScan.ordered(s, s.clusters.order, s.clusters.maxSize).rows : undefined,
          start: sharedCopy(s.clusters.start, true),
          order: sharedCopy(s.clusters.order, true),
          spread: sharedCopy(s.clusters.spread, true),
          centers: sharedCopy(s.clusters.centers, true),
          radius: sharedCopy(s.clusters.radius, true),
        },
        sorted: s.sorted && {
          ...s.sorted,
          direction: sharedCopy(s.sorted.direction, true),
          order: sharedCopy(s.sorted.order, true),
          keys: sharedCopy(s.sorted.keys, true),
        },
        sparse: s.sparse && {
          shift: sharedCopy(s.sparse.shift, true),
          colPtr: sharedCopy(s.sparse.colPtr, true),
          rowIdx: sharedCopy(s.sparse.rowIdx, true),
          values: sharedCopy(s.sparse.values, true),
        },
      };
    }
    return this.shared;
  }
}

/**
 * Groups bit-identical rows: slot[r] numbers row r's group (in order of first appearance) and first[g] is the first
 * row of group g, for the `count` groups. Rows are hashed over their float32 bit patterns into an open-addressing
 * table and compared in full on a hash match.
 */
function distinctRows(X: Matrix): { count: number; slot: Int32Array; first: Int32Array } {
  const { rows: n, cols: d } = X;
  const bits = new Uint32Array(X.data.buffer, X.data.byteOffset, X.data.length);
  const size = 2 ** Math.ceil(Math.log2(2 * n + 1));
  const table = new Int32Array(size).fill(-1);
  const slot = new Int32Array(n);
  const first = new Int32Array(n);
  let count = 0;
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let h = 0x811c9dc5;
    for (let j = 0; j < d; j++) h = Math.imul(h ^ bits[o + j], 0x01000193);
    let t = (h >>> 0) & (size - 1);
    for (;;) {
      const g = table[t];
      if (g < 0) {
        table[t] = count;
        first[count] = r;
        slot[r] = count++;
        break;
      }
      const fo = first[g] * d;
      let same = true;
      for (let j = 0; j < d && same; j++) same = bits[fo + j] === bits[o + j];
      if (same) {
        slot[r] = g;
        break;
      }
      t = (t + 1) & (size - 1);
    }
  }
  return { count, slot, first };
}

function concat(parts: Int32Array[], length: number): Int32Array {
  if (parts.length === 1) return parts[0];
  const out = new Int32Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Values differing from the column modes (per column, from columnModes): their total and Σ_j nnz_j² / n. */
function nonModeCounts(nonMode: Float64Array, n: number): { nnz: number; scatter: number } {
  let nnz = 0;
  let scatter = 0;
  for (const count of nonMode) {
    nnz += count;
    scatter += (count * count) / n;
  }
  return { nnz, scatter };
}

/**
 * Most frequent value of each column, and how many values differ from it. A majority value (Boyer–Moore vote,
 * verified by counting) is found in O(n); columns without one are counted in full (ties: the smaller value), or left
 * NaN with `majorityOnly`, counting n / 2 differing values (a lower bound: no value fills more than half of such a
 * column). The passes go row by row over all columns at once (the data is row-major).
 */
function columnModes(X: Matrix, majorityOnly: boolean): { modes: Float64Array; nonMode: Float64Array } {
  const { rows: n, cols: d, data } = X;
  const candidate = new Float64Array(d);
  const votes = new Int32Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j];
      if (votes[j] === 0) {
        candidate[j] = v;
        votes[j] = 1;
      } else votes[j] += v === candidate[j] ? 1 : -1;
    }
  }
  const count = new Int32Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) if (data[o + j] === candidate[j]) count[j]++;
  }
  const modes = new Float64Array(d);
  const nonMode = new Float64Array(d);
  const unresolved: number[] = [];
  for (let j = 0; j < d; j++) {
    if (2 * count[j] > n) {
      modes[j] = candidate[j];
      nonMode[j] = n - count[j];
    } else if (majorityOnly) {
      modes[j] = Number.NaN;
      nonMode[j] = n / 2;
    } else unresolved.push(j);
  }
  if (unresolved.length > 0) {
    const columns = new Float32Array(unresolved.length * n);
    for (let i = 0; i < n; i++) for (let u = 0; u < unresolved.length; u++) columns[u * n + i] = data[i * d + unresolved[u]];
    for (let u = 0; u < unresolved.length; u++) {
      const { value, count: modeCount } = countedMode(columns.subarray(u * n, (u + 1) * n));
      modes[unresolved[u]] = value;
      nonMode[unresolved[u]] = n - modeCount;
    }
  }
  return { modes, nonMode };
}

/**
 * Most frequent value of a column and its count (ties: the smaller value; −0 counts as 0), counted in an
 * open-addressing table on the float32 bit patterns: O(n).
 */
function countedMode(column: Float32Array): { value: number; count: number } {
  const n = column.length;
  const bits = new Int32Array(column.buffer, column.byteOffset, n);
  const logSize = Math.ceil(Math.log2(2 * n + 1));
  const mask = 2 ** logSize - 1;
  const keys = new Int32Array(mask + 1);
  const counts = new Int32Array(mask + 1);
  for (let i = 0; i < n; i++) {
    const key = bits[i] === -0x80000000 ? 0 : bits[i];
    let t = Math.imul(key, 0x9e3779b1) >>> (32 - logSize);
    while (counts[t] !== 0 && keys[t] !== key) t = (t + 1) & mask;
    keys[t] = key;
    counts[t]++;
  }
  const values = new Float32Array(keys.buffer);
  let best = 0;
  let bestCount = 0;
  for (let t = 0; t <= mask; t++) {
    const count = counts[t];
    if (count > bestCount || (count === bestCount && count > 0 && values[t] < best)) {
      bestCount = count;
      best = values[t];
    }
  }
  return { value: best, count: bestCount };
}

function toSparseColumns(X: Matrix, shift: Float64Array, nnz: number): NonNullable<SearchData['sparse']> {
  const { rows: n, cols: d, data } = X;
  const colPtr = new Int32Array(d + 1);
  for (let i = 0; i < data.length; i++) if (data[i] !== shift[i % d]) colPtr[(i % d) + 1]++;
  for (let j = 0; j < d; j++) colPtr[j + 1] += colPtr[j];
  const rowIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const fill = colPtr.slice(0, d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j] - shift[j];
      if (v === 0) continue;
      const p = fill[j]++;
      rowIdx[p] = i;
      values[p] = v;
    }
  }
  return { shift, colPtr, rowIdx, values };
}

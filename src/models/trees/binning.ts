// Quantile binning of a row-major Float32 matrix into ≤ 256 bins per feature, stored column-major as Uint8Array
// (the LightGBM / scikit-learn HistGradientBoosting representation, Ke et al. 2017).
// Edges are midpoints between consecutive distinct values (all of them when a feature has ≤ maxBins distinct values,
// otherwise quantiles of a seeded subsample). Bin b holds values v with edges[b-1] < v <= edges[b], so a split
// "bin <= b" is exactly the raw test "v <= edges[b]" at predict time. Cost: O(F · s log s) for edges (s = subsample)
// plus O(n · F · log bins) to bin.

import type { Matrix } from '../../frame/matrix.js';
import { Rng } from '../../util/rng.js';

export const MAX_BINS = 256;
const EDGE_SAMPLE = 200_000;

export interface BinnedData {
  readonly rows: number;
  readonly cols: number;
  /** Column-major bins: bins[f * rows + i]. May live on a SharedArrayBuffer. */
  readonly bins: Uint8Array;
  /** Number of bins of each feature (1 = constant). */
  readonly nBins: Int32Array;
  /** Upper edges: edges[f * (MAX_BINS - 1) + b] is the largest value of bin b (b < nBins[f] - 1). */
  readonly edges: Float32Array;
}

/** Learns per-feature bin edges from (a seeded subsample of) the rows. */
export function fitBinEdges(X: Matrix, maxBins: number, seed: number): { nBins: Int32Array; edges: Float32Array } {
  return learnEdges(X, maxBins, seed);
}

/**
 * fitBinEdges then binMatrix in one go: every column is binned from the column-major copy its edges were learnt on
 * (sequential reads) instead of from the row-major matrix again. Same edges and bins.
 */
export function fitAndBinMatrix(X: Matrix, maxBins: number, seed: number, shared = false): BinnedData {
  const { rows, cols } = X;
  const bins = new Uint8Array(shared ? new SharedArrayBuffer(rows * cols) : new ArrayBuffer(rows * cols));
  const nBins = new Int32Array(cols);
  const edges = new Float32Array(cols * (MAX_BINS - 1));
  fitAndBinColumns(X.data, rows, cols, maxBins, edgeSample(rows, seed), 0, cols, { nBins, edges, bins });
  return { rows, cols, bins, nBins, edges };
}

/** The rows edges are learnt on: null (all rows) up to EDGE_SAMPLE rows, else a seeded sample (ascending). */
export function edgeSample(rows: number, seed: number): Int32Array | null {
  return rows <= EDGE_SAMPLE ? null : sampleIndices(rows, EDGE_SAMPLE, seed);
}

/**
 * Edges and bins of features [c0, c1) of the row-major rows × cols `data` into `out` (nBins, edges and column-major
 * bins of all features; only this range is written), so that threads can share the work by feature ranges.
 */
export function fitAndBinColumns(data: Float32Array, rows: number, cols: number, maxBins: number, sampleRows: Int32Array | null, c0: number, c1: number, out: Pick<BinnedData, 'nBins' | 'edges' | 'bins'>): void {
  const width = c1 - c0;
  // The range's columns, column-major, gathered in one row-order pass.
  const columns = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    const src = i * cols + c0;
    for (let f = 0; f < width; f++) columns[f * rows + i] = data[src + f];
  }
  const sample = sampleRows ? new Float32Array(sampleRows.length) : null;
  for (let f = c0; f < c1; f++) {
    const values = columns.subarray((f - c0) * rows, (f - c0 + 1) * rows);
    const base = f * (MAX_BINS - 1);
    let count: number;
    if (sample && sampleRows) {
      for (let j = 0; j < sampleRows.length; j++) sample[j] = values[sampleRows[j]];
      count = columnEdges(sample, maxBins, out.edges, base, false);
    } else {
      count = columnEdges(values, maxBins, out.edges, base, true);
    }
    out.nBins[f] = count + 1;
    binColumn(values, out.edges, base, count, out.bins, f * rows);
  }
}

/** Edges of every feature. */
function learnEdges(X: Matrix, maxBins: number, seed: number): { nBins: Int32Array; edges: Float32Array } {
  const { rows, cols, data } = X;
  const sampleRows = edgeSample(rows, seed);
  const s = sampleRows ? sampleRows.length : rows;
  // Gather the sample column-major in one row-order pass (strided column reads would stream the matrix per feature).
  const columns = new Float32Array(s * cols);
  for (let j = 0; j < s; j++) {
    const src = (sampleRows ? sampleRows[j] : j) * cols;
    for (let f = 0; f < cols; f++) columns[f * s + j] = data[src + f];
  }
  const nBins = new Int32Array(cols);
  const edges = new Float32Array(cols * (MAX_BINS - 1));
  for (let f = 0; f < cols; f++) nBins[f] = columnEdges(columns.subarray(f * s, (f + 1) * s), maxBins, edges, f * (MAX_BINS - 1), false) + 1;
  return { nBins, edges };
}

/**
 * Writes one feature's edges at edges[base ..] from its (sample) values and returns how many: midpoints between all
 * distinct values when there are at most maxBins of them, else between quantiles. `keep`: sort a copy, not `values`.
 */
function columnEdges(values: Float32Array, maxBins: number, edges: Float32Array, base: number, keep: boolean): number {
  const s = values.length;
  let count = 0;
  const distinct = distinctIfFew(values, maxBins);
  if (distinct) {
    for (let i = 0; i + 1 < distinct.length; i++) edges[base + count++] = midpoint(distinct[i], distinct[i + 1]);
    return count;
  }
  // Quantile edges on the sorted sample, deduplicated, each placed between two distinct values.
  const sorted = keep ? values.slice().sort() : values.sort();
  let last = -Infinity;
  // End of the run of equal values found for the previous quantile (a long run holds many quantiles).
  let runEnd = 0;
  for (let b = 1; b < maxBins; b++) {
    const pos = Math.min(s - 2, Math.floor((b * s) / maxBins));
    const lo = sorted[pos];
    let j = runEnd > pos && sorted[runEnd - 1] === lo ? runEnd : pos + 1;
    while (j < s && sorted[j] === lo) j++;
    runEnd = j;
    if (j >= s) break;
    const edge = Math.fround(midpoint(lo, sorted[j]));
    if (edge > last) {
      edges[base + count++] = edge;
      last = edge;
    }
  }
  return count;
}

/** Bins of one column's values (count = edges of the feature) into bins[out ..]. */
function binColumn(values: Float32Array, edges: Float32Array, base: number, count: number, bins: Uint8Array, out: number): void {
  if (count === 0) return;
  if (count === 1) {
    const edge = edges[base];
    for (let i = 0; i < values.length; i++) bins[out + i] = values[i] <= edge ? 0 : 1;
    return;
  }
  // Runs of one value (zeros of a mostly-zero counter) search the edges once.
  let last = Number.NaN;
  let bin = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== last) {
      bin = binOf(edges, base, count, v);
      last = v;
    }
    bins[out + i] = bin;
  }
}

/** The sorted distinct values of a column when there are at most `limit` of them, else null (no full sort). */
function distinctIfFew(values: Float32Array, limit: number): Float32Array | null {
  const seen = new Float32Array(limit);
  let count = 0;
  let last = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === last) continue;
    last = v;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seen[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo < count && seen[lo] === v) continue;
    if (count === limit) return null;
    seen.copyWithin(lo + 1, lo, count);
    seen[lo] = v;
    count++;
  }
  return seen.slice(0, count);
}

function midpoint(a: number, b: number): number {
  const m = Math.fround((a + b) / 2);
  // Float32 rounding may land on b; the edge must stay below b so b falls in the next bin.
  return m >= b ? a : m;
}

function sampleIndices(n: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.subarray(0, k).sort();
}

/** Bin of one value: the first b with v <= edge b, else the last bin. */
export function binOf(edges: Float32Array, base: number, count: number, v: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[base + mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins every row of X with the given edges, column-major, optionally into shared memory (for worker threads). */
export function binMatrix(X: Matrix, nBins: Int32Array, edges: Float32Array, shared = false): BinnedData {
  const { rows, cols, data } = X;
  const bins = new Uint8Array(shared ? new SharedArrayBuffer(rows * cols) : new ArrayBuffer(rows * cols));
  // Row-order pass (sequential reads, one sequential write stream per feature).
  for (let i = 0; i < rows; i++) {
    const src = i * cols;
    for (let f = 0; f < cols; f++) {
      const count = nBins[f] - 1;
      if (count === 0) continue;
      const v = data[src + f];
      const base = f * (MAX_BINS - 1);
      bins[f * rows + i] = count === 1 ? (v <= edges[base] ? 0 : 1) : binOf(edges, base, count, v);
    }
  }
  return { rows, cols, bins, nBins, edges };
}

/** Raw threshold of the split "bin <= b" of feature f. */
export function thresholdOf(data: Pick<BinnedData, 'edges'>, f: number, b: number): number {
  return data.edges[f * (MAX_BINS - 1) + b];
}

/**
 * Rows whose bin differs from their feature's most frequent bin, per feature (a CSR-like list). Histograms of
 * mostly-constant features (one-hot columns, rare counters) then cost O(non-default rows) instead of O(node rows):
 * the default bin's sums are the node totals minus the rest. Features whose default bin holds less than
 * `minDefaultShare` of the rows get no list (defaultBin −1).
 */
export interface SparseColumns {
  readonly defaultBin: Int32Array;
  /** Feature f's entries are [start[f], start[f + 1]) of rows / bins; rows ascending. */
  readonly start: Int32Array;
  readonly rows: Int32Array;
  readonly bins: Uint8Array;
}

export function sparseColumns(data: BinnedData, minDefaultShare = 0.8): SparseColumns {
  const { rows, cols, bins, nBins } = data;
  const defaultBin = new Int32Array(cols).fill(-1);
  const start = new Int32Array(cols + 1);
  const counts = new Int32Array(MAX_BINS);
  for (let f = 0; f < cols; f++) {
    counts.fill(0);
    const col = f * rows;
    for (let i = 0; i < rows; i++) counts[bins[col + i]]++;
    let best = 0;
    for (let b = 1; b < nBins[f]; b++) if (counts[b] > counts[best]) best = b;
    if (nBins[f] > 1 && counts[best] >= minDefaultShare * rows) defaultBin[f] = best;
    start[f + 1] = start[f] + (defaultBin[f] >= 0 ? rows - counts[best] : 0);
  }
  const listRows = new Int32Array(start[cols]);
  const listBins = new Uint8Array(start[cols]);
  for (let f = 0; f < cols; f++) {
    if (defaultBin[f] < 0) continue;
    const col = f * rows;
    const d = defaultBin[f];
    let k = start[f];
    for (let i = 0; i < rows; i++) {
      const b = bins[col + i];
      if (b !== d) {
        listRows[k] = i;
        listBins[k++] = b;
      }
    }
  }
  return { defaultBin, start, rows: listRows, bins: listBins };
}

/**
 * Row-wise layout for histograms over a node's scattered rows (LightGBM's row-wise mode): the bins of the dense
 * features row-major, and each row's non-default entries of the sparse features (CSR). A row then costs
 * (dense features + its own non-default entries) updates instead of one per feature.
 */
export interface RowLayout {
  readonly dense: Int32Array;
  /** rows × dense.length. */
  readonly denseBins: Uint8Array;
  /** Row i's sparse entries are [rowStart[i], rowStart[i + 1]). */
  readonly rowStart: Int32Array;
  readonly rowFeature: Int32Array;
  readonly rowBin: Uint8Array;
}

export function rowLayout(data: BinnedData, sparse: SparseColumns): RowLayout {
  const { rows, cols, bins, nBins } = data;
  const dense = Int32Array.from({ length: cols }, (_, f) => f).filter((f) => sparse.defaultBin[f] < 0 && nBins[f] > 1);
  const nd = dense.length;
  const denseBins = new Uint8Array(rows * nd);
  for (let j = 0; j < nd; j++) {
    const col = dense[j] * rows;
    for (let i = 0; i < rows; i++) denseBins[i * nd + j] = bins[col + i];
  }
  const rowStart = new Int32Array(rows + 1);
  for (let k = 0; k < sparse.rows.length; k++) rowStart[sparse.rows[k] + 1]++;
  for (let i = 0; i < rows; i++) rowStart[i + 1] += rowStart[i];
  const fill = rowStart.slice(0, rows);
  const rowFeature = new Int32Array(sparse.rows.length);
  const rowBin = new Uint8Array(sparse.rows.length);
  for (let f = 0; f < cols; f++) {
    for (let k = sparse.start[f]; k < sparse.start[f + 1]; k++) {
      const at = fill[sparse.rows[k]]++;
      rowFeature[at] = f;
      rowBin[at] = sparse.bins[k];
    }
  }
  return { dense, denseBins, rowStart, rowFeature, rowBin };
}

/** Row-major copy (rows × cols) of column-major bins, optionally in shared memory. */
export function rowMajorBins(data: BinnedData, shared = false): Uint8Array {
  const { rows, cols, bins } = data;
  const out = new Uint8Array(shared ? new SharedArrayBuffer(rows * cols) : new ArrayBuffer(rows * cols));
  rowMajorRows(bins, rows, cols, out, 0, rows);
  return out;
}

/** Rows [i0, i1) of rowMajorBins into `out` (threads can share the work by row ranges). */
export function rowMajorRows(bins: Uint8Array, rows: number, cols: number, out: Uint8Array, i0: number, i1: number): void {
  for (let f = 0; f < cols; f++) {
    const col = f * rows;
    for (let i = i0; i < i1; i++) out[i * cols + f] = bins[col + i];
  }
}

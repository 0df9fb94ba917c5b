// CART classification tree (Breiman et al. 1984) grown depth-first on histogram-binned features: per node, a
// weighted class histogram per candidate feature, then a linear scan of the bins for the best gini or entropy split.
// With all features as candidates (a single decision tree) the larger child's histograms come from the parent's
// minus the smaller child's (the subtraction trick, Ke et al. 2017). With `maxFeatures` < features (random forest)
// features are drawn per node as scikit-learn does: in random order until `maxFeatures` non-constant ones were seen.
// Cost per tree: O(Σ_levels rows · candidate features + nodes · candidate bins · classes).

import { Rng } from '../../util/rng.js';
import { TreeBuffer, type FlatTree } from './flat-tree.js';
import { MAX_BINS, type SparseColumns } from './binning.js';
import { partition } from './common.js';

export interface ClassTreeData {
  readonly rows: number;
  readonly cols: number;
  /** Column-major bins (see binning.ts). */
  readonly bins: Uint8Array;
  readonly nBins: Int32Array;
  readonly edges: Float32Array;
  /** Class code per row. */
  readonly y: Int32Array;
  readonly nClasses: number;
  /** Non-default rows of mostly-constant features (binning.ts sparseColumns), for cheaper histograms. */
  readonly sparse?: SparseColumns;
  /**
   * Row-major copy of `bins`. A small node's rows are scattered over each column; row-major, the features drawn for
   * that node share each row's cache lines instead of missing once per feature.
   */
  readonly rowBins?: Uint8Array;
}

/** Nodes holding less than 1/SCATTERED of the rows read bins row-major (when available). */
const SCATTERED = 64;

export interface ClassTreeParams {
  readonly criterion: 'gini' | 'entropy';
  /** Infinity for unlimited depth. */
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  /** Candidate features per node (≤ cols). */
  readonly maxFeatures: number;
}

interface PendingNode {
  node: number;
  start: number;
  end: number;
  depth: number;
  /** Weighted class totals, then the row count, length K + 1. */
  totals: Float64Array;
  /** All-feature histogram (subtraction mode), when already known. */
  hist: Float64Array | null;
  /** Feature order for random draws; the first `nConstants` are constant at this node (random-feature mode). */
  features: Int32Array | null;
  nConstants: number;
  /** The node's rows of `route.rows` are [routeStart, routeEnd). */
  routeStart: number;
  routeEnd: number;
}

/** Per-row work arrays of one tree build; a forest reuses them from tree to tree on the same thread. */
export class TreeScratch {
  readonly index: Int32Array;
  readonly spare: Int32Array;
  readonly nodeOfRow: Int32Array;
  readonly routeSpare: Int32Array;
  readonly packed: Int32Array;

  constructor(readonly rows: number) {
    this.packed = new Int32Array(rows);
    this.index = new Int32Array(rows);
    this.spare = new Int32Array(rows);
    this.nodeOfRow = new Int32Array(rows);
    this.routeSpare = new Int32Array(rows);
  }
}

/** Rows (weight 0, e.g. out-of-bag) to send down the tree while it grows; `leaves` receives the leaf of each. */
export interface RouteRows {
  /** Reordered in place: on return, rows[j] reached leaves[j]. */
  readonly rows: Int32Array;
  readonly leaves: Int32Array;
}

/**
 * Grows one tree on the rows with weight > 0 (bootstrap counts × class weights × sample weights).
 * Adds each split's weighted impurity decrease to `importance[feature]`. `route` rows are partitioned along with the
 * node they fall in (cheaper than walking each row down the finished tree: no dependent-load chain per level).
 */
export function buildClassTree(data: ClassTreeData, weight: Float64Array, params: ClassTreeParams, rng: Rng, importance: Float64Array, route?: RouteRows, work = new TreeScratch(data.rows)): FlatTree {
  const { rows, cols, bins, nBins, edges, y, nClasses: K, rowBins } = data;
  const S = K + 1;
  const binOffset = new Int32Array(cols + 1);
  for (let f = 0; f < cols; f++) binOffset[f + 1] = binOffset[f] + nBins[f];
  const histSize = binOffset[cols] * S;
  const allFeatures = params.maxFeatures >= cols;
  // Row counts per bin are only needed to enforce min_samples_leaf; node row counts come from the partition.
  const needCounts = params.minSamplesLeaf > 1;
  const entropy = params.criterion === 'entropy';

  const rootTotals = new Float64Array(S);
  // Node of each row in the tree (−1 = not drawn), for the sparse histogram path.
  const sparse = data.sparse;
  const nodeOfRow = sparse ? work.nodeOfRow : null;
  const index = drawnRows(weight, y, rootTotals, work.nodeOfRow, work.index);
  const n = index.length;
  const packed = K === 2 && !needCounts ? packedWeights(weight, y, work.packed) : null;
  const rightRows = work.spare;
  rootTotals[K] = n;

  const tree = new TreeBuffer(K);
  const rootFeatures = new Int32Array(cols);
  for (let f = 0; f < cols; f++) rootFeatures[f] = f;
  const scratch = new Float64Array(allFeatures ? 0 : MAX_BINS * S);
  const cumulative = new Float64Array(S);
  // Class totals left of the best bin of the last scan, and of the node's best split so far.
  const scanLeft = new Float64Array(S);
  const bestLeft = new Float64Array(S);

  const impurityOf = (t: Float64Array, off: number): number => {
    let w = 0;
    for (let k = 0; k < K; k++) w += t[off + k];
    if (w <= 0) return 0;
    let s = 0;
    if (entropy) {
      for (let k = 0; k < K; k++) {
        const p = t[off + k] / w;
        if (p > 0) s -= p * Math.log2(p);
      }
      return s;
    }
    for (let k = 0; k < K; k++) s += t[off + k] * t[off + k];
    return 1 - s / (w * w);
  };

  // Adds the weighted class histogram of rows [start, end) for feature f into `out` (zeroed beforehand) at outBase,
  // and records the lowest and highest bin touched, so small nodes clear and scan only that range.
  // A mostly-constant feature visits only its non-default rows when there are fewer of them than the node has rows.
  let lowBin = 0;
  let highBin = 0;
  const fillHistogram = (f: number, start: number, end: number, out: Float64Array, outBase: number, node: number, totals: Float64Array): void => {
    let range: number;
    if (sparse && nodeOfRow && sparse.defaultBin[f] >= 0 && sparse.start[f + 1] - sparse.start[f] < end - start) {
      range = packed ? sparsePackedHistogram(sparse, f, nodeOfRow, node, end - start, totals, packed, out, outBase) : sparseHistogram(sparse, f, nodeOfRow, node, end - start, totals, y, weight, out, outBase, K);
    } else {
      const rowMajor = rowBins !== undefined && (end - start) * SCATTERED < rows;
      const src = rowMajor ? rowBins : bins;
      const first = rowMajor ? f : f * rows;
      const stride = rowMajor ? cols : 1;
      range = packed ? packedHistogram(src, first, stride, index, start, end, packed, out, outBase) : K === 2 && !needCounts ? binaryHistogram(src, first, stride, index, start, end, y, weight, out, outBase) : denseHistogram(src, first, stride, index, start, end, y, weight, out, outBase, K);
    }
    lowBin = range >> 9;
    highBin = (range & 511) - 1;
  };

  const fullHistogram = (start: number, end: number, node: number, totals: Float64Array): Float64Array => {
    const h = new Float64Array(histSize);
    for (let f = 0; f < cols; f++) if (nBins[f] > 1) fillHistogram(f, start, end, h, binOffset[f] * S, node, totals);
    return h;
  };

  // Best split of one feature's histogram; returns the improvement in Σ weighted child impurity or -1.
  let bestBin = -1;
  const scanFeature = (h: Float64Array, base: number, from: number, to: number, totals: Float64Array): number => {
    const W = weightOf(totals, K);
    const N = totals[K];
    cumulative.fill(0);
    let best = -Infinity;
    bestBin = -1;
    for (let b = from; b < to; b++) {
      const o = base + b * S;
      let binWeight = 0;
      for (let k = 0; k < K; k++) binWeight += h[o + k];
      if (binWeight === 0) continue;
      for (let k = 0; k <= K; k++) cumulative[k] += h[o + k];
      if (needCounts) {
        const nl = cumulative[K];
        if (nl < params.minSamplesLeaf) continue;
        if (N - nl < params.minSamplesLeaf) break;
      }
      let wl = 0;
      for (let k = 0; k < K; k++) wl += cumulative[k];
      const wr = W - wl;
      if (wl <= 0 || wr <= 0) continue;
      let score: number;
      if (entropy) {
        let sl = wl * Math.log2(wl);
        let sr = wr * Math.log2(wr);
        for (let k = 0; k < K; k++) {
          const l = cumulative[k];
          const r = totals[k] - l;
          if (l > 0) sl -= l * Math.log2(l);
          if (r > 1e-12) sr -= r * Math.log2(r);
        }
        score = -(sl + sr);
      } else {
        let ql = 0;
        let qr = 0;
        for (let k = 0; k < K; k++) {
          const l = cumulative[k];
          const r = totals[k] - l;
          ql += l * l;
          qr += r * r;
        }
        score = ql / wl + qr / wr;
      }
      if (score > best) {
        best = score;
        bestBin = b;
        scanLeft.set(cumulative);
      }
    }
    return best;
  };

  const routeRows = route ? route.rows : new Int32Array(0);
  const routeSpare = work.routeSpare;
  const stack: PendingNode[] = [{ node: tree.addNode(weightOf(rootTotals, K)), start: 0, end: n, depth: 0, totals: rootTotals, hist: null, features: allFeatures ? null : rootFeatures, nConstants: 0, routeStart: 0, routeEnd: routeRows.length }];
  // Feature-order arrays of finished nodes, reused by new left children.
  const featurePool: Int32Array[] = [];
  const settle = (p: PendingNode): void => {
    if (route) route.leaves.fill(p.node, p.routeStart, p.routeEnd);
    if (p.features) featurePool.push(p.features);
  };
  writeValue(tree, 0, rootTotals, K);
  const canSplit = (t: Float64Array, depth: number): boolean => {
    if (depth >= params.maxDepth || t[K] < params.minSamplesSplit || t[K] < 2 * params.minSamplesLeaf) return false;
    const W = weightOf(t, K);
    for (let k = 0; k < K; k++) if (t[k] >= W * (1 - 1e-12)) return false;
    return true;
  };

  while (stack.length > 0) {
    const p = stack.pop() as PendingNode;
    if (!canSplit(p.totals, p.depth)) {
      settle(p);
      continue;
    }
    let bestFeature = -1;
    let bestSplitBin = -1;
    let bestScore = -Infinity;
    let hist = p.hist;
    if (allFeatures) {
      hist ??= fullHistogram(p.start, p.end, p.node, p.totals);
      for (let f = 0; f < cols; f++) {
        if (nBins[f] < 2) continue;
        const score = scanFeature(hist, binOffset[f] * S, 0, nBins[f] - 1, p.totals);
        if (bestBin >= 0 && score > bestScore) {
          bestScore = score;
          bestFeature = f;
          bestSplitBin = bestBin;
          bestLeft.set(scanLeft);
        }
      }
    } else {
      // scikit-learn's draw (BestSplitter): features known constant at an ancestor sit first in `features` and
      // count as visited when drawn; drawing stops after maxFeatures visits once a non-constant one was evaluated.
      const features = p.features as Int32Array;
      const knownConstants = p.nConstants;
      let totalConstants = knownConstants;
      let drawnConstants = 0;
      let foundConstants = 0;
      let visited = 0;
      let remaining = cols;
      while (remaining > totalConstants && (visited < params.maxFeatures || visited <= foundConstants + drawnConstants)) {
        visited++;
        let j = drawnConstants + rng.int(remaining - foundConstants - drawnConstants);
        if (j < knownConstants) {
          swap(features, drawnConstants, j);
          drawnConstants++;
          continue;
        }
        j += foundConstants;
        const f = features[j];
        let from = 0;
        let to = 0;
        if (nBins[f] > 1) {
          fillHistogram(f, p.start, p.end, scratch, 0, p.node, p.totals);
          from = lowBin;
          to = highBin;
        }
        if (from >= to) {
          if (nBins[f] > 1) scratch.fill(0, from * S, (to + 1) * S);
          features[j] = features[totalConstants];
          features[totalConstants] = f;
          foundConstants++;
          totalConstants++;
          continue;
        }
        remaining--;
        swap(features, remaining, j);
        const score = scanFeature(scratch, 0, from, to, p.totals);
        if (bestBin >= 0 && score > bestScore) {
          bestScore = score;
          bestFeature = f;
          bestSplitBin = bestBin;
          bestLeft.set(scanLeft);
        }
        scratch.fill(0, from * S, (to + 1) * S);
      }
      p.nConstants = totalConstants;
    }
    if (bestFeature < 0) {
      settle(p);
      continue;
    }

    // Stable partitions (bin <= split bin to the left) keep row indices ascending, so later passes read in order.
    const col = bestFeature * rows;
    // A small node reads the bins row-major, as its histograms did: those rows' cache lines are still warm.
    const mid =
      rowBins !== undefined && (p.end - p.start) * SCATTERED < rows
        ? partition(index, rightRows, p.start, p.end, rowBins, bestFeature, cols, bestSplitBin)
        : partition(index, rightRows, p.start, p.end, bins, col, 1, bestSplitBin);
    const routeMid = partition(routeRows, routeSpare, p.routeStart, p.routeEnd, bins, col, 1, bestSplitBin);

    const leftTotals = bestLeft.slice();
    const rightTotals = new Float64Array(S);
    for (let k = 0; k < K; k++) rightTotals[k] = p.totals[k] - leftTotals[k];
    leftTotals[K] = mid - p.start;
    rightTotals[K] = p.end - mid;

    const W = weightOf(p.totals, K);
    const wl = weightOf(leftTotals, K);
    const wr = weightOf(rightTotals, K);
    importance[bestFeature] += Math.max(0, W * impurityOf(p.totals, 0) - wl * impurityOf(leftTotals, 0) - wr * impurityOf(rightTotals, 0));

    const leftNode = tree.addNode(wl);
    const rightNode = tree.addNode(wr);
    if (nodeOfRow) {
      assignNode(nodeOfRow, index, p.start, mid, leftNode);
      assignNode(nodeOfRow, index, mid, p.end, rightNode);
    }
    writeValue(tree, leftNode, leftTotals, K);
    writeValue(tree, rightNode, rightTotals, K);
    tree.split(p.node, bestFeature, bestSplitBin, edges[bestFeature * (MAX_BINS - 1) + bestSplitBin], leftNode, rightNode);

    const childFeatures = (): Int32Array | null => {
      if (!p.features) return null;
      const copy = featurePool.pop() ?? new Int32Array(cols);
      copy.set(p.features);
      return copy;
    };
    const left: PendingNode = { node: leftNode, start: p.start, end: mid, depth: p.depth + 1, totals: leftTotals, hist: null, features: childFeatures(), nConstants: p.nConstants, routeStart: p.routeStart, routeEnd: routeMid };
    const right: PendingNode = { node: rightNode, start: mid, end: p.end, depth: p.depth + 1, totals: rightTotals, hist: null, features: p.features, nConstants: p.nConstants, routeStart: routeMid, routeEnd: p.routeEnd };
    if (allFeatures && hist) {
      const needLeft = canSplit(leftTotals, left.depth);
      const needRight = canSplit(rightTotals, right.depth);
      if (needLeft || needRight) {
        const [small, large] = mid - p.start <= p.end - mid ? [left, right] : [right, left];
        small.hist = fullHistogram(small.start, small.end, small.node, small.totals);
        for (let i = 0; i < histSize; i++) hist[i] -= small.hist[i];
        large.hist = hist;
      }
    }
    stack.push(right, left);
  }
  return tree.toTree();
}

// The kernels below are module-level functions over typed-array arguments rather than closures over the builder's
// state: V8 then keeps the arrays in registers and hoists their checks out of the loops (a closure reloads and
// re-checks every captured array on each access). Each returns the touched bin range as lowest · 512 + highest + 1.

/** binaryHistogram with each row's weight and class in one integer, weight · 2 + class (one load instead of two). */
function packedHistogram(src: Uint8Array, first: number, stride: number, index: Int32Array, start: number, end: number, packed: Int32Array, out: Float64Array, outBase: number): number {
  let lowest = MAX_BINS;
  let highest = -1;
  for (let r = start; r < end; r++) {
    const i = index[r];
    const b = src[first + i * stride];
    if (b < lowest) lowest = b;
    if (b > highest) highest = b;
    const code = packed[i];
    out[outBase + b * 3 + (code & 1)] += code >>> 1;
  }
  return lowest * 512 + highest + 1;
}

/** Weight · 2 + class per row when every weight is a whole number below 2³⁰ (bootstrap counts), else null. */
function packedWeights(weight: Float64Array, y: Int32Array, out: Int32Array): Int32Array | null {
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i];
    if (!(w >= 0 && w < 2 ** 30 && w === Math.floor(w))) return null;
    out[i] = w * 2 + y[i];
  }
  return out;
}

/** Histogram of rows index[start..end) of one feature, two classes, no row counts: out[b·3 + class] += weight. */
function binaryHistogram(src: Uint8Array, first: number, stride: number, index: Int32Array, start: number, end: number, y: Int32Array, weight: Float64Array, out: Float64Array, outBase: number): number {
  let lowest = MAX_BINS;
  let highest = -1;
  for (let r = start; r < end; r++) {
    const i = index[r];
    const b = src[first + i * stride];
    if (b < lowest) lowest = b;
    if (b > highest) highest = b;
    out[outBase + b * 3 + y[i]] += weight[i];
  }
  return lowest * 512 + highest + 1;
}

/** Histogram of rows index[start..end) of one feature: K weighted class sums and the row count per bin. */
function denseHistogram(src: Uint8Array, first: number, stride: number, index: Int32Array, start: number, end: number, y: Int32Array, weight: Float64Array, out: Float64Array, outBase: number, K: number): number {
  const S = K + 1;
  let lowest = MAX_BINS;
  let highest = -1;
  for (let r = start; r < end; r++) {
    const i = index[r];
    const b = src[first + i * stride];
    if (b < lowest) lowest = b;
    if (b > highest) highest = b;
    const o = outBase + b * S;
    out[o + y[i]] += weight[i];
    out[o + K] += 1;
  }
  return lowest * 512 + highest + 1;
}

/** Histogram of a node's rows of a mostly-constant feature from its non-default entries; the default bin gets the node totals minus the other bins. */
function sparseHistogram(sparse: SparseColumns, f: number, nodeOfRow: Int32Array, node: number, nodeRows: number, totals: Float64Array, y: Int32Array, weight: Float64Array, out: Float64Array, outBase: number, K: number): number {
  const S = K + 1;
  const nzRows = sparse.rows;
  const nzBins = sparse.bins;
  const d = sparse.defaultBin[f];
  let lowest = MAX_BINS;
  let highest = -1;
  for (let k = sparse.start[f]; k < sparse.start[f + 1]; k++) {
    const i = nzRows[k];
    if (nodeOfRow[i] !== node) continue;
    const b = nzBins[k];
    if (b < lowest) lowest = b;
    if (b > highest) highest = b;
    const o = outBase + b * S;
    out[o + y[i]] += weight[i];
    out[o + K] += 1;
  }
  return withDefaultBin(out, outBase, d, nodeRows, totals, K, lowest, highest);
}

/** sparseHistogram for two classes with packed weights (packedWeights). */
function sparsePackedHistogram(sparse: SparseColumns, f: number, nodeOfRow: Int32Array, node: number, nodeRows: number, totals: Float64Array, packed: Int32Array, out: Float64Array, outBase: number): number {
  const nzRows = sparse.rows;
  const nzBins = sparse.bins;
  let lowest = MAX_BINS;
  let highest = -1;
  for (let k = sparse.start[f]; k < sparse.start[f + 1]; k++) {
    const i = nzRows[k];
    if (nodeOfRow[i] !== node) continue;
    const b = nzBins[k];
    if (b < lowest) lowest = b;
    if (b > highest) highest = b;
    const o = outBase + b * 3;
    const code = packed[i];
    out[o + (code & 1)] += code >>> 1;
    out[o + 2] += 1;
  }
  return withDefaultBin(out, outBase, sparse.defaultBin[f], nodeRows, totals, 2, lowest, highest);
}

/** The default bin d of a sparse histogram gets the node's totals minus the other bins; returns the bin range. */
function withDefaultBin(out: Float64Array, outBase: number, d: number, nodeRows: number, totals: Float64Array, K: number, lowest: number, highest: number): number {
  const S = K + 1;
  const o = outBase + d * S;
  let rest = nodeRows;
  for (let b = lowest; b <= highest; b++) rest -= out[outBase + b * S + K];
  if (rest > 0) {
    for (let k = 0; k < K; k++) {
      let other = 0;
      for (let b = lowest; b <= highest; b++) other += out[outBase + b * S + k];
      out[o + k] = totals[k] - other;
    }
    out[o + K] = rest;
    if (d < lowest) lowest = d;
    if (d > highest) highest = d;
  }
  return lowest * 512 + highest + 1;
}


/** Rows with weight > 0, ascending; adds their weights to `totals` by class and marks them 0 (root) in nodeOfRow, the others −1. */
function drawnRows(weight: Float64Array, y: Int32Array, totals: Float64Array, nodeOfRow: Int32Array, index: Int32Array): Int32Array {
  const rows = weight.length;
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const w = weight[i];
    const drawn = w > 0 ? 1 : 0;
    index[n] = i;
    n += drawn;
    totals[y[i]] += w;
    nodeOfRow[i] = drawn - 1;
  }
  return index.subarray(0, n);
}

function assignNode(nodeOfRow: Int32Array, index: Int32Array, start: number, end: number, node: number): void {
  for (let r = start; r < end; r++) nodeOfRow[index[r]] = node;
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function weightOf(t: Float64Array, K: number): number {
  let w = 0;
  for (let k = 0; k < K; k++) w += t[k];
  return w;
}

function writeValue(tree: TreeBuffer, node: number, totals: Float64Array, K: number): void {
  const w = weightOf(totals, K);
  for (let k = 0; k < K; k++) tree.value[node * K + k] = w > 0 ? totals[k] / w : 1 / K;
}

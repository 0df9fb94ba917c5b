// Flat typed-array tree storage: one node per index, children as indices, a leaf marked by feature -1.
// A forest concatenates its trees (children are absolute indices), so prediction is a tight loop over typed arrays
// and the model state is a handful of binary arrays. Prediction costs O(rows · trees · depth).

import type { Matrix } from '../../frame/matrix.js';
import type { ModelState } from '../estimator.js';

export interface FlatForest {
  /** Values per node (classes, or 1 for a regression / path-length tree). */
  readonly nOutputs: number;
  /** Node index where tree t starts; length trees + 1. */
  readonly treeStart: Int32Array;
  /** Split feature, or -1 at a leaf. */
  readonly feature: Int32Array;
  /** Rows with x[feature] <= threshold go left. */
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** nodes × nOutputs: the node's output (leaf prediction; at inner nodes the cover-weighted mean below). */
  readonly value: Float32Array;
  /** Training weight that reached each node (TreeSHAP uses it as the path-dependent distribution). */
  readonly cover: Float32Array;
}

/** A growable single tree, filled by a builder in node-creation order (index 0 = root). */
export class TreeBuffer {
  count = 0;
  feature: Int32Array;
  threshold: Float32Array;
  /** Split bin, for prediction on binned rows (out-of-bag scoring); not part of the model state. */
  splitBin: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  cover: Float32Array;

  constructor(readonly nOutputs: number, capacity = 64) {
    this.feature = new Int32Array(capacity);
    this.threshold = new Float32Array(capacity);
    this.splitBin = new Uint8Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.value = new Float32Array(capacity * nOutputs);
    this.cover = new Float32Array(capacity);
  }

  /** Adds a leaf (split later with `split`) and returns its index. */
  addNode(cover: number): number {
    if (this.count === this.feature.length) this.grow();
    const id = this.count++;
    this.feature[id] = -1;
    this.left[id] = -1;
    this.right[id] = -1;
    this.cover[id] = cover;
    return id;
  }

  split(node: number, feature: number, bin: number, threshold: number, left: number, right: number): void {
    this.feature[node] = feature;
    this.splitBin[node] = bin;
    this.threshold[node] = threshold;
    this.left[node] = left;
    this.right[node] = right;
  }

  private grow(): void {
    const cap = this.feature.length * 2;
    const g = <T extends Int32Array | Float32Array | Uint8Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature, cap);
    this.threshold = g(this.threshold, cap);
    this.splitBin = g(this.splitBin, cap);
    this.left = g(this.left, cap);
    this.right = g(this.right, cap);
    this.value = g(this.value, cap * this.nOutputs);
    this.cover = g(this.cover, cap);
  }

  /** The finished tree, trimmed to its node count. */
  toTree(): FlatTree {
    const n = this.count;
    return {
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      splitBin: this.splitBin.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      value: this.value.slice(0, n * this.nOutputs),
      cover: this.cover.slice(0, n),
    };
  }
}

export interface FlatTree {
  feature: Int32Array;
  threshold: Float32Array;
  splitBin: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  cover: Float32Array;
}

/** Leaf reached by a binned row (column-major bins with `rows` rows). */
export function leafOfBinned(tree: FlatTree, bins: Uint8Array, rows: number, i: number): number {
  let node = 0;
  while (tree.feature[node] >= 0) node = bins[tree.feature[node] * rows + i] <= tree.splitBin[node] ? tree.left[node] : tree.right[node];
  return node;
}

/** Leaf reached by row i of row-major bins with `cols` features per row. */
export function leafOfRowBinned(tree: FlatTree, rowBins: Uint8Array, cols: number, i: number): number {
  let node = 0;
  const base = i * cols;
  while (tree.feature[node] >= 0) node = rowBins[base + tree.feature[node]] <= tree.splitBin[node] ? tree.left[node] : tree.right[node];
  return node;
}

export function concatTrees(trees: readonly FlatTree[], nOutputs: number): FlatForest {
  const treeStart = new Int32Array(trees.length + 1);
  for (let t = 0; t < trees.length; t++) treeStart[t + 1] = treeStart[t] + trees[t].feature.length;
  const total = treeStart[trees.length];
  const feature = new Int32Array(total);
  const threshold = new Float32Array(total);
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const value = new Float32Array(total * nOutputs);
  const cover = new Float32Array(total);
  trees.forEach((tree, t) => {
    const off = treeStart[t];
    feature.set(tree.feature, off);
    threshold.set(tree.threshold, off);
    value.set(tree.value, off * nOutputs);
    cover.set(tree.cover, off);
    for (let i = 0; i < tree.feature.length; i++) {
      left[off + i] = tree.left[i] < 0 ? -1 : tree.left[i] + off;
      right[off + i] = tree.right[i] < 0 ? -1 : tree.right[i] + off;
    }
  });
  return { nOutputs, treeStart, feature, threshold, left, right, value, cover };
}

export function treeCount(forest: FlatForest): number {
  return forest.treeStart.length - 1;
}

/** Leaf of tree t reached by row i of X. */
export function leafOf(forest: FlatForest, t: number, x: Float32Array, rowOffset: number): number {
  const { feature, threshold, left, right } = forest;
  let node = forest.treeStart[t];
  let f = feature[node];
  while (f >= 0) {
    node = x[rowOffset + f] <= threshold[node] ? left[node] : right[node];
    f = feature[node];
  }
  return node;
}

/**
 * Adds `scale` × (leaf values of trees [from, to)) to out (rows × nOutputs). `treeOutput` maps tree t to the output
 * column it feeds (boosting: one tree per class per round), or -1 when each leaf holds all nOutputs values.
 */
export function accumulateLeaves(forest: FlatForest, X: Matrix, out: Float64Array, scale: number, treeOutput?: (t: number) => number, from = 0, to = treeCount(forest)): void {
  const { rows, cols, data } = X;
  const { value, nOutputs } = forest;
  if (!treeOutput) {
    const outCols = nOutputs;
    for (let t = from; t < to; t++) {
      for (let i = 0; i < rows; i++) {
        const leaf = leafOf(forest, t, data, i * cols) * nOutputs;
        const o = i * outCols;
        for (let k = 0; k < nOutputs; k++) out[o + k] += scale * value[leaf + k];
      }
    }
    return;
  }
  const outCols = out.length / Math.max(1, rows);
  for (let t = from; t < to; t++) {
    const k = treeOutput(t);
    for (let i = 0; i < rows; i++) out[i * outCols + k] += scale * value[leafOf(forest, t, data, i * cols)];
  }
}

export function forestState(forest: FlatForest): ModelState {
  const { nOutputs, treeStart, feature, threshold, left, right, value, cover } = forest;
  return { nOutputs, treeStart, feature, threshold, left, right, value, cover };
}

export function forestFromState(state: ModelState): FlatForest {
  return {
    nOutputs: state.nOutputs as number,
    treeStart: state.treeStart as Int32Array,
    feature: state.feature as Int32Array,
    threshold: state.threshold as Float32Array,
    left: state.left as Int32Array,
    right: state.right as Int32Array,
    value: state.value as Float32Array,
    cover: state.cover as Float32Array,
  };
}

/** Sums split gains per feature into importances normalised to 1 (all zero stays zero). */
export function normalizeImportances(raw: Float64Array): Float64Array {
  const total = raw.reduce((s, v) => s + v, 0);
  return total > 0 ? raw.map((v) => v / total) : new Float64Array(raw.length);
}

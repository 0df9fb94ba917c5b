// One gradient-boosting regression tree on binned features, grown leaf-wise (best-first) as LightGBM (Ke et al.
// 2017) and scikit-learn's HistGradientBoosting do. Each leaf keeps a (gradient, hessian, count) histogram per
// feature; a split computes the smaller child's histograms from its rows and the larger child's by subtraction.
// Split gain and leaf values are XGBoost's second-order formulas (Chen & Guestrin 2016):
//   gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ),   leaf = −η · G/(H+λ).
// Cost per tree: O(rows · features · log leaves) for histograms + O(leaves · bins) for scans.

import { TreeBuffer, type FlatTree } from './flat-tree.js';
import { MAX_BINS } from './binning.js';
import type { HistogramBuilder } from './boost-hist.js';
import { partition } from './common.js';

export interface BoostData {
  readonly rows: number;
  readonly cols: number;
  readonly bins: Uint8Array;
  readonly nBins: Int32Array;
  readonly edges: Float32Array;
}

export interface BoostTreeParams {
  readonly maxLeaves: number;
  /** Infinity for unlimited. */
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly minChildWeight: number;
  readonly l2: number;
  readonly learningRate: number;
}

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  /** Rows. */
  w: number;
  hist: Float64Array;
  // Best split found for this leaf.
  gain: number;
  feature: number;
  bin: number;
  gl: number;
  hl: number;
  wl: number;
}

export interface BoostTreeResult {
  readonly tree: FlatTree;
  /** For every leaf node: the range [start, end) of `index` holding its rows (cover = row count). */
  readonly leafStart: Int32Array;
  readonly leafEnd: Int32Array;
}

/**
 * Grows one tree on the rows in `index` (ascending row numbers; reordered in place so each leaf's rows are
 * contiguous). Sample and class weights are already folded into grad and hess. Features with featureMask[f] = 0
 * are not split on. Each split's gain is added to importance[feature]. `histograms` fills leaf histograms from the
 * same grad, hess and index arrays (boost-hist.ts).
 */
export function buildBoostTree(data: BoostData, grad: Float32Array, hess: Float32Array, index: Int32Array, params: BoostTreeParams, featureMask: Uint8Array | null, importance: Float64Array, histograms: HistogramBuilder): BoostTreeResult {
  const { rows, cols, bins, nBins, edges } = data;
  const binOffset = new Int32Array(cols + 1);
  for (let f = 0; f < cols; f++) binOffset[f + 1] = binOffset[f] + nBins[f];
  const n = index.length;
  const spill = new Int32Array(n);
  const tree = new TreeBuffer(1);
  const lambda = params.l2;
  const active: number[] = [];
  for (let f = 0; f < cols; f++) if (nBins[f] > 1 && (!featureMask || featureMask[f])) active.push(f);

  const findSplit = (leaf: Leaf): void => {
    leaf.gain = 0;
    leaf.feature = -1;
    const rowsInLeaf = leaf.end - leaf.start;
    if (leaf.depth >= params.maxDepth || rowsInLeaf < 2 * params.minSamplesLeaf || leaf.h < 2 * params.minChildWeight) return;
    const parentScore = (leaf.g * leaf.g) / (leaf.h + lambda);
    const hist = leaf.hist;
    for (const f of active) {
      const base = binOffset[f] * 3;
      const nb = nBins[f];
      let gl = 0;
      let hl = 0;
      let wl = 0;
      for (let b = 0; b < nb - 1; b++) {
        const o = base + b * 3;
        if (hist[o + 2] === 0) continue;
        gl += hist[o];
        hl += hist[o + 1];
        wl += hist[o + 2];
        if (wl < params.minSamplesLeaf || hl < params.minChildWeight) continue;
        const hr = leaf.h - hl;
        if (rowsInLeaf - wl < params.minSamplesLeaf) break;
        if (hr < params.minChildWeight) continue;
        const gr = leaf.g - gl;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
        if (gain > leaf.gain + 1e-12) {
          leaf.gain = gain;
          leaf.feature = f;
          leaf.bin = b;
          leaf.gl = gl;
          leaf.hl = hl;
          leaf.wl = wl;
        }
      }
    }
  };

  const setValue = (node: number, g: number, h: number): void => {
    tree.value[node] = (-params.learningRate * g) / (h + lambda);
  };

  let G = 0;
  let H = 0;
  for (let r = 0; r < n; r++) {
    const i = index[r];
    G += grad[i];
    H += hess[i];
  }
  const root: Leaf = { node: tree.addNode(n), start: 0, end: n, depth: 0, g: G, h: H, w: n, hist: histograms.build(0, n, true, G, H), gain: 0, feature: -1, bin: 0, gl: 0, hl: 0, wl: 0 };
  setValue(root.node, G, H);
  findSplit(root);
  const leaves: Leaf[] = [root];

  while (leaves.length < params.maxLeaves) {
    let best = -1;
    for (let j = 0; j < leaves.length; j++) if (leaves[j].feature >= 0 && (best < 0 || leaves[j].gain > leaves[best].gain)) best = j;
    if (best < 0) break;
    const leaf = leaves[best];
    leaves.splice(best, 1);

    importance[leaf.feature] += leaf.gain;
    const mid = partition(index, spill, leaf.start, leaf.end, bins, leaf.feature * rows, 1, leaf.bin);

    const gr = leaf.g - leaf.gl;
    const hr = leaf.h - leaf.hl;
    const wr = leaf.w - leaf.wl;
    const leftNode = tree.addNode(leaf.wl);
    const rightNode = tree.addNode(wr);
    setValue(leftNode, leaf.gl, leaf.hl);
    setValue(rightNode, gr, hr);
    tree.split(leaf.node, leaf.feature, leaf.bin, edges[leaf.feature * (MAX_BINS - 1) + leaf.bin], leftNode, rightNode);

    const left: Leaf = { node: leftNode, start: leaf.start, end: mid, depth: leaf.depth + 1, g: leaf.gl, h: leaf.hl, w: leaf.wl, hist: leaf.hist, gain: 0, feature: -1, bin: 0, gl: 0, hl: 0, wl: 0 };
    const right: Leaf = { node: rightNode, start: mid, end: leaf.end, depth: leaf.depth + 1, g: gr, h: hr, w: wr, hist: leaf.hist, gain: 0, feature: -1, bin: 0, gl: 0, hl: 0, wl: 0 };
    const [small, large] = mid - leaf.start <= leaf.end - mid ? [left, right] : [right, left];
    small.hist = histograms.build(small.start, small.end, false, small.g, small.h);
    const parentHist = leaf.hist;
    for (let i = 0; i < parentHist.length; i++) parentHist[i] -= small.hist[i];
    large.hist = parentHist;
    findSplit(left);
    findSplit(right);
    leaves.push(left, right);
  }

  const leafStart = new Int32Array(tree.count).fill(-1);
  const leafEnd = new Int32Array(tree.count).fill(-1);
  for (const leaf of leaves) {
    leafStart[leaf.node] = leaf.start;
    leafEnd[leaf.node] = leaf.end;
  }
  return { tree: tree.toTree(), leafStart, leafEnd };
}

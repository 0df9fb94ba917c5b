// Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution for
// Tree Ensembles"): the same Shapley values as their Algorithm 2, computed in the integral form of Linear TreeShap
// (Yu, Bhatt, Kirshner & Kunchur 2022, "Linear TreeShap", NeurIPS). Each node's training cover defines the background
// distribution, so for every row: Σ_features φ + expected value = the ensemble's output, exactly.
//
// For a leaf L with value v whose path splits on the unique features j (zero fraction z_j: product of the cover ratios
// of j's splits on the path; one fraction o_j ∈ {0, 1}: whether the row follows all of them), the Shapley weights
// k!(d−k−1)!/d! are Beta integrals, which turns Algorithm 2's sum over subset sizes into
//   φ_i += v (o_i − z_i) ∫₀¹ Π_{j≠i} g_j(t) dt,   g_j(t) = z_j + (o_j − z_j) t,
// a polynomial of degree < depth, integrated exactly by Gauss–Legendre quadrature with ⌈depth/2⌉ nodes. One pass
// down the tree carries P = Π_j g_j at the nodes; on the way back each edge splitting on i adds
// Σ_{leaves below} v P (o_i − z_i) / g_i, minus the same term for i's previous split on the path (a repeated feature
// telescopes to its last split). Cost: O(rows · trees · nodes · depth / 2) time (Algorithm 2: leaves · depth²),
// O(depth²) memory per tree, nothing precomputed per leaf, so deep random forests need no fallback.

import type { Matrix } from '../frame/matrix.js';
import { treeCount, type FlatForest } from '../models/trees/flat-tree.js';

export interface TreeShapResult {
  /** rows × features contributions. */
  readonly phi: Float64Array;
  /** The output for "no feature known": the cover-weighted mean leaf value. */
  readonly expectedValue: number;
}

/** Gauss–Legendre nodes and weights on [0, 1] (Newton's method on the Legendre recurrence). */
export function gaussLegendre01(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes[i] = (1 - x) / 2;
    weights[i] = 1 / ((1 - x * x) * derivative * derivative);
  }
  return { nodes, weights };
}

/** Depth of the deepest leaf over the trees selected by `useTree`. */
function maxLeafDepth(forest: FlatForest, useTree: (t: number) => boolean): number {
  const { feature, left, right } = forest;
  let deepest = 0;
  const stack: number[] = [];
  for (let t = 0; t < treeCount(forest); t++) {
    if (!useTree(t)) continue;
    stack.push(forest.treeStart[t], 0);
    while (stack.length > 0) {
      const d = stack.pop() as number;
      const node = stack.pop() as number;
      if (feature[node] < 0) deepest = Math.max(deepest, d);
      else stack.push(left[node], d + 1, right[node], d + 1);
    }
  }
  return deepest;
}

/**
 * Explains `scale` × Σ_t (value of tree t's leaf, column `output`) over the trees selected by `useTree`.
 * For a forest average pass scale = 1 / trees; for boosting pass the trees of one class and scale = 1.
 */
export function treeShap(forest: FlatForest, X: Matrix, output: number, scale: number, useTree: (t: number) => boolean = () => true): TreeShapResult {
  const { rows, cols, data } = X;
  const { feature, threshold, left, right, value, cover, nOutputs } = forest;
  const phi = new Float64Array(rows * cols);
  const trees = treeCount(forest);

  const maxDepth = maxLeafDepth(forest, useTree);
  const n = Math.max(1, Math.ceil(maxDepth / 2));
  const { nodes: t, weights: w } = gaussLegendre01(n);
  // Per depth: P at the node, and Σ v·P over the leaves below it.
  const product = new Float64Array((maxDepth + 1) * n);
  const below = new Float64Array((maxDepth + 1) * n);
  // The feature's zero and one fractions so far on the current path (1, 1: not split on yet, g = 1).
  const zeroOf = new Float64Array(cols).fill(1);
  const oneOf = new Float64Array(cols).fill(1);

  const leafValue = (node: number): number => scale * value[node * nOutputs + output];

  const expectedOf = (node: number): number => {
    if (feature[node] < 0) return leafValue(node);
    const c = cover[node];
    return (cover[left[node]] * expectedOf(left[node]) + cover[right[node]] * expectedOf(right[node])) / c;
  };

  let rowBase = 0;
  const visit = (node: number, at: number): void => {
    const f = feature[node];
    if (f < 0) {
      const v = leafValue(node);
      for (let q = 0; q < n; q++) below[at + q] = v * product[at + q];
      return;
    }
    for (let q = 0; q < n; q++) below[at + q] = 0;
    const child = at + n;
    const goLeft = data[rowBase + f] <= threshold[node];
    const zeroBefore = zeroOf[f];
    const oneBefore = oneOf[f];
    const slopeBefore = oneBefore - zeroBefore;
    let contribution = 0;
    for (let side = 0; side < 2; side++) {
      const next = side === 0 ? left[node] : right[node];
      const zero = (zeroBefore * cover[next]) / cover[node];
      const one = goLeft === (side === 0) ? oneBefore : 0;
      // z = o = 0: every leaf below contributes nothing to any feature.
      if (zero === 0 && one === 0) continue;
      const slope = one - zero;
      for (let q = 0; q < n; q++) product[child + q] = (product[at + q] * (zero + slope * t[q])) / (zeroBefore + slopeBefore * t[q]);
      zeroOf[f] = zero;
      oneOf[f] = one;
      visit(next, child);
      for (let q = 0; q < n; q++) {
        const s = below[child + q];
        below[at + q] += s;
        contribution += w[q] * s * (slope / (zero + slope * t[q]) - slopeBefore / (zeroBefore + slopeBefore * t[q]));
      }
    }
    zeroOf[f] = zeroBefore;
    oneOf[f] = oneBefore;
    phi[rowBase + f] += contribution;
  };

  let expectedValue = 0;
  for (let tree = 0; tree < trees; tree++) {
    if (!useTree(tree)) continue;
    const root = forest.treeStart[tree];
    expectedValue += expectedOf(root);
    if (feature[root] < 0) continue;
    for (let q = 0; q < n; q++) product[q] = 1;
    for (let i = 0; i < rows; i++) {
      rowBase = i * cols;
      visit(root, 0);
    }
  }
  return { phi, expectedValue };
}

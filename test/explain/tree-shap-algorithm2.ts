// Reference for the tests: Lundberg, Erion & Lee 2018, Algorithm 2 (extend / unwind of the unique-feature path,
// O(leaves · depth²) per row), the implementation src/explain/tree-shap.ts used before the Gauss–Legendre form.
// Only the fast implementation's equality on real models is checked against it.

import type { Matrix } from '../../src/frame/matrix.js';
import { treeCount, type FlatForest } from '../../src/models/trees/flat-tree.js';
import type { TreeShapResult } from '../../src/explain/tree-shap.js';

/**
 * Algorithm 2: explains `scale` × Σ_t (value of tree t's leaf, column `output`) over the trees selected by `useTree`.
 * For a forest average pass scale = 1 / trees; for boosting pass the trees of one class and scale = 1.
 */
export function treeShapAlgorithm2(forest: FlatForest, X: Matrix, output: number, scale: number, useTree: (t: number) => boolean = () => true): TreeShapResult {
  const { rows, cols, data } = X;
  const { feature, threshold, left, right, value, cover, nOutputs } = forest;
  const phi = new Float64Array(rows * cols);
  const trees = treeCount(forest);

  let maxDepth = 0;
  const depthOf = (node: number, d: number): void => {
    if (feature[node] < 0) {
      if (d > maxDepth) maxDepth = d;
      return;
    }
    depthOf(left[node], d + 1);
    depthOf(right[node], d + 1);
  };
  for (let t = 0; t < trees; t++) if (useTree(t)) depthOf(forest.treeStart[t], 0);
  const size = ((maxDepth + 2) * (maxDepth + 3)) / 2;
  const pf = new Int32Array(size);
  const pz = new Float64Array(size);
  const po = new Float64Array(size);
  const pw = new Float64Array(size);

  const leafValue = (node: number): number => scale * value[node * nOutputs + output];

  const expectedOf = (node: number): number => {
    if (feature[node] < 0) return leafValue(node);
    const c = cover[node];
    return (cover[left[node]] * expectedOf(left[node]) + cover[right[node]] * expectedOf(right[node])) / c;
  };

  const extend = (p: number, depth: number, zero: number, one: number, f: number): void => {
    pf[p + depth] = f;
    pz[p + depth] = zero;
    po[p + depth] = one;
    pw[p + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      pw[p + i + 1] += (one * pw[p + i] * (i + 1)) / (depth + 1);
      pw[p + i] = (zero * pw[p + i] * (depth - i)) / (depth + 1);
    }
  };

  const unwind = (p: number, depth: number, index: number): void => {
    const one = po[p + index];
    const zero = pz[p + index];
    let next = pw[p + depth];
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = pw[p + i];
        pw[p + i] = (next * (depth + 1)) / ((i + 1) * one);
        next = tmp - (pw[p + i] * zero * (depth - i)) / (depth + 1);
      } else {
        pw[p + i] = (pw[p + i] * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      pf[p + i] = pf[p + i + 1];
      pz[p + i] = pz[p + i + 1];
      po[p + i] = po[p + i + 1];
    }
  };

  const unwoundSum = (p: number, depth: number, index: number): number => {
    const one = po[p + index];
    const zero = pz[p + index];
    let next = pw[p + depth];
    let total = 0;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = (next * (depth + 1)) / ((i + 1) * one);
        total += tmp;
        next = pw[p + i] - (tmp * zero * (depth - i)) / (depth + 1);
      } else if (zero !== 0) {
        total += pw[p + i] / zero / ((depth - i) / (depth + 1));
      }
    }
    return total;
  };

  let rowBase = 0;
  let phiBase = 0;
  const recurse = (node: number, parentPath: number, depth: number, zero: number, one: number, parentFeature: number): void => {
    // Each level works on its own copy of the path, placed after the parent's.
    const p = parentPath + depth;
    for (let i = 0; i < depth; i++) {
      pf[p + i] = pf[parentPath + i];
      pz[p + i] = pz[parentPath + i];
      po[p + i] = po[parentPath + i];
      pw[p + i] = pw[parentPath + i];
    }
    extend(p, depth, zero, one, parentFeature);
    const f = feature[node];
    if (f < 0) {
      const v = leafValue(node);
      for (let i = 1; i <= depth; i++) {
        const w = unwoundSum(p, depth, i);
        phi[phiBase + pf[p + i]] += w * (po[p + i] - pz[p + i]) * v;
      }
      return;
    }
    const goLeft = data[rowBase + f] <= threshold[node];
    const hot = goLeft ? left[node] : right[node];
    const cold = goLeft ? right[node] : left[node];
    const c = cover[node];
    let incomingZero = 1;
    let incomingOne = 1;
    let d = depth;
    let k = 0;
    while (k <= d && pf[p + k] !== f) k++;
    if (k <= d) {
      incomingZero = pz[p + k];
      incomingOne = po[p + k];
      unwind(p, d, k);
      d--;
    }
    recurse(hot, p, d + 1, (cover[hot] / c) * incomingZero, incomingOne, f);
    recurse(cold, p, d + 1, (cover[cold] / c) * incomingZero, 0, f);
  };

  let expectedValue = 0;
  for (let t = 0; t < trees; t++) {
    if (!useTree(t)) continue;
    const root = forest.treeStart[t];
    expectedValue += expectedOf(root);
    if (feature[root] < 0) continue;
    for (let i = 0; i < rows; i++) {
      rowBase = i * cols;
      phiBase = i * cols;
      // The root call: an empty path extended with a dummy element (feature -1).
      recurse(root, 0, 0, 1, 1, -1);
    }
  }
  return { phi, expectedValue };
}

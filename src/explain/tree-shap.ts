// Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution for
// Tree Ensembles"): the same Shapley values as their Algorithm 2, computed in the integral form of Linear TreeShap
// (Yu, Bhatt, Kirshner & Kunchur 2022, "Linear TreeShap", NeurIPS). Each node's training cover defines the background
// distribution, so for every row: Σ_features φ + expected value = the ensemble's output, exactly.
//
// For a leaf L with value v whose path splits on the unique features j (zero fraction z_j: product of the cover ratios
// of j's splits on the path; one fraction o_j ∈ {0, 1}: whether the row follows all of them), the Shapley weights
// k!(d−k−1)!/d! are Beta integrals, which turns Algorithm 2's sum over subset sizes into
//   φ_i += v (o_i − z_i) ∫₀¹ Π_{j≠i} g_j(t) dt,   g_j(t) = z_j + (o_j − z_j) t,
// a polynomial of degree < d (d: distinct features on the path), integrated exactly by Gauss–Legendre quadrature with
// ⌈d/2⌉ nodes. One pass down the tree carries P = Π_j g_j at the nodes; on the way back each edge splitting on i adds
// Σ_{leaves below} v P (o_i − z_i) / g_i, minus the same term for i's previous split on the path (a repeated feature
// telescopes to its last split). Cost: O(rows · trees · nodes · d / 2) time (Algorithm 2: leaves · depth²); memory:
// per-tree edge tables of 4 · nodes · ⌈d/2⌉ doubles, computed per depth instead above 16 MB. Rows taking the same
// side at every split of a tree are explained once for it.

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

/** Doubles of per-tree edge tables kept at once (16 MB); a larger tree computes them on the way down instead. */
const TABLE_BUDGET = 1 << 21;

/** The most distinct features on one root-to-leaf path of the tree at `root` (the integrand's degree + 1). */
function maxDistinctOnPath(forest: FlatForest, root: number, uses: Int32Array): number {
  const { feature, left, right } = forest;
  let most = 0;
  const walk = (node: number, distinct: number): void => {
    const f = feature[node];
    if (f < 0) {
      most = Math.max(most, distinct);
      return;
    }
    const fresh = uses[f] === 0 ? 1 : 0;
    uses[f]++;
    walk(left[node], distinct + fresh);
    walk(right[node], distinct + fresh);
    uses[f]--;
  };
  walk(root, 0);
  return most;
}

/** Rows explained together: one pass down each tree serves the whole block. */
const BLOCK_ROWS = 32;

/**
 * Explains `scale` × Σ_t (value of tree t's leaf, column `output`) over the trees selected by `useTree`.
 * For a forest average pass scale = 1 / trees; for boosting pass the trees of one class and scale = 1.
 * Trees whose edge tables would exceed `tableBudget` doubles compute them per depth instead (same values).
 */
export function treeShap(
  forest: FlatForest,
  X: Matrix,
  output: number,
  scale: number,
  useTree: (t: number) => boolean = () => true,
  tableBudget = TABLE_BUDGET,
): TreeShapResult {
  const { rows, cols, data } = X;
  const { feature, threshold, left, right, value, cover, nOutputs } = forest;
  const phi = new Float64Array(rows * cols);
  const trees = treeCount(forest);
  const features = Math.max(cols, feature.reduce((m, f) => Math.max(m, f + 1), 0));
  const quadratures = new Map<number, { nodes: Float64Array; weights: Float64Array }>();
  const block = Math.max(1, Math.min(BLOCK_ROWS, rows));

  const leafValue = (node: number): number => scale * value[node * nOutputs + output];
  const expectedOf = (node: number): number => {
    if (feature[node] < 0) return leafValue(node);
    return (cover[left[node]] * expectedOf(left[node]) + cover[right[node]] * expectedOf(right[node])) / cover[node];
  };

  // Path state. zeroOf: the feature's zero fraction so far (tree structure only; 1 = not split on yet). oneOf (per
  // feature, per row of the block): whether the row followed all of the feature's splits so far.
  const zeroOf = new Float64Array(features).fill(1);
  const oneOf = new Uint8Array(features * block).fill(1);
  const uses = new Int32Array(features);

  // Per tree: n quadrature nodes t_q, weights w_q, and for the edge into each child, 4n values while the split feature's
  // one fraction was 1 before the edge: the factor g/g_before multiplying P and the weights w·(slope/g − slope_before/
  // g_before) of the edge's φ term, first if the row takes the edge (o stays 1), then if it does not (o becomes 0).
  // Trees too large for the budget compute each edge's values per depth on the way down (`scratch`).
  let n = 1;
  let t: Float64Array = new Float64Array(1);
  let w: Float64Array = new Float64Array(1);
  let tabled = false;
  let table = new Float64Array(0);
  let scratch = new Float64Array(0);
  // Per depth, per row of the block: P at the node, Σ v·P over the leaves below it, the saved one fraction, and where
  // the φ weights of the edge being followed start in the table (−1: none).
  let product = new Float64Array(0);
  let below = new Float64Array(0);
  let savedOne = new Uint8Array(0);
  let termAt = new Int32Array(0);

  const fillEdge = (into: Float64Array, at: number, zeroBefore: number, zero: number): void => {
    for (let q = 0; q < n; q++) {
      const before = zeroBefore + (1 - zeroBefore) * t[q];
      const termBefore = ((1 - zeroBefore) * w[q]) / before;
      const taken = zero + (1 - zero) * t[q];
      into[at + q] = taken / before;
      into[at + n + q] = ((1 - zero) * w[q]) / taken - termBefore;
      into[at + 2 * n + q] = (zero * (1 - t[q])) / before;
      into[at + 3 * n + q] = -w[q] / (1 - t[q]) - termBefore;
    }
  };

  const fillTree = (node: number, start: number): void => {
    const f = feature[node];
    if (f < 0) return;
    const zeroBefore = zeroOf[f];
    for (const next of [left[node], right[node]]) {
      const zero = (zeroBefore * cover[next]) / cover[node];
      fillEdge(table, (next - start) * 4 * n, zeroBefore, zero);
      zeroOf[f] = zero;
      fillTree(next, start);
    }
    zeroOf[f] = zeroBefore;
  };

  // The rows explained in this tree pass: data row rowAt[k] adds its φ to target[k · stride + columnOf[feature]].
  let rowAt: Int32Array = Int32Array.from({ length: rows }, (_, i) => i);
  let target = phi;
  let stride = cols;
  let columnOf: Int32Array = Int32Array.from({ length: features }, (_, f) => f);
  let firstRow = 0;
  let blockRows = 0;
  let start = 0;
  const visit = (node: number, depth: number): void => {
    const at = depth * block * n;
    const f = feature[node];
    const child = at + block * n;
    const rowState = depth * block;
    const featureState = f * block;
    for (let r = 0; r < blockRows; r++) savedOne[rowState + r] = oneOf[featureState + r];
    const split = threshold[node];
    const zeroBefore = zeroOf[f];
    for (let side = 0; side < 2; side++) {
      const next = side === 0 ? left[node] : right[node];
      const ratio = cover[next] / cover[node];
      const zero = (zeroBefore * cover[next]) / cover[node];
      let edge = (next - start) * 4 * n;
      const values = tabled ? table : scratch;
      if (!tabled) {
        edge = depth * 4 * n;
        fillEdge(scratch, edge, zeroBefore, zero);
      }
      for (let r = 0; r < blockRows; r++) {
        const p = at + r * n;
        const c = child + r * n;
        if (savedOne[rowState + r]) {
          const taken = data[rowAt[firstRow + r] * cols + f] <= split === (side === 0);
          const e = taken ? edge : edge + 2 * n;
          for (let q = 0; q < n; q++) product[c + q] = product[p + q] * values[e + q];
          termAt[rowState + r] = e + n;
          oneOf[featureState + r] = taken ? 1 : 0;
        } else {
          // o stays 0: g = z(1 − t) only rescales, and the edge adds nothing to φ_f.
          for (let q = 0; q < n; q++) product[c + q] = product[p + q] * ratio;
          termAt[rowState + r] = -1;
        }
      }
      zeroOf[f] = zero;
      // A leaf's Σ v·P is v·P: read straight from `product`.
      const leaf = feature[next] < 0;
      const sums = leaf ? product : below;
      const v = leaf ? leafValue(next) : 1;
      if (!leaf) visit(next, depth + 1);
      for (let r = 0; r < blockRows; r++) {
        const p = at + r * n;
        const c = child + r * n;
        const e = termAt[rowState + r];
        if (e >= 0) {
          let contribution = 0;
          for (let q = 0; q < n; q++) {
            const s = v * sums[c + q];
            below[p + q] = side === 0 ? s : below[p + q] + s;
            contribution += values[e + q] * s;
          }
          target[(firstRow + r) * stride + columnOf[f]] += contribution;
        } else {
          for (let q = 0; q < n; q++) below[p + q] = side === 0 ? v * sums[c + q] : below[p + q] + v * sums[c + q];
        }
        oneOf[featureState + r] = savedOne[rowState + r];
      }
    }
    zeroOf[f] = zeroBefore;
  };

  let expectedValue = 0;
  for (let tree = 0; tree < trees; tree++) {
    if (!useTree(tree)) continue;
    const root = forest.treeStart[tree];
    expectedValue += expectedOf(root);
    if (feature[root] < 0 || rows === 0) continue;
    start = root;
    const nodes = forest.treeStart[tree + 1] - root;
    n = Math.max(1, Math.ceil(maxDistinctOnPath(forest, root, uses) / 2));
    let rule = quadratures.get(n);
    if (!rule) quadratures.set(n, (rule = gaussLegendre01(n)));
    t = rule.nodes;
    w = rule.weights;
    const depths = maxLeafDepth(forest, root) + 1;
    tabled = nodes * 4 * n <= tableBudget;
    if (tabled) {
      if (table.length < nodes * 4 * n) table = new Float64Array(nodes * 4 * n);
      fillTree(root, root);
    } else if (scratch.length < depths * 4 * n) {
      scratch = new Float64Array(depths * 4 * n);
    }
    if (product.length < depths * block * n) {
      product = new Float64Array(depths * block * n);
      below = new Float64Array(depths * block * n);
    }
    if (savedOne.length < depths * block) {
      savedOne = new Uint8Array(depths * block);
      termAt = new Int32Array(depths * block);
    }
    product.fill(1, 0, block * n);
    const groups = rows > 1 ? sameSidesGroups(forest, root, X) : undefined;
    const explained = groups ? groups.representative.length : rows;
    if (groups) {
      rowAt = groups.representative;
      stride = groups.features.length;
      target = new Float64Array(explained * stride);
      columnOf = new Int32Array(features);
      groups.features.forEach((f, slot) => (columnOf[f] = slot));
    }
    // The root is a split (a single-leaf tree explains nothing), so `visit` only ever meets splits.
    for (firstRow = 0; firstRow < explained; firstRow += block) {
      blockRows = Math.min(block, explained - firstRow);
      visit(root, 0);
    }
    if (groups) {
      for (let i = 0; i < rows; i++) {
        const from = groups.groupOf[i] * stride;
        for (let slot = 0; slot < stride; slot++) phi[i * cols + groups.features[slot]] += target[from + slot];
      }
      rowAt = Int32Array.from({ length: rows }, (_, i) => i);
      target = phi;
      stride = cols;
      columnOf = Int32Array.from({ length: features }, (_, f) => f);
    }
  }
  return { phi, expectedValue };
}

/** Bits per part of a row's key (one per split): an exact integer in a double. */
const KEY_BITS = 52;
/** Trees with more splits are explained row by row: building the keys would cost more than the repeats save. */
const MAX_KEYED_SPLITS = 1024;

/**
 * Rows that take the same side at every split of the tree at `root` get the same φ from it (φ depends on the row only
 * through those sides), so each such group is explained once. Undefined when the tree has too many splits, or the
 * rows hardly repeat (fewer than 1 in 4 saved).
 */
function sameSidesGroups(forest: FlatForest, root: number, X: Matrix): { representative: Int32Array; groupOf: Int32Array; features: Int32Array } | undefined {
  const { feature, threshold, left, right } = forest;
  const splits: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as number;
    if (feature[node] < 0) continue;
    splits.push(node);
    if (splits.length > MAX_KEYED_SPLITS) return undefined;
    stack.push(right[node], left[node]);
  }
  const { rows, cols, data } = X;
  const groupOfKey = new Map<number | string, number>();
  const groupOf = new Int32Array(rows);
  const representative: number[] = [];
  const parts: number[] = [];
  for (let i = 0; i < rows; i++) {
    parts.length = 0;
    for (let from = 0; from < splits.length; from += KEY_BITS) {
      let part = 1;
      const to = Math.min(splits.length, from + KEY_BITS);
      for (let k = from; k < to; k++) part = part * 2 + (data[i * cols + feature[splits[k]]] <= threshold[splits[k]] ? 1 : 0);
      parts.push(part);
    }
    const key = parts.length === 1 ? parts[0] : parts.join(',');
    let group = groupOfKey.get(key);
    if (group === undefined) {
      group = representative.length;
      groupOfKey.set(key, group);
      representative.push(i);
    }
    groupOf[i] = group;
  }
  if (representative.length * 4 > rows * 3) return undefined;
  const features = Int32Array.from(new Set(splits.map((node) => feature[node])));
  return { representative: Int32Array.from(representative), groupOf, features };
}

/** Depth of the deepest leaf of the tree at `root`. */
function maxLeafDepth(forest: FlatForest, root: number): number {
  const { feature, left, right } = forest;
  let deepest = 0;
  const stack = [root, 0];
  while (stack.length > 0) {
    const d = stack.pop() as number;
    const node = stack.pop() as number;
    if (feature[node] < 0) deepest = Math.max(deepest, d);
    else stack.push(left[node], d + 1, right[node], d + 1);
  }
  return deepest;
}

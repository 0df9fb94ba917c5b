// Model-agnostic per-prediction attributions by occlusion (Zeiler & Fergus 2014, "Visualizing and Understanding
// Convolutional Networks", applied to tabular features): the contribution of input feature j to row x is
//   f(x) − f(x with feature j set to its training reference value),
// where f is the explained output (probability of the explained class, or the anomaly score) and the reference is
// the training median (numeric) / most frequent category (one-hot group). A feature may span several model columns
// (one-hot), so features are occluded as column groups. Cost: rows × (groups + 1) model evaluations, batched so
// memory stays O(batch × columns).

import { createMatrix, type Matrix } from '../frame/matrix.js';

/**
 * Scores a block of model-input rows, one output per row (the explained quantity). Block row r is a variant of input
 * row `firstRow + floor(r / variants)`, so the function can explain a different class per input row.
 */
export type ScoreFn = (X: Matrix, firstRow: number, variants: number) => Promise<Float64Array>;

export interface FeatureGroups {
  /** For each model input column, the index of the input feature it derives from. */
  columnFeature: Int32Array;
  /** Number of input features (groups). */
  nFeatures: number;
}

/** Each column is its own feature. */
export function identityGroups(cols: number): FeatureGroups {
  return { columnFeature: Int32Array.from({ length: cols }, (_, j) => j), nFeatures: cols };
}

/** rows × groups contributions; the score function sees (groups + 1) × batchRows rows at a time. */
export async function occlusion(X: Matrix, reference: Float32Array, groups: FeatureGroups, score: ScoreFn, batchRows = 64): Promise<Matrix> {
  const { cols } = X;
  const g = groups.nFeatures;
  const members: number[][] = Array.from({ length: g }, () => []);
  for (let c = 0; c < cols; c++) members[groups.columnFeature[c]].push(c);
  const out = createMatrix(X.rows, g);
  for (let start = 0; start < X.rows; start += batchRows) {
    const n = Math.min(batchRows, X.rows - start);
    const block = createMatrix(n * (g + 1), cols, X.columns);
    for (let i = 0; i < n; i++) {
      const src = X.data.subarray((start + i) * cols, (start + i + 1) * cols);
      const base = i * (g + 1);
      block.data.set(src, base * cols);
      for (let f = 0; f < g; f++) {
        const at = (base + 1 + f) * cols;
        block.data.set(src, at);
        for (const c of members[f]) block.data[at + c] = reference[c];
      }
    }
    const s = await score(block, start, g + 1);
    for (let i = 0; i < n; i++) {
      const base = i * (g + 1);
      for (let f = 0; f < g; f++) out.data[(start + i) * g + f] = s[base] - s[base + 1 + f];
    }
  }
  return out;
}

/** Column-wise medians of the training matrix: the occlusion reference. O(rows × cols) memory for one column. */
export function columnMedians(X: Matrix, maxRows = 20000): Float32Array {
  const step = Math.max(1, Math.floor(X.rows / maxRows));
  const n = Math.ceil(X.rows / step);
  const col = new Float32Array(n);
  const out = new Float32Array(X.cols);
  for (let j = 0; j < X.cols; j++) {
    for (let i = 0, k = 0; i < X.rows; i += step, k++) col[k] = X.data[i * X.cols + j];
    col.sort();
    out[j] = n % 2 ? col[(n - 1) >> 1] : (col[n / 2 - 1] + col[n / 2]) / 2;
  }
  return out;
}

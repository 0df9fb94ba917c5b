// Helpers shared by the tree models: training-input checks, class and sample weights, max_features, the stable row
// partition of a split, and turning scores into labels.

import { checkInput, createMatrix, type Matrix } from '../../frame/matrix.js';
import type { Labels } from '../../frame/labels.js';
import { UserError } from '../../errors.js';
import type { FitOptions, ParamRule } from '../estimator.js';

/** Validates training input; a classifier needs at least two classes present. Returns the class count per code. */
export function checkTraining(model: string, X: Matrix, y: Labels): Float64Array {
  checkInput(X, undefined, model);
  if (y.codes.length !== X.rows) throw new UserError(`${model}: ${X.rows} rows but ${y.codes.length} labels`);
  if (X.rows === 0) throw new UserError(`${model}: no training rows`);
  const counts = new Float64Array(y.classes.length);
  for (let i = 0; i < y.codes.length; i++) counts[y.codes[i]]++;
  const present = counts.reduce((s, c) => s + (c > 0 ? 1 : 0), 0);
  if (present < 2) {
    const only = y.classes[y.codes[0]] ?? '';
    throw new UserError(`${model}: the training labels hold a single class ('${only}'); a classifier needs at least two. Use an anomaly detector (e.g. iforest) for one-class data`);
  }
  return counts;
}

export const classWeightRule: ParamRule = { type: 'choice', values: [null, 'balanced'] };
export const maxFeaturesRule: ParamRule = { type: 'int-or-choice', min: 1, values: ['sqrt', 'log2', 'all'] };

/** Per-row weight: sample weight × class weight ('balanced' = n / (classes · count_k), as scikit-learn). */
export function rowWeights(y: Labels, counts: Float64Array, classWeight: unknown, options?: FitOptions): Float64Array {
  const n = y.codes.length;
  const present = counts.reduce((s, c) => s + (c > 0 ? 1 : 0), 0);
  const perClass = counts.map((c) => (classWeight === 'balanced' && c > 0 ? n / (present * c) : 1));
  const w = new Float64Array(n);
  const sw = options?.sampleWeight;
  if (sw && sw.length !== n) throw new UserError(`sample weights have length ${sw.length}, expected ${n}`);
  for (let i = 0; i < n; i++) w[i] = perClass[y.codes[i]] * (sw ? sw[i] : 1);
  return w;
}

export function resolveMaxFeatures(value: unknown, cols: number): number {
  if (value === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(cols)));
  if (value === 'log2') return Math.max(1, Math.floor(Math.log2(cols)));
  if (value === 'all' || value === null) return cols;
  return Math.min(cols, Number(value));
}

export function toMatrix(values: Float64Array, rows: number, cols: number): Matrix {
  return createMatrix(rows, cols, undefined, Float32Array.from(values));
}

/** The class a row is explained for: the given index, else the predicted class. */
export function checkClassIndex(model: string, classIndex: number | undefined, nClasses: number): void {
  if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= nClasses)) {
    throw new UserError(`${model}: class index ${classIndex} is out of range [0, ${nClasses - 1}]`);
  }
}

export function notFitted(model: string): UserError {
  return new UserError(`${model}: the model is not fitted yet`);
}

export /** Stable partition of rows[start..end) by bins[first + row · stride] <= splitBin (the right side passes through `spare`); returns the first right position. */
function partition(rows: Int32Array, spare: Int32Array, start: number, end: number, bins: Uint8Array, first: number, stride: number, splitBin: number): number {
  let mid = start;
  let spill = 0;
  for (let r = start; r < end; r++) {
    const i = rows[r];
    // Branch-free: the row is written to both sides, only its own side advances (splits are close to coin flips).
    const right = (splitBin - bins[first + i * stride]) >>> 31;
    rows[mid] = i;
    spare[spill] = i;
    mid += right ^ 1;
    spill += right;
  }
  rows.set(spare.subarray(0, spill), mid);
  return mid;
}

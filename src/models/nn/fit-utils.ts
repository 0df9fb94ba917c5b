// Helpers shared by the linear and neural classifiers: training-input checks, per-row weights (sample weights times
// scikit-learn's 'balanced' class weights n / (k · count_c)), seeded stratified splits and folds, numerically safe
// sigmoid / softmax. All O(rows) or O(rows · classes).

import { checkInput, type Matrix } from '../../frame/matrix.js';
import type { Labels } from '../../frame/labels.js';
import { UserError } from '../../errors.js';
import type { FitOptions } from '../estimator.js';
import { Rng } from '../../util/rng.js';

/** Validates X, y and sample weights; returns the per-class row counts. */
export function checkClassifierFit(who: string, X: Matrix, y: Labels, options: FitOptions | undefined): Float64Array {
  checkInput(X, undefined, who);
  if (y.codes.length !== X.rows) throw new UserError(`${who}: ${X.rows} rows of features but ${y.codes.length} labels`);
  const counts = new Float64Array(y.classes.length);
  for (let i = 0; i < y.codes.length; i++) {
    const c = y.codes[i];
    if (c < 0 || c >= counts.length) throw new UserError(`${who}: label code ${c} at row ${i} has no class name`);
    counts[c]++;
  }
  const present = counts.reduce((s, c) => s + (c > 0 ? 1 : 0), 0);
  if (present < 2) {
    const only = y.classes[counts.findIndex((c) => c > 0)] ?? y.classes[0] ?? '(none)';
    throw new UserError(`${who}: training labels hold a single class ('${only}'); a classifier needs at least two — use an anomaly detector (--task anomaly) for normal-only data`);
  }
  const sw = options?.sampleWeight;
  if (sw) {
    if (sw.length !== X.rows) throw new UserError(`${who}: sampleWeight has ${sw.length} values for ${X.rows} rows`);
    for (let i = 0; i < sw.length; i++) {
      if (!(sw[i] >= 0) || !Number.isFinite(sw[i])) throw new UserError(`${who}: sampleWeight[${i}] is ${sw[i]}; weights must be finite and >= 0`);
    }
  }
  return counts;
}

/** Per-row weights: sample weights times 'balanced' class weights; null when all are 1. */
export function rowWeights(y: Labels, counts: Float64Array, classWeight: string | null, sampleWeight: Float64Array | undefined): Float64Array | null {
  if (classWeight !== 'balanced' && !sampleWeight) return null;
  const n = y.codes.length;
  const w = sampleWeight ? Float64Array.from(sampleWeight) : new Float64Array(n).fill(1);
  if (classWeight === 'balanced') {
    const present = counts.reduce((s, c) => s + (c > 0 ? 1 : 0), 0);
    const perClass = Array.from(counts, (c) => (c > 0 ? n / (present * c) : 0));
    for (let i = 0; i < n; i++) w[i] *= perClass[y.codes[i]];
  }
  return w;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + exp(z)) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** In-place softmax of v[o .. o+k); returns log Σ exp (the log-partition). */
export function softmaxInPlace(v: Float64Array, o: number, k: number): number {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (v[o + c] > max) max = v[o + c];
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(v[o + c] - max);
    v[o + c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) v[o + c] /= sum;
  return max + Math.log(sum);
}

/** Seeded stratified k-fold: fold id per row (each class shuffled, then dealt round-robin). */
export function stratifiedFolds(codes: Int32Array, nClasses: number, k: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < codes.length; i++) byClass[codes[i]].push(i);
  const out = new Uint8Array(codes.length);
  for (const rows of byClass) {
    rng.shuffle(rows);
    rows.forEach((row, rank) => (out[row] = rank % k));
  }
  return out;
}

/** Row indices of each part, ascending. */
export function partition(parts: Uint8Array, k: number): Int32Array[] {
  const sizes = new Int32Array(k);
  for (let i = 0; i < parts.length; i++) sizes[parts[i]]++;
  const out = Array.from(sizes, (s) => new Int32Array(s));
  const fill = new Int32Array(k);
  for (let i = 0; i < parts.length; i++) out[parts[i]][fill[parts[i]]++] = i;
  return out;
}

/** Builds labels restricted to the given rows (same class list). */
export function takeLabels(y: Labels, rows: Int32Array): Labels {
  const codes = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) codes[i] = y.codes[rows[i]];
  return { codes, classes: y.classes };
}

export function takeWeights(w: Float64Array | null, rows: Int32Array): Float64Array | null {
  if (!w) return null;
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = w[rows[i]];
  return out;
}


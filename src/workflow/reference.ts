// The training reference stored in the model file for drift detection: per input feature, quantiles at fixed levels
// and a histogram over quantile edges (numeric) or category frequencies (categorical), plus the missing share; and the
// same for the model's training scores. The live service compares incoming windows against it (e.g. PSI / KS).
// Cost: one sort per numeric column, O(rows log rows); at most `maxRows` evenly spaced rows are used.

import type { Column, Frame } from '../frame/frame.js';
import type { DriftReference } from '../store/model-file.js';
import { quantileSorted } from '../util/quantile.js';

export const REFERENCE_LEVELS = Float64Array.from([0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]);
const HISTOGRAM_BINS = 10;

function quantilesOf(sorted: Float64Array): Float64Array {
  return REFERENCE_LEVELS.map((q) => quantileSorted(sorted, q));
}

/** Histogram over distinct deciles of `sorted` (values outside fall in the end bins). */
function histogramOf(sorted: Float64Array): { edges: Float64Array; counts: Float64Array } {
  const n = sorted.length;
  const raw: number[] = [];
  for (let b = 0; b <= HISTOGRAM_BINS; b++) {
    const v = n === 0 ? 0 : sorted[Math.min(n - 1, Math.round((b * (n - 1)) / HISTOGRAM_BINS))];
    if (raw.length === 0 || v > raw[raw.length - 1]) raw.push(v);
  }
  if (raw.length === 1) raw.push(raw[0]);
  const edges = Float64Array.from(raw);
  const counts = new Float64Array(edges.length - 1);
  for (let i = 0; i < n; i++) counts[binOf(edges, sorted[i])]++;
  return { edges, counts };
}

/** Bin index of v: bins are [e_k, e_k+1) with the last one closed; out-of-range values go to the end bins. */
export function binOf(edges: Float64Array, v: number): number {
  const last = edges.length - 2;
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function sample(values: ArrayLike<number>, maxRows: number): { finite: Float64Array; missing: number } {
  const step = Math.max(1, Math.floor(values.length / maxRows));
  const tmp: number[] = [];
  let missing = 0;
  let seen = 0;
  for (let i = 0; i < values.length; i += step) {
    seen++;
    const v = values[i];
    if (Number.isFinite(v)) tmp.push(v);
    else missing++;
  }
  return { finite: Float64Array.from(tmp).sort(), missing: seen ? missing / seen : 0 };
}

function columnReference(col: Column, maxRows: number): DriftReference['features'][number] {
  if (col.kind === 'categorical') {
    const freq = new Float64Array(col.dictionary.length);
    let missing = 0;
    for (let i = 0; i < col.codes.length; i++) {
      if (col.codes[i] < 0) missing++;
      else freq[col.codes[i]]++;
    }
    const n = col.codes.length || 1;
    for (let k = 0; k < freq.length; k++) freq[k] /= n;
    return { name: col.name, frequencies: freq, missing: missing / n };
  }
  const { finite, missing } = sample(col.values, maxRows);
  return { name: col.name, quantiles: quantilesOf(finite), ...histogramOf(finite), missing };
}

export function buildReference(frame: Frame, scores: Float64Array, maxRows = 50000): DriftReference {
  const s = sample(scores, maxRows).finite;
  return {
    levels: REFERENCE_LEVELS,
    features: frame.features.map((c) => columnReference(c, maxRows)),
    score: { quantiles: quantilesOf(s), ...histogramOf(s) },
  };
}

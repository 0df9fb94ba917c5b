// ECOD: Empirical-Cumulative-distribution-based Outlier Detection (Li, Zhao, Hu, Botta, Ionescu, Chen, TKDE 2022).
// Parameter-free: per feature, the left and right tail probabilities of a value under the training rows' empirical
// CDF give -log tail scores; as in PyOD's implementation, each feature contributes the largest of its left tail, right
// tail and skewness-chosen tail score, and the row's score is their sum. Score direction: higher = more anomalous.
// Novelty extension (ours): a value outside the training range, whose empirical tail is 0, scores
// log(n) + (distance beyond the range) / (feature's standard deviation), so scores stay finite and keep ranking.
// Fit O(d · n log n); scoring O(rows · d · log u), u = distinct values of a feature. The model keeps only the
// distinct values and their cumulative counts.

import { UserError } from '../errors.js';
import { checkInput, type Matrix } from '../frame/matrix.js';
import { DetectorBase, checkEnoughRows } from './detector-base.js';
import { resolveParams, type FitOptions, type ModelState, type ParamRule } from './estimator.js';
import type { ModelSpec } from './registry.js';

type EcodParams = {
  contamination: number;
}

const defaults: EcodParams = { contamination: 0.1 };
const rules: { [K in keyof EcodParams]: ParamRule } = {
  contamination: { type: 'float', min: 0, max: 0.5, exclusiveMin: true },
};

export class EcodDetector extends DetectorBase {
  readonly name = 'ecod';
  readonly params: Readonly<EcodParams>;
  nFeatures: number | undefined;
  private rows = 0;
  /** Feature j's distinct training values are values[offsets[j] .. offsets[j+1]), ascending. */
  private offsets: Int32Array = new Int32Array(0);
  private values: Float64Array = new Float64Array(0);
  /** Number of training values ≤ values[p]. */
  private cumulative: Int32Array = new Int32Array(0);
  /** Sign of each feature's sample skewness (-1, 0, 1). */
  private skewSign: Int8Array = new Int8Array(0);
  private scale: Float64Array = new Float64Array(0);

  constructor(params: Partial<EcodParams> = {}) {
    super();
    this.params = resolveParams('ecod', defaults, rules, params);
  }

  async fit(X: Matrix, options: FitOptions = {}): Promise<this> {
    checkInput(X, undefined, 'ecod');
    checkEnoughRows('ecod', X.rows, 2);
    const { rows: n, cols: d, data } = X;
    const column = new Float64Array(n);
    const values: number[] = [];
    const cumulative: number[] = [];
    this.offsets = new Int32Array(d + 1);
    this.skewSign = new Int8Array(d);
    this.scale = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let i = 0; i < n; i++) {
        column[i] = data[i * d + j];
        mean += column[i];
      }
      mean /= n;
      let m2 = 0;
      let m3 = 0;
      for (let i = 0; i < n; i++) {
        const c = column[i] - mean;
        m2 += c * c;
        m3 += c * c * c;
      }
      m2 /= n;
      m3 /= n;
      const skew = m2 > 0 ? m3 / m2 ** 1.5 : 0;
      this.skewSign[j] = skew > 0 ? 1 : skew < 0 ? -1 : 0;
      this.scale[j] = m2 > 0 ? Math.sqrt(m2) : 1;
      column.sort();
      for (let i = 0; i < n; i++) {
        if (i + 1 < n && column[i + 1] === column[i]) continue;
        values.push(column[i]);
        cumulative.push(i + 1);
      }
      this.offsets[j + 1] = values.length;
    }
    this.values = Float64Array.from(values);
    this.cumulative = Int32Array.from(cumulative);
    this.rows = n;
    this.nFeatures = d;
    this.calibrate(this.score(X), this.params.contamination, Number.NaN);
    options.onProgress?.(1, 1);
    return this;
  }

  async scoreSamples(X: Matrix): Promise<Float64Array> {
    if (this.nFeatures === undefined) throw new UserError('ecod: the model is not fitted');
    checkInput(X, this.nFeatures, 'ecod');
    return this.score(X);
  }

  private score(X: Matrix): Float64Array {
    const { rows, cols: d, data } = X;
    const n = this.rows;
    const logN = Math.log(n);
    const out = new Float64Array(rows);
    const { offsets, values, cumulative } = this;
    for (let j = 0; j < d; j++) {
      const start = offsets[j];
      const end = offsets[j + 1];
      const min = values[start];
      const max = values[end - 1];
      const scale = this.scale[j];
      const sign = this.skewSign[j];
      for (let i = 0; i < rows; i++) {
        const x = data[i * d + j];
        let left: number;
        let right: number;
        if (x < min) {
          left = logN + (min - x) / scale;
          right = 0;
        } else if (x > max) {
          left = 0;
          right = logN + (x - max) / scale;
        } else {
          // p = last distinct value ≤ x; q = first distinct value ≥ x.
          let lo = start;
          let hi = end - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (values[mid] <= x) lo = mid;
            else hi = mid - 1;
          }
          const atOrBelow = cumulative[lo];
          const below = values[lo] === x ? (lo > start ? cumulative[lo - 1] : 0) : atOrBelow;
          left = -Math.log(atOrBelow / n);
          right = -Math.log((n - below) / n);
        }
        const skewed = sign > 0 ? right : sign < 0 ? left : left + right;
        out[i] += Math.max(left, right, skewed);
      }
    }
    return out;
  }

  getState(): ModelState {
    return {
      params: { ...this.params },
      nFeatures: this.nFeatures ?? null,
      rows: this.rows,
      offsets: this.offsets,
      values: this.values,
      cumulative: this.cumulative,
      skewSign: this.skewSign,
      scale: this.scale,
      ...this.detectorState(),
    };
  }

  static fromState(state: ModelState): EcodDetector {
    const model = new EcodDetector(state.params as Partial<EcodParams>);
    model.nFeatures = state.nFeatures as number;
    model.rows = state.rows as number;
    model.offsets = state.offsets as Int32Array;
    model.values = state.values as Float64Array;
    model.cumulative = state.cumulative as Int32Array;
    model.skewSign = state.skewSign as Int8Array;
    model.scale = state.scale as Float64Array;
    model.restoreDetectorState(state);
    return model;
  }
}

export const spec: ModelSpec<EcodDetector> = {
  name: 'ecod',
  kind: 'detector',
  title: 'ECOD (Li et al. 2022): parameter-free empirical-CDF tail probabilities',
  create: (params) => new EcodDetector(params as Partial<EcodParams>),
  fromState: (state) => EcodDetector.fromState(state),
  searchSpace: {},
  testParams: {},
};

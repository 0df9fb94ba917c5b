// Tiny models registered only by the cross-validation tests (and imported by their worker threads):
// - 'test-centroid': nearest-centroid classifier (probabilities: softmax of negative distances), with knobs to
//   slow it down, make it fail, or check that its training matrix is standardised (a leakage probe);
// - 'test-centroid-jobs': the same with an n_jobs parameter (runs sequentially under parallel 'auto');
// - 'test-distance': detector scoring the distance to the normal centroid, threshold at the training maximum.

import { createMatrix, type Matrix } from '../../../src/frame/matrix.js';
import type { Labels } from '../../../src/frame/labels.js';
import type { Classifier, Detector, FitOptions, ModelState, Params } from '../../../src/models/estimator.js';
import { listModels, registerModel, type ModelSpec } from '../../../src/models/registry.js';

function centroids(X: Matrix, codes: Int32Array, k: number): Float64Array {
  const sums = new Float64Array(k * X.cols);
  const counts = new Float64Array(k);
  for (let i = 0; i < X.rows; i++) {
    counts[codes[i]]++;
    for (let j = 0; j < X.cols; j++) sums[codes[i] * X.cols + j] += X.data[i * X.cols + j];
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < X.cols; j++) sums[c * X.cols + j] /= Math.max(1, counts[c]);
  return sums;
}

function distance(X: Matrix, i: number, centre: Float64Array, c: number): number {
  let d = 0;
  for (let j = 0; j < X.cols; j++) d += (X.data[i * X.cols + j] - centre[c * X.cols + j]) ** 2;
  return Math.sqrt(d);
}

export class TestCentroid implements Classifier {
  readonly kind = 'classifier' as const;
  classes: readonly string[] = [];
  nFeatures: number | undefined;
  centre: Float64Array = new Float64Array(0);
  constructor(
    readonly name: string,
    readonly params: Params,
  ) {}

  async fit(X: Matrix, y: Labels, options?: FitOptions): Promise<this> {
    if (this.params.fail) throw new Error('asked to fail');
    if (this.params.delay_ms) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, Number(this.params.delay_ms));
        options?.signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
      });
    }
    if (this.params.probe_standardised) {
      for (let j = 0; j < X.cols; j++) {
        let sum = 0;
        for (let i = 0; i < X.rows; i++) sum += X.data[i * X.cols + j];
        if (Math.abs(sum / X.rows) > 1e-4) throw new Error(`training column ${j} has mean ${sum / X.rows}: preprocessing saw other rows`);
      }
    }
    this.classes = y.classes;
    this.nFeatures = X.cols;
    this.centre = centroids(X, y.codes, y.classes.length);
    return this;
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    const k = this.classes.length;
    const out = createMatrix(X.rows, k);
    for (let i = 0; i < X.rows; i++) {
      const d = Array.from({ length: k }, (_, c) => -distance(X, i, this.centre, c) / Number(this.params.temperature));
      const max = Math.max(...d);
      const e = d.map((v) => Math.exp(v - max));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, c) => (out.data[i * k + c] = v / s));
    }
    return out;
  }

  async predict(X: Matrix): Promise<Labels> {
    const p = await this.predictProba(X);
    const k = this.classes.length;
    return { classes: this.classes, codes: Int32Array.from({ length: X.rows }, (_, i) => p.data.subarray(i * k, (i + 1) * k).indexOf(Math.max(...p.data.subarray(i * k, (i + 1) * k)))) };
  }

  getState(): ModelState {
    return { params: this.params, classes: [...this.classes], centre: this.centre, nFeatures: this.nFeatures ?? 0 };
  }
}

class TestDistance implements Detector {
  readonly kind = 'detector' as const;
  readonly name = 'test-distance';
  nFeatures: number | undefined;
  threshold = Infinity;
  centre: Float64Array = new Float64Array(0);
  constructor(readonly params: Params) {}
  async fit(X: Matrix): Promise<this> {
    this.nFeatures = X.cols;
    this.centre = centroids(X, new Int32Array(X.rows), 1);
    const s = await this.scoreSamples(X);
    this.threshold = s.reduce((a, b) => Math.max(a, b), 0);
    return this;
  }
  async scoreSamples(X: Matrix): Promise<Float64Array> {
    return Float64Array.from({ length: X.rows }, (_, i) => distance(X, i, this.centre, 0));
  }
  async predict(X: Matrix): Promise<Uint8Array> {
    return Uint8Array.from(await this.scoreSamples(X), (s) => (s >= this.threshold ? 1 : 0));
  }
  normalizeScores(scores: Float64Array): Float64Array {
    return scores;
  }
  getState(): ModelState {
    return { centre: this.centre, threshold: this.threshold };
  }
}

const centroidDefaults = { temperature: 1, delay_ms: 0, fail: false, probe_standardised: false };

function centroidSpec(name: string, extra: Params): ModelSpec {
  return {
    name,
    kind: 'classifier',
    title: 'nearest centroid (test only)',
    create: (params = {}) => new TestCentroid(name, { ...centroidDefaults, ...extra, ...params }),
    fromState: (state) => new TestCentroid(name, state.params as Params),
    searchSpace: { temperature: [0.5, 1, 2, 4] },
  };
}

if (!listModels().some((s) => s.name === 'test-centroid')) {
  registerModel(centroidSpec('test-centroid', {}));
  registerModel(centroidSpec('test-centroid-jobs', { n_jobs: null }));
  registerModel({
    name: 'test-distance',
    kind: 'detector',
    title: 'distance to the normal centroid (test only)',
    create: (params = {}) => new TestDistance({ ...params }),
    fromState: () => new TestDistance({}),
    searchSpace: {},
  });
}

export const TEST_MODELS_MODULE = import.meta.url;

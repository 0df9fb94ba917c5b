// Hybrid detector: a supervised classifier (known attacks) OR a novelty detector fitted on normal rows only (attack
// types absent from training), as in hybrid / two-stage IDS designs (e.g. Zhang, Zulkernine & Haque 2008, "Random-
// forests-based network intrusion detection systems"; Kim, Lee & Kim 2014, "A novel hybrid intrusion detection method
// integrating anomaly detection with misuse detection").
//
// Fit (every threshold comes from training data only):
//   1. normal rows (class `normal_class`) are split, seeded: (1 − holdout) fit the novelty detector, holdout calibrate;
//   2. novelty score: mean distance to the `n_neighbors` nearest normal rows ('nearest', on signed-log, min-max scaled
//      columns) or any registered detector's score; the threshold is its (1 − target_fpr) quantile on the held-out
//      normal rows, and z = (score − median) / (threshold − median) so that z ≥ 1 ⇔ novelty alert;
//   3. the classifier is fitted on all training rows; r = max(P(attack) / classifier_threshold, z);
//   4. alert ⇔ r ≥ 1, and P(alert) = r / (1 + r) — monotone in r, 0.5 at the decision boundary.
// The normal class is the label named normal / benign (else the most frequent one, or `normal_class`).
// Multiclass labels: an alert that the classifier calls normal goes to the most probable attack class.
// Cost: classifier fit + detector fit; 'nearest' scores in O(queries × reference rows × features) (blocked search).

import { UserError } from '../errors.js';
import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import type { Labels } from '../frame/labels.js';
import { Rng } from '../util/rng.js';
import { quantileSorted } from '../util/quantile.js';
import { resolveParams, type Classifier, type Detector, type FitOptions, type ModelState, type ParamRule, type Params } from './estimator.js';
import { NeighborIndex } from './neighbors/search.js';
import { getModelSpec, type ModelSpec } from './registry.js';

type HybridParams = {
  classifier: string;
  detector: string;
  n_neighbors: number;
  target_fpr: number;
  classifier_threshold: number;
  holdout: number;
  max_reference: number;
  normal_class: string;
  random_state: number;
};

const defaults: HybridParams = {
  classifier: 'rf',
  detector: 'nearest',
  n_neighbors: 5,
  target_fpr: 0.02,
  classifier_threshold: 0.5,
  holdout: 0.2,
  max_reference: 20000,
  normal_class: 'auto',
  random_state: 0,
};

const rules: { [K in keyof HybridParams]: ParamRule } = {
  classifier: { type: 'choice', values: ['rf', 'gbdt', 'dt', 'knn', 'logreg', 'svm', 'mlp'] },
  detector: { type: 'choice', values: ['nearest', 'lof', 'iforest', 'kmeans', 'ecod', 'hbos', 'autoencoder'] },
  n_neighbors: { type: 'int', min: 1 },
  target_fpr: { type: 'float', min: 0, max: 0.5, exclusiveMin: true },
  classifier_threshold: { type: 'float', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
  holdout: { type: 'float', min: 0, max: 0.5, exclusiveMin: true },
  max_reference: { type: 'int', min: 10 },
  normal_class: { type: 'choice', values: ['auto', 'normal', 'BENIGN', 'benign', 'Normal', '0'] },
  random_state: { type: 'int', min: 0 },
};

/** Names a normal class can have in the supported datasets. */
const NORMAL_NAMES = ['normal', 'benign', '0', 'background'];

/** The normal class: as named, or with 'auto' the class called normal/benign, else the most frequent class. */
export function findNormalClass(y: Labels, wanted: string): number {
  if (wanted !== 'auto') {
    const idx = y.classes.indexOf(wanted);
    if (idx < 0) throw new UserError(`hybrid: normal_class '${wanted}' is not among the labels (${y.classes.join(', ')})`);
    return idx;
  }
  const named = y.classes.findIndex((c) => NORMAL_NAMES.includes(c.toLowerCase()));
  if (named >= 0) return named;
  const counts = new Float64Array(y.classes.length);
  for (let i = 0; i < y.codes.length; i++) counts[y.codes[i]]++;
  return counts.indexOf(Math.max(...counts));
}

/** Signed log then min-max to [0, 1] with training ranges: heavy-tailed counts and byte columns stop dominating. */
interface Scaling {
  lo: Float32Array;
  span: Float32Array;
}

const signedLog = (v: number): number => (v >= 0 ? Math.log1p(v) : -Math.log1p(-v));

function fitScaling(X: Matrix): Scaling {
  const lo = new Float32Array(X.cols).fill(Number.POSITIVE_INFINITY);
  const hi = new Float32Array(X.cols).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < X.rows; i++) {
    for (let j = 0; j < X.cols; j++) {
      const v = signedLog(X.data[i * X.cols + j]);
      if (v < lo[j]) lo[j] = v;
      if (v > hi[j]) hi[j] = v;
    }
  }
  const span = new Float32Array(X.cols);
  for (let j = 0; j < X.cols; j++) span[j] = hi[j] > lo[j] ? hi[j] - lo[j] : 1;
  return { lo, span };
}

function applyScaling(X: Matrix, s: Scaling): Matrix {
  const out = createMatrix(X.rows, X.cols, X.columns);
  for (let i = 0; i < X.data.length; i++) {
    const j = i % X.cols;
    out.data[i] = Math.min(2, Math.max(-1, (signedLog(X.data[i]) - s.lo[j]) / s.span[j]));
  }
  return out;
}

export class HybridModel implements Classifier {
  readonly kind = 'classifier' as const;
  readonly name = 'hybrid';
  readonly params: Readonly<HybridParams>;
  classes: readonly string[] = [];
  nFeatures: number | undefined;
  private normalIndex = -1;
  private classifier: Classifier | undefined;
  private detector: Detector | undefined;
  private scaling: Scaling | undefined;
  private reference: Matrix | undefined;
  private index: NeighborIndex | undefined;
  /** Median and threshold of the novelty score on held-out normal training rows. */
  private center = 0;
  private threshold = 1;

  constructor(params: Partial<HybridParams> = {}) {
    this.params = resolveParams('hybrid', defaults, rules, params);
  }

  get history(): Classifier['history'] {
    return this.classifier?.history;
  }

  async fit(X: Matrix, y: Labels, options: FitOptions = {}): Promise<this> {
    checkInput(X, undefined, 'hybrid');
    if (y.codes.length !== X.rows) throw new UserError(`hybrid: ${X.rows} rows but ${y.codes.length} labels`);
    const present = new Set(y.codes);
    if (present.size < 2) throw new UserError('hybrid: training data holds a single class; it needs normal rows and attack rows');
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    this.normalIndex = findNormalClass(y, this.params.normal_class);
    const normalRows: number[] = [];
    for (let i = 0; i < X.rows; i++) if (y.codes[i] === this.normalIndex) normalRows.push(i);
    const calibrationRows = Math.floor(normalRows.length * this.params.holdout);
    if (calibrationRows < 10 || normalRows.length - calibrationRows < this.params.n_neighbors + 1) {
      throw new UserError(`hybrid: needs at least ${Math.ceil(10 / this.params.holdout) + this.params.n_neighbors} normal training rows, got ${normalRows.length}`);
    }
    new Rng(this.params.random_state).shuffle(normalRows);
    const calibration = normalRows.slice(0, calibrationRows);
    let fitRows = normalRows.slice(calibrationRows);
    const progress = (step: number): void => options.onProgress?.(step, 3);

    if (this.params.detector === 'nearest') {
      this.scaling = fitScaling(X);
      if (fitRows.length > this.params.max_reference) fitRows = fitRows.slice(0, this.params.max_reference);
      this.reference = applyScaling(takeRows(X, fitRows), this.scaling);
      this.index = NeighborIndex.build(this.reference, 'euclidean');
    } else {
      const spec = getModelSpec(this.params.detector);
      if (spec.kind !== 'detector') throw new UserError(`hybrid: ${this.params.detector} is not an anomaly detector`);
      this.detector = await (spec.create(seededParams(spec, this.params.random_state)) as Detector).fit(takeRows(X, fitRows), { signal: options.signal });
    }
    progress(1);
    const calibrationScores = (await this.noveltyScores(takeRows(X, calibration))).sort();
    this.center = quantileSorted(calibrationScores, 0.5);
    this.threshold = quantileSorted(calibrationScores, 1 - this.params.target_fpr);
    if (!(this.threshold > this.center)) this.threshold = this.center + 1e-9;
    progress(2);
    const spec = getModelSpec(this.params.classifier);
    if (spec.kind !== 'classifier') throw new UserError(`hybrid: ${this.params.classifier} is not a classifier`);
    this.classifier = await (spec.create(seededParams(spec, this.params.random_state)) as Classifier).fit(X, y, { sampleWeight: options.sampleWeight, signal: options.signal });
    progress(3);
    return this;
  }

  /** Raw novelty scores (higher = further from normal training traffic). */
  private async noveltyScores(X: Matrix): Promise<Float64Array> {
    if (this.detector) return this.detector.scoreSamples(X);
    if (!this.index || !this.scaling) throw notFitted();
    const k = Math.min(this.params.n_neighbors, this.index.rows);
    const { distances } = await this.index.kneighbors(applyScaling(X, this.scaling), k);
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += distances[i * k + j];
      out[i] = s / k;
    }
    return out;
  }

  /** The combined decision value r per row (alert ⇔ r ≥ 1) and the classifier's probabilities. */
  async decision(X: Matrix): Promise<{ r: Float64Array; proba: Matrix; novelty: Float64Array }> {
    if (!this.classifier) throw notFitted();
    checkInput(X, this.nFeatures, 'hybrid');
    const proba = await this.classifier.predictProba(X);
    const raw = await this.noveltyScores(X);
    const r = new Float64Array(X.rows);
    const novelty = new Float64Array(X.rows);
    const k = proba.cols;
    for (let i = 0; i < X.rows; i++) {
      const attack = 1 - proba.data[i * k + this.normalIndex];
      novelty[i] = (raw[i] - this.center) / (this.threshold - this.center);
      r[i] = Math.max(attack / this.params.classifier_threshold, novelty[i]);
    }
    return { r, proba, novelty };
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    return (await this.predictWithProba(X)).proba;
  }

  async predict(X: Matrix): Promise<Labels> {
    return (await this.predictWithProba(X)).labels;
  }

  /** Labels and probabilities from one pass (the novelty search is the costly part; do it once). */
  async predictWithProba(X: Matrix): Promise<{ labels: Labels; proba: Matrix }> {
    const { r, proba } = await this.decision(X);
    return { labels: this.labelsOf(r, proba), proba: this.probaOf(r, proba) };
  }

  private probaOf(r: Float64Array, proba: Matrix): Matrix {
    const k = proba.cols;
    const rows = proba.rows;
    const out = createMatrix(rows, k);
    for (let i = 0; i < rows; i++) {
      const alert = r[i] / (1 + r[i]);
      const row = proba.data.subarray(i * k, (i + 1) * k);
      const attackMass = 1 - row[this.normalIndex];
      for (let c = 0; c < k; c++) {
        out.data[i * k + c] = c === this.normalIndex ? 1 - alert : attackMass > 0 ? (alert * row[c]) / attackMass : alert / (k - 1);
      }
    }
    return out;
  }

  private labelsOf(r: Float64Array, proba: Matrix): Labels {
    const k = proba.cols;
    const codes = new Int32Array(proba.rows);
    for (let i = 0; i < proba.rows; i++) {
      if (r[i] < 1) {
        codes[i] = this.normalIndex;
        continue;
      }
      let best = -1;
      for (let c = 0; c < k; c++) if (c !== this.normalIndex && (best < 0 || proba.data[i * k + c] > proba.data[i * k + best])) best = c;
      codes[i] = best;
    }
    return { codes, classes: this.classes };
  }

  /** The classifier's importances (uniform when it has none). */
  featureImportances(): Float64Array {
    const own = this.classifier?.featureImportances?.();
    return own ?? new Float64Array(this.nFeatures ?? 0).fill(1 / (this.nFeatures || 1));
  }

  getState(): ModelState {
    if (!this.classifier) throw notFitted();
    const state: ModelState = {
      params: this.params,
      classes: [...this.classes],
      nFeatures: this.nFeatures ?? 0,
      normalIndex: this.normalIndex,
      center: this.center,
      threshold: this.threshold,
      classifier: { name: this.classifier.name, state: this.classifier.getState() },
    };
    if (this.detector) state.detector = { name: this.detector.name, state: this.detector.getState() };
    if (this.reference && this.scaling) {
      state.reference = { rows: this.reference.rows, data: this.reference.data };
      state.scaling = { lo: this.scaling.lo, span: this.scaling.span };
    }
    return state;
  }

  static fromState(state: ModelState): HybridModel {
    const m = new HybridModel(state.params as Partial<HybridParams>);
    m.classes = state.classes as string[];
    m.nFeatures = state.nFeatures as number;
    m.normalIndex = state.normalIndex as number;
    m.center = state.center as number;
    m.threshold = state.threshold as number;
    const clf = state.classifier as { name: string; state: ModelState };
    m.classifier = getModelSpec(clf.name).fromState(clf.state) as Classifier;
    if (state.detector) {
      const det = state.detector as { name: string; state: ModelState };
      m.detector = getModelSpec(det.name).fromState(det.state) as Detector;
    }
    if (state.reference) {
      const ref = state.reference as { rows: number; data: Float32Array };
      const sc = state.scaling as { lo: Float32Array; span: Float32Array };
      m.scaling = { lo: sc.lo, span: sc.span };
      m.reference = createMatrix(ref.rows, m.nFeatures, undefined, ref.data);
      m.index = NeighborIndex.build(m.reference, 'euclidean');
    }
    return m;
  }
}

function takeRows(X: Matrix, rows: readonly number[]): Matrix {
  const out = createMatrix(rows.length, X.cols, X.columns);
  rows.forEach((r, k) => out.data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), k * X.cols));
  return out;
}

/** Passes the seed on to sub-models that take one. */
function seededParams(spec: ModelSpec, seed: number): Params {
  return 'random_state' in spec.create().params ? { random_state: seed } : {};
}

function notFitted(): UserError {
  return new UserError('hybrid: the model is not fitted yet; call fit first');
}

export const spec: ModelSpec<HybridModel> = {
  name: 'hybrid',
  kind: 'classifier',
  title: 'Hybrid: supervised classifier OR novelty detector fitted on normal rows (thresholds from training data)',
  create: (params) => new HybridModel(params as Partial<HybridParams>),
  fromState: (state) => HybridModel.fromState(state),
  searchSpace: { target_fpr: [0.01, 0.02, 0.05], n_neighbors: [1, 5, 10] },
  testParams: { classifier: 'knn', n_neighbors: 3 },
};

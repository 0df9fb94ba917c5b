// Hybrid detector: a supervised classifier (known attacks) combined with novelty detectors fitted on normal rows only
// (attack types absent from training), as in hybrid / two-stage IDS designs (Zhang, Zulkernine & Haque 2008; Kim, Lee
// & Kim 2014). Every score is calibrated as a normal-tail p-value on held-out normal training rows (conformal novelty
// detection: Laxhammar & Boström 2015; Bates, Candès, Lei, Romano & Sesia 2023), and the calibrated scores are
// averaged (or their maximum is taken).
//
// Fit (every threshold comes from training data only):
//   1. normal rows (class `normal_class`) are split, seeded: `holdout` of them calibrate, the rest fit;
//   2. the classifier is fitted on every row except the calibration rows (so that its calibration scores are out of
//      sample); each detector on the fitting normal rows ('nearest': mean distance to the `n_neighbors` nearest of
//      them, on signed-log, min-max scaled columns);
//   3. a component's score s becomes u(s) = −log10((#calibration scores ≥ s + 1) / (m + 1)), continued past the
//      largest calibration score t by (s − t) / (t − q99), so that rows beyond every normal one keep their order;
//   4. c = weighted mean (or max) of the components' u (the classifier's weight `classifier_weight`, the rest shared
//      equally by the detectors; 'equal': all alike); threshold = the split-conformal (1 − target_fpr) quantile of c
//      on the calibration rows (./calibration.ts), each row's u taken against the other calibration rows as a new
//      row's is against all of them, so that a new normal row's c is exchangeable with theirs and alerts with
//      probability ≤ target_fpr; r = c / threshold: alert ⇔ r ≥ 1, and P(alert) = r / (1 + r).
// The defaults (gbdt + nearest, weights 0.34 / 0.66) were picked on KDDTrain+ alone by leave-attack-type-out folds
// that simulate unseen attacks (bench/py/hybrid_select.py; docs/benchmarks.md "Hybrid").
// The normal class is the label named normal / benign (else the most frequent one, or `normal_class`).
// Multiclass labels: an alert that the classifier calls normal goes to the most probable attack class.
// `retrain` may add a feedback memory (./feedback-memory.ts) that caps or floors r near the analysts' verdicts.

import { UserError } from '../errors.js';
import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import type { Labels } from '../frame/labels.js';
import { Rng } from '../util/rng.js';
import { quantileSorted } from '../util/quantile.js';
import { resolveParams, type Classifier, type Detector, type FitOptions, type ModelState, type ParamRule, type Params, SEED_RULE } from './estimator.js';
import { NeighborIndex } from './neighbors/search.js';
import { conformalThreshold } from './calibration.js';
import { getModelSpec, type ModelSpec } from './registry.js';
import { FeedbackMemory } from './feedback-memory.js';

type HybridParams = {
  classifier: string;
  detectors: string;
  combine: string;
  classifier_weight: number | string;
  n_neighbors: number;
  target_fpr: number;
  holdout: number;
  max_reference: number;
  normal_class: string;
  random_state: number;
};

const defaults: HybridParams = {
  classifier: 'gbdt',
  detectors: 'nearest',
  combine: 'mean',
  classifier_weight: 0.34,
  n_neighbors: 5,
  target_fpr: 0.02,
  holdout: 0.2,
  max_reference: 20000,
  normal_class: 'auto',
  random_state: 0,
};

/** Novelty detectors the hybrid can use ('nearest' is its own; the others come from the registry). */
const DETECTORS = ['nearest', 'ecod', 'autoencoder', 'iforest', 'kmeans', 'lof'];

/** Every '+'-joined set of one to three detectors, in DETECTORS order. */
function detectorSets(): string[] {
  const out: string[] = [];
  const n = DETECTORS.length;
  for (let a = 0; a < n; a++) {
    out.push(DETECTORS[a]);
    for (let b = a + 1; b < n; b++) {
      out.push(`${DETECTORS[a]}+${DETECTORS[b]}`);
      for (let c = b + 1; c < n; c++) out.push(`${DETECTORS[a]}+${DETECTORS[b]}+${DETECTORS[c]}`);
    }
  }
  return out;
}

const rules: { [K in keyof HybridParams]: ParamRule } = {
  classifier: { type: 'choice', values: ['rf', 'gbdt', 'dt', 'knn', 'logreg', 'svm', 'mlp'] },
  detectors: { type: 'choice', values: detectorSets() },
  combine: { type: 'choice', values: ['mean', 'max'] },
  classifier_weight: { type: 'float-or-choice', min: 0, max: 1, values: ['equal'] },
  n_neighbors: { type: 'int', min: 1 },
  target_fpr: { type: 'float', min: 0, max: 0.5, exclusiveMin: true },
  holdout: { type: 'float', min: 0, max: 0.5, exclusiveMin: true },
  max_reference: { type: 'int', min: 10 },
  normal_class: { type: 'choice', values: ['auto', 'normal', 'BENIGN', 'benign', 'Normal', '0'] },
  random_state: SEED_RULE,
};

/** Names a normal class can have in the supported datasets. */
const NORMAL_NAMES = ['normal', 'benign', '0', 'background'];

/** The normal class: as named, or with 'auto' the class called normal/benign, else the most frequent class. */
export function findNormalClass(y: Labels, wanted: string): number {
  const named = y.classes.findIndex((c) => NORMAL_NAMES.includes(c.toLowerCase()));
  if (wanted !== 'auto') {
    const idx = y.classes.indexOf(wanted);
    if (idx >= 0) return idx;
    // the loaders spell every dataset's normal class 'normal' (CIC's BENIGN and UNSW's Normal too)
    if (named >= 0 && NORMAL_NAMES.includes(wanted.toLowerCase())) return named;
    throw new UserError(`hybrid: normal_class '${wanted}' is not among the labels (${y.classes.join(', ')})`);
  }
  if (named >= 0) return named;
  const counts = new Float64Array(y.classes.length);
  for (let i = 0; i < y.codes.length; i++) counts[y.codes[i]]++;
  return counts.indexOf(Math.max(...counts));
}

/**
 * Normal-tail calibration of one score: u(s) = −log10((#calibration scores ≥ s + 1) / (m + 1)), plus, past the
 * largest calibration score, the excess over it in units of its distance to the 99th percentile (else to the
 * smallest score, else 1).
 */
export function tailScores(sortedCalibration: Float64Array, scores: Float64Array): Float64Array {
  const m = sortedCalibration.length;
  const top = sortedCalibration[m - 1];
  const scale = excessScale(sortedCalibration);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    out[i] = -Math.log10((countAtLeast(sortedCalibration, s) + 1) / (m + 1)) + (s > top ? (s - top) / scale : 0);
  }
  return out;
}

/**
 * The calibration rows' own tail scores, each against the other m − 1 calibration rows as tailScores takes a new
 * row's against all m: u = −log10((#others ≥ s + 1) / (m + 1)) = −log10(#calibration scores ≥ s / (m + 1)), and the
 * largest, when it is alone at the top, its excess over the next in the others' scale. Scored against all m, itself
 * included, a calibration row counts itself once more than a new row can: lower tail scores, a lower threshold, more
 * alerts on new normal rows than the target (−log10(2/37) = 1.27 against 1.57 for the top of 36 rows).
 */
export function calibrationTailScores(sortedCalibration: Float64Array, scores: Float64Array): Float64Array {
  const m = sortedCalibration.length;
  const others = sortedCalibration.subarray(0, m - 1);
  const next = m > 1 ? sortedCalibration[m - 2] : Number.NEGATIVE_INFINITY;
  const scale = m > 1 ? excessScale(others) : 1;
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    out[i] = -Math.log10(countAtLeast(sortedCalibration, s) / (m + 1)) + (s > next && m > 1 ? (s - next) / scale : 0);
  }
  return out;
}

/** How many of ascending `sorted` are ≥ s. */
function countAtLeast(sorted: Float64Array, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/** The unit of a score's excess over the largest of ascending `sorted`: its distance to the 99th percentile, else to the smallest, else 1. */
function excessScale(sorted: Float64Array): number {
  const top = sorted[sorted.length - 1];
  const q99 = quantileSorted(sorted, 0.99);
  return top > q99 ? top - q99 : top > sorted[0] ? top - sorted[0] : 1;
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

/** The mean-distance-to-nearest-normal-rows novelty score. */
class NearestNormal {
  private constructor(
    readonly scaling: Scaling,
    readonly reference: Matrix,
    private readonly index: NeighborIndex,
  ) {}

  static fit(X: Matrix, scaling: Scaling): NearestNormal {
    const reference = applyScaling(X, scaling);
    return new NearestNormal(scaling, reference, NeighborIndex.build(reference, 'euclidean'));
  }

  static fromState(scaling: Scaling, reference: Matrix): NearestNormal {
    return new NearestNormal(scaling, reference, NeighborIndex.build(reference, 'euclidean'));
  }

  async scores(X: Matrix, neighbors: number): Promise<Float64Array> {
    const k = Math.min(neighbors, this.index.rows);
    const { distances } = await this.index.kneighbors(applyScaling(X, this.scaling), k);
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += distances[i * k + j];
      out[i] = s / k;
    }
    return out;
  }
}

export class HybridModel implements Classifier {
  readonly kind = 'classifier' as const;
  readonly name = 'hybrid';
  readonly params: Readonly<HybridParams>;
  classes: readonly string[] = [];
  nFeatures: number | undefined;
  private normalIndex = -1;
  private classifier: Classifier | undefined;
  /** One entry per name of `detectors`: a registered detector or the nearest-normal search. */
  private detectors: (Detector | NearestNormal)[] = [];
  /** Sorted calibration scores per component: the classifier's P(attack) first, then each detector's. */
  private calibration: Float64Array[] = [];
  /** The combined score's alert threshold (its split-conformal 1 − target_fpr quantile on the calibration rows). */
  private threshold = 1;
  /** The analysts' verdicts applied to r (null: none). */
  feedbackMemory: FeedbackMemory | null = null;

  constructor(params: Partial<HybridParams> = {}) {
    this.params = resolveParams('hybrid', defaults, rules, params);
  }

  get history(): Classifier['history'] {
    return this.classifier?.history;
  }

  async fit(X: Matrix, y: Labels, options: FitOptions = {}): Promise<this> {
    checkInput(X, undefined, 'hybrid');
    if (y.codes.length !== X.rows) throw new UserError(`hybrid: ${X.rows} rows but ${y.codes.length} labels`);
    if (new Set(y.codes).size < 2) throw new UserError('hybrid: training data holds a single class; it needs normal rows and attack rows');
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    this.normalIndex = findNormalClass(y, this.params.normal_class);
    const normalRows: number[] = [];
    for (let i = 0; i < X.rows; i++) if (y.codes[i] === this.normalIndex) normalRows.push(i);
    const calibrationCount = Math.floor(normalRows.length * this.params.holdout);
    if (calibrationCount < 10 || normalRows.length - calibrationCount < this.params.n_neighbors + 1) {
      throw new UserError(`hybrid: needs at least ${Math.ceil(10 / this.params.holdout) + this.params.n_neighbors} normal training rows, got ${normalRows.length}`);
    }
    new Rng(this.params.random_state).shuffle(normalRows);
    const calibrationRows = normalRows.slice(0, calibrationCount).sort((a, b) => a - b);
    const fitNormal = normalRows.slice(calibrationCount).sort((a, b) => a - b);
    const names = this.params.detectors.split('+');
    const total = names.length + 2;
    const progress = (step: number): void => options.onProgress?.(step, total);

    const held = new Uint8Array(X.rows);
    for (const r of calibrationRows) held[r] = 1;
    const trainRows: number[] = [];
    for (let i = 0; i < X.rows; i++) if (!held[i]) trainRows.push(i);
    const yTrain: Labels = { codes: Int32Array.from(trainRows, (r) => y.codes[r]), classes: y.classes };
    const weights = options.sampleWeight ? Float64Array.from(trainRows, (r) => (options.sampleWeight as Float64Array)[r]) : undefined;
    const spec = getModelSpec(this.params.classifier);
    if (spec.kind !== 'classifier') throw new UserError(`hybrid: ${this.params.classifier} is not a classifier`);
    this.classifier = await (spec.create(seededParams(spec, this.params.random_state)) as Classifier).fit(takeRows(X, trainRows), yTrain, {
      sampleWeight: weights,
      signal: options.signal,
    });
    progress(1);

    const normalX = takeRows(X, fitNormal);
    this.detectors = [];
    for (const name of names) {
      if (name === 'nearest') {
        const reference = fitNormal.length > this.params.max_reference ? takeRows(normalX, [...Array(this.params.max_reference).keys()]) : normalX;
        this.detectors.push(NearestNormal.fit(reference, fitScaling(X)));
      } else {
        const det = getModelSpec(name);
        if (det.kind !== 'detector') throw new UserError(`hybrid: ${name} is not an anomaly detector`);
        this.detectors.push(await (det.create(seededParams(det, this.params.random_state)) as Detector).fit(normalX, { signal: options.signal }));
      }
      progress(this.detectors.length + 1);
    }

    const raw = await this.componentScores(takeRows(X, calibrationRows));
    this.calibration = raw.map((s) => Float64Array.from(s).sort());
    this.threshold = conformalThreshold(this.combine(raw, calibrationTailScores), this.params.target_fpr);
    progress(total);
    return this;
  }

  /** Raw scores per component: the classifier's P(attack), then each detector's novelty score. */
  private async componentScores(X: Matrix): Promise<Float64Array[]> {
    if (!this.classifier) throw notFitted();
    const proba = await this.classifier.predictProba(X);
    return [attackProbability(proba, this.normalIndex), ...(await this.noveltyScores(X))];
  }

  private async noveltyScores(X: Matrix): Promise<Float64Array[]> {
    const out: Float64Array[] = [];
    for (const d of this.detectors) out.push(d instanceof NearestNormal ? await d.scores(X, this.params.n_neighbors) : await d.scoreSamples(X));
    return out;
  }

  /** Weighted mean (or max) of the components' calibrated tail scores (`tail`: of new rows, or of the calibration rows). */
  private combine(raw: Float64Array[], tail = tailScores): Float64Array {
    const tails = raw.map((s, c) => tail(this.calibration[c], s));
    const cw = this.params.classifier_weight;
    const wClassifier = typeof cw === 'number' ? cw : 1 / tails.length;
    const weights = tails.map((_, c) => (c === 0 ? wClassifier : (1 - wClassifier) / (tails.length - 1)));
    const out = new Float64Array(raw[0].length);
    for (let i = 0; i < out.length; i++) {
      let v = this.params.combine === 'max' ? Number.NEGATIVE_INFINITY : 0;
      for (let c = 0; c < tails.length; c++) v = this.params.combine === 'max' ? Math.max(v, tails[c][i]) : v + weights[c] * tails[c][i];
      out[i] = v;
    }
    return out;
  }

  /** The combined decision value r per row (alert ⇔ r ≥ 1) and the classifier's probabilities. */
  async decision(X: Matrix): Promise<{ r: Float64Array; proba: Matrix }> {
    const own = await this.ownDecision(X);
    this.feedbackMemory?.apply(X, own.r);
    return own;
  }

  /** The decision without the feedback memory. */
  async ownDecision(X: Matrix): Promise<{ r: Float64Array; proba: Matrix }> {
    if (!this.classifier) throw notFitted();
    checkInput(X, this.nFeatures, 'hybrid');
    const proba = await this.classifier.predictProba(X);
    const raw = [attackProbability(proba, this.normalIndex), ...(await this.noveltyScores(X))];
    const r = this.combine(raw);
    for (let i = 0; i < r.length; i++) r[i] /= this.threshold;
    return { r, proba };
  }

  /** Decides through the memory from now on. */
  useFeedbackMemory(memory: FeedbackMemory): void {
    this.feedbackMemory = memory;
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    return (await this.predictWithProba(X)).proba;
  }

  async predict(X: Matrix): Promise<Labels> {
    return (await this.predictWithProba(X)).labels;
  }

  /** Labels and probabilities from one pass (the novelty scoring is the costly part; do it once). */
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
    return {
      params: this.params,
      classes: [...this.classes],
      nFeatures: this.nFeatures ?? 0,
      normalIndex: this.normalIndex,
      threshold: this.threshold,
      calibration: this.calibration,
      classifier: { name: this.classifier.name, state: this.classifier.getState() },
      detectors: this.detectors.map(
        (d): ModelState =>
          d instanceof NearestNormal
            ? { name: 'nearest', rows: d.reference.rows, data: d.reference.data, lo: d.scaling.lo, span: d.scaling.span }
            : { name: d.name, state: d.getState() },
      ),
      ...(this.feedbackMemory ? { feedbackMemory: this.feedbackMemory.state() } : {}),
    };
  }

  static fromState(state: ModelState): HybridModel {
    const m = new HybridModel(state.params as Partial<HybridParams>);
    m.classes = state.classes as string[];
    m.nFeatures = state.nFeatures as number;
    m.normalIndex = state.normalIndex as number;
    m.threshold = state.threshold as number;
    m.calibration = state.calibration as Float64Array[];
    const detectorStates = state.detectors as ModelState[];
    // the file's layout check (store/state-layouts.ts) sees each field; these are the fields' agreement
    const named = m.params.detectors.split('+').length;
    const mismatch =
      detectorStates.length !== named
        ? `the state holds ${detectorStates.length} detectors where its parameters name ${named} ('${m.params.detectors}')`
        : m.calibration.length !== named + 1
          ? `the state holds ${m.calibration.length} calibration score lists for ${named + 1} components`
          : m.normalIndex >= m.classes.length
            ? `the normal class index ${m.normalIndex} is not among its ${m.classes.length} classes`
            : undefined;
    if (mismatch) throw new UserError(`hybrid: ${mismatch}; the file was written by a build with another hybrid layout, or edited — train the model again with this version`);
    const clf = state.classifier as { name: string; state: ModelState };
    m.classifier = getModelSpec(clf.name).fromState(clf.state) as Classifier;
    m.detectors = detectorStates.map((d) => {
      if (d.name !== 'nearest') return getModelSpec(d.name as string).fromState(d.state as ModelState) as Detector;
      const reference = createMatrix(d.rows as number, m.nFeatures as number, undefined, d.data as Float32Array);
      return NearestNormal.fromState({ lo: d.lo as Float32Array, span: d.span as Float32Array }, reference);
    });
    if (state.feedbackMemory) m.feedbackMemory = FeedbackMemory.fromState(state.feedbackMemory as ModelState);
    return m;
  }
}

/** 1 − P(normal) per row. */
function attackProbability(proba: Matrix, normalIndex: number): Float64Array {
  return Float64Array.from({ length: proba.rows }, (_, i) => 1 - proba.data[i * proba.cols + normalIndex]);
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
  title: 'Hybrid: supervised classifier + novelty detectors fitted on normal rows, tail-calibrated on held-out normal rows',
  create: (params) => new HybridModel(params as Partial<HybridParams>),
  fromState: (state) => HybridModel.fromState(state),
  searchSpace: { target_fpr: [0.01, 0.02, 0.05], combine: ['mean', 'max'] },
  // the conformance blobs hold 200 normal rows: 40 calibrate, and a 2% target needs 49 (rank ⌈41 × 0.98⌉ = 41 > 40)
  testParams: { classifier: 'knn', detectors: 'nearest', n_neighbors: 3, target_fpr: 0.05 },
};

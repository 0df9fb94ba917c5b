// Autoencoder anomaly detector: an MLP (default 64-16-64, ReLU, linear output) trained with Adam to reconstruct its
// input from normal rows (semi-supervised); the anomaly score is the mean squared reconstruction error of a row,
// so HIGHER = MORE ANOMALOUS. Training stops early on the loss of a held-out 10% of the rows (or of the validation
// rows given), and the threshold is the (1 − contamination) quantile of the training scores, or with 'auto' a 1%
// false-positive target set split-conformally on the held-out rows' scores (conformalThreshold, calibration.ts: rows
// the gradient never saw), else the training scores' 99th percentile. Reconstruction-error scoring as in
// Sakurada & Yairi 2014 and Kitsune (Mirsky et al. 2018). Cost per epoch: O(rows · Σ h_l · h_{l+1}).

import { checkInput, type Matrix } from '../frame/matrix.js';
import { UserError } from '../errors.js';
import { resolveParams, type FitOptions, type ModelState, type Params, type TrainingHistory, SEED_RULE } from './estimator.js';
import { checkEnoughRows, contaminationRule, DetectorBase } from './detector-base.js';
import { quantileSorted } from '../util/quantile.js';
import { conformalThreshold } from './calibration.js';
import type { ModelSpec } from './registry.js';
import { identityIndex, OffsetSparseRows } from './nn/offset-sparse.js';
import { DenseNetwork, type Activation } from './nn/network.js';
import { predictRows, restoreTrainedNetwork, trainedNetworkState, trainerConfig, trainNetwork, type RowSet } from './nn/trainer.js';
import { parseLayerSizes } from './nn/layer-sizes.js';
import { Rng } from '../util/rng.js';

const NAME = 'autoencoder';
/** The false-positive rate 'auto' targets. */
const AUTO_FPR = 0.01;

const DEFAULTS = {
  activation: 'relu' as string,
  alpha: 1e-4,
  batch_size: 200,
  learning_rate_init: 1e-3,
  max_iter: 100,
  tol: 1e-4,
  early_stopping: true as boolean,
  validation_fraction: 0.1,
  n_iter_no_change: 5,
  dropout: 0,
  contamination: 'auto' as string | number,
  random_state: 0,
};
type AutoencoderParams = typeof DEFAULTS & { hidden_layer_sizes: string | number };

const RULES = {
  activation: { type: 'choice', values: ['relu', 'tanh', 'logistic', 'identity'] },
  alpha: { type: 'float', min: 0 },
  batch_size: { type: 'int', min: 1 },
  learning_rate_init: { type: 'float', min: 0, exclusiveMin: true },
  max_iter: { type: 'int', min: 1 },
  tol: { type: 'float', min: 0 },
  early_stopping: { type: 'bool' },
  validation_fraction: { type: 'float', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
  n_iter_no_change: { type: 'int', min: 1 },
  dropout: { type: 'float', min: 0, max: 1, exclusiveMax: true },
  contamination: contaminationRule,
  random_state: SEED_RULE,
} as const;

export class Autoencoder extends DetectorBase {
  readonly name = NAME;
  readonly params: Readonly<AutoencoderParams>;
  readonly hiddenSizes: number[];
  nFeatures: number | undefined;
  network: DenseNetwork | undefined;
  nIter = 0;
  history: TrainingHistory | undefined;

  constructor(params: Partial<AutoencoderParams> = {}) {
    super();
    const { hidden_layer_sizes: hidden = '64,16,64', ...rest } = params;
    this.hiddenSizes = parseLayerSizes(NAME, 'hidden_layer_sizes', hidden);
    this.params = { ...resolveParams(NAME, DEFAULTS, RULES, rest), hidden_layer_sizes: this.hiddenSizes.join(',') };
  }

  async fit(X: Matrix, options: FitOptions = {}): Promise<this> {
    checkInput(X, undefined, NAME);
    checkEnoughRows(NAME, X.rows, 10);
    if (options.sampleWeight && options.sampleWeight.length !== X.rows) {
      throw new UserError(`${NAME}: sampleWeight has ${options.sampleWeight.length} values for ${X.rows} rows`);
    }
    const p = this.params;
    this.nFeatures = X.cols;
    const rng = new Rng(p.random_state);
    const net = DenseNetwork.initialise([X.cols, ...this.hiddenSizes, X.cols], p.activation as Activation, 'identity', rng);
    const S = new OffsetSparseRows(X);
    const all = identityIndex(X.rows);
    let train: RowSet = { S, rows: all, codes: null, weights: options.sampleWeight ?? null };
    let validation: RowSet | null = null;
    if (options.validation) {
      checkInput(options.validation.X, X.cols, NAME);
      validation = { S: new OffsetSparseRows(options.validation.X), rows: identityIndex(options.validation.X.rows), codes: null, weights: null };
    } else if (p.early_stopping) {
      const shuffled = rng.shuffle(Int32Array.from(all));
      const held = Math.max(1, Math.round(X.rows * p.validation_fraction));
      validation = { S, rows: shuffled.slice(0, held).sort(), codes: null, weights: null };
      train = { ...train, rows: shuffled.slice(held).sort() };
    }
    const result = trainNetwork(net, train, validation, trainerConfig(p), rng, { onProgress: options.onProgress, signal: options.signal });
    this.network = net;
    this.nIter = result.epochs;
    this.history = { unit: 'epoch', series: result.series };
    const scores = this.reconstructionErrors(X);
    const held = options.validation ? this.reconstructionErrors(options.validation.X) : validation ? Float64Array.from(validation.rows, (i) => scores[i]) : undefined;
    for (const set of [scores, held]) if (set && !set.every(Number.isFinite)) throw this.divergedError(set);
    const auto = held ? conformalThreshold(held, AUTO_FPR) : quantileSorted(Float64Array.from(scores).sort(), 1 - AUTO_FPR);
    this.calibrate(scores, p.contamination, auto);
    return this;
  }

  /**
   * Training that diverged (weights overflowed into NaN or infinite reconstruction errors) leaves a network that cannot
   * score. With early stopping it happens only when no epoch had a finite validation loss to restore.
   */
  private divergedError(scores: Float64Array): UserError {
    const bad = scores.filter((s) => !Number.isFinite(s)).length;
    return new UserError(
      `${NAME}: training diverged: after ${this.nIter} epochs the reconstruction error of ${bad} of ${scores.length} rows is NaN or infinite; ` +
        `lower learning_rate_init (now ${this.params.learning_rate_init}, default ${DEFAULTS.learning_rate_init}) or scale the features to similar ranges (e.g. standard scaling)`,
    );
  }

  /** Mean squared reconstruction error per row: higher = more anomalous. */
  async scoreSamples(X: Matrix): Promise<Float64Array> {
    checkInput(X, this.nFeatures, NAME);
    return this.reconstructionErrors(X);
  }

  private reconstructionErrors(X: Matrix): Float64Array {
    const net = this.network as DenseNetwork;
    const out = predictRows(net, X);
    const d = X.cols;
    const scores = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let se = 0;
      for (let j = 0; j < d; j++) {
        const e = out[i * d + j] - X.data[i * d + j];
        se += e * e;
      }
      scores[i] = se / d;
    }
    return scores;
  }

  getState(): ModelState {
    const trained = { network: this.network as DenseNetwork, nIter: this.nIter, history: this.history };
    return { params: { ...this.params }, nFeatures: this.nFeatures ?? null, ...trainedNetworkState(trained), ...this.detectorState() };
  }

  static fromState(state: ModelState): Autoencoder {
    const model = new Autoencoder(state.params as Partial<AutoencoderParams>);
    model.nFeatures = state.nFeatures as number;
    Object.assign(model, restoreTrainedNetwork(state, model.params.activation as Activation, () => 'identity'));
    model.restoreDetectorState(state);
    return model;
  }
}

export const spec: ModelSpec<Autoencoder> = {
  name: NAME,
  kind: 'detector',
  title: 'Autoencoder (MLP reconstruction error)',
  create: (params?: Params) => new Autoencoder(params as Partial<AutoencoderParams>),
  fromState: (state) => Autoencoder.fromState(state),
  searchSpace: { hidden_layer_sizes: ['32,8,32', '64,16,64', '128,32,128'], alpha: [1e-5, 1e-4, 1e-3], contamination: ['auto', 0.01, 0.05] },
  testParams: { hidden_layer_sizes: '8,2,8', max_iter: 40 },
};

// Multi-layer perceptron classifier, as scikit-learn's MLPClassifier(solver='adam'): ReLU (or tanh / logistic)
// hidden layers, a logistic output for two classes and softmax for more, cross-entropy plus L2 (alpha), Adam
// (Kingma & Ba 2015), mini-batches of 200, optional inverted dropout, early stopping on a stratified validation split.
// Network and training loop: src/models/nn/; large fits compute the first layer on two threads (nn/split-hidden.ts)
// in the epochs where that is the faster (on a busy machine it is not).
// Cost per epoch: O(rows · (nnz · h1 + Σ h_l · h_{l+1})).

import { checkInput, createMatrix, type Matrix } from '../frame/matrix.js';
import { alignLabels, argmaxLabels, type Labels } from '../frame/labels.js';
import { resolveParams, type Classifier, type FitOptions, type ModelState, type Params, type TrainingHistory, SEED_RULE } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { checkClassifierFit, rowWeights } from './nn/fit-utils.js';
import { stratifiedHoldout } from '../frame/splits.js';
import { identityIndex, OffsetSparseRows } from './nn/offset-sparse.js';
import { DenseNetwork, type Activation } from './nn/network.js';
import { predictRows, restoreTrainedNetwork, trainedNetworkState, trainerConfig, trainNetwork, type RowSet } from './nn/trainer.js';
import { parseLayerSizes } from './nn/layer-sizes.js';
import { SplitHidden, splitWorthwhile } from './nn/split-hidden.js';
import { defaultThreads } from '../util/worker-pool.js';
import { Rng } from '../util/rng.js';

const NAME = 'mlp';

const DEFAULTS = {
  activation: 'relu' as string,
  alpha: 1e-4,
  batch_size: 200,
  learning_rate_init: 1e-3,
  max_iter: 200,
  shuffle: true as boolean,
  random_state: 0,
  tol: 1e-4,
  early_stopping: false as boolean,
  validation_fraction: 0.1,
  beta_1: 0.9,
  beta_2: 0.999,
  epsilon: 1e-8,
  n_iter_no_change: 10,
  dropout: 0,
  class_weight: null as string | null,
};
type MlpParams = typeof DEFAULTS & { hidden_layer_sizes: string | number };

const RULES = {
  activation: { type: 'choice', values: ['relu', 'tanh', 'logistic', 'identity'] },
  alpha: { type: 'float', min: 0 },
  batch_size: { type: 'int', min: 1 },
  learning_rate_init: { type: 'float', min: 0, exclusiveMin: true },
  max_iter: { type: 'int', min: 1 },
  shuffle: { type: 'bool' },
  random_state: SEED_RULE,
  tol: { type: 'float', min: 0 },
  early_stopping: { type: 'bool' },
  validation_fraction: { type: 'float', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
  beta_1: { type: 'float', min: 0, max: 1, exclusiveMax: true },
  beta_2: { type: 'float', min: 0, max: 1, exclusiveMax: true },
  epsilon: { type: 'float', min: 0, exclusiveMin: true },
  n_iter_no_change: { type: 'int', min: 1 },
  dropout: { type: 'float', min: 0, max: 1, exclusiveMax: true },
  class_weight: { type: 'choice', values: [null, 'balanced'] },
} as const;

export class MlpClassifier implements Classifier {
  readonly kind = 'classifier' as const;
  readonly name = NAME;
  readonly params: Readonly<MlpParams>;
  readonly hiddenSizes: number[];
  nFeatures: number | undefined;
  classes: readonly string[] = [];
  network: DenseNetwork | undefined;
  nIter = 0;
  history: TrainingHistory | undefined;

  constructor(params: Partial<MlpParams> = {}) {
    const { hidden_layer_sizes: hidden = '100', ...rest } = params;
    this.hiddenSizes = parseLayerSizes(NAME, 'hidden_layer_sizes', hidden);
    this.params = { ...resolveParams(NAME, DEFAULTS, RULES, rest), hidden_layer_sizes: this.hiddenSizes.join(',') };
  }

  async fit(X: Matrix, y: Labels, options: FitOptions = {}): Promise<this> {
    const counts = checkClassifierFit(NAME, X, y, options);
    const weights = rowWeights(y, counts, this.params.class_weight, options.sampleWeight);
    this.classes = [...y.classes];
    this.nFeatures = X.cols;
    const p = this.params;
    const nOut = this.classes.length === 2 ? 1 : this.classes.length;
    const rng = new Rng(p.random_state);
    const net = DenseNetwork.initialise([X.cols, ...this.hiddenSizes, nOut], p.activation as Activation, nOut === 1 ? 'logistic' : 'softmax', rng);
    const S = new OffsetSparseRows(X);
    let train: RowSet = { S, rows: identityIndex(X.rows), codes: y.codes, weights };
    let validation: RowSet | null = null;
    if (options.validation?.y) {
      checkInput(options.validation.X, X.cols, NAME);
      const vy = alignLabels(options.validation.y, this.classes);
      validation = { S: new OffsetSparseRows(options.validation.X), rows: identityIndex(options.validation.X.rows), codes: vy.codes, weights: null };
    } else if (p.early_stopping) {
      const { kept: fitRows, held: heldRows } = stratifiedHoldout(y.codes, this.classes.length, p.validation_fraction, new Rng(p.random_state));
      train = { ...train, rows: fitRows };
      validation = { S, rows: heldRows, codes: y.codes, weights: null };
    }
    const adam = { learningRate: p.learning_rate_init, beta1: p.beta_1, beta2: p.beta_2, epsilon: p.epsilon };
    const split = defaultThreads() > 1 && splitWorthwhile(train.rows.length, p.batch_size, net.sizes) ? await SplitHidden.start(net, S, p.batch_size, p.dropout, adam) : null;
    let result;
    try {
      result = trainNetwork(
        net,
        train,
        validation,
        trainerConfig(p),
        rng,
        { onProgress: options.onProgress, signal: options.signal, split },
      );
    } finally {
      await split?.close();
    }
    this.network = net;
    this.nIter = result.epochs;
    this.history = { unit: 'epoch', series: result.series };
    return this;
  }

  async predictProba(X: Matrix): Promise<Matrix> {
    checkInput(X, this.nFeatures, NAME);
    const net = this.network as DenseNetwork;
    const out = predictRows(net, X);
    const n = this.classes.length;
    const proba = new Float32Array(X.rows * n);
    if (n === 2) {
      for (let i = 0; i < X.rows; i++) {
        proba[2 * i] = 1 - out[i];
        proba[2 * i + 1] = out[i];
      }
    } else {
      proba.set(out);
    }
    return createMatrix(X.rows, n, undefined, proba);
  }

  async predict(X: Matrix): Promise<Labels> {
    return argmaxLabels(await this.predictProba(X), this.classes);
  }

  getState(): ModelState {
    const trained = { network: this.network as DenseNetwork, nIter: this.nIter, history: this.history };
    return { params: { ...this.params }, classes: [...this.classes], nFeatures: this.nFeatures ?? null, ...trainedNetworkState(trained) };
  }

  static fromState(state: ModelState): MlpClassifier {
    const model = new MlpClassifier(state.params as Partial<MlpParams>);
    model.classes = state.classes as string[];
    model.nFeatures = state.nFeatures as number;
    const output = (sizes: number[]) => (sizes[sizes.length - 1] === 1 ? 'logistic' : 'softmax');
    Object.assign(model, restoreTrainedNetwork(state, model.params.activation as Activation, output));
    return model;
  }
}

export const spec: ModelSpec<MlpClassifier> = {
  name: NAME,
  kind: 'classifier',
  title: 'Multi-layer perceptron (ReLU, Adam, dropout, early stopping)',
  create: (params?: Params) => new MlpClassifier(params as Partial<MlpParams>),
  fromState: (state) => MlpClassifier.fromState(state),
  searchSpace: { hidden_layer_sizes: ['64', '100', '128,64'], alpha: [1e-5, 1e-4, 1e-3], learning_rate_init: [1e-3, 3e-3], early_stopping: [false, true] },
  testParams: { hidden_layer_sizes: '16', max_iter: 100, learning_rate_init: 0.01 },
};

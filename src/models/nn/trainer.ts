// Mini-batch training loop for DenseNetwork with Adam, following scikit-learn's MLP (BaseMultilayerPerceptron._fit_
// stochastic): shuffled batches each epoch, L2 penalty alpha/(2·batch)·‖W‖², and stopping when the training loss (or,
// with early stopping, the validation score) has not improved by tol for more than n_iter_no_change epochs; early
// stopping restores the best weights. Records per-epoch train/val loss and accuracy.
// Cost per epoch: one forward + backward pass over the training rows, one forward pass over the validation rows.

import { Adam } from './adam.js';
import { backward, detachSimd, DenseNetwork, drawDropoutMasks, forward, Workspace, type Activation, type OutputKind } from './network.js';
import type { SplitHidden } from './split-hidden.js';
import { identityIndex, OffsetSparseRows } from './offset-sparse.js';
import type { Matrix } from '../../frame/matrix.js';
import type { Rng } from '../../util/rng.js';
import type { ModelState, TrainingHistory } from '../estimator.js';

/** Rows of an offset-sparse matrix with targets: class codes (classify) or the rows themselves (reconstruct). */
export interface RowSet {
  S: OffsetSparseRows;
  rows: Int32Array;
  /** Class code per S row (classify), or null (reconstruct). */
  codes: Int32Array | null;
  /** Weight per S row, or null for all ones. */
  weights: Float64Array | null;
}

export interface TrainerConfig {
  maxIter: number;
  batchSize: number;
  learningRate: number;
  alpha: number;
  tol: number;
  nIterNoChange: number;
  /** Stop on the validation score (accuracy, or −loss when reconstructing) instead of the training loss. */
  earlyStopping: boolean;
  shuffle: boolean;
  dropout: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The scikit-learn-named MLP parameters the trainer reads; Adam's betas, epsilon and shuffling default as there. */
export interface NetworkFitParams {
  max_iter: number;
  batch_size: number;
  learning_rate_init: number;
  alpha: number;
  tol: number;
  n_iter_no_change: number;
  early_stopping: boolean;
  dropout: number;
  shuffle?: boolean;
  beta_1?: number;
  beta_2?: number;
  epsilon?: number;
}

export function trainerConfig(p: NetworkFitParams): TrainerConfig {
  return {
    maxIter: p.max_iter,
    batchSize: p.batch_size,
    learningRate: p.learning_rate_init,
    alpha: p.alpha,
    tol: p.tol,
    nIterNoChange: p.n_iter_no_change,
    earlyStopping: p.early_stopping,
    shuffle: p.shuffle ?? true,
    dropout: p.dropout,
    beta1: p.beta_1 ?? 0.9,
    beta2: p.beta_2 ?? 0.999,
    epsilon: p.epsilon ?? 1e-8,
  };
}

export interface TrainerResult {
  series: Record<string, number[]>;
  epochs: number;
  /** Best validation score (early stopping) or best training loss. */
  best: number;
}

const EVAL_BATCH = 1024;

export interface TrainerHooks {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Computes part of the first hidden layer's units on another thread (split-hidden.ts). */
  split?: SplitHidden | null;
}

export function trainNetwork(net: DenseNetwork, train: RowSet, validation: RowSet | null, cfg: TrainerConfig, rng: Rng, hooks: TrainerHooks = {}): TrainerResult {
  const classify = train.codes !== null;
  const batch = Math.max(1, Math.min(cfg.batchSize, train.rows.length));
  const ws = new Workspace(net, batch, cfg.dropout, true);
  const evalWs = new Workspace(net, EVAL_BATCH, 0);
  // With a split first hidden layer, its weights and biases in and out have their own Adam steps (split-hidden.ts).
  // The helper is used in the epochs where it saves time (splitNextEpoch); either way the network is the same.
  const helper = hooks.split ?? null;
  let split = helper;
  const epochMs = { split: Infinity, alone: Infinity };
  let params = [...net.weights, ...net.biases].filter((_, i) => !split || !splitLayerArray(i, net.layers));
  let grads = [...ws.gradW, ...ws.gradB].filter((_, i) => !split || !splitLayerArray(i, net.layers));
  let adam = new Adam(params, cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  const order = Int32Array.from(train.rows);
  const series: Record<string, number[]> = { train_loss: [] };
  if (classify) series.train_accuracy = [];
  if (validation) {
    series.val_loss = [];
    if (classify) series.val_accuracy = [];
  }
  const target = new Float64Array(net.sizes[0]);
  let bestLoss = Infinity;
  let bestScore = -Infinity;
  let bestParams: Float64Array[] | null = null;
  let noImprovement = 0;
  let epochs = 0;
  for (let epoch = 0; epoch < cfg.maxIter; epoch++) {
    if (hooks.signal?.aborted) throw new Error('aborted');
    if (cfg.shuffle) rng.shuffle(order);
    const epochStart = performance.now();
    let dataLoss = 0;
    let objective = 0;
    let correct = 0;
    let weightSum = 0;
    // With a split layer, a batch's masks are drawn before the last batch's backward (split.backward hands it over).
    let masksDrawn = false;
    for (let start = 0; start < order.length; start += batch) {
      const count = Math.min(batch, order.length - start);
      const input = { sparse: train.S, idx: order, start };
      if (cfg.dropout > 0 && !masksDrawn) drawDropoutMasks(ws, count, cfg.dropout, rng);
      masksDrawn = false;
      split?.forward(input, count, net, ws);
      forward(net, ws, input, count, cfg.dropout, split ? 1 : 0);
      const stats = outputDelta(net, ws.act[net.layers], ws.delta[net.layers], train, order, start, count, count, target);
      dataLoss += stats.loss;
      correct += stats.correct;
      weightSum += stats.weight;
      objective += stats.loss + (cfg.alpha > 0 ? cfg.alpha * (split ? split.halfSquaredWeights(net) : net.halfSquaredWeights()) : 0);
      backward(net, ws, input, count, cfg.alpha, split ? 2 : 0);
      if (split) {
        const nextStart = start + batch;
        const nextCount = Math.min(batch, order.length - nextStart);
        const next = nextCount > 0 ? { input: { sparse: train.S, idx: order, start: nextStart }, count: nextCount, mask: ws.mask[1] } : null;
        if (next && cfg.dropout > 0) drawDropoutMasks(ws, nextCount, cfg.dropout, rng);
        masksDrawn = next !== null;
        split.backward(input, count, ws.delta[2], cfg.alpha, next);
      }
      adam.step(params, grads);
    }
    split?.collect(net);
    epochs++;
    if (helper) {
      epochMs[split ? 'split' : 'alone'] = performance.now() - epochStart;
      const splitNext = splitNextEpoch(epochs, epochMs);
      if (split && !splitNext) {
        ({ params, grads, adam } = joinSplitLayer(net, ws, split, adam, cfg));
        split = null;
      } else if (!split && splitNext) {
        ({ params, grads, adam } = splitLayerAgain(net, ws, helper, adam, cfg));
        split = helper;
      }
    }
    const n = order.length;
    const epochObjective = objective / n;
    series.train_loss.push(dataLoss / Math.max(weightSum, 1e-300));
    if (classify) series.train_accuracy.push(correct / n);
    let score = 0;
    if (validation) {
      const v = evaluate(net, evalWs, validation, target);
      series.val_loss.push(v.loss);
      if (classify) series.val_accuracy.push(v.accuracy);
      score = classify ? v.accuracy : -v.loss;
    }
    if (cfg.earlyStopping && validation) {
      noImprovement = score < bestScore + cfg.tol ? noImprovement + 1 : 0;
      if (score > bestScore) {
        bestScore = score;
        bestParams = net.copyParameters();
      }
    } else {
      noImprovement = epochObjective > bestLoss - cfg.tol ? noImprovement + 1 : 0;
      if (epochObjective < bestLoss) bestLoss = epochObjective;
    }
    hooks.onProgress?.(epochs, cfg.maxIter);
    if (noImprovement > cfg.nIterNoChange) break;
  }
  if (bestParams) net.restoreParameters(bestParams);
  detachSimd(net);
  return { series, epochs, best: cfg.earlyStopping && validation ? bestScore : bestLoss };
}

/** Epochs between re-timings of the slower of split and one-thread training. */
const RETIME_EVERY = 8;

/**
 * Whether the next epoch splits the first layer, after `done` epochs: the first (which also warms up the JIT) and
 * third are split, the second runs on one thread; then the faster of the two as last timed, the other re-timed
 * every RETIME_EVERY epochs. On a busy machine the two threads are not scheduled together and each hand-off can wait
 * for a time slice, which makes the split the slower.
 */
function splitNextEpoch(done: number, epochMs: { split: number; alone: number }): boolean {
  if (done <= 2) return done === 2;
  const faster = epochMs.split <= epochMs.alone;
  return done % RETIME_EVERY === 0 ? !faster : faster;
}

/** Whether the i-th of [...weights, ...biases] is one the split layer's Adam steps: W0, W1, b0 or b1. */
function splitLayerArray(i: number, layers: number): boolean {
  return i <= 1 || i === layers || i === layers + 1;
}

/**
 * One-thread batches from here on (after split.collect put the split layer's parameters into the network): Adam
 * goes on over every array with both threads' moments, so the steps are those of a fit that was never split.
 */
function joinSplitLayer(net: DenseNetwork, ws: Workspace, split: SplitHidden, adam: Adam, cfg: TrainerConfig): { params: Float64Array[]; grads: Float64Array[]; adam: Adam } {
  const first = split.moments(net);
  const params = [...net.weights, ...net.biases];
  const grads = [...ws.gradW, ...ws.gradB];
  const whole = new Adam(params, cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  let fromSplit = 0;
  let rest = 0;
  for (let i = 0; i < params.length; i++) {
    const inSplit = splitLayerArray(i, net.layers);
    whole.m[i].set(inSplit ? first.m[fromSplit] : adam.m[rest]);
    whole.v[i].set(inSplit ? first.v[fromSplit++] : adam.v[rest++]);
  }
  whole.t = adam.t;
  return { params, grads, adam: whole };
}

/** The inverse of joinSplitLayer: the split layer's parameters and moments back to both threads. */
function splitLayerAgain(net: DenseNetwork, ws: Workspace, split: SplitHidden, whole: Adam, cfg: TrainerConfig): { params: Float64Array[]; grads: Float64Array[]; adam: Adam } {
  const inSplit = (_: unknown, i: number): boolean => splitLayerArray(i, net.layers);
  const notInSplit = (_: unknown, i: number): boolean => !splitLayerArray(i, net.layers);
  const params = [...net.weights, ...net.biases].filter(notInSplit);
  const grads = [...ws.gradW, ...ws.gradB].filter(notInSplit);
  const adam = new Adam(params, cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  whole.m.filter(notInSplit).forEach((m, k) => adam.m[k].set(m));
  whole.v.filter(notInSplit).forEach((v, k) => adam.v[k].set(v));
  adam.t = whole.t;
  split.resume(net, whole.m.filter(inSplit), whole.v.filter(inSplit), whole.t);
  return { params, grads, adam };
}

/**
 * Writes the output-layer delta (∂loss/∂pre-activation, scaled by 1/divisor) for a batch and returns its weighted data
 * loss sum, correct predictions and weight sum. Logistic/softmax outputs use the cross-entropy; identity outputs use
 * the mean squared error over features against the input row.
 */
function outputDelta(net: DenseNetwork, out: Float64Array, delta: Float64Array, set: RowSet, idx: Int32Array, start: number, count: number, divisor: number, target: Float64Array): { loss: number; correct: number; weight: number } {
  const k = net.sizes[net.layers];
  let loss = 0;
  let correct = 0;
  let weight = 0;
  for (let r = 0; r < count; r++) {
    const row = idx[start + r];
    const w = set.weights ? set.weights[row] : 1;
    weight += w;
    const scale = w / divisor;
    const o = r * k;
    if (net.output === 'identity') {
      set.S.denseRow(row, target, 0);
      let se = 0;
      for (let c = 0; c < k; c++) {
        const d = out[o + c] - target[c];
        se += d * d;
        delta[o + c] = (2 * d * scale) / k;
      }
      loss += (w * se) / k;
    } else if (net.output === 'logistic') {
      const p = out[o];
      const t = (set.codes as Int32Array)[row] === 1 ? 1 : 0;
      const pc = Math.min(Math.max(p, 1e-10), 1 - 1e-10);
      loss -= w * (t === 1 ? Math.log(pc) : Math.log(1 - pc));
      if ((p > 0.5 ? 1 : 0) === t) correct++;
      delta[o] = (p - t) * scale;
    } else {
      const y = (set.codes as Int32Array)[row];
      let best = 0;
      for (let c = 1; c < k; c++) if (out[o + c] > out[o + best]) best = c;
      if (best === y) correct++;
      loss -= w * Math.log(Math.max(out[o + y], 1e-10));
      for (let c = 0; c < k; c++) delta[o + c] = (out[o + c] - (c === y ? 1 : 0)) * scale;
    }
  }
  return { loss, correct, weight };
}

/** Mean (weighted) loss and accuracy of the network on a row set, in evaluation mode (no dropout). */
export function evaluate(net: DenseNetwork, ws: Workspace, set: RowSet, target: Float64Array): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  let weight = 0;
  const L = net.layers;
  for (let start = 0; start < set.rows.length; start += ws.capacity) {
    const count = Math.min(ws.capacity, set.rows.length - start);
    forward(net, ws, { sparse: set.S, idx: set.rows, start }, count);
    const s = outputDelta(net, ws.act[L], ws.delta[L], set, set.rows, start, count, 1, target);
    loss += s.loss;
    correct += s.correct;
    weight += s.weight;
  }
  return { loss: loss / Math.max(weight, 1e-300), accuracy: correct / Math.max(1, set.rows.length) };
}

/**
 * Forward pass over a matrix in chunks; returns rows × outputs. Rows go through the offset-sparse first layer (with the
 * SIMD kernel), so prediction costs what a training forward pass costs.
 */
export function predictRows(net: DenseNetwork, X: Matrix): Float64Array {
  const rows = X.rows;
  const k = net.sizes[net.layers];
  const S = new OffsetSparseRows(X);
  const idx = identityIndex(rows);
  const ws = new Workspace(net, Math.min(EVAL_BATCH, Math.max(1, rows)), 0, true);
  const out = new Float64Array(rows * k);
  try {
    for (let start = 0; start < rows; start += ws.capacity) {
      const count = Math.min(ws.capacity, rows - start);
      forward(net, ws, { sparse: S, idx, start }, count);
      out.set(ws.act[net.layers].subarray(0, count * k), start * k);
    }
  } finally {
    detachSimd(net);
  }
  return out;
}

/** A trained network with its epoch count and curves, as mlp and the autoencoder keep it. */
export interface TrainedNetwork {
  network: DenseNetwork;
  nIter: number;
  history: TrainingHistory | undefined;
}

export function trainedNetworkState({ network, nIter, history }: TrainedNetwork): ModelState {
  return {
    sizes: [...network.sizes],
    weights: network.weights,
    biases: network.biases,
    nIter,
    history: history ? { unit: history.unit, series: history.series } : null,
  };
}

export function restoreTrainedNetwork(state: ModelState, activation: Activation, output: (sizes: number[]) => OutputKind): TrainedNetwork {
  const sizes = state.sizes as number[];
  return {
    network: new DenseNetwork(sizes, activation, output(sizes), state.weights as Float64Array[], state.biases as Float64Array[]),
    nIter: state.nIter as number,
    history: (state.history as TrainingHistory | null) ?? undefined,
  };
}

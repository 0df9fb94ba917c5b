// Neural-network building blocks: kernels against naive products, offset-sparse rows against dense rows, back-
// propagation against finite differences and against scikit-learn's MLP _backprop / Adam (fixture), and the MLP and
// autoencoder's training behaviour (falling loss, early stopping, seeded determinism, dropout, thresholds).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { matrixFromRows, type Matrix } from '../../../src/frame/matrix.js';
import type { Labels } from '../../../src/frame/labels.js';
import { ParameterError, UserError } from '../../../src/errors.js';
import { matmul, matmulTransposedAAdd, matmulTransposedB } from '../../../src/models/nn/linear-algebra.js';
import { identityIndex, OffsetSparseRows } from '../../../src/models/nn/offset-sparse.js';
import { backward, DenseNetwork, forward, Workspace, type Activation, type BatchInput, type OutputKind } from '../../../src/models/nn/network.js';
import { Adam } from '../../../src/models/nn/adam.js';
import { SimdArena } from '../../../src/models/nn/simd.js';
import { MlpClassifier } from '../../../src/models/mlp.js';
import { Autoencoder } from '../../../src/models/autoencoder.js';
import { Rng } from '../../../src/util/rng.js';
import { nextUp } from '../../../src/eval/threshold.js';

interface MlpCase {
  name: string;
  alpha: number;
  X: number[][];
  y: number[];
  coefs: number[][][];
  intercepts: number[][];
  loss: number;
  coefGrads: number[][][];
  interceptGrads: number[][];
  adamCoefs: number[][][];
  adamIntercepts: number[][];
}
const fixture = JSON.parse(readFileSync(new URL('../../../../test/fixtures/sklearn/linear.json', import.meta.url), 'utf8')) as { mlp: MlpCase[] };

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

function randomArray(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** Rows with one-hot-like and repeated values, so the offset-sparse form is really sparse. */
function mixedMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return matrixFromRows(
    Array.from({ length: rows }, () => Array.from({ length: cols }, (_, j) => (j % 3 === 0 ? (rng.next() < 0.2 ? 1.5 : -0.25) : j % 3 === 1 ? rng.normal() : rng.next() < 0.7 ? 0 : rng.normal()))),
  );
}

function blobs(rows: number, cols: number, nClasses: number, seed: number, spread = 1): { X: Matrix; y: Labels } {
  const rng = new Rng(seed);
  const codes = new Int32Array(rows);
  const data = Array.from({ length: rows }, (_, i) => {
    codes[i] = i % nClasses;
    return Array.from({ length: cols }, (_, j) => (j % 2 === 0 ? 2 : -1) * codes[i] + spread * rng.normal());
  });
  return { X: matrixFromRows(data), y: { codes, classes: Array.from({ length: nClasses }, (_, c) => `k${c}`) } };
}

describe('dense kernels', () => {
  it('match naive products (4-row blocks and remainders)', () => {
    const rng = new Rng(1);
    for (const [m, k, n] of [[7, 5, 3], [4, 1, 6], [1, 9, 2], [9, 8, 8], [6, 5, 1]]) {
      const A = randomArray(m * k, rng);
      const B = randomArray(k * n, rng);
      const bias = randomArray(n, rng);
      const C = new Float64Array(m * n);
      matmul(A, B, bias, C, m, k, n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = bias[j];
          for (let p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
          assert.ok(close(C[i * n + j], s, 1e-12));
        }
      }
      const D = randomArray(m * n, rng);
      const G = randomArray(k * n, rng);
      const G0 = Float64Array.from(G);
      matmulTransposedAAdd(A, D, G, m, k, n);
      for (let p = 0; p < k; p++) {
        for (let j = 0; j < n; j++) {
          let s = G0[p * n + j];
          for (let i = 0; i < m; i++) s += A[i * k + p] * D[i * n + j];
          assert.ok(close(G[p * n + j], s, 1e-12));
        }
      }
      const E = new Float64Array(m * k);
      matmulTransposedB(D, B, E, m, k, n);
      for (let i = 0; i < m; i++) {
        for (let p = 0; p < k; p++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += D[i * n + j] * B[p * n + j];
          assert.ok(close(E[i * k + p], s, 1e-12));
        }
      }
    }
  });
});

describe('offset-sparse rows', () => {
  it('multiply, multiply-transposed, dense rows and norms agree with the dense matrix', () => {
    const X = mixedMatrix(37, 7, 2);
    const S = new OffsetSparseRows(X);
    assert.ok(S.density < 0.75, `density ${S.density}`);
    const rng = new Rng(3);
    const idx = Int32Array.from([5, 0, 36, 12, 12, 7]);
    for (const k of [1, 3]) {
      const W = randomArray(7 * k, rng);
      const bias = randomArray(k, rng);
      const out = new Float64Array(idx.length * k);
      S.multiply(idx, 1, 4, W, k, bias, out, new Float64Array(k));
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < k; c++) {
          let s = bias[c];
          for (let j = 0; j < 7; j++) s += X.data[idx[1 + r] * 7 + j] * W[j * k + c];
          assert.ok(close(out[r * k + c], s, 1e-6), `multiply k=${k}`);
        }
      }
      const D = randomArray(4 * k, rng);
      const G = new Float64Array(7 * k);
      const colSum = new Float64Array(k);
      S.multiplyTransposedAdd(idx, 1, 4, D, k, G, colSum);
      for (let j = 0; j < 7; j++) {
        for (let c = 0; c < k; c++) {
          let s = 0;
          for (let r = 0; r < 4; r++) s += X.data[idx[1 + r] * 7 + j] * D[r * k + c];
          assert.ok(close(G[j * k + c], s, 1e-6), `transposed k=${k}`);
        }
      }
      for (let c = 0; c < k; c++) assert.ok(close(colSum[c], D.filter((_, i) => i % k === c).reduce((a, b) => a + b, 0), 1e-12));
    }
    const row = new Float64Array(7);
    S.denseRow(36, row, 0);
    row.forEach((v, j) => assert.ok(close(v, X.data[36 * 7 + j], 1e-7)));
    const norm = Array.from(X.data.subarray(36 * 7, 37 * 7)).reduce((s, v) => s + v * v, 0);
    assert.ok(close(S.squaredNorms[36], norm, 1e-6));
    assert.deepEqual(identityIndex(3), Int32Array.from([0, 1, 2]));
  });
});

/** Loss of the network on a batch: cross-entropy (logistic / softmax) or mean squared error, plus alpha/(2B)·‖W‖². */
function batchLoss(net: DenseNetwork, X: Float64Array, rows: number, y: Int32Array, alpha: number): number {
  const ws = new Workspace(net, rows, 0);
  forward(net, ws, { dense: X }, rows);
  const out = ws.act[net.layers];
  const k = net.sizes[net.layers];
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    if (net.output === 'identity') for (let c = 0; c < k; c++) loss += (out[r * k + c] - X[r * k + c]) ** 2 / k;
    else if (net.output === 'logistic') loss -= y[r] === 1 ? Math.log(out[r]) : Math.log(1 - out[r]);
    else loss -= Math.log(out[r * k + y[r]]);
  }
  return loss / rows + (alpha * net.halfSquaredWeights()) / rows;
}

/** Analytic gradients through backward(), with the output delta that matches batchLoss. */
function analyticGradients(net: DenseNetwork, input: BatchInput, X: Float64Array, rows: number, y: Int32Array, alpha: number): Workspace {
  const ws = new Workspace(net, rows, 0);
  forward(net, ws, input, rows);
  const out = ws.act[net.layers];
  const delta = ws.delta[net.layers];
  const k = net.sizes[net.layers];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < k; c++) {
      const i = r * k + c;
      if (net.output === 'identity') delta[i] = (2 * (out[i] - X[i])) / (k * rows);
      else if (net.output === 'logistic') delta[i] = (out[i] - y[r]) / rows;
      else delta[i] = (out[i] - (c === y[r] ? 1 : 0)) / rows;
    }
  }
  backward(net, ws, input, rows, alpha);
  return ws;
}

describe('back-propagation', () => {
  const cases: [string, number[], Activation, OutputKind][] = [
    ['tanh → softmax', [4, 5, 3], 'tanh', 'softmax'],
    ['logistic → logistic', [4, 6, 1], 'logistic', 'logistic'],
    ['relu ×2 → softmax', [4, 6, 5, 3], 'relu', 'softmax'],
    ['tanh → identity (autoencoder)', [4, 3, 4], 'tanh', 'identity'],
  ];
  for (const [label, sizes, hidden, output] of cases) {
    it(`${label}: gradients match central finite differences (dense and offset-sparse input)`, () => {
      const rng = new Rng(11);
      const rows = 9;
      const net = DenseNetwork.initialise(sizes, hidden, output, rng);
      const Xm = mixedMatrix(rows, sizes[0], 12);
      const X = Float64Array.from(Xm.data);
      const k = sizes[sizes.length - 1];
      const y = Int32Array.from({ length: rows }, (_, i) => i % Math.max(2, k));
      const alpha = 0.05;
      const dense = analyticGradients(net, { dense: X }, X, rows, y, alpha);
      const sparse = analyticGradients(net, { sparse: new OffsetSparseRows(Xm), idx: identityIndex(rows), start: 0 }, X, rows, y, alpha);
      const h = 1e-6;
      const params = [...net.weights, ...net.biases];
      const grads = [...dense.gradW, ...dense.gradB];
      const sparseGrads = [...sparse.gradW, ...sparse.gradB];
      params.forEach((p, a) => {
        for (let i = 0; i < p.length; i++) {
          const keep = p[i];
          p[i] = keep + h;
          const up = batchLoss(net, X, rows, y, alpha);
          p[i] = keep - h;
          const down = batchLoss(net, X, rows, y, alpha);
          p[i] = keep;
          const numeric = (up - down) / (2 * h);
          assert.ok(Math.abs(grads[a][i] - numeric) < 1e-6 + 1e-4 * Math.abs(numeric), `param ${a}[${i}]: ${grads[a][i]} vs ${numeric}`);
          assert.ok(Math.abs(sparseGrads[a][i] - grads[a][i]) < 1e-6, 'sparse and dense input give the same gradient');
        }
      });
    });
  }

  it("the WebAssembly element-wise kernels give JavaScript's (v + |v|) / 2, e · ceil(min(a, 1)) and x + y bit for bit", () => {
    const arena = SimdArena.create(4096);
    assert.ok(arena, 'WebAssembly SIMD available');
    // Zeros of both signs, a NaN, infinities, subnormals; an odd length leaves one element for the scalar tail.
    const values = [0, -0, 1.5, -2, NaN, 1e-310, -1e-310, Infinity, -Infinity, 0.3, -0.7];
    const x = arena.alloc(values.length);
    x.set(values);
    arena.relu(x.byteOffset, x.byteOffset, values.length);
    values.forEach((v, i) => assert.ok(Object.is(x[i], (v + Math.abs(v)) * 0.5), `relu(${v}) = ${x[i]}`));
    const activations = [0, -0, 2, 0.5, NaN, 1e-310, 3, 0, 1, 0.2, Infinity];
    const deltas = [-1, 2, -3, 4, 5, -6, 7, -8, 9, 10, -11];
    const e = arena.alloc(deltas.length);
    const a = arena.alloc(activations.length);
    e.set(deltas);
    a.set(activations);
    arena.reluGradient(e.byteOffset, a.byteOffset, deltas.length);
    deltas.forEach((d, i) => assert.ok(Object.is(e[i], d * Math.ceil(Math.min(activations[i], 1))), `gradient ${i}: ${e[i]}`));
    e.set(deltas);
    arena.add(e.byteOffset, x.byteOffset, deltas.length);
    deltas.forEach((d, i) => assert.ok(Object.is(e[i], d + x[i]), `sum ${i}: ${e[i]}`));
  });

  it('the WebAssembly SIMD path agrees with the JavaScript path (the sparse first layer bit for bit)', () => {
    const Xm = mixedMatrix(41, 30, 22);
    const input = { sparse: new OffsetSparseRows(Xm), idx: identityIndex(41), start: 0 };
    const run = (simd: boolean): Workspace => {
      const net = DenseNetwork.initialise([30, 13, 6, 3], 'relu', 'softmax', new Rng(5));
      const ws = new Workspace(net, 41, 0, simd);
      forward(net, ws, input, 41);
      ws.delta[3].set(randomArray(41 * 3, new Rng(6)));
      backward(net, ws, input, 41, 0.1);
      return ws;
    };
    const plain = run(false);
    const fast = run(true);
    assert.equal(plain.simd, null);
    assert.ok(fast.simd !== null, 'SIMD arena in use (Node ≥ 20 has WebAssembly SIMD)');
    assert.deepEqual(Array.from(fast.act[1].subarray(0, 41 * 13)), Array.from(plain.act[1].subarray(0, 41 * 13)));
    for (const [a, b] of [[fast.act[3], plain.act[3]], ...fast.gradW.map((g, l) => [g, plain.gradW[l]]), ...fast.gradB.map((g, l) => [g, plain.gradB[l]])]) {
      a.forEach((v, i) => assert.ok(close(v, b[i], 1e-12), `${v} vs ${b[i]}`));
    }
  });

  for (const c of fixture.mlp) {
    it(`${c.name}: loss, gradients and one Adam step match scikit-learn's MLP`, () => {
      const sizes = [c.coefs[0].length, ...c.coefs.map((w) => w[0].length)];
      const k = sizes[sizes.length - 1];
      const net = new DenseNetwork(sizes, 'relu', k === 1 ? 'logistic' : 'softmax', c.coefs.map((w) => Float64Array.from(w.flat())), c.intercepts.map((b) => Float64Array.from(b)));
      const rows = c.X.length;
      const X = Float64Array.from(c.X.flat());
      const y = Int32Array.from(c.y);
      assert.ok(close(batchLoss(net, X, rows, y, c.alpha), c.loss, 1e-9), 'loss');
      const ws = analyticGradients(net, { dense: X }, X, rows, y, c.alpha);
      ws.gradW.forEach((g, l) => g.forEach((v, i) => assert.ok(close(v, c.coefGrads[l].flat()[i], 1e-9), `coef grad ${l}[${i}]`)));
      ws.gradB.forEach((g, l) => g.forEach((v, i) => assert.ok(close(v, c.interceptGrads[l][i], 1e-9), `intercept grad ${l}[${i}]`)));
      const params = [...net.weights, ...net.biases];
      new Adam(params, 1e-3).step(params, [...ws.gradW, ...ws.gradB]);
      net.weights.forEach((w, l) => w.forEach((v, i) => assert.ok(close(v, c.adamCoefs[l].flat()[i], 1e-12), `adam coef ${l}[${i}]`)));
      net.biases.forEach((b, l) => b.forEach((v, i) => assert.ok(close(v, c.adamIntercepts[l][i], 1e-12), `adam intercept ${l}[${i}]`)));
    });
  }
});

describe('mlp', () => {
  it('loss falls, accuracy and validation curves are recorded per epoch', async () => {
    const { X, y } = blobs(600, 6, 3, 1, 1.5);
    const model = await new MlpClassifier({ hidden_layer_sizes: '32', max_iter: 25, learning_rate_init: 0.01 }).fit(X, y, { validation: blobs(150, 6, 3, 2, 1.5) });
    const h = model.history?.series ?? {};
    for (const key of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy']) assert.equal(h[key].length, model.nIter, key);
    assert.ok(h.train_loss[h.train_loss.length - 1] < 0.7 * h.train_loss[0], 'training loss falls');
    assert.ok(h.val_accuracy[h.val_accuracy.length - 1] > 0.8);
  });

  it('early stopping fires on a validation split and keeps the best weights', async () => {
    const { X, y } = blobs(500, 4, 2, 3, 0.5);
    const model = await new MlpClassifier({ hidden_layer_sizes: '16', max_iter: 300, early_stopping: true, n_iter_no_change: 3, learning_rate_init: 0.01 }).fit(X, y);
    assert.ok(model.nIter < 300, `stopped after ${model.nIter} epochs`);
    const acc = model.history?.series.val_accuracy ?? [];
    assert.equal(acc.length, model.nIter);
    assert.ok(Math.max(...acc) > 0.95);
  });

  it('is deterministic by seed; another seed gives another network; dropout still learns', async () => {
    const { X, y } = blobs(300, 5, 2, 4);
    const make = (seed: number, dropout = 0): MlpClassifier => new MlpClassifier({ hidden_layer_sizes: '12,6', max_iter: 20, random_state: seed, dropout, learning_rate_init: 0.01 });
    const a = await (await make(1).fit(X, y)).predictProba(X);
    const b = await (await make(1).fit(X, y)).predictProba(X);
    const c = await (await make(2).fit(X, y)).predictProba(X);
    assert.deepEqual(a.data, b.data);
    assert.notDeepEqual(a.data, c.data);
    const d = await make(1, 0.3).fit(X, y);
    const pred = await d.predict(X);
    assert.ok(pred.codes.reduce((s, v, i) => s + (v === y.codes[i] ? 1 : 0), 0) / 300 > 0.9);
  });

  it('rejects bad layer sizes and out-of-range parameters', () => {
    assert.throws(() => new MlpClassifier({ hidden_layer_sizes: '0' }), ParameterError);
    assert.throws(() => new MlpClassifier({ hidden_layer_sizes: '64,x' }), /hidden_layer_sizes/);
    assert.throws(() => new MlpClassifier({ dropout: 1 }), /dropout/);
    assert.throws(() => new MlpClassifier({ validation_fraction: 0 }), /validation_fraction/);
    assert.deepEqual(new MlpClassifier({ hidden_layer_sizes: '128, 64' }).hiddenSizes, [128, 64]);
  });
});

describe('mlp: first hidden layer split over two threads', () => {
  // Above split-hidden.ts's threshold (rows · cols · units ≥ 5e7); FLOWSENTRY_THREADS=1 keeps the fit on one thread.
  const X = mixedMatrix(7000, 90, 11);
  const codes = Int32Array.from({ length: X.rows }, (_, i) => (X.data[i * 90 + 1] + X.data[i * 90 + 4] > 0 ? 1 : 0) + (X.data[i * 90] > 0 ? 1 : 0));
  const y: Labels = { codes, classes: ['a', 'b', 'c'] };
  const binary: Labels = { codes: codes.map((c) => (c === 1 ? 1 : 0)), classes: ['no', 'yes'] };
  const oneThread = async <T>(run: () => Promise<T>): Promise<T> => {
    const saved = process.env.FLOWSENTRY_THREADS;
    process.env.FLOWSENTRY_THREADS = '1';
    try {
      return await run();
    } finally {
      if (saved === undefined) delete process.env.FLOWSENTRY_THREADS;
      else process.env.FLOWSENTRY_THREADS = saved;
    }
  };
  const fitBoth = async (params: Record<string, unknown>, labels: Labels): Promise<MlpClassifier[]> => {
    const make = (): MlpClassifier => new MlpClassifier(params);
    return [await make().fit(X, labels), await oneThread(() => make().fit(X, labels))];
  };

  it('computes the one-thread network bit for bit (dropout, early stopping, two hidden layers, softmax)', async (t) => {
    if (availableParallelism() < 2) t.skip('one core');
    // Epochs 1 and 3 are split, epoch 2 runs on one thread, later ones as timed (trainer.ts splitNextEpoch): every fit
    // here hands the split layer's parameters and Adam moments to one thread and back.
    const cases: [Record<string, unknown>, Labels][] = [
      [{ hidden_layer_sizes: '100', max_iter: 3, dropout: 0.2, early_stopping: true, alpha: 1e-3 }, binary],
      [{ hidden_layer_sizes: '100,8', max_iter: 4, batch_size: 150 }, y],
    ];
    for (const [params, labels] of cases) {
      const [split, serial] = await fitBoth(params, labels);
      assert.equal(split.nIter, serial.nIter);
      assert.deepEqual(split.history, serial.history);
      split.network?.weights.forEach((w, l) => assert.deepEqual(w, serial.network?.weights[l], `weights ${l}`));
      split.network?.biases.forEach((b, l) => assert.deepEqual(b, serial.network?.biases[l], `biases ${l}`));
    }
  });

  it('stops its worker when the fit is aborted', async () => {
    const controller = new AbortController();
    const fit = new MlpClassifier({ hidden_layer_sizes: '100', max_iter: 50 }).fit(X, binary, { signal: controller.signal, onProgress: () => controller.abort() });
    await assert.rejects(fit, /aborted/);
  });
});

describe('autoencoder', () => {
  it('scores by reconstruction error with train/val curves and a contamination threshold', async () => {
    const normal = blobs(600, 6, 1, 5).X;
    const model = await new Autoencoder({ hidden_layer_sizes: '8,3,8', max_iter: 30, contamination: 0.1 }).fit(normal);
    const h = model.history?.series ?? {};
    assert.equal(h.train_loss.length, model.nIter);
    assert.equal(h.val_loss.length, model.nIter);
    assert.ok(h.val_loss[h.val_loss.length - 1] < h.val_loss[0], 'validation loss falls');
    const flagged = (await model.predict(normal)).reduce((s, f) => s + f, 0);
    assert.ok(Math.abs(flagged - 60) <= 2, `contamination 0.1 flags ~10% of training rows, got ${flagged}`);
    const far = matrixFromRows([[9, 9, 9, 9, 9, 9]]);
    const [score] = await model.scoreSamples(far);
    assert.ok(score > model.threshold);
    assert.throws(() => new Autoencoder({ contamination: 0.7 }), ParameterError);
  });

  it("'auto' targets 1% false positives split-conformally on the held-out rows: just above the ⌈(n + 1)·0.99⌉-th smallest", async () => {
    const X = blobs(600, 6, 1, 5).X;
    // n = 150: rank ⌈149.49⌉ = 150, the largest; n = 250: rank ⌈248.49⌉ = 249, the second largest
    for (const [n, rank] of [[150, 150], [250, 249]]) {
      const validation = blobs(n, 6, 1, 7).X;
      const model = await new Autoencoder({ hidden_layer_sizes: '8,3,8', max_iter: 10 }).fit(X, { validation: { X: validation } });
      const held = Float64Array.from(await model.scoreSamples(validation)).sort();
      assert.equal(model.threshold, nextUp(held[rank - 1]), `n = ${n}`);
      assert.equal((await model.predict(validation)).reduce((a, f) => a + f, 0), n - rank, `n = ${n}: held-out rows flagged`);
    }
    // held out from the rows themselves (10% of 1,000: rank ⌈100.99⌉ → 100 of 100): just above one row's score, not
    // between two as the plain 99th percentile was
    const rows = blobs(1000, 6, 1, 9).X;
    const model = await new Autoencoder({ hidden_layer_sizes: '8,3,8', max_iter: 10 }).fit(rows);
    const scores = await model.scoreSamples(rows);
    assert.ok(scores.some((score) => nextUp(score) === model.threshold), String(model.threshold));
  });

  it('training that diverges is one user error saying what to change, not a RangeError from the threshold', async () => {
    // unscaled features in the tens of thousands (byte counts) and a huge learning rate: the weights overflow
    const rng = new Rng(3);
    const unscaled = matrixFromRows(Array.from({ length: 200 }, () => Array.from({ length: 6 }, (_, j) => (j + 1) * 1e4 * (1 + 0.1 * rng.normal()))));
    for (const early_stopping of [true, false]) {
      await assert.rejects(
        new Autoencoder({ hidden_layer_sizes: '8,3,8', max_iter: 10, learning_rate_init: 1e40, early_stopping }).fit(unscaled),
        (e: unknown) =>
          e instanceof UserError &&
          /^autoencoder: training diverged: after \d+ epochs the reconstruction error of \d+ of 200 rows is NaN or infinite; lower learning_rate_init \(now 1e\+40, default 0\.001\) or scale the features to similar ranges \(e\.g\. standard scaling\)$/.test(e.message),
        `early_stopping ${early_stopping}`,
      );
    }
    // the same rows at the default learning rate: finite scores and threshold
    const model = await new Autoencoder({ hidden_layer_sizes: '8,3,8', max_iter: 10 }).fit(unscaled);
    assert.ok((await model.scoreSamples(unscaled)).every(Number.isFinite) && Number.isFinite(model.threshold));
  });
});

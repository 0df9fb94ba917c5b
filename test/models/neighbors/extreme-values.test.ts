// Values near float32's limit (±1e38, 3.4e38: a flow rate of a zero-length flow, scaled) whose squared differences
// overflow float32: the neighbour search must still equal a float64 brute force (it returned no neighbours, index -1
// and distance Infinity), and the models on it must give finite, ranked scores (LOF gave NaN, so the row passed as
// normal; kNN a probability of 0 for its predicted class).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMatrix, matrixFromRows, type Matrix } from '../../../src/frame/matrix.js';
import { encodeLabels } from '../../../src/frame/labels.js';
import { Rng } from '../../../src/util/rng.js';
import { NeighborIndex, type Metric } from '../../../src/models/neighbors/search.js';
import { getModelSpec } from '../../../src/models/index.js';
import type { Classifier, Detector } from '../../../src/models/estimator.js';

function normalRows(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

/** Copies of indexed rows with one or two coordinates set near float32's limit. */
function extremeQueries(X: Matrix): Matrix {
  const big = [1e38, -1e38, 3.4e38, -3.4e38, 2e19];
  const Q = createMatrix(big.length * 2, X.cols);
  for (let q = 0; q < Q.rows; q++) {
    Q.data.set(X.data.subarray(q * X.cols, (q + 1) * X.cols), q * X.cols);
    Q.data[q * X.cols + (q % X.cols)] = big[q % big.length];
    if (q >= big.length) Q.data[q * X.cols + ((q + 1) % X.cols)] = -big[q % big.length];
  }
  return Q;
}

function bruteKnn(X: Matrix, Q: Matrix, k: number, metric: Metric): { indices: number[]; distances: number[] } {
  const indices: number[] = [];
  const distances: number[] = [];
  for (let q = 0; q < Q.rows; q++) {
    const all: [number, number][] = [];
    for (let i = 0; i < X.rows; i++) {
      let sum = 0;
      for (let j = 0; j < X.cols; j++) {
        const diff = X.data[i * X.cols + j] - Q.data[q * X.cols + j];
        sum += metric === 'manhattan' ? Math.abs(diff) : diff * diff;
      }
      all.push([metric === 'manhattan' ? sum : Math.sqrt(sum), i]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let c = 0; c < k; c++) {
      indices.push(all[c][1]);
      distances.push(all[c][0]);
    }
  }
  return { indices, distances };
}

describe('neighbour search with values near the float32 limit', () => {
  for (const [rows, algorithm] of [
    [60, 'auto'],
    [5000, 'clusters'],
  ] as const) {
    for (const metric of ['euclidean', 'manhattan'] as const) {
      it(`k-NN equals a float64 brute force (${rows} rows, ${algorithm}, ${metric})`, async () => {
        const X = normalRows(rows, 6, 3);
        const Q = extremeQueries(X);
        for (const simd of [true, false]) {
          const index = NeighborIndex.build(X, metric, { algorithm, simd, threads: 1 });
          const got = await index.kneighbors(Q, 4);
          const want = bruteKnn(X, Q, 4, metric);
          assert.deepEqual(Array.from(got.indices), want.indices, `simd ${simd}`);
          assert.deepEqual(Array.from(got.distances), want.distances, `simd ${simd}`);
        }
      });
    }
  }

  it('indexed rows near the limit: self-queries and radius counts equal the brute force', async () => {
    const X = normalRows(60, 5, 4);
    for (let i = 0; i < 6; i++) X.data[i * 7] = i % 2 ? 3e38 : -3e38;
    const index = NeighborIndex.build(X, 'euclidean', { threads: 1 });
    const got = await index.kneighbors(X, 3);
    const want = bruteKnn(X, X, 3, 'euclidean');
    assert.deepEqual(Array.from(got.distances), want.distances);
    const counts = await index.radiusCount(X, 1e38);
    for (let q = 0; q < X.rows; q++) {
      let near = 0;
      for (let c = 0; c < X.rows; c++) if (Math.hypot(...Array.from(X.data.subarray(c * 5, c * 5 + 5), (v, j) => v - X.data[q * 5 + j])) <= 1e38) near++;
      assert.equal(counts[q], near, `row ${q}`);
    }
  });

  it('LOF, kNN and DBSCAN score such rows as far from the training rows, with finite values', async () => {
    const X = normalRows(200, 4, 5);
    const Q = matrixFromRows([
      [1e38, 0, 0, 0],
      [0, 3.4e38, 0, 0],
      [-1e38, -1e38, 0, 0],
      [0.1, 0.1, 0, 0],
    ]);
    for (const name of ['lof', 'dbscan']) {
      const model = getModelSpec(name).create(name === 'dbscan' ? { eps: 1.5 } : {}) as Detector;
      await model.fit(X);
      const scores = await model.scoreSamples(Q);
      assert.ok(scores.every(Number.isFinite), `${name}: ${Array.from(scores)}`);
      assert.deepEqual(Array.from(await model.predict(Q)), [1, 1, 1, 0], name);
    }
    const y = encodeLabels(Array.from({ length: X.rows }, (_, i) => (X.data[i * 4] > 0 ? 'attack' : 'normal')));
    const knn = getModelSpec('knn').create({}) as Classifier;
    await knn.fit(X, y);
    const proba = (await knn.predictProba(Q)).data;
    const predicted = (await knn.predict(Q)).codes;
    for (let q = 0; q < Q.rows; q++) {
      assert.ok(Math.abs(proba[2 * q] + proba[2 * q + 1] - 1) < 1e-6, `row ${q} probabilities sum to 1`);
      assert.ok(proba[2 * q + predicted[q]] >= 0.5, `row ${q}: its predicted class is the likelier one`);
    }
  });
});

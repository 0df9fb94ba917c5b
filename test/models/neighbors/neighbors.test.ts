// Neighbour search and the distance/density models against scikit-learn 1.2.1 fixtures
// (scripts/fixtures/make-neighbor-fixtures.py → test/fixtures/sklearn/neighbors.json) and hand-computed values.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matrixFromRows, createMatrix, type Matrix } from '../../../src/frame/matrix.js';
import type { Labels } from '../../../src/frame/labels.js';
import { ParameterError, UserError } from '../../../src/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { NeighborIndex, type Metric } from '../../../src/models/neighbors/search.js';
import { KNeighborsClassifier } from '../../../src/models/knn.js';
import { LocalOutlierFactor } from '../../../src/models/lof.js';
import { DbscanDetector, suggestEps } from '../../../src/models/dbscan.js';
import { KMeansDetector, lloyd, meanVariance, seedPlusPlus, type Clustering } from '../../../src/models/kmeans.js';
import { EcodDetector } from '../../../src/models/ecod.js';
import { assertClose, loadFixture } from '../../eval/fixtures.js';
import { blobs, plainLloyd } from '../../helpers/plain-lloyd.js';

interface KnnRun {
  metric: Metric;
  weights: 'uniform' | 'distance';
  indices: number[][];
  distances: number[][];
  proba: number[][];
  predict: number[];
}
interface Fixture {
  knn: { name: string; train: number[][]; labels: number[]; test: number[][]; runs: KnnRun[] }[];
  lof: { train: number[][]; test: number[][]; n_neighbors: number; contamination: number; negative_outlier_factor: number[]; offset: number; fit_predict: number[]; score_samples: number[] };
  dbscan: { X: number[][]; eps: number; min_samples: number; labels: number[]; core_sample_indices: number[] };
  kmeans: { X: number[][]; n_clusters: number; inertia: number };
}

const fx = loadFixture<Fixture>('neighbors.json');
const labelsOf = (codes: number[]): Labels => ({ codes: Int32Array.from(codes), classes: [...new Set(codes)].sort().map(String) });

function randomMatrix(rows: number, cols: number, seed: number, sparsity = 0): Matrix {
  const rng = new Rng(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.next() < sparsity ? 0 : rng.normal();
  return m;
}

describe('knn equals scikit-learn KNeighborsClassifier', () => {
  for (const c of fx.knn) {
    for (const run of c.runs) {
      const algorithms = run.metric === 'euclidean' ? (['dense', 'sparse', 'projection', 'clusters'] as const) : run.metric === 'manhattan' ? (['dense', 'clusters'] as const) : (['dense'] as const);
      for (const algorithm of algorithms) {
        it(`${c.name} data, ${run.metric}, ${run.weights}, ${algorithm} search`, async () => {
          const model = await new KNeighborsClassifier({ n_neighbors: 5, metric: run.metric, weights: run.weights, algorithm }).fit(matrixFromRows(c.train), labelsOf(c.labels));
          const test = matrixFromRows(c.test);
          const { indices, distances } = await model.kneighbors(test);
          assert.deepEqual([...indices], run.indices.flat());
          assertClose(distances, run.distances.flat(), 1e-6, 'distances');
          assertClose((await model.predictProba(test)).data, run.proba.flat(), 1e-6, 'predict_proba');
          assert.deepEqual([...(await model.predict(test)).codes], run.predict);
        });
      }
    }
  }

  it('rejects k = 0, k above the row count, and single-class training', async () => {
    assert.throws(() => new KNeighborsClassifier({ n_neighbors: 0 }), ParameterError);
    assert.throws(() => new KNeighborsClassifier({ metric: 'chebyshev' as Metric }), ParameterError);
    const X = randomMatrix(4, 2, 1);
    await assert.rejects(new KNeighborsClassifier({ n_neighbors: 5 }).fit(X, labelsOf([0, 1, 0, 1])), UserError);
    await assert.rejects(new KNeighborsClassifier({ n_neighbors: 1 }).fit(X, labelsOf([0, 0, 0, 0])), /single class/);
  });
});

describe('neighbour search', () => {
  it('this thread and helper workers give bit-identical answers to one thread, helpers reused between searches', async () => {
    const X = randomMatrix(1500, 12, 2, 0.7);
    const Q = randomMatrix(300, 12, 3, 0.7);
    const values = Int32Array.from({ length: X.rows }, (_, i) => (i * 7919) % 1000);
    for (const algorithm of ['auto', 'dense', 'sparse', 'projection', 'clusters'] as const) {
      const serial = NeighborIndex.build(X, 'euclidean', { algorithm, threads: 1 });
      for (const threads of [2, 3]) {
        const parallel = NeighborIndex.build(X, 'euclidean', { algorithm, threads, parallelWork: 0 });
        const label = `${algorithm}, ${threads} threads`;
        for (const queries of [Q, undefined]) {
          const a = await serial.kneighbors(queries, 7);
          const b = await parallel.kneighbors(queries, 7);
          assert.deepEqual(b.indices, a.indices, `${label} indices`);
          assert.deepEqual(b.distances, a.distances, `${label} distances`);
        }
        assert.deepEqual(await parallel.radiusCount(Q, 2.5), await serial.radiusCount(Q, 2.5), label);
        assert.deepEqual(await parallel.radiusComponents(1.2), await serial.radiusComponents(1.2), label);
        assert.deepEqual(await parallel.radiusMinValue(Q, 1.5, values), await serial.radiusMinValue(Q, 1.5, values), label);
      }
    }
  });

  it('sparse, projection, SIMD and JavaScript dense paths agree, exact duplicates sit at distance 0, and self is excluded', async () => {
    const X = randomMatrix(400, 30, 4, 0.9);
    X.data.copyWithin(10 * 30, 3 * 30, 4 * 30); // row 10 duplicates row 3
    const dense = await NeighborIndex.build(X, 'euclidean', { algorithm: 'dense' }).kneighbors(undefined, 4);
    const sparse = await NeighborIndex.build(X, 'euclidean', { algorithm: 'sparse' }).kneighbors(undefined, 4);
    const projected = await NeighborIndex.build(X, 'euclidean', { algorithm: 'projection' }).kneighbors(undefined, 4);
    assert.deepEqual([...sparse.indices], [...dense.indices]);
    assertClose(sparse.distances, dense.distances, 1e-9, 'distances');
    assert.deepEqual([...projected.indices], [...dense.indices]);
    assert.deepEqual(projected.distances, dense.distances, 'the projection path returns the exact dense distances');
    const scalar = await NeighborIndex.build(X, 'euclidean', { algorithm: 'dense', simd: false }).kneighbors(undefined, 4);
    assert.deepEqual([...scalar.indices], [...dense.indices], 'JavaScript and SIMD dense scans agree');
    assert.deepEqual(scalar.distances, dense.distances);
    const l1 = NeighborIndex.build(X, 'manhattan', { simd: false });
    const l1Simd = NeighborIndex.build(X, 'manhattan');
    assert.deepEqual(await l1Simd.kneighbors(undefined, 4), await l1.kneighbors(undefined, 4));
    assert.deepEqual(await l1Simd.radiusCount(undefined, 8), await l1.radiusCount(undefined, 8));
    assert.equal(sparse.indices[3 * 4], 10);
    assert.equal(sparse.distances[3 * 4], 0);
    for (let i = 0; i < 400; i++) for (let c = 0; c < 4; c++) assert.notEqual(sparse.indices[i * 4 + c], i);
  });

  it('projection search equals brute force for near and far queries (far ones fall back to a scan)', async () => {
    const X = randomMatrix(2000, 30, 5, 0.5);
    const Q = randomMatrix(40, 30, 6, 0.5);
    for (let q = 0; q < 20; q++) Q.data[q * 30 + (q % 30)] += 500; // far from every row, off the principal axes
    const dense = NeighborIndex.build(X, 'euclidean', { algorithm: 'dense' });
    const projected = NeighborIndex.build(X, 'euclidean', { algorithm: 'projection' });
    const a = await dense.kneighbors(Q, 6);
    const b = await projected.kneighbors(Q, 6);
    assert.deepEqual([...b.indices], [...a.indices]);
    assert.deepEqual(b.distances, a.distances);
    assert.deepEqual(await projected.radiusCount(Q, 6), await dense.radiusCount(Q, 6));
  });

  it('sparse path with continuous and one-hot columns equals brute force for near and far queries', async () => {
    const rng = new Rng(9);
    const rows = 3000;
    const cols = 24;
    const X = createMatrix(rows, cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < 4; j++) X.data[i * cols + j] = rng.normal();
      X.data[i * cols + 4 + rng.int(20)] = 0.3;
    }
    const Q = createMatrix(40, cols);
    for (let q = 0; q < 40; q++) {
      Q.data.set(X.data.subarray(q * 70 * cols, (q * 70 + 1) * cols), q * cols);
      Q.data[q * cols] += q < 30 ? 0.01 * rng.normal() : 50;
    }
    const sparse = NeighborIndex.build(X, 'euclidean', { algorithm: 'sparse' });
    const dense = NeighborIndex.build(X, 'euclidean', { algorithm: 'dense' });
    for (const queries of [Q, undefined]) {
      const a = await dense.kneighbors(queries, 5);
      const b = await sparse.kneighbors(queries, 5);
      assert.deepEqual([...b.indices], [...a.indices]);
      assertClose(b.distances, a.distances, 1e-9, 'distances');
    }
    assert.deepEqual(await sparse.radiusCount(Q, 1.5), await dense.radiusCount(Q, 1.5));
  });

  it('radius counts match a direct count (inclusive boundary)', async () => {
    const X = matrixFromRows([[0, 0], [3, 4], [6, 8], [0, 1]]);
    const counts = await NeighborIndex.build(X, 'euclidean').radiusCount(undefined, 5);
    assert.deepEqual([...counts], [3, 4, 2, 3]);
    const manhattan = await NeighborIndex.build(X, 'manhattan').radiusCount(undefined, 7);
    assert.deepEqual([...manhattan], [3, 4, 2, 3]);
  });
});

describe('lof equals scikit-learn LocalOutlierFactor', () => {
  const { lof } = fx;
  it('outlier mode: negative_outlier_factor_, offset_ and fit_predict', async () => {
    const model = new LocalOutlierFactor({ n_neighbors: lof.n_neighbors, contamination: lof.contamination });
    const flags = await model.fitPredict(matrixFromRows(lof.train));
    assertClose(model.trainingScores().map((s) => -s), lof.negative_outlier_factor, 1e-6, 'negative_outlier_factor_');
    assertClose([-model.threshold], [lof.offset], 1e-6, 'offset_');
    assert.deepEqual([...flags], lof.fit_predict.map((v) => (v === -1 ? 1 : 0)));
  });

  it('novelty mode: score_samples on new rows, with every search path', async () => {
    for (const algorithm of ['dense', 'sparse', 'projection', 'clusters'] as const) {
      const model = await new LocalOutlierFactor({ n_neighbors: lof.n_neighbors, algorithm }).fit(matrixFromRows(lof.train));
      const scores = await model.scoreSamples(matrixFromRows(lof.test));
      assertClose(scores.map((s) => -s), lof.score_samples, 1e-6, `score_samples (${algorithm})`);
      assert.equal(model.threshold, 1.5, "contamination 'auto' uses scikit-learn's offset");
    }
  });

  it('rejects bad contamination and too few rows', async () => {
    assert.throws(() => new LocalOutlierFactor({ contamination: 0.6 }), ParameterError);
    assert.throws(() => new LocalOutlierFactor({ contamination: 0 }), ParameterError);
    await assert.rejects(new LocalOutlierFactor().fit(matrixFromRows([[1, 2]])), /at least 2 .* got 1/);
  });
});

describe('dbscan equals scikit-learn DBSCAN', () => {
  const { dbscan } = fx;
  it('clusters, core rows and noise flags', async () => {
    for (const algorithm of ['dense', 'sparse', 'projection', 'clusters'] as const) {
      const X = matrixFromRows(dbscan.X);
      const model = await new DbscanDetector({ eps: dbscan.eps, min_samples: dbscan.min_samples, algorithm }).fit(X);
      assert.deepEqual([...model.labels], dbscan.labels, `labels_ (${algorithm})`);
      assert.deepEqual([...model.coreSampleIndices], dbscan.core_sample_indices);
      assert.deepEqual([...(await model.predict(X))], dbscan.labels.map((l) => (l === -1 ? 1 : 0)), 'noise rows are the anomalies');
    }
  });

  it('scores new rows by distance to the nearest core row over eps', async () => {
    const X = matrixFromRows([[0], [0.1], [0.2], [0.3], [5]]);
    const model = await new DbscanDetector({ eps: 0.15, min_samples: 2 }).fit(X);
    assert.deepEqual([...model.labels], [0, 0, 0, 0, -1]);
    assertClose(await model.scoreSamples(matrixFromRows([[0.05], [0.6], [-1]])), [0.05 / 0.15, 0.3 / 0.15, 1 / 0.15], 1e-6, 'scores');
  });

  it('rejects eps <= 0, explains an all-noise fit, suggests eps at the k-distance knee', async () => {
    assert.throws(() => new DbscanDetector({ eps: 0 }), ParameterError);
    assert.throws(() => new DbscanDetector({ eps: -1 }), ParameterError);
    const X = matrixFromRows(dbscan.X);
    await assert.rejects(new DbscanDetector({ eps: 1e-4, min_samples: 5 }).fit(X), /no core rows.*try eps/);
    const { eps, kDistances } = await suggestEps(X, dbscan.min_samples - 1);
    assert.ok(eps > kDistances[Math.floor(kDistances.length * 0.5)] && eps < kDistances[kDistances.length - 1], `knee eps ${eps}`);
    const clustered = await new DbscanDetector({ eps, min_samples: dbscan.min_samples }).fit(X);
    assert.equal(Math.max(...clustered.labels) + 1, 3, 'the suggested eps finds the three blobs');
  });
});

describe('kmeans detector', () => {
  it('reaches scikit-learn KMeans(n_init=20) inertia within 1%', async () => {
    const model = await new KMeansDetector({ n_clusters: fx.kmeans.n_clusters, n_init: 5 }).fit(matrixFromRows(fx.kmeans.X));
    assert.ok(model.inertia <= fx.kmeans.inertia * 1.01, `inertia ${model.inertia} vs sklearn ${fx.kmeans.inertia}`);
  });

  it('scores distance to the nearest centroid over the cluster spread', async () => {
    const X = matrixFromRows([[0], [2], [10], [14]]);
    const model = await new KMeansDetector({ n_clusters: 2, contamination: 0.25 }).fit(X);
    // Centroids 1 and 12; spreads sqrt((1+1)/2) = 1 and sqrt((4+4)/2) = 2, floored at the overall sqrt(10/4).
    const floor = Math.sqrt(10 / 4);
    assertClose(await model.scoreSamples(matrixFromRows([[1], [4], [12], [18]])), [0, 3 / floor, 0, 6 / 2], 1e-9, 'scores');
  });

  function assertSameClustering(X: Matrix, start: Float64Array, maxIter: number, tol: number, what: string): void {
    const plain = plainLloyd(X, start.slice(), maxIter, tol);
    const bounded = lloyd(X, start.slice(), maxIter, tol);
    assert.deepEqual(bounded.labels, plain.labels, `${what}: labels`);
    assert.deepEqual(bounded.centers, plain.centers, `${what}: centroids`);
    assert.deepEqual(bounded.sqDist, plain.sqDist, `${what}: squared distances`);
    assert.equal(bounded.inertia, plain.inertia, `${what}: inertia`);
  }

  it('Hamerly-bounded Lloyd gives plain Lloyd\'s labels, centroids and inertia exactly', () => {
    const rng = new Rng(11);
    // Overlapping blobs (many rows near a boundary), seeded by k-means++, run to convergence and cut short.
    for (const [n, d, centres, spread, k] of [[3000, 5, 6, 1.5, 8], [2000, 12, 3, 0.5, 5], [1500, 2, 10, 2, 16], [500, 3, 2, 1, 1]]) {
      const X = blobs(rng, n, d, centres, spread);
      const start = seedPlusPlus(X, k, rng);
      assertSameClustering(X, start, 300, 0, `blobs n=${n} d=${d} k=${k}`);
      assertSameClustering(X, start, 3, 1e-4, `blobs n=${n} d=${d} k=${k}, 3 iterations`);
    }
    // Duplicate rows on a small integer grid: exact ties between centres, which Lloyd breaks by the lowest index.
    const grid = createMatrix(2000, 3);
    for (let i = 0; i < grid.data.length; i++) grid.data[i] = rng.int(3);
    for (const k of [2, 4, 7]) assertSameClustering(grid, seedPlusPlus(grid, k, rng), 300, 0, `grid k=${k}`);
    // Centres on grid points equidistant from whole columns of rows, and two identical starting centres.
    assertSameClustering(grid, new Float64Array([0, 0, 0, 2, 2, 2, 0, 2, 0, 2, 0, 2]), 300, 0, 'grid, symmetric centres');
    assertSameClustering(grid, new Float64Array([1, 1, 1, 1, 1, 1, 0, 0, 0]), 300, 0, 'grid, duplicated centre');
  });

  it('re-seeds an emptied cluster at the farthest row, bounds and all, as plain Lloyd does', () => {
    const rng = new Rng(5);
    const X = blobs(rng, 1200, 4, 4, 0.8);
    // Two centres far from every row (both empty after the first assignment) and a duplicated centre (empty by the
    // lowest-index tie rule).
    const start = new Float64Array(6 * 4);
    for (let c = 0; c < 3; c++) for (let j = 0; j < 4; j++) start[c * 4 + j] = X.data[(c * 100) * 4 + j];
    start.set(start.subarray(0, 4), 3 * 4);
    start.fill(1e3, 4 * 4, 5 * 4);
    start.fill(-1e3, 5 * 4, 6 * 4);
    const plain = plainLloyd(X, start.slice(), 300, 0);
    assert.ok(plain.labels.includes(3) && plain.labels.includes(4) && plain.labels.includes(5), 'the emptied clusters were re-seeded and kept rows');
    assertSameClustering(X, start, 300, 0, 'emptied clusters');
    assertSameClustering(X, start, 1, 0, 'emptied clusters, one iteration');
  });

  it('fits the same model as before the bounds (labels through predictCluster, inertia, scores)', async () => {
    const X = blobs(new Rng(3), 2500, 6, 5, 1.2);
    const model = await new KMeansDetector({ n_clusters: 8, n_init: 3, random_state: 7 }).fit(X);
    // The best of the three k-means++ runs, redone with plain Lloyd from the same seeds.
    const rng = new Rng(7);
    const tol = 1e-4 * meanVariance(X);
    let best: Clustering | undefined;
    for (let run = 0; run < 3; run++) {
      const result = plainLloyd(X, seedPlusPlus(X, 8, rng), 300, tol);
      if (!best || result.inertia < best.inertia) best = result;
    }
    assert.deepEqual(model.centers, best?.centers);
    assert.equal(model.inertia, best?.inertia);
    assert.deepEqual(await model.predictCluster(X), best?.labels);
  });

  it('rejects more clusters than rows and bad contamination', async () => {
    await assert.rejects(new KMeansDetector({ n_clusters: 5 }).fit(matrixFromRows([[1], [2]])), /at least 5 .* got 2/);
    assert.throws(() => new KMeansDetector({ contamination: 0.7 }), ParameterError);
  });
});

describe('ecod detector', () => {
  it('sums per-feature tail scores (hand-computed)', async () => {
    // Feature 0: [1, 2, 2, 3, 10], skewed right; feature 1: [0, 0, 0, 0, 1], skewed right.
    const model = await new EcodDetector().fit(matrixFromRows([[1, 0], [2, 0], [2, 0], [3, 0], [10, 1]]));
    const scores = await model.scoreSamples(matrixFromRows([[2, 0], [12, 0], [0.5, 1]]));
    const std0 = Math.sqrt(53.2 / 5);
    // x=2: left -ln(3/5), right -ln(4/5); x=0 in feature 1: left -ln(4/5), right -ln(5/5).
    const row0 = -Math.log(3 / 5) + -Math.log(4 / 5);
    const row1 = Math.log(5) + 2 / std0 + -Math.log(4 / 5);
    const row2 = Math.log(5) + 0.5 / std0 + -Math.log(1 / 5);
    assertClose(scores, [row0, row1, row2], 1e-9, 'ecod scores');
  });
});

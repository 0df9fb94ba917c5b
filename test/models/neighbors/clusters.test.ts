// The cluster-bound neighbour search (src/models/neighbors/clusters.ts) against a plain float64 brute force written
// here: k-NN with and without the query row itself, exact ties and duplicates, queries far from every row (scan
// fallback), radius counts/components/minimum values, both metrics, SIMD on and off, one thread and workers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMatrix, type Matrix } from '../../../src/frame/matrix.js';
import { Rng } from '../../../src/util/rng.js';
import { NeighborIndex, type Metric } from '../../../src/models/neighbors/search.js';

/** Blobs on a coarse grid, a quarter of the rows repeating earlier ones: exact duplicates and tied distances. */
function blobs(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 30 }, () => Array.from({ length: cols }, () => 8 * rng.normal()));
  const m = createMatrix(rows, cols);
  for (let i = 0; i < rows; i++) {
    if (i > 0 && rng.next() < 0.25) {
      const from = rng.int(i);
      m.data.copyWithin(i * cols, from * cols, (from + 1) * cols);
      continue;
    }
    const c = centres[rng.int(centres.length)];
    for (let j = 0; j < cols; j++) m.data[i * cols + j] = Math.round(4 * (c[j] + rng.normal())) / 4;
  }
  return m;
}

function distance(metric: Metric, a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const diff = a[ao + j] - b[bo + j];
    sum += metric === 'manhattan' ? Math.abs(diff) : diff * diff;
  }
  return metric === 'manhattan' ? sum : Math.sqrt(sum);
}

/** k nearest by sorting every distance, ties by the lower row; self excluded when queries are the rows. */
function bruteKnn(X: Matrix, Q: Matrix | undefined, k: number, metric: Metric, count = (Q ?? X).rows): { indices: number[]; distances: number[] } {
  const queries = Q ?? X;
  const indices: number[] = [];
  const distances: number[] = [];
  for (let q = 0; q < count; q++) {
    const all: [number, number][] = [];
    for (let i = 0; i < X.rows; i++) if (Q || i !== q) all.push([distance(metric, X.data, i * X.cols, queries.data, q * X.cols, X.cols), i]);
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let c = 0; c < k; c++) {
      indices.push(all[c][1]);
      distances.push(all[c][0]);
    }
  }
  return { indices, distances };
}

function bruteRadius(X: Matrix, Q: Matrix, r: number, metric: Metric): number[][] {
  const out: number[][] = [];
  for (let q = 0; q < Q.rows; q++) {
    const near: number[] = [];
    for (let i = 0; i < X.rows; i++) if (distance(metric, X.data, i * X.cols, Q.data, q * X.cols, X.cols) <= r) near.push(i);
    out.push(near);
  }
  return out;
}

function farQueries(X: Matrix, count: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const Q = createMatrix(count, X.cols);
  for (let q = 0; q < count; q++) {
    const row = rng.int(X.rows);
    Q.data.set(X.data.subarray(row * X.cols, (row + 1) * X.cols), q * X.cols);
    if (q % 3 === 0) Q.data[q * X.cols + (q % X.cols)] += 400; // far from every cluster
    else if (q % 3 === 1) Q.data[q * X.cols] += 0.125; // near, off the grid
  }
  return Q;
}

describe('cluster-bound neighbour search', () => {
  const X = blobs(5000, 12, 1);
  const Q = farQueries(X, 90, 2);

  it('is chosen automatically on clustered data and equals brute force (k-NN, self-excluded k-NN, ties, far queries)', async () => {
    const auto = NeighborIndex.build(X, 'euclidean');
    assert.equal(auto.algorithm, 'clusters');
    for (const k of [1, 5, 20]) {
      const truth = bruteKnn(X, Q, k, 'euclidean');
      const got = await auto.kneighbors(Q, k);
      assert.deepEqual([...got.indices], truth.indices, `indices k=${k}`);
      assert.deepEqual([...got.distances], truth.distances, `distances k=${k}`);
    }
    const self = await auto.kneighbors(undefined, 20);
    const selfTruth = bruteKnn(X, undefined, 20, 'euclidean', 400);
    assert.deepEqual([...self.indices.subarray(0, 400 * 20)], selfTruth.indices);
    assert.deepEqual([...self.distances.subarray(0, 400 * 20)], selfTruth.distances);
    assert.ok(selfTruth.distances.filter((v) => v === 0).length > 200, 'the data has many duplicates');
  });

  it('gives the same answers with SIMD off, with the manhattan metric, and from worker threads', async () => {
    const truth = bruteKnn(X, Q, 7, 'euclidean');
    const scalar = await NeighborIndex.build(X, 'euclidean', { algorithm: 'clusters', simd: false }).kneighbors(Q, 7);
    assert.deepEqual([...scalar.indices], truth.indices);
    const parallel = NeighborIndex.build(X, 'euclidean', { algorithm: 'clusters', threads: 2, parallelWork: 0 });
    assert.equal(parallel.algorithm, 'clusters');
    const fromWorkers = await parallel.kneighbors(Q, 7);
    assert.deepEqual([...fromWorkers.indices], truth.indices);
    assert.deepEqual([...fromWorkers.distances], truth.distances);
    const l1Truth = bruteKnn(X, Q, 7, 'manhattan');
    const l1 = await NeighborIndex.build(X, 'manhattan', { algorithm: 'clusters' }).kneighbors(Q, 7);
    assert.deepEqual([...l1.indices], l1Truth.indices);
    assert.deepEqual([...l1.distances], l1Truth.distances);
  });

  it('radius counts, components and minimum values equal brute force (inclusive boundary)', async () => {
    const index = NeighborIndex.build(X, 'euclidean', { algorithm: 'clusters' });
    const r = 1.5; // a grid distance: many rows lie exactly on the boundary
    const near = bruteRadius(X, Q, r, 'euclidean');
    assert.deepEqual([...(await index.radiusCount(Q, r))], near.map((list) => list.length));
    const values = Int32Array.from({ length: X.rows }, (_, i) => (i * 7919) % 1000);
    const mins = near.map((list) => (list.length === 0 ? -1 : Math.min(...list.map((i) => values[i]))));
    assert.deepEqual([...(await index.radiusMinValue(Q, r, values))], mins);
    const sub = createMatrix(1200, X.cols);
    sub.data.set(X.data.subarray(0, 1200 * X.cols));
    const components = await NeighborIndex.build(sub, 'euclidean', { algorithm: 'clusters' }).radiusComponents(1);
    const within = bruteRadius(sub, sub, 1, 'euclidean');
    const root = Int32Array.from({ length: sub.rows }, (_, i) => i);
    const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i])));
    for (let i = 0; i < sub.rows; i++) for (const j of within[i]) root[Math.max(find(i), find(j))] = Math.min(find(i), find(j));
    assert.deepEqual([...components], Array.from({ length: sub.rows }, (_, i) => find(i)));
  });

  it('is not chosen on small data', () => {
    const small = createMatrix(500, 12);
    small.data.set(X.data.subarray(0, 500 * 12));
    assert.notEqual(NeighborIndex.build(small, 'euclidean').algorithm, 'clusters');
  });
});

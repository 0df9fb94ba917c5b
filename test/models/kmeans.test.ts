// k-means seeding, kernels and parallel runs against plain reference implementations written here: a
// straightforward greedy k-means++ (every candidate measured against every row), plain loops for distances and
// centroid sums, and the runs one after the other on one random stream.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import { Rng } from '../../src/util/rng.js';
import { KMeansDetector, assign, lloyd, seedPlusPlus, seedWithAssignment } from '../../src/models/kmeans.js';
import { controlWord, createKernels, sqDistance } from '../../src/models/clustering/kmeans-kernels.js';
import { bestOfRuns, oneRun, runRng, serveRuns, type RunResult, type RunsParams, type RunsTask } from '../../src/models/clustering/kmeans-runs.js';
import { HelperThread } from '../../src/util/helper-thread.js';
import { candidateTrials, kernelsFor } from '../../src/models/clustering/lloyd.js';
import { blobs, plainLloyd } from '../helpers/plain-lloyd.js';

function plainSqDist(X: Matrix, i: number, centre: ArrayLike<number>, co: number): number {
  let s = 0;
  for (let j = 0; j < X.cols; j++) s += (X.data[i * X.cols + j] - centre[co + j]) ** 2;
  return s;
}

/** Greedy k-means++ as written in the paper's terms: D²-weighted candidates, the one of lowest potential kept. */
function plainSeeding(X: Matrix, k: number, rng: Rng): Float64Array {
  const { rows: n, cols: d, data } = X;
  const centres = new Float64Array(k * d);
  const first = rng.int(n);
  for (let j = 0; j < d; j++) centres[j] = data[first * d + j];
  let closest = Array.from({ length: n }, (_, i) => plainSqDist(X, i, centres, 0));
  for (let c = 1; c < k; c++) {
    let best: { row: number; potential: number; dist: number[] } | undefined;
    for (let t = 0; t < 2 + Math.floor(Math.log(k)); t++) {
      const potential = closest.reduce((a, b) => a + b, 0);
      // The row at which u · potential, less the weights in row order, first goes below zero.
      let row = n - 1;
      if (potential > 0) {
        let remainder = rng.next() * potential;
        for (let i = 0; i < n; i++) {
          remainder -= closest[i];
          if (remainder < 0) {
            row = i;
            break;
          }
        }
        while (remainder >= 0 && closest[row] === 0) row--;
      } else row = rng.int(n);
      const candidate = Array.from({ length: d }, (_, j) => data[row * d + j]);
      const dist = closest.map((own, i) => Math.min(own, plainSqDist(X, i, candidate, 0)));
      const total = dist.reduce((a, b) => a + b, 0);
      if (!best || total < best.potential) best = { row, potential: total, dist };
    }
    const chosen = best as { row: number; dist: number[] };
    for (let j = 0; j < d; j++) centres[c * d + j] = data[chosen.row * d + j];
    closest = chosen.dist;
  }
  return centres;
}

function grid(rng: Rng, n: number, d: number, levels: number): Matrix {
  const X = createMatrix(n, d);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.int(levels);
  return X;
}

describe('k-means++ seeding', () => {
  it('picks the centres of a straightforward greedy k-means++ on the same random stream', () => {
    const rng = new Rng(21);
    const cases: [Matrix, number][] = [
      [blobs(rng, 1500, 5, 6, 1.5), 8],
      [blobs(rng, 800, 13, 3, 0.3), 4],
      [blobs(rng, 400, 2, 10, 2), 16],
      // Integer grid: every distance exact, ties between candidates and duplicate rows everywhere.
      [grid(rng, 1000, 3, 3), 7],
      [grid(rng, 300, 1, 2), 5],
    ];
    for (const [X, k] of cases) {
      for (const seed of [0, 1, 2]) {
        const ours = seedPlusPlus(X, k, new Rng(seed));
        assert.deepEqual(ours, plainSeeding(X, k, new Rng(seed)), `n=${X.rows} d=${X.cols} k=${k} seed ${seed}`);
      }
    }
  });

  it('picks the straightforward k-means++ centres on tiny integer data (duplicate rows, ties everywhere)', () => {
    const rng = new Rng(32);
    for (let trial = 0; trial < 1000; trial++) {
      const X = grid(rng, 3 + rng.int(10), 1 + rng.int(3), 2 + rng.int(2));
      const k = 1 + rng.int(Math.min(X.rows, 6));
      const seed = rng.int(1000);
      assert.deepEqual(seedPlusPlus(X, k, new Rng(seed)), plainSeeding(X, k, new Rng(seed)), `trial ${trial}`);
    }
  });

  it('hands Lloyd each row\'s nearest centre, its distance and a lower bound on every other centre', () => {
    const rng = new Rng(4);
    for (const [X, k] of [[blobs(rng, 1200, 4, 5, 1), 8], [grid(rng, 600, 3, 3), 6]] as [Matrix, number][]) {
      const seeding = seedWithAssignment(X, k, new Rng(9), kernelsFor(X, k));
      const plain = assign(X, seeding.centers, k);
      assert.deepEqual(seeding.labels, plain.labels, 'labels (lowest index on ties)');
      assert.deepEqual(seeding.sqDist, plain.sqDist, 'squared distances');
      for (let i = 0; i < X.rows; i++) {
        let second = Number.POSITIVE_INFINITY;
        for (let c = 0; c < k; c++) if (c !== plain.labels[i]) second = Math.min(second, plainSqDist(X, i, seeding.centers, c * X.cols));
        assert.ok(seeding.otherSqDist[i] <= second * (1 + 1e-12), `row ${i}: bound ${seeding.otherSqDist[i]} above ${second}`);
        assert.ok(seeding.otherSqDist[i] >= seeding.sqDist[i], `row ${i}: bound below its own distance`);
      }
    }
  });

  it('draws a fixed number of values per seeding, so run r\'s stream is the shared stream after r seedings', () => {
    const X = blobs(new Rng(8), 500, 3, 4, 1);
    for (const k of [1, 3, 8, 20]) {
      const shared = new Rng(5);
      for (let run = 0; run < 4; run++) assert.deepEqual(seedPlusPlus(X, k, runRng(5, run, k)), seedPlusPlus(X, k, shared), `k=${k} run ${run}`);
      assert.equal(runRng(5, 4, k).next(), shared.next(), `k=${k}: the stream after four seedings`);
    }
  });
});

describe('k-means Lloyd', () => {
  it('gives plain Lloyd\'s clustering on tiny integer data, where rows, centres and their means often coincide', () => {
    const rng = new Rng(31);
    for (let trial = 0; trial < 3000; trial++) {
      const d = 1 + rng.int(2);
      const X = grid(rng, 4 + rng.int(9), d, 2 + rng.int(2));
      const k = 2 + rng.int(3);
      const start = new Float64Array(k * d);
      for (let c = 0; c < k; c++) {
        const row = rng.int(X.rows);
        start.set(X.data.subarray(row * d, row * d + d), c * d);
      }
      const plain = plainLloyd(X, start.slice(), 50, 0);
      const bounded = lloyd(X, start.slice(), 50, 0);
      assert.deepEqual(bounded.labels, plain.labels, `trial ${trial}: labels`);
      assert.deepEqual(bounded.centers, plain.centers, `trial ${trial}: centres`);
    }
  });
});

describe('k-means kernels', () => {
  it('give the same bits in WebAssembly and in JavaScript, distances within rounding of the plain sum, sums exactly the plain loop\'s', () => {
    const rng = new Rng(2);
    for (const d of [1, 2, 7, 8, 9, 15, 16, 17, 77, 122]) {
      const X = createMatrix(40, d);
      for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal() * 10 ** rng.int(4);
      const simd = createKernels(X, 2, 1);
      process.env.FLOWSENTRY_NO_SIMD = '1';
      const script = createKernels(X, 2, 1);
      delete process.env.FLOWSENTRY_NO_SIMD;
      const centre = Float64Array.from({ length: d }, () => rng.normal());
      for (const kernels of [simd, script]) {
        kernels.setSlot(0, centre, 0);
        const row = new Float64Array(d + 1);
        kernels.copyRow(3, row, 1);
        assert.deepEqual(Array.from(row.subarray(1)), Array.from(X.data.subarray(3 * d, 4 * d)), `d=${d}: row 3 copied`);
        kernels.clearSum(0);
        for (let i = 0; i < X.rows; i += 3) kernels.addRow(0, i);
      }
      for (let i = 0; i < X.rows; i++) {
        const plain = plainSqDist(X, i, centre, 0);
        assert.equal(simd.distance(i, 0), script.distance(i, 0), `d=${d} row ${i}: WebAssembly and JavaScript`);
        assert.equal(script.distance(i, 0), sqDistance(X.data, i * d, centre, 0, d), `d=${d} row ${i}: sqDistance`);
        assert.ok(Math.abs(script.distance(i, 0) - plain) <= 1e-13 * plain, `d=${d} row ${i}: ${script.distance(i, 0)} vs ${plain}`);
      }
      for (let j = 0; j < d; j++) {
        let plain = 0;
        for (let i = 0; i < X.rows; i += 3) plain += X.data[i * d + j];
        assert.equal(simd.sumAt(0, j), plain, `d=${d} column ${j}: WebAssembly sum`);
        assert.equal(script.sumAt(0, j), plain, `d=${d} column ${j}: JavaScript sum`);
      }
    }
  });
});

describe('k-means runs', () => {
  it('on a helper thread give the best run of the runs one after the other', async () => {
    const X = blobs(new Rng(12), 3000, 6, 5, 1.3);
    for (const runs of [2, 3, 5]) {
      const params: RunsParams = { k: 6, runs, maxIter: 300, tol: 1e-4, seed: 3 };
      const slots = params.k + candidateTrials(params.k);
      const sequential = await bestOfRuns(X, { kernels: createKernels(X, slots, params.k, 1), helper: null }, params);
      const kernels = createKernels(X, slots, params.k, 2);
      assert.equal(kernels.layout?.regions, 2, 'a layout for two threads');
      const helper = new HelperThread<RunsTask, RunResult[]>(new URL('../../src/models/clustering/kmeans-worker.js', import.meta.url), null, 'kmeans test: run worker');
      let reported = 0;
      const parallel = await bestOfRuns(X, { kernels, helper }, params, undefined, (done, total) => {
        reported = done;
        assert.equal(total, runs);
      });
      assert.equal(reported, runs, 'every run reported');
      assert.deepEqual(parallel, sequential, `${runs} runs`);
      await helper.terminate();
    }
  });

  it('on the helper\'s side (its own slots and sums on the shared rows) give each run as on the calling thread', () => {
    const X = blobs(new Rng(13), 2000, 7, 4, 1);
    const params: RunsParams = { k: 5, runs: 4, maxIter: 300, tol: 1e-4, seed: 8 };
    const kernels = createKernels(X, params.k + candidateTrials(params.k), params.k, 2);
    const layout = kernels.layout;
    assert.ok(layout, 'WebAssembly kernels have a layout to share');
    // Fit number 5, run 1 next.
    Atomics.store(controlWord(layout), 0, (5 << 16) | 1);
    assert.deepEqual(serveRuns({ ...params, layout, fit: 4 }), [], 'a task of another fit takes nothing');
    const helper = serveRuns({ ...params, layout, fit: 5 });
    assert.deepEqual(helper.map((r) => r.run), [1, 2, 3], 'runs taken from the counter');
    for (const result of helper) assert.deepEqual(result, oneRun(X, kernels, params, result.run), `run ${result.run}`);
  });

  it('fit the same model with one thread or two, fit after fit in memory kept and grown between them', async () => {
    // From 2^20 values the detector lays the rows out for a helper thread; the second matrix is larger (the kept
    // memory grows while the helper holds an instance on it), the third smaller.
    const rng = new Rng(6);
    const matrices = [blobs(rng, 2 ** 20 / 16, 16, 6, 1), blobs(rng, 2 ** 21 / 24, 24, 4, 2), blobs(rng, 2 ** 20 / 8, 8, 5, 1)];
    const previous = process.env.FLOWSENTRY_THREADS;
    try {
      for (const [m, X] of matrices.entries()) {
        process.env.FLOWSENTRY_THREADS = '1';
        const one = await new KMeansDetector({ n_clusters: 5, n_init: 3, random_state: m }).fit(X);
        process.env.FLOWSENTRY_THREADS = '2';
        const two = await new KMeansDetector({ n_clusters: 5, n_init: 3, random_state: m }).fit(X);
        assert.deepEqual(two.centers, one.centers, `matrix ${m}: centres`);
        assert.equal(two.inertia, one.inertia, `matrix ${m}: inertia`);
        assert.deepEqual(await two.scoreSamples(X), await one.scoreSamples(X), `matrix ${m}: scores`);
      }
    } finally {
      if (previous === undefined) delete process.env.FLOWSENTRY_THREADS;
      else process.env.FLOWSENTRY_THREADS = previous;
    }
  });

  it('let their helper thread and memory go once idle, and leave a process free to end', { skip: !existsSync('/proc/self/status') && 'no /proc' }, () => {
    const child = fileURLToPath(new URL('../helpers/kmeans-idle.js', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
    assert.equal(r.signal, null, `the process ended by itself: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as Record<string, number | boolean>;
    assert.equal(seen.threadsAfterFit, (seen.threadsBefore as number) + 1, 'a helper thread during the fits');
    assert.equal(seen.sameMemoryBackToBack, true, 'fit after fit: the same memory');
    assert.equal(seen.threadsIdle, seen.threadsBefore, 'idle: the helper thread ended');
    assert.equal(seen.memoryFreed, true, 'idle: the memory collectable');
    assert.equal(seen.sameCentres, true, 'the same model from held and from new resources');
  });
});

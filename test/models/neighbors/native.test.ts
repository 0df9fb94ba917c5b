// The native k-NN search (native/neighbors.c through src/models/neighbors/native.ts) against the JavaScript float64
// brute force (NeighborIndex with simd: false), which sums each distance in the same order: indices and distances
// bit for bit, ties to the lower row, with every kernel this CPU has (AVX-512, AVX2+FMA, portable), one and two
// threads; on real CIC-IDS2017 rows (z-scored numeric columns of BENIGN and DDoS flows) and on ties, duplicates,
// k beyond the rows, few columns (no principal-coordinate bound), far and too-large queries. LOF scores with the
// native search equal those without it (FLOWSENTRY_NO_NATIVE=1).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createMatrix, type Matrix } from '../../../src/frame/matrix.js';
import { Rng } from '../../../src/util/rng.js';
import { NeighborIndex } from '../../../src/models/neighbors/search.js';
import { nativeNeighbors, type NativeKernels, type NativeNeighbors } from '../../../src/models/neighbors/native.js';
import { LocalOutlierFactor } from '../../../src/models/lof.js';
import { sharedFile } from '../../helpers/datasets.js';

const loaded = nativeNeighbors();
const addon: NativeNeighbors | null = 'neighbors' in loaded ? loaded.neighbors : null;
const skip = addon ? false : `native search not loaded: ${'reason' in loaded ? loaded.reason : ''}`;

/** The kernels this CPU has, best first. */
function kernelsHere(): NativeKernels[] {
  const best = addon?.kernels() ?? 'portable';
  return best === 'avx512' ? ['avx512', 'avx2', 'portable'] : best === 'avx2' ? ['avx2', 'portable'] : ['portable'];
}

/** Native answers through the addon directly (queries undefined: the rows themselves, each left out). */
function nativeKnn(X: Matrix, queries: Matrix | undefined, k: number, metric: 'euclidean' | 'manhattan', kernels: NativeKernels, threads: number): { k: number; indices: Int32Array; distances: Float64Array } | null {
  const a = addon as NativeNeighbors;
  const index = a.prepare(X.data, X.rows, X.cols, metric === 'manhattan');
  const nq = queries ? queries.rows : X.rows;
  const indices = new Int32Array(nq * k);
  const distances = new Float64Array(nq * k);
  const done = a.knn(index, queries ? queries.data : X.data, nq, k, queries === undefined, threads, kernels, indices, distances);
  return done ? { k, indices, distances } : null;
}

async function assertSameAsBrute(X: Matrix, queries: Matrix, ks: number[], label: string): Promise<void> {
  for (const metric of ['euclidean', 'manhattan'] as const) {
    const brute = NeighborIndex.build(X, metric, { algorithm: 'dense', simd: false });
    for (const k of ks) {
      const wantQueries = await brute.kneighbors(queries, k);
      const wantSelf = await brute.kneighbors(undefined, k);
      for (const kernels of kernelsHere()) {
        for (const threads of [1, 2]) {
          const at = `${label} ${metric} k=${k} ${kernels} threads=${threads}`;
          assert.deepEqual(nativeKnn(X, queries, k, metric, kernels, threads), wantQueries, `${at} queries`);
          assert.deepEqual(nativeKnn(X, undefined, k, metric, kernels, threads), wantSelf, `${at} self`);
        }
      }
      // Through the index, as knn, lof and dbscan call it.
      const index = NeighborIndex.build(X, metric);
      assert.deepEqual(await index.kneighbors(queries, k), wantQueries, `${label} ${metric} k=${k} index queries`);
      assert.deepEqual(await index.kneighbors(undefined, k), wantSelf, `${label} ${metric} k=${k} index self`);
    }
  }
}

/** Numeric columns of CIC-IDS2017 flow files (every value finite in every row kept), z-scored with the first file's rows. */
function cicRows(files: string[], perFile: number): Matrix {
  const tables = files.map((file) => {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    return { header: lines[0].split(','), rows: lines.slice(1, perFile + 1).map((l) => l.split(',')) };
  });
  const header = tables[0].header;
  const numeric = header.map((_, j) => j).filter((j) => tables.every((t) => t.rows.every((r) => r[j] !== '' && !Number.isNaN(Number(r[j])))));
  const rows = tables.flatMap((t) => t.rows.map((r) => numeric.map((j) => Number(r[j])))).filter((r) => r.every(Number.isFinite));
  const first = rows.slice(0, perFile);
  const mean = numeric.map((_, c) => first.reduce((s, r) => s + r[c], 0) / first.length);
  const sd = numeric.map((_, c) => Math.sqrt(first.reduce((s, r) => s + (r[c] - mean[c]) ** 2, 0) / first.length) || 1);
  const X = createMatrix(rows.length, numeric.length);
  rows.forEach((r, i) => r.forEach((v, c) => (X.data[i * numeric.length + c] = (v - mean[c]) / sd[c])));
  return X;
}

function takeRange(X: Matrix, from: number, to: number): Matrix {
  const out = createMatrix(to - from, X.cols);
  out.data.set(X.data.subarray(from * X.cols, to * X.cols));
  return out;
}

describe('native k-NN search', { skip }, () => {
  const benign = sharedFile('cic-ids2017/BENIGN_5000.csv');
  const ddos = sharedFile('cic-ids2017/DDoS_5000.csv');

  it('equals the JavaScript brute force on CIC-IDS2017 rows (BENIGN indexed; BENIGN and DDoS queries)', { skip: !(benign && ddos) && 'no shared CIC-IDS2017 files' }, async () => {
    const all = cicRows([benign as string, ddos as string], 1500);
    const X = takeRange(all, 0, 1200);
    const queries = takeRange(all, 1200, all.rows);
    assert.ok(X.cols > 16, 'enough columns for the principal-coordinate bound');
    await assertSameAsBrute(X, queries, [1, 20], 'cic');
  });

  it('equals the brute force on ties, duplicates, k beyond the rows, far queries; with and without the principal bound', async () => {
    const rng = new Rng(5);
    for (const d of [5, 16, 17, 40]) {
      const n = 300;
      const X = createMatrix(n, d);
      for (let i = 0; i < X.data.length; i++) X.data[i] = Math.round(rng.normal() * 2) / 2; // coarse: many ties
      for (let r = 0; r < 30; r++) X.data.copyWithin((100 + r) * d, r * d, (r + 1) * d); // duplicated rows
      X.data.copyWithin(200 * d, 0, 20 * d); // a third copy of rows 0–19
      const queries = createMatrix(60, d);
      for (let q = 0; q < 60; q++) {
        for (let j = 0; j < d; j++) {
          const base = X.data[(q % 40) * d + j];
          queries.data[q * d + j] = q < 20 ? base : q < 40 ? base + (q % 3) * 1e-7 : base * 1e3 + q;
        }
      }
      await assertSameAsBrute(X, queries, [1, 7, 25], `d=${d}`);
    }
  });

  it('answers every row when k reaches or passes the rows (-1 and Infinity beyond them), and for one or two rows', async () => {
    const rng = new Rng(9);
    for (const n of [1, 2, 9]) {
      const X = createMatrix(n, 20);
      for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
      const queries = createMatrix(3, 20);
      for (let i = 0; i < queries.data.length; i++) queries.data[i] = rng.normal();
      await assertSameAsBrute(X, queries, [n - 1 || 1, n, n + 3], `n=${n}`);
    }
  });

  it('refuses queries too large for float32 distances (the index then searches them in float64)', async () => {
    const X = createMatrix(50, 18);
    const rng = new Rng(3);
    for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
    const queries = createMatrix(2, 18);
    queries.data.fill(1e30);
    queries.data[18] = 0.5;
    assert.equal(nativeKnn(X, queries, 3, 'euclidean', 'auto', 1), null);
    const brute = NeighborIndex.build(X, 'euclidean', { algorithm: 'dense', simd: false });
    assert.deepEqual(await NeighborIndex.build(X, 'euclidean').kneighbors(queries, 3), await brute.kneighbors(queries, 3));
  });

  it('gives LOF the same scores as the JavaScript search (FLOWSENTRY_NO_NATIVE=1)', { skip: !benign && 'no shared CIC-IDS2017 files' }, async () => {
    const all = cicRows([benign as string], 3000);
    const train = takeRange(all, 0, 2000);
    const test = takeRange(all, 2000, all.rows);
    const run = async (): Promise<{ train: Float64Array; test: Float64Array }> => {
      const lof = new LocalOutlierFactor({ n_neighbors: 20 });
      await lof.fit(train);
      return { train: lof.trainingScores(), test: await lof.scoreSamples(test) };
    };
    const native = await run();
    process.env.FLOWSENTRY_NO_NATIVE = '1';
    try {
      assert.deepEqual(await run(), native);
    } finally {
      delete process.env.FLOWSENTRY_NO_NATIVE;
    }
  });

  it('finds NaN and infinities for LOF\'s input check, and only those', () => {
    const a = addon as NativeNeighbors;
    const values = Float32Array.from([0, -0, 1e-45, -3.4028234663852886e38, 3.4028234663852886e38, 7]);
    assert.equal(a.allFinite(values), true);
    assert.equal(a.allFinite(new Float32Array(0)), true);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 5]) {
        const copy = values.slice();
        copy[at] = bad;
        assert.equal(a.allFinite(copy), false, `${bad} at ${at}`);
      }
    }
  });

  it('rejects bad arguments, neighbours outside the rows and kernels this CPU lacks with one clear error', () => {
    const a = addon as NativeNeighbors;
    const X = createMatrix(4, 3);
    assert.throws(() => a.prepare(X.data, 5, 3, false), /neighbors\.prepare: bad arguments/);
    const index = a.prepare(X.data, 4, 3, false);
    assert.throws(() => a.knn(index, X.data, 4, 2, false, 1, 'sse9' as NativeKernels, new Int32Array(8), new Float64Array(8)), /kernels must be/);
    assert.throws(() => a.knn(index, X.data, 4, 2, false, 1, 'auto', new Int32Array(7), new Float64Array(8)), /neighbors\.knn: bad arguments/);
    const outLrd = new Float64Array(1);
    const outFactors = new Float64Array(1);
    const lof = (indices: Int32Array): void => a.localOutlierFactors(indices, new Float64Array([1, 2]), 1, 2, new Float64Array(4), new Float64Array(4), outLrd, outFactors);
    assert.throws(() => lof(new Int32Array([0, 4])), /neighbors\.localOutlierFactors: bad arguments/);
    assert.throws(() => lof(new Int32Array([-1, 0])), /neighbors\.localOutlierFactors: bad arguments/);
  });
});

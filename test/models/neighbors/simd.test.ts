// The WebAssembly SIMD distance kernel (src/models/neighbors/simd.ts) against float64 distances computed here (every
// value within the kernel's stated relative error; exactly the groups of rows holding a value at or below the
// threshold listed, with their full values, a run's last group including the rows after it), and the
// sorted-projection k-NN built on it (sorted.ts) against the JavaScript brute force; repeated query rows answered as
// if searched alone; the float64x2 sparse dots (SparseDots) equal the JavaScript loop bit for bit.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/util/rng.js';
import { ROW_GROUP, SimdScan, SparseDots, simdAvailable } from '../../../src/models/neighbors/simd.js';
import type { SearchData } from '../../../src/models/neighbors/kernels.js';
import { NeighborIndex } from '../../../src/models/neighbors/search.js';
import { createMatrix } from '../../../src/frame/matrix.js';

function searchData(n: number, d: number, metric: 'euclidean' | 'manhattan', seed: number): SearchData {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * (i % 7 === 0 ? 100 : 1);
  return { n, d, metric, data, rowNorms: new Float64Array(0), sparse: null, projection: null, clusters: null, sorted: null, simd: true };
}

describe('SIMD distance kernel', { skip: !simdAvailable() && 'no WebAssembly SIMD' }, () => {
  for (const metric of ['euclidean', 'manhattan'] as const) {
    it(`${metric}: values within the error bound, listed groups exactly those with a value ≤ threshold`, () => {
      const n = 23;
      const d = 13;
      const s = searchData(n, d, metric, metric === 'euclidean' ? 1 : 2);
      const kernel = SimdScan.for(s, 2, n);
      kernel.loadQueries(s.data, 5, 2, d);
      for (const slot of [0, 1]) {
        const q = 5 + slot;
        for (const [t0, count] of [[0, n], [3, 9], [17, 6], [22, 1]]) {
          const exact = Array.from({ length: count }, (_, c) => {
            let sum = 0;
            for (let j = 0; j < d; j++) {
              const diff = s.data[(t0 + c) * d + j] - s.data[q * d + j];
              sum += metric === 'euclidean' ? diff * diff : Math.abs(diff);
            }
            return sum;
          });
          // The whole last group (rows after the run included), every value computed.
          const rounded = Math.ceil(count / ROW_GROUP) * ROW_GROUP;
          const full = new Float64Array(rounded);
          kernel.run(slot, t0, rounded, full, 0);
          for (let c = 0; c < count; c++) {
            assert.ok(Math.abs(full[c] - exact[c]) <= kernel.relativeError * exact[c], `row ${t0 + c}: ${full[c]} vs ${exact[c]}`);
          }
          for (const rank of [0, Math.floor(count / 3), count - 1]) {
            const threshold = [...exact].sort((a, b) => a - b)[rank];
            // Groups whose partial sums all pass the threshold stop early; the listed ones have full values.
            const listed = kernel.runBelow(slot, t0, count, threshold);
            const expected: number[] = [];
            for (let g = 0; g * ROW_GROUP < count; g++) {
              if (full.subarray(g * ROW_GROUP, (g + 1) * ROW_GROUP).some((v) => v <= Math.fround(threshold))) expected.push(g);
            }
            const groups = Array.from(kernel.groups.subarray(0, listed));
            assert.deepEqual(groups, expected, `threshold of rank ${rank}`);
            for (const g of groups) {
              for (let c = g * ROW_GROUP; c < (g + 1) * ROW_GROUP; c++) assert.equal(kernel.results[c], full[c], 'a listed group holds its full values');
            }
          }
        }
      }
    });
  }
});

describe('sparse dots (float64x2)', { skip: !simdAvailable() && 'no WebAssembly SIMD' }, () => {
  it('equal the JavaScript loop out[c] += v · M[j][c] bit for bit, for even, odd and empty runs and empty vectors', () => {
    const rng = new Rng(9);
    const rows = 11;
    const columns = 9;
    const matrix = Float64Array.from({ length: rows * columns }, () => rng.normal() * 1e3);
    const dots = SparseDots.for(matrix, rows, columns);
    for (const count of [0, 1, 4, rows]) {
      const picked = Int32Array.from({ length: count }, (_, t) => (t * 7 + 3) % rows);
      const values = Float64Array.from({ length: count }, () => rng.normal() / 3);
      dots.load(picked, values, count);
      for (const [c0, c1] of [[0, columns], [2, 5], [3, 7], [8, 9]]) {
        const out = dots.run(c0, c1);
        for (let c = c0; c < c1; c++) {
          let sum = 0;
          for (let t = 0; t < count; t++) sum += values[t] * matrix[picked[t] * columns + c];
          assert.ok(Object.is(out[c - c0], sum), `count ${count}, column ${c}: ${out[c - c0]} vs ${sum}`);
        }
      }
    }
  });
});

describe('sorted-projection k-NN (SIMD)', { skip: !simdAvailable() && 'no WebAssembly SIMD' }, () => {
  it('is used automatically on small dense data and equals the JavaScript brute force (self-excluded, duplicates, ties, far queries)', async () => {
    const rng = new Rng(7);
    const n = 600;
    const d = 21;
    const X = createMatrix(n, d);
    for (let i = 0; i < X.data.length; i++) X.data[i] = Math.round(rng.normal() * 4) / 4; // coarse values: many ties
    X.data.copyWithin(50 * d, 10 * d, 11 * d); // row 50 duplicates row 10
    const queries = createMatrix(40, d);
    for (let i = 0; i < queries.data.length; i++) queries.data[i] = i < 20 * d ? X.data[i + 100 * d] : rng.normal() * 30;
    for (const metric of ['euclidean', 'manhattan'] as const) {
      // The JavaScript search (the native addon, when built, answers k-NN searches before the sorted rows are built).
      const index = NeighborIndex.build(X, metric, { native: false });
      const brute = NeighborIndex.build(X, metric, { algorithm: 'dense', simd: false });
      assert.deepEqual(await index.radiusCount(queries, 3), await brute.radiusCount(queries, 3), `${metric} radius`);
      assert.equal(index.search.sorted, null, 'radius searches scan; the sorted rows wait for a k-NN search');
      for (const k of [1, 7, 28]) {
        assert.deepEqual(await index.kneighbors(undefined, k), await brute.kneighbors(undefined, k), `${metric} self k=${k}`);
        assert.deepEqual(await index.kneighbors(queries, k), await brute.kneighbors(queries, k), `${metric} queries k=${k}`);
      }
      assert.ok(index.search.sorted, 'sorted rows built by the first k-NN search');
    }
  });

  it('caps each heap from the previous query: runs of near-identical queries, ties at the cap, far queries', async () => {
    const rng = new Rng(13);
    const n = 400;
    const d = 9;
    const X = createMatrix(n, d);
    for (let i = 0; i < X.data.length; i++) X.data[i] = Math.round(rng.normal() * 2) / 2;
    for (let r = 0; r < 40; r++) X.data.copyWithin((200 + r) * d, r * d, (r + 1) * d); // 40 duplicated rows
    const queries = createMatrix(120, d);
    for (let q = 0; q < 120; q++) {
      const centre = Math.floor(q / 6) * 7;
      for (let j = 0; j < d; j++) queries.data[q * d + j] = q < 60 ? X.data[centre * d + j] + (q % 6) * 1e-6 : X.data[centre * d + j] * 25 + (q % 6);
    }
    // The JavaScript search and the native addon's (which seeds each query's bound from the previous one too).
    for (const metric of ['euclidean', 'manhattan'] as const) {
      for (const native of [false, true]) {
        const index = NeighborIndex.build(X, metric, { native });
        const brute = NeighborIndex.build(X, metric, { algorithm: 'dense', simd: false });
        for (const k of [1, 5, 20]) {
          assert.deepEqual(await index.kneighbors(queries, k), await brute.kneighbors(queries, k), `${metric} native ${native} queries k=${k}`);
          assert.deepEqual(await index.kneighbors(undefined, k), await brute.kneighbors(undefined, k), `${metric} native ${native} self k=${k}`);
        }
      }
    }
  });
});

describe('repeated query rows', () => {
  it('are searched once and every copy gets the answer of a search of its own (cluster, sorted and JavaScript paths)', async () => {
    const rng = new Rng(11);
    const X = createMatrix(5000, 6);
    for (let i = 0; i < X.data.length; i++) X.data[i] = Math.round(rng.normal() * 3) + (i % 12 < 6 ? 0 : 40);
    const queries = createMatrix(300, 6);
    for (let q = 0; q < 300; q++) queries.data.set(X.data.subarray((q % 50) * 6, (q % 50) * 6 + 6), q * 6); // 50 distinct rows
    for (const options of [{}, { simd: false }, { algorithm: 'clusters' as const }]) {
      const index = NeighborIndex.build(X, 'euclidean', options);
      const all = await index.kneighbors(queries, 9);
      for (const q of [0, 49, 50, 123, 299]) {
        const one = await index.kneighbors(createMatrix(1, 6, undefined, queries.data.slice(q * 6, q * 6 + 6)), 9);
        assert.deepEqual(Array.from(all.indices.subarray(q * 9, q * 9 + 9)), Array.from(one.indices), `query ${q} ${JSON.stringify(options)}`);
        assert.deepEqual(Array.from(all.distances.subarray(q * 9, q * 9 + 9)), Array.from(one.distances));
      }
    }
  });
});

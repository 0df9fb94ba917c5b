// TreeSHAP (Gauss–Legendre form) against brute-force Shapley values of the path-dependent value function on hand-made
// trees (repeated features, zero-cover children, several trees), and against Algorithm 2 on models trained on real
// UNSW-NB15 and CIC-IDS2017 rows (skips without the shared datasets).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import { Rng } from '../../src/util/rng.js';
import { gaussLegendre01, treeShap } from '../../src/explain/tree-shap.js';
import { forestFromState, type FlatForest } from '../../src/models/trees/flat-tree.js';
import type { ModelState } from '../../src/models/estimator.js';
import { RandomForest } from '../../src/models/random-forest.js';
import { GradientBoosting } from '../../src/models/gbdt.js';
import { loadDataset } from '../../src/datasets/load.js';
import { Pipeline } from '../../src/prep/pipeline.js';
import { taskLabels } from '../../src/workflow/data.js';
import { sharedFile } from '../helpers/datasets.js';
import { treeShapAlgorithm2 } from './tree-shap-algorithm2.js';
import { explainInParallel, worthParallel } from '../../src/explain/shap-workers.js';

/** E[f(x) | x_S]: a known feature follows the row, an unknown one both children weighted by cover. */
function conditional(forest: FlatForest, node: number, x: ArrayLike<number>, known: number, output: number): number {
  const f = forest.feature[node];
  if (f < 0) return forest.value[node * forest.nOutputs + output];
  const l = forest.left[node];
  const r = forest.right[node];
  if (known & (1 << f)) return conditional(forest, x[f] <= forest.threshold[node] ? l : r, x, known, output);
  const c = forest.cover[node];
  const lw = forest.cover[l] / c;
  const rw = forest.cover[r] / c;
  return (lw === 0 ? 0 : lw * conditional(forest, l, x, known, output)) + (rw === 0 ? 0 : rw * conditional(forest, r, x, known, output));
}

/** Shapley values by enumerating all 2^M subsets of the M features. */
function bruteShapley(forest: FlatForest, x: ArrayLike<number>, M: number, output: number, scale: number): number[] {
  const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
  const trees = forest.treeStart.length - 1;
  const v = (known: number): number => {
    let s = 0;
    for (let t = 0; t < trees; t++) s += scale * conditional(forest, forest.treeStart[t], x, known, output);
    return s;
  };
  const phi = new Array<number>(M).fill(0);
  for (let mask = 0; mask < 1 << M; mask++) {
    let size = 0;
    for (let j = 0; j < M; j++) if (mask & (1 << j)) size++;
    for (let j = 0; j < M; j++) {
      if (mask & (1 << j)) continue;
      phi[j] += ((factorial(size) * factorial(M - size - 1)) / factorial(M)) * (v(mask | (1 << j)) - v(mask));
    }
  }
  return phi;
}

/**
 * Random trees of at most `depth` levels over M features (features repeat on paths), covers split at random; with
 * `zeroCovers` some children get cover 0 (kept as leaves: below them every cover ratio would be 0 / 0).
 */
function randomForest(rng: Rng, trees: number, depth: number, M: number, zeroCovers: boolean): FlatForest {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const cover: number[] = [];
  const treeStart = [0];
  const grow = (c: number, d: number): number => {
    const id = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    value.push(rng.normal());
    cover.push(c);
    if (d < depth && c > 0 && rng.next() < 0.85) {
      feature[id] = Math.floor(rng.next() * M);
      threshold[id] = Math.round(rng.normal() * 4) / 4;
      const share = zeroCovers && rng.next() < 0.15 ? 0 : Math.max(1, Math.floor(rng.next() * c));
      left[id] = grow(Math.min(share, c), d + 1);
      right[id] = grow(c - Math.min(share, c), d + 1);
    }
    return id;
  };
  for (let t = 0; t < trees; t++) {
    grow(1000, 0);
    treeStart.push(feature.length);
  }
  return {
    nOutputs: 1,
    treeStart: Int32Array.from(treeStart),
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float32Array.from(value),
    cover: Float32Array.from(cover),
  };
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

describe('TreeSHAP (Gauss–Legendre form)', () => {
  it('Gauss–Legendre with n nodes integrates t^k on [0, 1] exactly for k ≤ 2n − 1', () => {
    for (const n of [1, 2, 5, 16, 40]) {
      const { nodes, weights } = gaussLegendre01(n);
      for (let k = 0; k <= 2 * n - 1; k++) {
        let s = 0;
        for (let q = 0; q < n; q++) s += weights[q] * nodes[q] ** k;
        assertClose(s, 1 / (k + 1), 1e-13, `n=${n} k=${k}`);
      }
    }
  });

  it('a stump: the split feature gets f(x) − E[f], the others nothing', () => {
    const forest: FlatForest = {
      nOutputs: 1,
      treeStart: Int32Array.from([0, 3]),
      feature: Int32Array.from([1, -1, -1]),
      threshold: Float32Array.from([0.5, 0, 0]),
      left: Int32Array.from([1, -1, -1]),
      right: Int32Array.from([2, -1, -1]),
      value: Float32Array.from([0, 2, 10]),
      cover: Float32Array.from([4, 3, 1]),
    };
    const X = createMatrix(2, 2, undefined, Float32Array.from([9, 0, 9, 1]));
    const { phi, expectedValue } = treeShap(forest, X, 0, 1);
    assertClose(expectedValue, 4, 1e-15, 'expected value');
    assert.deepEqual(Array.from(phi), [0, 2 - 4, 0, 10 - 4]);
  });

  it('equals brute-force Shapley values on random trees with repeated features and zero-cover children', () => {
    const rng = new Rng(11);
    const M = 5;
    for (let trial = 0; trial < 40; trial++) {
      const forest = randomForest(rng, 1 + (trial % 3), 2 + (trial % 7), M, trial % 2 === 1);
      const X = createMatrix(6, M);
      for (let k = 0; k < X.data.length; k++) X.data[k] = Math.round(rng.normal() * 4) / 4;
      const scale = trial % 3 === 0 ? 1 : 1 / 3;
      const { phi, expectedValue } = treeShap(forest, X, 0, scale);
      // Without edge tables (the path of trees over the memory budget): the same values.
      assert.deepEqual(treeShap(forest, X, 0, scale, undefined, 0).phi, phi);
      const noneKnown = bruteShapley(forest, X.data, 0, 0, scale);
      assert.equal(noneKnown.length, 0);
      for (let i = 0; i < X.rows; i++) {
        const x = X.data.subarray(i * M, (i + 1) * M);
        const expected = bruteShapley(forest, x, M, 0, scale);
        for (let j = 0; j < M; j++) assertClose(phi[i * M + j], expected[j], 1e-12, `trial ${trial} row ${i} feature ${j}`);
        let sum = expectedValue;
        for (let j = 0; j < M; j++) sum += phi[i * M + j];
        let output = 0;
        for (let t = 0; t + 1 < forest.treeStart.length; t++) output += scale * conditional(forest, forest.treeStart[t], x, (1 << M) - 1, 0);
        assertClose(sum, output, 1e-12, `trial ${trial} row ${i}: Σφ + E = f(x)`);
      }
    }
  });

  it('rows taking the same sides at every split (explained once per tree) get their own brute-force values', () => {
    const rng = new Rng(17);
    const M = 4;
    const forest = randomForest(rng, 3, 5, M, false);
    const X = createMatrix(150, M);
    for (let k = 0; k < X.data.length; k++) X.data[k] = [-1, 0, 1][Math.floor(rng.next() * 3)];
    const { phi } = treeShap(forest, X, 0, 1);
    for (let i = 0; i < X.rows; i++) {
      const expected = bruteShapley(forest, X.data.subarray(i * M, (i + 1) * M), M, 0, 1);
      for (let j = 0; j < M; j++) assertClose(phi[i * M + j], expected[j], 1e-12, `row ${i} feature ${j}`);
    }
  });

  it('explains only the trees `useTree` selects', () => {
    const rng = new Rng(5);
    const forest = randomForest(rng, 4, 6, 4, false);
    const X = createMatrix(5, 4);
    for (let k = 0; k < X.data.length; k++) X.data[k] = rng.normal();
    const { phi } = treeShap(forest, X, 0, 1, (t) => t % 2 === 1);
    for (let i = 0; i < X.rows; i++) {
      const x = X.data.subarray(i * 4, (i + 1) * 4);
      const odd: FlatForest = { ...forest, treeStart: Int32Array.from([forest.treeStart[1], forest.treeStart[2], forest.treeStart[3], forest.treeStart[4]]) };
      const all = bruteShapley(odd, x, 4, 0, 1);
      const middle = bruteShapley({ ...forest, treeStart: Int32Array.from([forest.treeStart[2], forest.treeStart[3]]) }, x, 4, 0, 1);
      for (let j = 0; j < 4; j++) assertClose(phi[i * 4 + j], all[j] - middle[j], 1e-12, `row ${i} feature ${j}`);
    }
  });
});

/** Rows spread over the file, a model fitted on them, and Algorithm 2 vs the fast form on `probe` rows. */
async function compareOnRealData(files: string[], fitRows: number, probeRows: number): Promise<void> {
  const frame = await loadDataset(files);
  const pipeline = Pipeline.fit(frame);
  const X = pipeline.transform(frame);
  const labels = taskLabels(frame, 'binary');
  const pick = (count: number, offset: number): Int32Array => Int32Array.from({ length: count }, (_, k) => Math.floor(((k + offset) * X.rows) / (count + 1)));
  const take = (rows: Int32Array): Matrix => {
    const m = createMatrix(rows.length, X.cols, X.columns);
    rows.forEach((r, k) => m.data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), k * X.cols));
    return m;
  };
  const fitIdx = pick(fitRows, 0);
  const fitX = take(fitIdx);
  const y = { codes: Int32Array.from(fitIdx, (r) => labels.codes[r]), classes: labels.classes };
  const probe = take(pick(probeRows, 0.5));
  const rf = await new RandomForest({ n_estimators: 15 }).fit(fitX, y);
  const gbdt = await new GradientBoosting({ max_iter: 30 }).fit(fitX, y);
  for (const [name, model] of [['rf', rf], ['gbdt', gbdt]] as const) {
    const forest = forestFromState(model.getState().forest as ModelState);
    const output = name === 'rf' ? 1 : 0;
    const scale = name === 'rf' ? 1 / (forest.treeStart.length - 1) : 1;
    const fast = treeShap(forest, probe, output, scale);
    assert.deepEqual(treeShap(forest, probe, output, scale, undefined, 0).phi, fast.phi, `${name}: without edge tables`);
    const reference = treeShapAlgorithm2(forest, probe, output, scale);
    assertClose(fast.expectedValue, reference.expectedValue, 1e-12, `${name} expected value`);
    let worst = 0;
    for (let i = 0; i < probe.rows; i++) {
      // Relative to the row's largest contribution: a φ that cancels to ~0 has no meaningful relative error of its own.
      let rowScale = 0;
      for (let j = 0; j < probe.cols; j++) rowScale = Math.max(rowScale, Math.abs(reference.phi[i * probe.cols + j]));
      for (let j = 0; j < probe.cols; j++) {
        const k = i * probe.cols + j;
        worst = Math.max(worst, Math.abs(fast.phi[k] - reference.phi[k]) / Math.max(rowScale, 1e-300));
      }
    }
    assert.ok(worst <= 1e-9, `${name}: largest difference ${worst} of the row's largest |φ|`);
  }
}

const unsw = sharedFile('unsw-nb15/UNSW_NB15_part-a.csv');
const cic = ['BENIGN_5000.csv', 'DDoS_5000.csv', 'Portscan_5000.csv', 'Botnet_736.csv'].map((f) => sharedFile(`cic-ids2017/${f}`));

describe('TreeSHAP on real models equals Algorithm 2', () => {
  it('UNSW-NB15 part-a: rf (unlimited depth) and gbdt, 300 rows', { skip: unsw ? false : 'shared datasets absent' }, async () => {
    await compareOnRealData([unsw!], 8000, 300);
  });
  it('CIC-IDS2017: rf (unlimited depth) and gbdt, 300 rows', { skip: cic.every(Boolean) ? false : 'shared datasets absent' }, async () => {
    await compareOnRealData(cic as string[], 8000, 300);
  });
});

describe('TreeSHAP over worker threads', () => {
  it('gives the same contributions as the main thread, blocks in row order, workers reused across calls', async () => {
    const rng = new Rng(3);
    const X = createMatrix(700, 4);
    const codes = new Int32Array(700);
    for (let i = 0; i < 700; i++) {
      for (let j = 0; j < 4; j++) X.data[i * 4 + j] = rng.normal();
      codes[i] = X.data[i * 4] + X.data[i * 4 + 1] * X.data[i * 4 + 2] > 0 ? 1 : 0;
    }
    const model = await new GradientBoosting({ max_iter: 20 }).fit(X, { codes, classes: ['a', 'b'] });
    assert.ok(!worthParallel(model, 700, 1));
    const single = await model.explain(X);
    for (let call = 0; call < 2; call++) {
      const parallel = await explainInParallel(model, X, 3);
      assert.deepEqual(parallel.data, single.data);
    }
  });
});

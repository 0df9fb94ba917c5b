// Cross-validation and search with test-only models: fold scores checked against an independent loop, no leakage,
// workers = sequential, progress, abort with partial results, grid/random candidate generation.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Column, Frame } from '../../src/frame/frame.js';
import type { Labels } from '../../src/frame/labels.js';
import { createMatrix } from '../../src/frame/matrix.js';
import { stratifiedKFold } from '../../src/frame/splits.js';
import { Pipeline } from '../../src/prep/pipeline.js';
import { crossValidate, evaluateCandidates } from '../../src/eval/cross-validate.js';
import { gridCandidates, randomCandidates, search, spaceSize } from '../../src/eval/search.js';
import { Rng } from '../../src/util/rng.js';
import { UserError } from '../../src/errors.js';
import { TEST_MODELS_MODULE, TestCentroid } from './helpers/test-models.js';

/** Two overlapping Gaussian classes plus a categorical column; raw scale far from standardised. */
function dataset(rows: number, seed: number): { frame: Frame; y: Labels } {
  const rng = new Rng(seed);
  const codes = Int32Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const a = Float32Array.from(codes, (c) => 1000 + 300 * c + 200 * rng.normal());
  const b = Float32Array.from(codes, (c) => 5 + c + rng.normal());
  const proto: Column = { kind: 'categorical', name: 'proto', dictionary: ['tcp', 'udp'], codes: Int32Array.from(codes, (c) => (rng.next() < 0.3 + 0.4 * c ? 1 : 0)) };
  const frame: Frame = {
    nRows: rows,
    features: [{ kind: 'numeric', name: 'bytes', values: a }, { kind: 'numeric', name: 'rate', values: b }, proto],
    identifiers: [],
    source: { format: 'csv', files: [], dropped: [], skipped: [] },
  };
  return { frame, y: { codes, classes: ['attack', 'normal'].reverse() } };
}

const { frame, y } = dataset(600, 3);
const modelModules = [TEST_MODELS_MODULE];

describe('cross-validation', () => {
  it('fold scores equal an independent fold loop (pipeline fitted per fold)', async () => {
    const result = await crossValidate({ frame, y }, 'test-centroid', { temperature: 2 }, { folds: 4, seed: 5, threads: 2, modelModules, parallel: 'workers' });
    assert.equal(result.foldsDone, 4);
    assert.equal(result.partial, false);
    const expected = stratifiedKFold(y.codes, 4, true, 5).map(async (split) => {
      const p = Pipeline.fit(frame, {}, split.train);
      const model = await new TestCentroid('test-centroid', { temperature: 2 }).fit(p.transform(frame, split.train), { codes: Int32Array.from(split.train, (i) => y.codes[i]), classes: y.classes });
      const pred = await model.predict(p.transform(frame, split.test));
      return pred.codes.reduce((s, c, r) => s + (c === y.codes[split.test[r]] ? 1 : 0), 0) / split.test.length;
    });
    const accuracies = await Promise.all(expected);
    assert.deepEqual(result.cv.accuracy.folds, accuracies);
    const mean = accuracies.reduce((a, b) => a + b) / 4;
    assert.ok(Math.abs(result.cv.accuracy.mean - mean) < 1e-12);
    assert.ok(Math.abs(result.cv.accuracy.std - Math.sqrt(accuracies.reduce((s, v) => s + (v - mean) ** 2, 0) / 4)) < 1e-12);
    for (const m of ['f1', 'macro_f1', 'roc_auc', 'pr_auc']) assert.ok(result.cv[m].mean > 0.5 && result.cv[m].mean <= 1, `${m} = ${result.cv[m].mean}`);
  });

  it('never lets preprocessing see validation rows', async () => {
    const probe = await crossValidate({ frame, y, pipeline: { scaler: 'standard', scaleOneHot: true } }, 'test-centroid', { probe_standardised: true }, { folds: 3, modelModules, threads: 1 });
    assert.equal(probe.error, undefined);
    assert.equal(probe.foldsDone, 3);
    // the probe does detect a matrix standardised on all rows: one transformed with a pipeline fitted on everything
    const leaky = Pipeline.fit(frame, { scaleOneHot: true }).transform(frame);
    const failed = await crossValidate({ X: leaky, y }, 'test-centroid', { probe_standardised: true }, { folds: 3, modelModules, threads: 1 });
    assert.match(failed.error ?? '', /preprocessing saw other rows/);
    assert.equal(failed.foldsDone, 0);
  });

  it('gives the same scores in workers and sequentially, reports progress', async () => {
    const candidates = [1, 2, 4].map((t) => ({ model: 'test-centroid', params: { temperature: t } }));
    const progress: number[] = [];
    const parallel = await evaluateCandidates({ frame, y }, candidates, { folds: 3, modelModules, threads: 2, parallel: 'workers', onProgress: (d, t) => progress.push(d / t) });
    const sequential = await evaluateCandidates({ frame, y }, candidates, { folds: 3, modelModules, parallel: 'sequential' });
    assert.deepEqual(parallel.candidates.map((c) => c.cv), sequential.candidates.map((c) => c.cv));
    assert.equal(progress.length, 9);
    assert.equal(progress[8], 1);
  });

  it('runs n_jobs models sequentially under parallel auto, and a detector on normal rows', async () => {
    const result = await evaluateCandidates({ frame, y }, [{ model: 'test-centroid-jobs', params: {} }, { model: 'test-distance', params: {} }], { folds: 3, modelModules, threads: 2 });
    assert.equal(result.candidates[0].foldsDone, 3);
    assert.equal(result.candidates[1].foldsDone, 3);
    assert.ok(result.candidates[1].cv.roc_auc.mean > 0.6, `detector roc_auc ${result.candidates[1].cv.roc_auc.mean}`);
  });

  it('keeps finished work when aborted and marks the result partial', async () => {
    const controller = new AbortController();
    const candidates = [0, 1, 2, 3, 4, 5].map((i) => ({ model: 'test-centroid', params: { temperature: 1 + i, delay_ms: 150 } }));
    const result = await evaluateCandidates({ frame, y }, candidates, {
      folds: 2,
      modelModules,
      threads: 2,
      parallel: 'workers',
      signal: controller.signal,
      onProgress: (done) => done >= 3 && controller.abort(),
    });
    assert.equal(result.partial, true);
    assert.ok(result.tasksDone >= 3 && result.tasksDone < 12, `done ${result.tasksDone}`);
    assert.equal(result.candidates[0].foldsDone, 2, 'the first candidate finished both folds');
    assert.equal(result.candidates[5].foldsDone, 0);
    assert.ok(Number.isNaN(result.candidates[5].cv.accuracy.mean));
  });

  it('warns once when a class has fewer rows than folds (as scikit-learn does), and not otherwise', async () => {
    // 600 rows: class 'attack' 200, 'normal' 400; three rows become 'rare' and one 'single'
    const codes = Int32Array.from(y.codes);
    codes.set([2, 2, 2, 3], 10);
    const warnings: string[] = [];
    await crossValidate({ frame, y: { codes, classes: ['normal', 'attack', 'rare', 'single'] } }, 'test-centroid', {}, { folds: 5, modelModules, parallel: 'sequential', onWarning: (line) => warnings.push(line) });
    assert.deepEqual(warnings, [
      "classes with fewer rows than the 5 cross-validation folds: rare (3), single (1); some folds validate without them, so their scores and the macro averages vary from fold to fold",
    ]);
    warnings.length = 0;
    await crossValidate({ frame, y }, 'test-centroid', {}, { folds: 5, modelModules, parallel: 'sequential', onWarning: (line) => warnings.push(line) });
    assert.deepEqual(warnings, []);
  });

  it('records a failing candidate without stopping the others; rejects bad input', async () => {
    const result = await evaluateCandidates({ frame, y }, [{ model: 'test-centroid', params: { fail: true } }, { model: 'test-centroid', params: {} }], { folds: 2, modelModules, threads: 2, parallel: 'workers' });
    assert.equal(result.candidates[0].error, 'asked to fail (cross-validation fold 1: fitted on 300 of the training rows)');
    assert.equal(result.candidates[1].foldsDone, 2);
    const invalid = await crossValidate({ frame, y }, 'logreg', { C: -1 }, { folds: 2, parallel: 'sequential' });
    assert.match(invalid.error ?? '', /logreg: parameter C=-1 is out of range; accepted: a number in \(0, inf\)$/, 'a parameter error is no fold matter');
    const unknown = await crossValidate({ frame, y }, 'logreg', { nope: 1 }, { folds: 2, parallel: 'sequential' });
    assert.match(unknown.error ?? '', /^logreg has no parameter 'nope'; its parameters: [^(]*$/, 'nor is an unknown one');
    // the fold's size, not the training data's, made it fail: said so (it read as if the data had 300 rows)
    const tooFew = await crossValidate({ frame, y }, 'knn', { n_neighbors: 400 }, { folds: 2, parallel: 'sequential' });
    assert.equal(tooFew.error, 'knn: n_neighbors=400 exceeds the 300 training rows (cross-validation fold 1: fitted on 300 of the training rows)');
    await assert.rejects(crossValidate({ X: createMatrix(3, 1), y: { codes: new Int32Array(3), classes: ['normal'] } }, 'test-centroid'), UserError);
    await assert.rejects(crossValidate({ frame, y }, 'no-such-model'), /unknown model 'no-such-model'/);
  });
});

describe('search', () => {
  const space = { b: [1, 2], a: ['x', 'y', 'z'] };
  it('grid in sklearn ParameterGrid order, truncated to a seeded budget', () => {
    assert.equal(spaceSize(space), 6);
    assert.deepEqual(gridCandidates(space).slice(0, 3), [{ a: 'x', b: 1 }, { a: 'x', b: 2 }, { a: 'y', b: 1 }]);
    const four = gridCandidates(space, 4, 1);
    assert.equal(four.length, 4);
    assert.equal(new Set(four.map((p) => JSON.stringify(p))).size, 4);
    assert.deepEqual(gridCandidates(space, 4, 1), four);
  });
  it('random draws distinct combinations', () => {
    const r = randomCandidates(space, 5, 3);
    assert.equal(new Set(r.map((p) => JSON.stringify(p))).size, 5);
    assert.equal(randomCandidates(space, 50, 3).length, 6);
  });
  it('ranks candidates by the metric and names the best', async () => {
    const result = await search({ frame, y }, ['test-centroid'], { strategy: 'random', budget: 3, metric: 'roc_auc', folds: 3, modelModules, threads: 2, parallel: 'workers' });
    assert.equal(result.candidates.length, 3);
    const means = result.ranking.map((i) => result.candidates[i].cv.roc_auc.mean);
    assert.deepEqual(means, [...means].sort((a, b) => b - a));
    assert.equal(result.best, result.candidates[result.ranking[0]]);
    assert.equal(result.spaceSizes['test-centroid'], 4);
    await assert.rejects(search({ frame, y }, ['test-centroid'], { spaces: { 'test-centroid': { depth: [1] } }, modelModules }), /no parameter 'depth'/);
  });
});

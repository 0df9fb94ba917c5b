// Isolation Forest against scikit-learn's scores (committed fixture from scripts/fixtures/iforest-sklearn.py) and
// Half-Space Trees in streaming use.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createMatrix, matrixFromRows } from '../../../src/frame/matrix.js';
import { ParameterError, UserError } from '../../../src/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { IsolationForest, averagePathLength } from '../../../src/models/iforest.js';
import { HalfSpaceTrees } from '../../../src/models/hst.js';
import { decodeState, encodeState } from '../../../src/store/state-codec.js';

interface Fixture {
  n_estimators: number;
  max_samples: number;
  train: number[][];
  probe: number[][];
  scores: number[];
}

const fixture = JSON.parse(readFileSync(new URL('../../../../test/models/trees/fixtures/iforest-sklearn.json', import.meta.url), 'utf8')) as Fixture;

describe('iforest', () => {
  it('c(n) matches Liu et al. (2008): c(2) = 1, c(256) ≈ 10.24', () => {
    assert.equal(averagePathLength(1), 0);
    assert.equal(averagePathLength(2), 1);
    assert.ok(Math.abs(averagePathLength(256) - 10.2448) < 1e-3);
  });

  it('scores match scikit-learn IsolationForest within Monte Carlo error', async () => {
    // Both sides average 3000 random trees over ψ = 256 rows. The per-tree path length has a standard deviation of
    // about 2–3 levels, so the mean over 3000 trees differs between two independent forests by ~0.06·√2 levels; a
    // score s = 2^(−E[h]/c(256)) then moves by s·ln2·ΔE/10.24 ≈ 0.004. A 0.02 tolerance is ~5 standard deviations.
    const model = await new IsolationForest({ n_estimators: fixture.n_estimators, max_samples: fixture.max_samples }).fit(matrixFromRows(fixture.train));
    const ours = await model.scoreSamples(matrixFromRows(fixture.probe));
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - fixture.scores[i]));
    assert.ok(worst < 0.02, `largest difference to sklearn ${worst}`);
    // With contamination 'auto' the threshold is 0.5, as sklearn's offset_ = -0.5.
    assert.equal(model.threshold, 0.5);
  });

  it('numeric contamination sets the threshold at that quantile of the training scores; out of range is an error', async () => {
    const X = matrixFromRows(fixture.train);
    const model = await new IsolationForest({ contamination: 0.1 }).fit(X);
    const flagged = (await model.predict(X)).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(flagged - 50) <= 1, `flagged ${flagged} of 500`);
    assert.throws(() => new IsolationForest({ contamination: 0.6 }), (e: unknown) => e instanceof ParameterError && /contamination/.test(e.message));
    assert.throws(() => new IsolationForest({ contamination: 0 }), ParameterError);
    await assert.rejects(new IsolationForest().fit(matrixFromRows([[1]])), (e: unknown) => e instanceof UserError && /got 1/.test(e.message));
  });
});

describe('hst', () => {
  const cluster = (rows: number, centre: number, seed: number): Float32Array[] => {
    const rng = new Rng(seed);
    return Array.from({ length: rows }, () => Float32Array.from([centre + 0.05 * rng.normal(), centre + 0.05 * rng.normal()]));
  };

  it('learns a stream window by window and scores far points higher than the stream', async () => {
    const warmup = matrixFromRows([[0, 0], [1, 1]]);
    const model = await new HalfSpaceTrees({ window_size: 200 }).fit(warmup);
    for (const x of cluster(400, 0.3, 1)) model.learnOne(x);
    const inlier = cluster(50, 0.3, 2).map((x) => model.scoreOne(x));
    const outlier = cluster(50, 0.8, 3).map((x) => model.scoreOne(x));
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(mean(outlier) > mean(inlier) + 0.1, `outliers ${mean(outlier)} vs inliers ${mean(inlier)}`);
    assert.ok([...inlier, ...outlier].every((s) => s >= 0 && s <= 1));

    // Concept drift: after two windows of the new regime, it becomes the normal one.
    for (const x of cluster(400, 0.8, 4)) model.learnOne(x);
    const drifted = cluster(50, 0.8, 5).map((x) => model.scoreOne(x));
    assert.ok(mean(drifted) < mean(outlier) - 0.1, `after drift ${mean(drifted)} vs before ${mean(outlier)}`);
  });

  it('a saved model continues the stream exactly where it stopped', async () => {
    const model = await new HalfSpaceTrees({ window_size: 50 }).fit(matrixFromRows([[0, 0], [1, 1]]));
    for (const x of cluster(70, 0.4, 6)) model.learnOne(x);
    const copy = HalfSpaceTrees.fromState(decodeState(encodeState(model.getState())));
    const rest = cluster(60, 0.6, 7);
    for (const x of rest) {
      model.learnOne(x);
      copy.learnOne(x);
    }
    const probe = cluster(10, 0.5, 8);
    assert.deepEqual(
      probe.map((x) => copy.scoreOne(x)),
      probe.map((x) => model.scoreOne(x)),
    );
  });

  it('rejects rows of the wrong width or with NaN', async () => {
    const model = await new HalfSpaceTrees().fit(createMatrix(10, 2));
    assert.throws(() => model.learnOne(Float32Array.from([1, 2, 3])), UserError);
    assert.throws(() => model.scoreOne(Float32Array.from([1, Number.NaN])), UserError);
    assert.throws(() => new HalfSpaceTrees({ window_size: 0 }), ParameterError);
  });
});

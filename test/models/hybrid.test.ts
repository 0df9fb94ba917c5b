// The hybrid's normal-tail calibration against hand-computed values, its detection of an attack type absent from
// training (which the classifier alone misses), and save/load with several detectors. Its alert threshold with 36
// calibration rows: the false-positive rate on fresh normal rows of the same distribution stays within the target.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HybridModel, calibrationTailScores, findNormalClass, tailScores } from '../../src/models/hybrid.js';
import { spec } from '../../src/models/hybrid.js';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import type { Labels } from '../../src/frame/labels.js';
import { getModelSpec } from '../../src/models/index.js';
import type { Classifier } from '../../src/models/estimator.js';
import { decodeState, encodeState } from '../../src/store/state-codec.js';
import { Rng } from '../../src/util/rng.js';

/** Rows of a Gaussian blob centred at `centre` (unit variance). */
function blob(rows: number, centre: readonly number[], rng: Rng): Matrix {
  const X = createMatrix(rows, centre.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < centre.length; j++) X.data[i * centre.length + j] = centre[j] + rng.normal();
  return X;
}

function stack(parts: Matrix[]): Matrix {
  const cols = parts[0].cols;
  const out = createMatrix(
    parts.reduce((s, p) => s + p.rows, 0),
    cols,
  );
  let at = 0;
  for (const p of parts) {
    out.data.set(p.data, at);
    at += p.data.length;
  }
  return out;
}

const flagged = (codes: Int32Array, attack: number): number => codes.filter((c) => c === attack).length / codes.length;

describe('hybrid', () => {
  it('tail scores: -log10 of the normal tail fraction, continued past the largest calibration score', () => {
    const cal = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    const u = tailScores(cal, Float64Array.from([0, 1, 50, 100, 100.99, 101.98]));
    // 101 calibration rows ≥ 0 and ≥ 1 → log10(101/101) = 0; 51 rows ≥ 50 → -log10(52/101)
    assert.ok(Math.abs(u[0]) < 1e-12);
    assert.ok(Math.abs(u[1]) < 1e-12);
    assert.ok(Math.abs(u[2] + Math.log10(52 / 101)) < 1e-12);
    // 1 row ≥ 100 → log10(101/2); past the top: log10(101) + (s − 100) / (100 − q99), q99 = 99.01
    assert.ok(Math.abs(u[3] - Math.log10(101 / 2)) < 1e-12);
    assert.ok(Math.abs(u[4] - (Math.log10(101) + 1)) < 1e-9);
    assert.ok(Math.abs(u[5] - (Math.log10(101) + 2)) < 1e-9);
  });

  it('tail scores of constant calibration scores: 0 at or below, log10(m + 1) + excess above', () => {
    const u = tailScores(new Float64Array(9), Float64Array.from([0, 0.25]));
    assert.equal(u[0], 0);
    assert.ok(Math.abs(u[1] - (1 + 0.25)) < 1e-12);
  });

  it('calibration rows are scored against the other calibration rows: -log10(#rows ≥ s / (m + 1)), the lone top past the next', () => {
    const cal = Float64Array.from({ length: 36 }, (_, i) => i + 1);
    const u = calibrationTailScores(cal, Float64Array.from([1, 20, 35, 36]));
    // against the 35 others in a bag of 37: 35 others ≥ 1 → -log10(36/37); 16 others ≥ 20 → -log10(17/37)
    assert.ok(Math.abs(u[0] + Math.log10(36 / 37)) < 1e-12);
    assert.ok(Math.abs(u[1] + Math.log10(17 / 37)) < 1e-12);
    assert.ok(Math.abs(u[2] + Math.log10(2 / 37)) < 1e-12);
    // the top: no other ≥ 36 → log10(37), plus (36 − 35) / (35 − q99 of 1..35 = 34.66)
    assert.ok(Math.abs(u[3] - (Math.log10(37) + 1 / 0.34)) < 1e-9);
    // a new row of the same score, against all 36: the one more count (itself) the calibration rows used to take
    assert.ok(Math.abs(tailScores(cal, Float64Array.from([20]))[0] + Math.log10(18 / 37)) < 1e-12);
    // tied top scores: none is alone at the top, none gets an excess
    const tied = calibrationTailScores(Float64Array.from([1, 2, 3, 3]), Float64Array.from([3]));
    assert.ok(Math.abs(tied[0] + Math.log10(2 / 5)) < 1e-12);
  });

  for (const target of [0.02, 0.1]) {
    it(`36 calibration rows, target_fpr ${target}: fresh normal rows alert at most at the target on average`, async () => {
      // 180 normal training rows (20% = 36 calibrate), 60 attacks; 20 seeded fits, 4000 fresh normal rows each.
      // Before the split-conformal rank and the leave-one-out calibration scores: 0.074 for 0.02, 0.144 for 0.1.
      let fpr = 0;
      const fits = 20;
      for (let seed = 0; seed < fits; seed++) {
        const rng = new Rng(seed + 1);
        const X = stack([blob(180, [0, 0, 0], rng), blob(60, [4, 4, 0], rng)]);
        const y: Labels = { codes: Int32Array.from({ length: 240 }, (_, i) => (i < 180 ? 0 : 1)), classes: ['normal', 'attack'] };
        const hybrid = await new HybridModel({ classifier: 'logreg', detectors: 'nearest', target_fpr: target, random_state: seed }).fit(X, y);
        fpr += flagged((await hybrid.predict(blob(4000, [0, 0, 0], rng))).codes, 1) / fits;
      }
      // with 36 rows a 2% target cannot be promised: the threshold is past the largest, at most 1/37 expected
      assert.ok(fpr <= Math.max(target, 1 / 37), `mean FPR ${fpr.toFixed(4)} for a target of ${target}`);
    });
  }

  for (const combine of ['mean', 'max']) {
    it(`${combine}: flags an attack type absent from training that the classifier alone misses`, async () => {
      const rng = new Rng(3);
      // 1500 normal rows, 300 of them calibrate: the threshold's rank (295 of 300 for 2%) lies inside the calibration
      // scores; with 120 (rank 119) it is the second largest, whose value varies widely from one draw to the next
      const normal = blob(1500, [0, 0, 0, 0], rng);
      const known = blob(300, [5, 0, 0, 0], rng);
      const X = stack([normal, known]);
      const y: Labels = { codes: Int32Array.from({ length: X.rows }, (_, i) => (i < 1500 ? 0 : 1)), classes: ['normal', 'attack'] };
      const hybrid = await new HybridModel({ classifier: 'logreg', detectors: 'nearest', combine }).fit(X, y);
      const alone = await (getModelSpec('logreg').create() as Classifier).fit(X, y);
      const unseen = blob(200, [0, -6, 0, 0], rng);
      const freshNormal = blob(1000, [0, 0, 0, 0], rng);
      const freshKnown = blob(200, [5, 0, 0, 0], rng);
      assert.ok(flagged((await alone.predict(unseen)).codes, 1) < 0.1, 'the classifier alone misses the new attack type');
      assert.ok(flagged((await hybrid.predict(unseen)).codes, 1) > 0.95, 'the hybrid flags it');
      assert.ok(flagged((await hybrid.predict(freshKnown)).codes, 1) > 0.95, 'and still flags the known type');
      const fpr = flagged((await hybrid.predict(freshNormal)).codes, 1);
      assert.ok(fpr > 0 && fpr < 0.06, `false-positive rate ${fpr} near the 2% target`);
      // P(attack) ranks the new type above normal rows
      const pn = await hybrid.predictProba(freshNormal);
      const pu = await hybrid.predictProba(unseen);
      const maxNormal = [...pn.data.filter((_, i) => i % 2 === 1)].sort((a, b) => a - b)[Math.floor(0.99 * freshNormal.rows)];
      const above = pu.data.filter((p, i) => i % 2 === 1 && p > maxNormal).length / unseen.rows;
      assert.ok(above > 0.9, `${above} of the new type above the 99th percentile of normal rows`);
    });
  }

  it('saves and loads with several detectors: identical probabilities', async () => {
    const rng = new Rng(5);
    const X = stack([blob(300, [0, 0, 0], rng), blob(150, [4, 4, 0], rng)]);
    const y: Labels = { codes: Int32Array.from({ length: X.rows }, (_, i) => (i < 300 ? 0 : 1)), classes: ['normal', 'attack'] };
    const model = await new HybridModel({ classifier: 'dt', detectors: 'nearest+ecod+iforest' }).fit(X, y);
    const loaded = spec.fromState(decodeState(encodeState(model.getState())));
    const test = blob(100, [1, -2, 3], rng);
    assert.deepEqual((await loaded.predictProba(test)).data, (await model.predictProba(test)).data);
    assert.deepEqual((await loaded.predict(test)).codes, (await model.predict(test)).codes);
  });

  it('rejects an unknown detector set', () => {
    assert.throws(() => new HybridModel({ detectors: 'nearest+svm' }), /detectors/);
  });

  it('normal_class: a dataset spelling (BENIGN, Normal) names the loaders\' normal class; other absent names are errors', () => {
    const y: Labels = { classes: ['DoS', 'normal', 'PortScan'], codes: Int32Array.from([0, 1, 1, 2]) };
    assert.equal(findNormalClass(y, 'BENIGN'), 1);
    assert.equal(findNormalClass(y, 'Normal'), 1);
    assert.equal(findNormalClass(y, 'auto'), 1);
    assert.equal(findNormalClass(y, 'PortScan'), 2);
    assert.throws(() => findNormalClass(y, 'Web Attack'), /not among the labels \(DoS, normal, PortScan\)/);
  });
});

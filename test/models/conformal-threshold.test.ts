// Thresholds for a target false-positive rate from held-out normal rows (src/models/calibration.ts): the split-conformal
// rank against hand-computed values, ties, the case where n rows cannot promise the target, and, as independent truth,
// the order statistics of uniform scores: a new row is above the k-th smallest of n with probability 1 − k/(n + 1).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conformalThreshold } from '../../src/models/calibration.js';
import { nextUp } from '../../src/eval/threshold.js';
import { Rng } from '../../src/util/rng.js';

/** 1..n in a shuffled order (the function must not rely on sorted input). */
function shuffledRange(n: number): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => i + 1);
  new Rng(7).shuffle(v);
  return v;
}

test('the ⌈(n + 1)(1 − α)⌉-th smallest stays unflagged: hand-computed ranks', () => {
  // 37 × 0.9 = 33.3 → rank 34 (the plain 0.9 quantile, 32.5, flagged 33 and 34 too)
  assert.equal(conformalThreshold(shuffledRange(36), 0.1), nextUp(34));
  // 100 × 0.99 = 99 exactly → rank 99, not 100
  assert.equal(conformalThreshold(shuffledRange(99), 0.01), nextUp(99));
  // 101 × 0.95 = 95.95 → rank 96
  assert.equal(conformalThreshold(shuffledRange(100), 0.05), nextUp(96));
  // 11 × 0.5 = 5.5 → rank 6, a score tied five times: all five stay unflagged
  assert.equal(conformalThreshold([6, 2, 2, 1, 2, 3, 2, 4, 5, 2], 0.5), nextUp(2));
});

test('when the rank exceeds n (n + 1 < 1/α), the threshold goes just above the largest score', () => {
  // 37 × 0.98 = 36.26 → rank 37 of 36 rows; 37 × 0.95 = 35.15 → rank 36, the largest, too
  assert.equal(conformalThreshold(shuffledRange(36), 0.02), nextUp(36));
  assert.equal(conformalThreshold(shuffledRange(36), 0.05), nextUp(36));
  assert.equal(conformalThreshold([0.5], 0.01), nextUp(0.5));
});

test('bad input is a RangeError', () => {
  assert.throws(() => conformalThreshold([], 0.01), RangeError);
  assert.throws(() => conformalThreshold([1, Number.NaN], 0.01), RangeError);
  assert.throws(() => conformalThreshold([1, 2], 0), RangeError);
  assert.throws(() => conformalThreshold([1, 2], 1), RangeError);
});

test('uniform scores: the false-positive rate on new rows averages 1 − k/(n + 1) ≤ α', () => {
  const rng = new Rng(11);
  const n = 36;
  const trials = 4000;
  let fpr = 0;
  for (let t = 0; t < trials; t++) {
    const scores = Float64Array.from({ length: n }, () => rng.next());
    fpr += 1 - conformalThreshold(scores, 0.1); // P(a new uniform score ≥ threshold)
  }
  fpr /= trials;
  // rank 34: 1 − 34/37 = 0.0811; the standard error of the mean over 4000 trials is 0.0008
  assert.ok(Math.abs(fpr - 3 / 37) < 0.004, `mean FPR ${fpr}`);
  assert.ok(fpr <= 0.1);
});

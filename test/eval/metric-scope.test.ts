// The line under the leaderboard and `evaluate` says what precision/recall/f1/fpr measure; in multi-class tasks with a
// normal class it used to say nothing, while f1 (0.97) and accuracy (0.84) of a UNSW category model seemed to disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeClasses, metricScope, scoreClassifier } from '../../src/eval/scoring.js';
import { leaderboardText } from '../../src/workflow/leaderboard.js';
import { sampleRunResult } from '../report/run-result-fixture.js';

test('binary: the attack class', () => {
  assert.equal(metricScope(['normal', 'attack'], 'attack'), "precision/recall/f1/fpr are for class 'attack'");
});

test('multi-class with a normal class: "is an attack", and f1 really is that', () => {
  const classes = ['DoS', 'normal', 'Probe'];
  assert.equal(metricScope(classes, null), `precision/recall/f1/fpr are for "is an attack" (any class but 'normal'); macro_f1 averages over classes`);
  // 6 rows: two DoS predicted as Probe (wrong class, still an attack), one normal flagged, one Probe missed
  const yTrue = Int32Array.from([0, 0, 1, 1, 2, 2]);
  const yPred = Int32Array.from([2, 2, 1, 0, 2, 1]);
  const f1 = scoreClassifier(yTrue, yPred, new Float32Array(18), describeClasses(classes), ['f1', 'accuracy']);
  // is-an-attack: TP = 3 (rows 0, 1, 4), FP = 1 (row 3), FN = 1 (row 5) -> precision 3/4, recall 3/4, f1 0.75
  assert.equal(f1.f1, 0.75);
  assert.equal(f1.accuracy, 2 / 6);
});

test('multi-class without a normal class: macro averages', () => {
  assert.equal(metricScope(['DoS', 'Probe', 'R2L'], null), 'precision/recall/f1 are macro averages over classes');
});

test('the terminal leaderboard carries the line for every task', () => {
  const r = sampleRunResult();
  assert.match(leaderboardText(r), new RegExp(`ranked by ${r.metric}; precision/recall/f1/fpr are for class '${r.positiveClass}'`));
  const multi = { ...r, task: 'category' as const, classes: ['DoS', 'normal', 'Probe'], positiveClass: null };
  assert.match(leaderboardText(multi), /ranked by f1; precision\/recall\/f1\/fpr are for "is an attack" \(any class but 'normal'\)/);
});

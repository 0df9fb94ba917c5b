// Multi-class metrics where the test set lacks a class the model knows and the model predicts it anyway (an attack
// type absent from a test file, a normal row called 'R2L'): per-class precision, recall, F1 and support, macro and
// weighted F1, the confusion matrix, one-vs-rest ROC-AUC and average precision over the classes present (and NaN
// over all, where scikit-learn raises), log loss, and the "is an attack" F1 and FPR. Expected values are scikit-learn
// 1.2.1's on these arrays (precision_recall_fscore_support(zero_division=0), f1_score, confusion_matrix,
// roc_auc_score / average_precision_score on label_binarize(y)[:, present], log_loss(labels=range(4))); tied
// probabilities included.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classScores, confusionMatrix } from '../../src/eval/classification.js';
import { averagePrecisionOvr, rocAucOvr } from '../../src/eval/curves.js';
import { logLoss } from '../../src/eval/log-loss.js';
import { describeClasses, isAttack, scoreClassifier } from '../../src/eval/scoring.js';

const CLASSES = ['normal', 'DoS', 'R2L', 'Probe'];
// class 2 (R2L) is never true but predicted twice
const Y = [0, 1, 3, 0, 0, 3, 0, 3, 1, 0, 0, 0, 0, 0, 1, 1, 3, 1, 1, 3, 0, 0, 1, 0];
const PRED = [0, 1, 3, 3, 0, 2, 0, 3, 1, 2, 0, 0, 0, 0, 0, 1, 3, 3, 1, 1, 0, 3, 1, 0];
const PROBA = [
  0.4091, 0.2273, 0.3182, 0.0454, 0.5417, 0.2083, 0.2083, 0.0417, 0.2692, 0.2692, 0.2692, 0.1924, 0.2917, 0.375, 0.2083, 0.125, 0.5, 0.2273, 0.2273, 0.0454,
  0.125, 0.625, 0.2083, 0.0417, 0.2083, 0.125, 0.4583, 0.2084, 0.125, 0.125, 0.0417, 0.7083, 0.125, 0.375, 0.0417, 0.4583, 0.0417, 0.625, 0.125, 0.2083,
  0.2273, 0.4091, 0.1364, 0.2272, 0.2083, 0.125, 0.375, 0.2917, 0.1364, 0.2273, 0.3182, 0.3181, 0.0417, 0.7083, 0.0417, 0.2083, 0.4583, 0.125, 0.2917, 0.125,
  0.0385, 0.2692, 0.3462, 0.3461, 0.7727, 0.0455, 0.0455, 0.1363, 0.0417, 0.125, 0.5417, 0.2916, 0.1154, 0.1154, 0.6538, 0.1154, 0.2273, 0.3182, 0.2273, 0.2272,
  0.3462, 0.1154, 0.1923, 0.3461, 0.2083, 0.5417, 0.0417, 0.2083, 0.1154, 0.1923, 0.1154, 0.5769, 0.125, 0.375, 0.2917, 0.2083,
];

const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);

describe('multi-class metrics with a class absent from y_true but predicted', () => {
  it('per-class scores, averages and the confusion matrix equal scikit-learn', () => {
    const s = classScores(Y, PRED, 4);
    assert.deepEqual(Array.from(s.labels), [0, 1, 2, 3]);
    const expected = {
      precision: [0.9, 0.8333333333333334, 0, 0.5],
      recall: [0.75, 0.7142857142857143, 0, 0.6],
      f1: [0.8181818181818182, 0.7692307692307692, 0, 0.5454545454545454],
      support: [12, 7, 0, 5],
    };
    for (const key of ['precision', 'recall', 'f1', 'support'] as const) expected[key].forEach((v, j) => close(s[key][j], v, `${key}[${j}]`));
    close(s.macro.f1, 0.5332167832167832, 'macro F1');
    close(s.weighted.f1, 0.747086247086247, 'weighted F1');
    assert.deepEqual(s.zeroDivision, { precision: [], recall: [2] });
    assert.deepEqual(confusionMatrix(Y, PRED, 4), [
      [9, 0, 1, 2],
      [1, 5, 0, 1],
      [0, 0, 0, 0],
      [0, 1, 1, 3],
    ]);
  });

  it('one-vs-rest ROC-AUC and average precision over the present classes; NaN over all classes', () => {
    close(rocAucOvr(Y, PROBA, 4, true), 0.4448197700132685, 'ROC-AUC (present classes)');
    close(averagePrecisionOvr(Y, PROBA, 4, true), 0.37739572658675086, 'average precision (present classes)');
    assert.ok(Number.isNaN(rocAucOvr(Y, PROBA, 4)), 'scikit-learn raises: only one class present in y_true for class 2');
  });

  it('log loss, and the attack-vs-normal F1 and FPR the leaderboard shows', () => {
    close(logLoss(Y, Float64Array.from(PROBA), 4), 1.7069840440829516, 'log loss');
    const task = describeClasses(CLASSES);
    const scores = scoreClassifier(Int32Array.from(Y), Int32Array.from(PRED), Float32Array.from(PROBA), task, ['f1', 'macro_f1']);
    close(scores.f1, 0.8461538461538461, 'is-an-attack F1');
    close(scores.macro_f1, 0.5332167832167832, 'macro F1');
    const attackTrue = isAttack(Int32Array.from(Y), task.normal);
    const attackPred = isAttack(Int32Array.from(PRED), task.normal);
    const cm = confusionMatrix(attackTrue, attackPred, 2);
    close(cm[0][1] / (cm[0][0] + cm[0][1]), 0.25, 'FPR');
  });
});

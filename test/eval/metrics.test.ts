// Every metric against scikit-learn 1.2.1's values on seeded inputs (scripts/fixtures/make-metric-fixtures.py).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, binaryScores, classScores, classScoresFromConfusion, classificationReport, confusionMatrix, formatFixed } from '../../src/eval/classification.js';
import { auc, averagePrecision, averagePrecisionOvr, precisionRecallCurve, rocAuc, rocAucOvr, rocCurve } from '../../src/eval/curves.js';
import { logLoss } from '../../src/eval/log-loss.js';
import { nextUp, ratesAtThreshold, thresholdForFpr } from '../../src/eval/threshold.js';
import { assertClose, loadFixture } from './fixtures.js';

interface Case {
  name: string;
  classes: string[];
  yTrue: number[];
  yPred: number[];
  present: string[];
  accuracy: number;
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  confusion: number[][];
  report: string;
  report4: string;
  macro: number[];
  weighted: number[];
  micro: number[];
  macroAllClasses: number[];
  proba?: number[][];
  logLoss?: number | null;
  roc?: { fpr: number[]; tpr: number[]; thresholds: number[] };
  rocAll?: { fpr: number[]; tpr: number[]; thresholds: number[] };
  pr?: { precision: number[]; recall: number[]; thresholds: number[] };
  rocAuc?: number | null;
  averagePrecision?: number;
  rocAucOvr?: number | null;
  averagePrecisionMacro?: number;
}

const fixture = loadFixture<{ cases: Case[] }>('metrics.json');
const TOL = 1e-9;

/** Recodes a case so that class codes follow sorted names, as sklearn orders string labels. */
function sortedCodes(c: Case): { names: string[]; yTrue: Int32Array; yPred: Int32Array } {
  const names = [...c.classes].sort();
  const map = c.classes.map((n) => names.indexOf(n));
  return { names, yTrue: Int32Array.from(c.yTrue, (v) => map[v]), yPred: Int32Array.from(c.yPred, (v) => map[v]) };
}

describe('metrics equal scikit-learn', () => {
  for (const c of fixture.cases) {
    describe(c.name, () => {
      it('accuracy, per-class precision/recall/F1/support, macro and weighted averages', () => {
        assertClose([accuracy(c.yTrue, c.yPred)], [c.accuracy], TOL, 'accuracy');
        const { names, yTrue, yPred } = sortedCodes(c);
        const s = classScores(yTrue, yPred, names.length);
        assert.deepEqual(Array.from(s.labels, (j) => names[j]), c.present);
        assertClose(s.precision, c.precision, TOL, 'precision');
        assertClose(s.recall, c.recall, TOL, 'recall');
        assertClose(s.f1, c.f1, TOL, 'f1');
        assertClose(s.support, c.support, 0, 'support');
        assertClose([s.macro.precision, s.macro.recall, s.macro.f1], c.macro, TOL, 'macro');
        assertClose([s.weighted.precision, s.weighted.recall, s.weighted.f1], c.weighted, TOL, 'weighted');
        assertClose([s.accuracy], [c.micro[0]], TOL, 'micro = accuracy');
        const all = classScores(yTrue, yPred, names.length, names.map((_, j) => j));
        assertClose([all.macro.precision, all.macro.recall, all.macro.f1], c.macroAllClasses, TOL, 'macro over all classes');
      });

      it('confusion matrix', () => {
        assert.deepEqual(confusionMatrix(c.yTrue, c.yPred, c.classes.length), c.confusion);
      });

      it('classification report text', () => {
        const { names, yTrue, yPred } = sortedCodes(c);
        assert.equal(classificationReport(classScores(yTrue, yPred, names.length), names), c.report);
        assert.equal(classificationReport(classScores(yTrue, yPred, names.length), names, 4), c.report4);
      });

      if (c.proba) {
        const k = c.classes.length;
        const flat = Float64Array.from(c.proba.flat());
        it('log loss', () => {
          assertClose([logLoss(c.yTrue, flat, k)], [c.logLoss ?? Number.NaN], TOL, 'log loss');
        });
        if (k === 2) {
          const isPositive = Uint8Array.from(c.yTrue, (v) => (v === 1 ? 1 : 0));
          const scores = Float64Array.from(c.proba, (r) => r[1]);
          it('ROC curve (drop_intermediate on and off) and ROC-AUC', () => {
            const roc = rocCurve(isPositive, scores);
            assertClose(roc.fpr, c.roc!.fpr, TOL, 'fpr');
            assertClose(roc.tpr, c.roc!.tpr, TOL, 'tpr');
            assertClose(roc.thresholds, c.roc!.thresholds, TOL, 'thresholds');
            const all = rocCurve(isPositive, scores, false);
            assertClose(all.fpr, c.rocAll!.fpr, TOL, 'fpr (all)');
            assertClose(all.tpr, c.rocAll!.tpr, TOL, 'tpr (all)');
            assertClose(all.thresholds, c.rocAll!.thresholds, TOL, 'thresholds (all)');
            assertClose([rocAuc(isPositive, scores)], [c.rocAuc ?? Number.NaN], TOL, 'roc auc (NaN where sklearn raises)');
          });
          it('PR curve and average precision', () => {
            const pr = precisionRecallCurve(isPositive, scores);
            assertClose(pr.precision, c.pr!.precision, TOL, 'precision');
            assertClose(pr.recall, c.pr!.recall, TOL, 'recall');
            assertClose(pr.thresholds, c.pr!.thresholds, TOL, 'thresholds');
            assertClose([averagePrecision(isPositive, scores)], [c.averagePrecision!], TOL, 'average precision');
          });
        } else {
          it('one-vs-rest macro ROC-AUC and average precision', () => {
            assertClose([rocAucOvr(c.yTrue, flat, k)], [c.rocAucOvr ?? Number.NaN], TOL, 'roc auc ovr');
            assertClose([averagePrecisionOvr(c.yTrue, flat, k)], [c.averagePrecisionMacro!], TOL, 'macro AP');
          });
        }
      }
    });
  }
});

describe('metric edge cases (hand-computed)', () => {
  it('per-class scores from a confusion matrix equal those from the rows (a class never predicted, one absent)', () => {
    const yTrue = [0, 0, 1, 1, 1, 2, 2, 0, 1, 2, 0, 1];
    const yPred = [0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 4, 1];
    const fromRows = classScores(yTrue, yPred, 5);
    const fromMatrix = classScoresFromConfusion(confusionMatrix(yTrue, yPred, 5));
    assert.deepEqual(fromMatrix, fromRows);
    assert.deepEqual(Array.from(fromMatrix.labels), [0, 1, 2, 4]);
    assert.equal(fromMatrix.recall[2], 0, 'class 2 is never predicted right');
  });
  it('binary F1 of one class, zero division gives 0', () => {
    assert.deepEqual(binaryScores([0, 1, 1, 0], [0, 1, 0, 0], 1), { precision: 1, recall: 0.5, f1: 2 / 3 });
    assert.deepEqual(binaryScores([0, 0], [0, 0], 1), { precision: 0, recall: 0, f1: 0 });
    const s = classScores([0, 0, 1], [0, 0, 0], 2);
    assert.deepEqual(s.zeroDivision, { precision: [1], recall: [] });
  });

  it('formats like Python (round half to even on exact ties only)', () => {
    assert.equal(formatFixed(0.125, 2), '0.12');
    assert.equal(formatFixed(0.375, 2), '0.38');
    assert.equal(formatFixed(0.135, 2), (0.135).toFixed(2));
    assert.equal(formatFixed(2.5, 0), '2');
    assert.equal(formatFixed(1, 2), '1.00');
  });

  it('auc of a unit square and a diagonal', () => {
    assert.equal(auc([0, 0, 1], [0, 1, 1]), 1);
    assert.equal(auc([0, 1], [0, 1]), 0.5);
  });

  it('log loss uses float32 epsilon for Float32Array input', () => {
    const p32 = Float32Array.from([1, 0]);
    assertClose([logLoss([1], p32, 2)], [-Math.log(2 ** -23 / (1 - 2 ** -23 + 2 ** -23))], 1e-12, 'clipped loss');
  });
});

describe('operating points', () => {
  const scores = [0.1, 0.2, 0.2, 0.3, 0.9, 0.8, 0.2];
  const attack = [0, 0, 0, 0, 1, 1, 1];
  it('FPR and detection rate at a threshold (score >= threshold is flagged)', () => {
    const p = ratesAtThreshold(attack, scores, 0.2);
    assert.equal(p.fpr, 3 / 4);
    assert.equal(p.detectionRate, 1);
    const q = ratesAtThreshold(attack, scores, 0.85);
    assert.equal(q.fpr, 0);
    assert.equal(q.detectionRate, 1 / 3);
  });

  it('threshold for a target FPR never splits ties and meets the target', () => {
    const normal = [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    assert.deepEqual(thresholdForFpr(normal, 0.1), { threshold: nextUp(0.8), fpr: 0.1 });
    assert.deepEqual(thresholdForFpr(normal, 0), { threshold: nextUp(0.9), fpr: 0 });
    // 0.8 would allow 8 of 10, but 0.2 is tied twice: only 7 may be flagged (above 0.2)
    assert.deepEqual(thresholdForFpr(normal, 0.8), { threshold: nextUp(0.2), fpr: 0.7 });
    assert.deepEqual(thresholdForFpr(normal, 1), { threshold: 0.1, fpr: 1 });
    // 0.29 × 100 is 28.999… in floating point: still 29 allowed
    const hundred = Array.from({ length: 100 }, (_, i) => i);
    assert.equal(thresholdForFpr(hundred, 0.29).fpr, 0.29);
    for (const target of [0.01, 0.05, 0.33]) {
      const t = thresholdForFpr(hundred, target);
      assert.equal(ratesAtThreshold(hundred.map(() => 0), hundred, t.threshold).fpr, t.fpr);
      assert.ok(t.fpr <= target);
    }
  });
});

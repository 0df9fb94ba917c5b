// A realistic RunResult for report tests: three candidates (a forest with OOB history, an MLP with epoch curves, a
// failed one), binary task with ROC/PR/threshold curves, confusion matrices and importances.

import type { CandidateResult, RunResult } from '../../src/workflow/run-result.js';

function candidate(name: string, auc: number, extra: Partial<CandidateResult>): CandidateResult {
  const x = Array.from({ length: 50 }, (_, i) => i / 49);
  return {
    name,
    title: name,
    params: { seed: 1 },
    cv: { f1: { mean: auc - 0.05, std: 0.01, folds: [auc - 0.06, auc - 0.05, auc - 0.04, auc - 0.05, auc - 0.05] } },
    test: { accuracy: auc - 0.1, precision: 0.9, recall: 0.7, f1: 0.79, roc_auc: auc, pr_auc: auc - 0.02, fpr: 0.03, macro_f1: 0.78, weighted_f1: 0.79 },
    fitSeconds: 1.5,
    predictSeconds: 0.05,
    roc: { x, y: x.map((v) => Math.pow(v, 1 - auc)), auc },
    pr: { x, y: x.map((v) => 1 - 0.3 * v * v), auc: auc - 0.02 },
    thresholdCurve: { thresholds: x, fpr: x.map((v) => 1 - v), detectionRate: x.map((v) => 1 - v * v), chosen: 0.5 },
    confusion: [
      [9000, 711],
      [3800, 9033],
    ],
    history: null,
    importances: null,
    trials: [],
    error: null,
    ...extra,
  };
}

export function sampleRunResult(): RunResult {
  return {
    task: 'binary',
    metric: 'f1',
    cvFolds: 5,
    seed: 42,
    best: 'rf',
    model: '/tmp/model.fsm',
    report: '/tmp/report.html',
    classes: ['attack', 'normal'],
    positiveClass: 'attack',
    dataset: {
      format: 'nsl-kdd',
      trainFiles: ['KDDTrain+.txt'],
      testFiles: ['KDDTest+.txt'],
      trainRows: 125973,
      testRows: 22544,
      testSource: 'files',
      labelView: 'binary',
      classes: ['attack', 'normal'],
      trainCounts: [58630, 67343],
      testCounts: [12833, 9711],
      features: 41,
      featureNames: ['duration', 'src_bytes'],
      dropped: [{ name: 'difficulty', reason: 'label' }, { name: 'num_outbound_cmds', reason: 'constant' }],
      skipped: [],
    },
    candidates: [
      candidate('rf', 0.96, {
        history: { unit: 'trees', series: { oob_score: Array.from({ length: 100 }, (_, i) => 0.99 - 0.1 / (i + 1)) } },
        importances: [{ feature: 'src_bytes', importance: 0.4 }, { feature: 'dst_bytes', importance: 0.3 }, { feature: 'count', importance: 0.3 }],
      }),
      candidate('mlp', 0.93, {
        history: {
          unit: 'epoch',
          series: {
            train_loss: Array.from({ length: 30 }, (_, i) => 0.5 / (i + 1)),
            val_loss: Array.from({ length: 30 }, (_, i) => 0.55 / (i + 1) + 0.01),
            train_accuracy: Array.from({ length: 30 }, (_, i) => 0.99 - 0.2 / (i + 1)),
            val_accuracy: Array.from({ length: 30 }, (_, i) => 0.98 - 0.2 / (i + 1)),
          },
        },
      }),
      { ...candidate('knn', 0.9, {}), error: 'too few rows', roc: null, pr: null, confusion: null, thresholdCurve: null },
    ],
    interrupted: false,
    createdAt: '2026-11-21T00:00:00.000Z',
    flowsentryVersion: '0.1.0',
    seconds: 12.5,
  };
}

// RunResult: everything `flowsentry train` (and `evaluate`) learned, as plain data — the one input of the HTML report
// (src/report/index.ts `writeReport(result, path, { png })`) and the source of `train --json`.
//
// Conventions the report can rely on:
// - `candidates` are in leaderboard order (best first by `metric`); `best` names one of them.
// - Metrics are in [0, 1]; a metric that cannot be computed (e.g. ROC-AUC with one class in the test set) is null.
// - Binary and anomaly tasks: precision, recall, f1 and fpr refer to the attack / anomaly class (`positiveClass`);
//   multi-class tasks with a normal class: to "is an attack" (any attack class); without one: macro averages.
// - Curves are already thinned to ≤ ~200 points each; x and y arrays have equal length.
// - Confusion matrices are counts, rows = true class, columns = predicted class, in `classes` order.
// - `history` series share the x axis `unit` (epoch, iteration, or number of trees); names such as train_loss,
//   val_loss, train_accuracy, val_accuracy, oob_score.
// - `importances` are global (sum to 1) over `featureNames` (model input columns after preprocessing), sorted descending,
//   capped at 30.

import type { Params, TrainingHistory } from '../models/estimator.js';
import type { DroppedColumn } from '../frame/frame.js';
import type { Task } from '../store/model-file.js';

export type MetricName = 'accuracy' | 'precision' | 'recall' | 'f1' | 'roc_auc' | 'pr_auc' | 'fpr' | 'macro_f1' | 'weighted_f1';

export type TestMetrics = Record<MetricName, number | null>;

export interface Curve {
  /** ROC: x = false-positive rate, y = true-positive rate. PR: x = recall, y = precision. */
  x: number[];
  y: number[];
  /** Area under this curve. */
  auc: number;
}

export interface ThresholdCurve {
  /** Decision thresholds (probability of the attack class, or anomaly score), ascending. */
  thresholds: number[];
  /** False-positive rate and detection rate (recall of the attack class) at each threshold. */
  fpr: number[];
  detectionRate: number[];
  /** The threshold the saved model uses. */
  chosen: number | null;
}

export interface CandidateResult {
  name: string;
  title: string;
  params: Params;
  /** Cross-validation scores on the training data: metric → mean, std and per-fold values. */
  cv: Record<string, { mean: number; std: number; folds: number[] }>;
  /** Metrics on the test set (the --test files, or the held-out split); null when no test set exists. */
  test: TestMetrics | null;
  fitSeconds: number;
  predictSeconds: number;
  /** Test-set curves (binary and anomaly tasks; for multiclass, attack-vs-normal where a normal class exists). */
  roc: Curve | null;
  pr: Curve | null;
  thresholdCurve: ThresholdCurve | null;
  confusion: number[][] | null;
  history: TrainingHistory | null;
  importances: { feature: string; importance: number }[] | null;
  /** Hyper-parameter search trials (with --tune): params and CV mean of the ranking metric. */
  trials: { params: Params; score: number }[];
  /** Set when the candidate failed (e.g. too few rows); it is then ranked last. */
  error: string | null;
}

/** Where a run's test rows came from, as the summaries and warnings name it. */
export const TEST_SOURCE_TEXT: Readonly<Record<DatasetSummary['testSource'], string>> = {
  'holdout-time': 'the latest 20% of the training files by time',
  'holdout-stratified': 'a seeded stratified 20% of the training files',
  files: 'the --test files',
};

export interface DatasetSummary {
  format: string;
  trainFiles: string[];
  testFiles: string[];
  trainRows: number;
  testRows: number;
  testSource: 'files' | 'holdout-stratified' | 'holdout-time';
  labelView: string;
  /** Class counts per split, in `classes` order. */
  classes: string[];
  trainCounts: number[];
  testCounts: number[];
  /** Input features of the model (for an evaluation: the model's, not the columns of the file). */
  features: number;
  /** An evaluation's feature columns of the data that the model does not read. */
  unusedColumns?: string[];
  /** Model input columns after preprocessing (one-hot etc.). */
  featureNames: string[];
  dropped: DroppedColumn[];
  /** Identifier columns kept as features (--keep-identifiers); absent when identifiers are not features. */
  keptIdentifiers?: string[];
  skipped: { reason: string; count: number }[];
}

export interface RunResult {
  task: Task;
  metric: string;
  cvFolds: number;
  seed: number;
  /** Name of the best candidate (the saved model). */
  best: string;
  /** Path of the saved model file, null when not saved. */
  model: string | null;
  /** Path of the report, null when not written. */
  report: string | null;
  classes: string[];
  positiveClass: string | null;
  dataset: DatasetSummary;
  candidates: CandidateResult[];
  /** True when Ctrl-C stopped the search early; the results are those finished so far. */
  interrupted: boolean;
  /** 'evaluation' for `evaluate` (a saved model scored on new data: no fitting, no training class counts). */
  purpose?: 'training' | 'evaluation';
  createdAt: string;
  flowsentryVersion: string;
  seconds: number;
}

/** The `train --json` shape of the issue. */
export function toJsonSummary(r: RunResult): unknown {
  return {
    task: r.task,
    best: r.best,
    model: r.model,
    report: r.report,
    interrupted: r.interrupted,
    ...(r.dataset.keptIdentifiers ? { kept_identifiers: r.dataset.keptIdentifiers } : {}),
    ...(r.dataset.skipped.length ? { skipped: r.dataset.skipped } : {}),
    candidates: r.candidates.map((c) => ({
      name: c.name,
      params: c.params,
      cv: Object.fromEntries(Object.entries(c.cv).map(([k, v]) => [k, { mean: v.mean, std: v.std }])),
      test: c.test,
      fit_seconds: c.fitSeconds,
      predict_seconds: c.predictSeconds,
      ...(c.error ? { error: c.error } : {}),
    })),
  };
}

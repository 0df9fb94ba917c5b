// The leaderboard as a text table for the terminal: one row per candidate, best first.

import { metricScope } from '../eval/scoring.js';
import type { RunResult } from './run-result.js';

const fmt = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

function failureStage(crossValidated: boolean): string {
  return crossValidated ? 'cross-validated, then failed on all training rows' : 'failed';
}

export function leaderboardText(r: RunResult): string {
  const head = ['', 'model', `cv ${r.metric}`, 'test acc', 'precision', 'recall', 'f1', 'roc_auc', 'fpr', 'fit s', 'predict s'];
  const rows = r.candidates.map((c) => {
    const cv = c.cv[r.metric];
    return [
      c.name === r.best ? '*' : '',
      c.name,
      cv ? `${fmt(cv.mean)} ± ${fmt(cv.std)}` : c.error ? 'failed' : '-',
      fmt(c.test?.accuracy),
      fmt(c.test?.precision),
      fmt(c.test?.recall),
      fmt(c.test?.f1),
      fmt(c.test?.roc_auc),
      fmt(c.test?.fpr),
      fmt(c.fitSeconds, 2),
      fmt(c.predictSeconds, 3),
    ];
  });
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
  const line = (cells: string[]): string => cells.map((c, j) => (j <= 1 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  const d = r.dataset;
  const testFrom = d.testSource === 'files' ? d.testFiles.join(', ') : d.testSource === 'holdout-time' ? 'latest 20% of rows (time-ordered hold-out)' : 'seeded stratified 20% hold-out';
  return [
    `task ${r.task} (${d.labelView} labels: ${d.classes.join(', ')}), ${d.trainRows} training rows, ${d.testRows} test rows from ${testFrom}`,
    `${r.cvFolds}-fold CV on the training rows, ranked by ${r.metric}; ${metricScope(r.classes, r.positiveClass)}`,
    '',
    line(head),
    ...rows.map(line),
    // under the table, why a candidate has empty cells: failed in cross-validation (or refused), or only in the refit
    ...r.candidates.flatMap((c) => (c.error ? [`${c.name}: ${failureStage(c.cv[r.metric] !== undefined)} (not saved): ${c.error.replace(`${c.name}: `, '')}`] : [])),
    r.interrupted ? '\ninterrupted: these are the results finished before Ctrl-C' : '',
  ]
    .join('\n')
    .trimEnd();
}

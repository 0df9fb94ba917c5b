// Placeholder report until src/report/ lands: one self-contained HTML page with the leaderboard table of a RunResult
// (src/workflow/run-result.ts documents the data). The report engineer replaces this file; keep the signature.

import { mkdirSync } from 'node:fs';
import type { RunResult } from '../workflow/run-result.js';
import { writeFileAtomic } from '../store/model-file.js';

export interface ReportOptions {
  /** Also export every chart as PNG into this folder. */
  png?: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(4));

export async function writeReport(result: RunResult, path: string, options: ReportOptions = {}): Promise<void> {
  if (options.png) mkdirSync(options.png, { recursive: true });
  const metrics = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'pr_auc', 'fpr', 'macro_f1'] as const;
  const rows = result.candidates
    .map((c) => {
      const cv = c.cv[result.metric];
      const cells = [
        escapeHtml(c.name) + (c.name === result.best ? ' ★' : ''),
        cv ? `${fmt(cv.mean)} ± ${fmt(cv.std)}` : '–',
        ...metrics.map((m) => fmt(c.test?.[m])),
        c.fitSeconds.toFixed(2),
        c.predictSeconds.toFixed(3),
        escapeHtml(c.error ?? JSON.stringify(c.params)),
      ];
      return `<tr>${cells.map((x) => `<td>${x}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const head = ['model', `CV ${result.metric}`, ...metrics.map((m) => `test ${m}`), 'fit s', 'predict s', 'params'];
  const d = result.dataset;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowsentry report</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:last-child{text-align:left}</style>
</head><body>
<h1>Flowsentry training report</h1>
<p>Task <b>${escapeHtml(result.task)}</b>, ${result.cvFolds}-fold CV ranked by <b>${escapeHtml(result.metric)}</b>, seed ${result.seed}.
Best model: <b>${escapeHtml(result.best)}</b>${result.model ? ` saved to <code>${escapeHtml(result.model)}</code>` : ''}.${result.interrupted ? ' <b>Interrupted: results so far.</b>' : ''}</p>
<p>Training: ${d.trainRows} rows from ${escapeHtml(d.trainFiles.join(', '))} (${escapeHtml(d.format)}). Test: ${d.testRows} rows (${escapeHtml(d.testSource)}).
Classes: ${d.classes.map((c, i) => `${escapeHtml(c)} ${d.trainCounts[i]}/${d.testCounts[i] ?? 0}`).join(', ')}.
Dropped columns: ${d.dropped.length ? d.dropped.map((c) => `${escapeHtml(c.name)} (${c.reason})`).join(', ') : 'none'}.</p>
<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
  writeFileAtomic(path, html);
}

// Assembles the self-contained report page: leaderboard, dataset summary and every figure inlined as SVG.
// No scripts, no external resources: the file opens offline and prints as is.

import { classScoresFromConfusion } from '../eval/classification.js';
import type { RunResult } from '../workflow/run-result.js';
import type { Figure } from './charts.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));

const TEST_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'fpr', 'roc_auc', 'pr_auc', 'macro_f1', 'weighted_f1'] as const;

const STYLE = `
body{font-family:system-ui,-apple-system,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:18px 28px} header h1{margin:0 0 6px;font-size:22px}
main{padding:18px 28px;max-width:1500px} section{background:#fff;border-radius:6px;padding:14px 18px;margin-bottom:18px;box-shadow:0 1px 2px #0002}
h2{font-size:17px;margin:4px 0 12px} table{border-collapse:collapse;font-size:13px} th,td{padding:4px 9px;border-bottom:1px solid #e4e7ee;text-align:right}
th{background:#f0f2f7} td.l,th.l{text-align:left} tr.best td{background:#eaf4ea;font-weight:600} .err{color:#c62828}
.figures{display:flex;flex-wrap:wrap;gap:16px} figure{margin:0} figcaption{font-size:12px;color:#555;text-align:center}
code{background:#f0f2f7;padding:1px 4px;border-radius:3px} header code{background:#ffffff26;color:#fff}
`;

function leaderboard(result: RunResult): string {
  const head = ['#', 'model', `CV ${result.metric} (mean ± std)`, ...TEST_METRICS.map((m) => `test ${m}`), 'fit s', 'predict s', 'params'];
  const rows = result.candidates.map((c, i) => {
    const cv = c.cv[result.metric];
    const cells = [
      String(i + 1),
      `<td class="l">${esc(c.name)}${c.name === result.best ? ' ★' : ''}</td>`,
      cv ? `${fmt(cv.mean)} ± ${fmt(cv.std)}` : '–',
      ...TEST_METRICS.map((m) => fmt(c.test?.[m])),
      result.purpose === 'evaluation' ? '–' : fmt(c.fitSeconds, 2),
      fmt(c.predictSeconds, 3),
      c.error ? `<td class="l err">${esc(c.error)}</td>` : `<td class="l"><code>${esc(JSON.stringify(c.params))}</code></td>`,
    ];
    return `<tr class="${c.name === result.best ? 'best' : ''}">${cells.map((x) => (x.startsWith('<td') ? x : `<td>${x}</td>`)).join('')}</tr>`;
  });
  return `<table id="leaderboard"><thead><tr>${head.map((h, i) => `<th class="${i === 1 || i === head.length - 1 ? 'l' : ''}">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function datasetSummary(result: RunResult): string {
  const d = result.dataset;
  const dropped = d.dropped.length
    ? `<table id="dropped"><thead><tr><th class="l">column</th><th class="l">why dropped</th></tr></thead><tbody>${d.dropped.map((c) => `<tr><td class="l">${esc(c.name)}</td><td class="l">${esc(c.reason)}</td></tr>`).join('')}</tbody></table>`
    : '<p>No columns were dropped.</p>';
  const kept = d.keptIdentifiers?.length
    ? `<h3>Identifier columns kept as features</h3><p id="kept-identifiers">${d.keptIdentifiers.map((n) => `<code>${esc(n)}</code>`).join(', ')} (<code>--keep-identifiers</code>): scores learnt from them do not carry over to other networks or flows.</p>`
    : '';
  const unused = d.unusedColumns?.length ? ` Columns of the data the model does not use: ${d.unusedColumns.map((n) => `<code>${esc(n)}</code>`).join(', ')}.` : '';
  const skipped = d.skipped.length ? `<p>Skipped rows: ${d.skipped.map((s) => `${s.count} (${esc(s.reason)})`).join(', ')}.</p>` : '<p>No rows were skipped.</p>';
  // an evaluation knows the model's training row count, not its rows per class
  const trainCount = (i: number): string => (d.trainCounts.length === 0 ? '–' : String(d.trainCounts[i] ?? 0));
  const classRows = d.classes.map((c, i) => `<tr><td class="l">${esc(c)}</td><td>${trainCount(i)}</td><td>${d.testCounts[i] ?? 0}</td></tr>`).join('');
  return `<p>Format <b>${esc(d.format)}</b>, label view <b>${esc(d.labelView)}</b>. Training: ${d.trainRows} rows from ${d.trainFiles.map((f) => `<code>${esc(f)}</code>`).join(', ')}.
Test: ${d.testRows} rows (${esc(d.testSource)}${d.testFiles.length ? `: ${d.testFiles.map((f) => `<code>${esc(f)}</code>`).join(', ')}` : ''}).
${d.features} input features${d.unusedColumns ? " (the model's)" : ''}; ${d.featureNames.length} model columns after preprocessing.${unused}</p>
<table id="classes"><thead><tr><th class="l">class</th><th>train rows</th><th>test rows</th></tr></thead><tbody>${classRows}</tbody></table>
${kept}<h3>Columns dropped, and why</h3>${dropped}${skipped}`;
}

/** Per class of the test rows: precision, recall, F1 and support, as sklearn's classification_report, per model. */
function perClassTables(result: RunResult): string {
  const models = result.candidates.filter((c) => c.confusion !== null && !c.error);
  if (models.length === 0) return '';
  const table = (confusion: number[][]): string => {
    const s = classScoresFromConfusion(confusion);
    const rows = Array.from(s.labels, (c, j) => `<tr><td class="l">${esc(result.classes[c] ?? String(c))}</td><td>${fmt(s.precision[j])}</td><td>${fmt(s.recall[j])}</td><td>${fmt(s.f1[j])}</td><td>${s.support[j]}</td></tr>`);
    const total = s.support.reduce((a, v) => a + v, 0);
    rows.push(`<tr><td class="l">macro avg</td><td>${fmt(s.macro.precision)}</td><td>${fmt(s.macro.recall)}</td><td>${fmt(s.macro.f1)}</td><td>${total}</td></tr>`);
    rows.push(`<tr><td class="l">weighted avg</td><td>${fmt(s.weighted.precision)}</td><td>${fmt(s.weighted.recall)}</td><td>${fmt(s.weighted.f1)}</td><td>${total}</td></tr>`);
    return `<table class="per-class"><thead><tr><th class="l">class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  };
  const best = models.find((c) => c.name === result.best) ?? models[0];
  const others = models.filter((c) => c !== best);
  return `<section><h2>Per-class precision, recall and F1 on the test rows</h2><h3>${esc(best.name)}</h3>${table(best.confusion!)}${others
    .map((c) => `<details><summary>${esc(c.name)}</summary>${table(c.confusion!)}</details>`)
    .join('')}</section>`;
}

function trainingHeading(result: RunResult): string {
  return `<h1>Flowsentry training report</h1>
<div>Task <b>${esc(result.task)}</b> · ${result.cvFolds}-fold cross-validation ranked by <b>${esc(result.metric)}</b> · seed ${result.seed} ·
best model <b>${esc(result.best)}</b>${result.model ? ` saved to <code>${esc(result.model)}</code>` : ''}`;
}

function evaluationHeading(result: RunResult): string {
  return `<h1>Flowsentry evaluation report</h1>
<div>Model <b>${esc(result.best)}</b>${result.model ? ` from <code>${esc(result.model)}</code>` : ''} (task <b>${esc(result.task)}</b>, trained with ${result.cvFolds}-fold cross-validation ranked by <b>${esc(result.metric)}</b>) ·
evaluated on ${result.dataset.testRows} rows`;
}

export function reportHtml(result: RunResult, figures: readonly { figure: Figure; svg: string }[]): string {
  const evaluation = result.purpose === 'evaluation';
  const section = (title: string, ids: (id: string) => boolean): string => {
    const items = figures.filter((f) => ids(f.figure.id));
    if (items.length === 0) return '';
    return `<section><h2>${esc(title)}</h2><div class="figures">${items
      .map((f) => `<figure class="chart" id="fig-${esc(f.figure.id)}" data-chart="${esc(f.figure.id)}">${f.svg}<figcaption>${esc(f.figure.title)}</figcaption></figure>`)
      .join('')}</div></section>`;
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowsentry report — ${esc(result.best)}</title><style>${STYLE}</style></head>
<body><header>${evaluation ? evaluationHeading(result) : trainingHeading(result)} · ${esc(result.createdAt)} · Flowsentry ${esc(result.flowsentryVersion)} · ${result.seconds.toFixed(1)} s</div>
${result.interrupted ? '<p><b>Interrupted (Ctrl-C): these are the results finished so far.</b></p>' : ''}</header>
<main>
<section><h2>Leaderboard</h2>${leaderboard(result)}
<p>${
    evaluation
      ? `Test metrics are those of the saved model on the evaluated files; the CV column is the one recorded when it was trained.`
      : 'Cross-validation uses the training data only; test metrics come from data never used for fitting, scaling or thresholds.'
  }
${result.positiveClass ? `Precision, recall, F1 and FPR refer to the <b>${esc(result.positiveClass)}</b> class.` : ''}</p></section>
<section><h2>Dataset</h2>${datasetSummary(result)}</section>
${section('Class balance', (id) => id === 'class-balance')}
${section('ROC and precision–recall', (id) => id.endsWith('-curves'))}
${section('Cross-validation', (id) => id === 'cv-distribution')}
${section('Training curves: accuracy and loss per epoch or iteration', (id) => id.startsWith('history-'))}
${section('Confusion matrices', (id) => id.startsWith('confusion-'))}
${perClassTables(result)}
${section('Feature importances and operating threshold', (id) => id === 'feature-importances' || id === 'threshold')}
</main></body></html>
`;
}

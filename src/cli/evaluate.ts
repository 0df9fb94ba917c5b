// `flowsentry evaluate <model> <files...>`: the test metrics of a saved model on new labelled data, optionally with a
// report. Thin: src/workflow/evaluate.ts does the work.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { classScoresFromConfusion, classificationReport } from '../eval/classification.js';
import { metricScope } from '../eval/scoring.js';
import { evaluate } from '../workflow/evaluate.js';
import type { RunResult } from '../workflow/run-result.js';
import { runCommand, type GlobalOptions } from './command.js';

interface EvaluateCliOptions extends GlobalOptions {
  format?: string;
  label?: string;
  report?: string;
  png?: string;
  skipBadRows?: boolean;
}

const f4 = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(4));

function render(r: RunResult): string {
  const c = r.candidates[0];
  const t = c.test;
  const lines = [
    `${r.model}: ${c.name} on ${r.dataset.testRows} rows of ${r.dataset.testFiles.join(', ')} (${r.dataset.labelView} labels)`,
    `accuracy ${f4(t?.accuracy)}  precision ${f4(t?.precision)}  recall ${f4(t?.recall)}  f1 ${f4(t?.f1)}  roc_auc ${f4(t?.roc_auc)}  pr_auc ${f4(t?.pr_auc)}  fpr ${f4(t?.fpr)}  macro_f1 ${f4(t?.macro_f1)}`,
  ];
  lines.push(metricScope(r.classes, r.positiveClass));
  if (c.confusion) {
    lines.push('confusion matrix (rows = true, columns = predicted):');
    const width = Math.max(...r.classes.map((x) => x.length), ...c.confusion.flat().map((v) => String(v).length));
    lines.push(`${''.padEnd(width)}  ${r.classes.map((x) => x.padStart(width)).join('  ')}`);
    c.confusion.forEach((row, i) => lines.push(`${r.classes[i].padEnd(width)}  ${row.map((v) => String(v).padStart(width)).join('  ')}`));
    lines.push('per class:', classificationReport(classScoresFromConfusion(c.confusion), r.classes, 4).trimEnd());
  }
  for (const s of r.dataset.skipped) lines.push(`skipped ${s.count}: ${s.reason}`);
  if (r.report) lines.push(`report: ${r.report}`);
  return lines.join('\n');
}

function perClassJson(classes: readonly string[], confusion: number[][] | null): { class: string; precision: number; recall: number; f1: number; support: number }[] | null {
  if (!confusion) return null;
  const s = classScoresFromConfusion(confusion);
  return Array.from(s.labels, (c, j) => ({ class: classes[c] ?? String(c), precision: s.precision[j], recall: s.recall[j], f1: s.f1[j], support: s.support[j] }));
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a saved model on new labelled data')
    .argument('<model>', 'model file (.fsm)')
    .argument('<files...>', 'labelled data files')
    .option('--format <name>', 'dataset format (default: detected)')
    .option('--label <column>', "label column (default: the model's own: its format's label, or the column it was trained on)")
    .option('--report <file>', 'HTML report to write')
    .option('--png <dir>', 'also export every report chart as PNG into this folder')
    .option('--skip-bad-rows', 'skip malformed rows and rows without a label (counted by reason) instead of stopping')
    .option('--json', 'print the metrics as JSON')
    .action(async (model: string, files: string[], opts: EvaluateCliOptions, cmd: Command) => {
      await runCommand(
        { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json },
        async () => {
          if (opts.png !== undefined && opts.report === undefined) throw new UsageError('--png exports the report charts: add --report <file>');
          return evaluate(model, files, opts);
        },
        render,
        (r) => ({ model: r.model, name: r.best, rows: r.dataset.testRows, classes: r.classes, test: r.candidates[0].test, confusion: r.candidates[0].confusion, perClass: perClassJson(r.classes, r.candidates[0].confusion), skipped: r.dataset.skipped, report: r.report }),
      );
    });
}

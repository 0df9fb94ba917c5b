// `flowsentry retrain --model m.fsm --store alerts.duckdb --out m2.fsm`: refit with the store's feedback labels and
// the original data; print metrics before and after. Thin: options → src/workflow/retrain.ts → table.

import type { Command } from 'commander';
import type { RetrainResult } from '../workflow/retrain.js';
import { integerOption, runCommand, type GlobalOptions } from './command.js';

interface RetrainCliOptions extends GlobalOptions {
  model: string;
  store: string;
  out: string;
  data?: string[];
  label?: string;
  feedbackWeight: number;
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(4));

const EVALUATION: Record<RetrainResult['evaluation'], string> = {
  'test-files': "the model's original test files",
  'holdout-stratified': "the model's own hold-out: the seeded stratified 20% of the original data",
  'holdout-time': "the model's own hold-out: the latest 20% of the original data by time",
};

/** How the refit took the verdicts: as repeated training rows (classifiers, the hybrid), in a feedback memory (detectors, the hybrid). */
function howLearned(feedback: RetrainResult['feedback']): string {
  const memory = feedback.feedbackMemory ? `kept in a feedback memory of radius ${feedback.feedbackMemory.radius.toPrecision(4)}` : undefined;
  if (feedback.weight === 0) return `${memory ?? 'not refitted on'}; a detector refits on its original rows only`;
  return memory ? `each ×${feedback.weight} in the refit, and ${memory}` : `each ×${feedback.weight}`;
}

function render(r: RetrainResult): string {
  const metrics = ['accuracy', 'precision', 'recall', 'f1', 'fpr', 'roc_auc', 'pr_auc'] as const;
  const rows = [
    `            ${metrics.map((m) => m.padStart(9)).join(' ')}  feedback agreement`,
    `before      ${metrics.map((m) => fmt(r.before.test[m]).padStart(9)).join(' ')}  ${fmt(r.before.feedbackAgreement)}`,
    `after       ${metrics.map((m) => fmt(r.after.test[m]).padStart(9)).join(' ')}  ${fmt(r.after.feedbackAgreement)}`,
  ];
  return [
    `feedback: ${r.feedback.falsePositives} false positives, ${r.feedback.confirmed} confirmed (${howLearned(r.feedback)}); ${r.feedback.withoutInput} without a stored flow input`,
    `evaluated on ${EVALUATION[r.evaluation]}`,
    ...rows,
    `new model: ${r.out} (old model kept: ${r.model})`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('retrain')
    .description('refit a saved model with feedback from the detection store plus its original data; report before/after')
    .requiredOption('--model <file>', 'the model to refit (kept unchanged)')
    .requiredOption('--store <file>', 'DuckDB store of `serve` holding the feedback')
    .requiredOption('--out <file>', 'where to write the new model')
    .option('--data <files...>', 'training files, when those recorded in the model moved or changed')
    .option('--label <column>', "label column of --data (default: the model's own: its format's label, or the column it was trained on)")
    .option('--feedback-weight <n>', "times each feedback row is repeated in a classifier's or the hybrid's refit (a detector keeps the rows in a feedback memory instead)", integerOption('--feedback-weight', 1), 5)
    .option('--json', 'print the result as JSON')
    .action(async (opts: RetrainCliOptions, cmd: Command) => {
      const globals = { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json };
      await runCommand(
        globals,
        async () => {
          const { retrain } = await import('../workflow/retrain.js');
          return retrain({ ...opts, log: (l) => process.stderr.write(`${l}\n`) });
        },
        render,
      );
    });
}

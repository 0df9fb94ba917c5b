// `flowsentry predict <model> <files...>`: one row per input row (label, score, top-3 contributing features with
// their values), streamed to --out (.csv or .jsonl) or CSV on stdout; --json prints one JSON document instead.

import type { Command } from 'commander';
import { jsonRecord, predict, type PredictionRecord, type PredictSummary } from '../workflow/predict.js';
import { runCommand, type GlobalOptions } from './command.js';
import { stdoutStream } from '../util/output.js';

interface PredictCliOptions extends GlobalOptions {
  out?: string;
  format?: string;
  label?: string;
  explain: boolean;
}

function render(s: PredictSummary): string {
  if (s.out === null) return '';
  const counts = Object.entries(s.counts).map(([label, n]) => `${label} ${n}`).join(', ');
  return `${s.rows} predictions written to ${s.out} (${counts}) in ${s.seconds.toFixed(2)} s`;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('predict with a saved model: label, score and top-3 contributing features per row')
    .argument('<model>', 'model file (.fsm)')
    .argument('<files...>', 'data files')
    .option('--out <file>', 'write predictions here (.csv or .jsonl), streamed; default: CSV on stdout')
    .option('--format <name>', 'dataset format (default: detected)')
    .option('--label <column>', 'label column of a generic CSV, echoed as true_label (default: the model\'s label column, when the input has it)')
    .option('--no-explain', 'skip the per-row feature contributions (faster)')
    .option('--json', 'print one JSON document (summary, plus every prediction when there is no --out)')
    .action(async (model: string, files: string[], opts: PredictCliOptions, cmd: Command) => {
      const collected: PredictionRecord[] = [];
      const options = { format: opts.format, label: opts.label, explain: opts.explain };
      await runCommand(
        { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json },
        () =>
          predict(
            model,
            files,
            options,
            opts.out !== undefined ? { path: opts.out } : opts.json ? { collect: (p) => collected.push(p) } : { stream: stdoutStream(), format: 'csv' },
          ),
        render,
        // the predictions as the lines of --out .jsonl show them
        (s) => (s.out === null ? { ...s, predictions: collected.map(jsonRecord) } : s),
      );
    });
}

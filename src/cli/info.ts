// `flowsentry info <model>`: what a saved model was trained on, its features, pipeline, parameters, metrics,
// threshold, creation time and version. Thin: src/workflow/info.ts does the work.

import type { Command } from 'commander';
import { infoText, modelInfo } from '../workflow/info.js';
import { runCommand, type GlobalOptions } from './command.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('show what a saved model was trained on, its features, parameters, metrics and threshold')
    .argument('<model>', 'model file (.fsm)')
    .option('--json', 'print as JSON')
    .action(async (model: string, opts: { json?: boolean }, cmd: Command) => {
      await runCommand({ ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json }, () => modelInfo(model), infoText);
    });
}

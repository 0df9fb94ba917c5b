// `flowsentry info <model>`: what a saved model was trained on, its features, pipeline, parameters, metrics,
// threshold, creation time and version. Thin: src/workflow/info.ts does the work. A whole model file this build cannot
// use (a newer format, another version's model or pipeline layout) is still shown as far as it can be read, then its
// reason is the one error line on stderr and the exit code 1, as for predict and evaluate.

import type { Command } from 'commander';
import { infoText, modelInfo, type ModelInfo } from '../workflow/info.js';
import { runCommand, type GlobalOptions } from './command.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('show what a saved model was trained on, its features, parameters, metrics and threshold (a model this version cannot use: what can be read, then why, exit 1)')
    .argument('<model>', 'model file (.fsm)')
    .option('--json', 'print as JSON')
    .action(async (model: string, opts: { json?: boolean }, cmd: Command) => {
      let shown: ModelInfo | undefined;
      await runCommand({ ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json }, async () => (shown = await modelInfo(model)), infoText);
      if (shown && !shown.usable && process.exitCode === undefined) {
        process.stderr.write(`flowsentry: ${shown.file}: ${shown.problem}\n`);
        process.exitCode = 1;
      }
    });
}

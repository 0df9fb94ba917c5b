#!/usr/bin/env node
// The flowsentry command line. Each command lives in its own file and registers itself here.

import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { reportError } from './command.js';
import { UsageError } from '../errors.js';
import { register as registerCollect } from './collect.js';
import { register as registerExtract } from './extract.js';
import { register as registerTrain } from './train.js';
import { register as registerEvaluate } from './evaluate.js';
import { register as registerPredict } from './predict.js';
import { register as registerInfo } from './info.js';
import { register as registerDemo } from './demo.js';
import { register as registerInspect } from './inspect.js';
import { register as registerDetect } from './detect.js';
import { register as registerRetrain } from './retrain.js';

const require = createRequire(import.meta.url);
const { version } = require('../../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('flowsentry')
    .description('Network anomaly and intrusion detection from flow statistics')
    .version(version)
    .option('--debug', 'show stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Commands register below, one line each.
  registerCollect(program);
  registerExtract(program);
  registerTrain(program);
  registerEvaluate(program);
  registerPredict(program);
  registerInfo(program);
  registerDemo(program);
  registerInspect(program);
  registerDetect(program);
  registerRetrain(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.commands.forEach((cmd) => cmd.exitOverride());
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, `help CMD` and --version succeed; help shown because no command was given is a usage error (2)
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0)) {
        process.exitCode = 0;
        return;
      }
      process.exitCode = 2;
      return;
    }
    reportError(err instanceof UsageError ? err : err, process.argv.includes('--debug'));
  }
}

await main();

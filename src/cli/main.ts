#!/usr/bin/env node
// The flowsentry command line. Each command lives in its own file and registers itself here.

import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { parserErrorLine, reportError } from './command.js';

const require = createRequire(import.meta.url);
const { version } = require('../../../package.json') as { version: string };

/**
 * The command modules in help order. Only the module of the command being run is imported (each pulls in its own
 * dependency tree: importing all of them cost ~0.1 s of start-up); help and unknown commands import them all.
 */
const MODULES: Record<string, () => Promise<{ register: (program: Command) => void }>> = {
  collect: () => import('./collect.js'),
  extract: () => import('./extract.js'),
  train: () => import('./train.js'),
  evaluate: () => import('./evaluate.js'),
  predict: () => import('./predict.js'),
  info: () => import('./info.js'),
  demo: () => import('./demo.js'),
  inspect: () => import('./inspect.js'),
  detect: () => import('./detect.js'),
  retrain: () => import('./retrain.js'),
};
/** Commands registered by a module of another name. */
const MODULE_OF: Record<string, string> = { serve: 'detect' };

/** The program with `command` registered, or every command when it is not one of ours (help, typos, none). */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('flowsentry')
    .description('Network anomaly and intrusion detection from flow statistics')
    .version(version)
    .option('--debug', 'show stack traces for errors')
    .configureOutput({ outputError: (text, write) => write(parserErrorLine(text, 'flowsentry')) })
    .exitOverride();
  const moduleName = command === undefined ? undefined : Object.hasOwn(MODULE_OF, command) ? MODULE_OF[command] : command;
  const names = moduleName !== undefined && Object.hasOwn(MODULES, moduleName) ? [moduleName] : Object.keys(MODULES);
  for (const commandModule of await Promise.all(names.map((name) => MODULES[name]!()))) commandModule.register(program);
  for (const cmd of program.commands) cmd.configureOutput({ outputError: (text, write) => write(parserErrorLine(text, `flowsentry ${cmd.name()}`)) });
  return program;
}

async function main(): Promise<void> {
  // The first argument that is not an option names the command (the global options take no values).
  const program = await buildProgram(process.argv.slice(2).find((arg) => !arg.startsWith('-')));
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
    reportError(err, process.argv.includes('--debug'));
  }
}

await main();

// `flowsentry train <files...>`: cross-validate and compare candidates, refit the best, evaluate on --test, save the
// model file and write the report. Thin: parse options, call src/workflow/train.ts, print.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { CvMetric } from '../eval/scoring.js';
import type { ParamValue, Params } from '../models/estimator.js';
import type { Task } from '../store/model-file.js';
import { createProgress, type Progress } from '../util/progress.js';
import { leaderboardText } from '../workflow/leaderboard.js';
import { toJsonSummary } from '../workflow/run-result.js';
import { DEFAULT_TARGET_FPR } from '../workflow/data.js';
import { listModels } from '../models/index.js';
import { DEFAULT_CLASSIFIERS, DEFAULT_DETECTORS, METRICS, TASKS, train } from '../workflow/train.js';
import { integerOption, misreadByNumber, numberOption, parseList, runCommand, typedNumber, type GlobalOptions } from './command.js';
import { MAX_SEED } from '../util/rng.js';

interface TrainCliOptions extends GlobalOptions {
  test?: string[];
  format?: string;
  label?: string;
  task: string;
  models?: string;
  param: string[];
  cv: number;
  tune?: string;
  budget?: number;
  metric: string;
  out: string;
  report?: string;
  png?: string;
  seed: number;
  targetFpr: number;
  split: string;
  keepIdentifiers?: boolean;
  skipBadRows?: boolean;
}

/** Ctrl-C stops the search after the running tasks and keeps what finished; a second Ctrl-C quits at once. */
export function interruptible(log: (line: string) => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    log('\nstopping: keeping the results finished so far (Ctrl-C again to quit now)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/** One progress bar per stage, on stderr when it is a TTY. */
export function stageProgress(enabled: boolean): { update: (stage: string, done: number, total: number) => void; stop: () => void } {
  let current: { stage: string; bar: Progress } | undefined;
  return {
    update(stage, done, total) {
      if (!enabled) return;
      if (current?.stage !== stage) {
        current?.bar.stop();
        current = { stage, bar: createProgress(stage, total) };
      }
      current.bar.update(done, total);
    },
    stop() {
      current?.bar.stop();
      current = undefined;
    },
  };
}

/**
 * A --param value as typed: true/false, null (or none), a number (typedNumber: a decimal, 'inf'; 1e999 is Infinity,
 * which every model's range refuses), else the text itself ('NaN' too, which the model refuses). What Number() alone
 * would read as a number (0x10, 0o17, 0b11, a blank) is refused, not passed on as text.
 */
function paramValue(assignment: string, text: string): ParamValue {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (t === 'null' || t === 'none') return null;
  const number = typedNumber(t);
  if (number !== undefined) return number;
  if (misreadByNumber(t)) {
    const problem = t === '' ? 'has no value' : `'${t}' is not a decimal number`;
    throw new UsageError(`--param ${assignment.trim()}: ${problem}; values are decimal numbers (200, 0.5, 1e-3, inf), true, false, null (or none), or text`);
  }
  return t;
}

/** `--param MODEL.NAME=VALUE`, repeated, by model name. */
export function parseParams(assignments: readonly string[]): Record<string, Params> {
  const out: Record<string, Params> = {};
  for (const a of assignments) {
    const m = /^([\w-]+)\.(\w+)=(.*)$/.exec(a.trim());
    if (!m) throw new UsageError(`--param expects MODEL.NAME=VALUE (e.g. rf.n_estimators=200), got '${a}'`);
    const [, model, name, value] = m;
    if (out[model] && name in out[model]) throw new UsageError(`--param sets ${model}.${name} twice`);
    (out[model] ??= {})[name] = paramValue(a, value);
  }
  return out;
}

/** The --models help: every registered name by kind, and the defaults. */
export function modelsHelp(): string {
  const names = (kind: 'classifier' | 'detector'): string => listModels(kind).map((s) => s.name).join(', ');
  return (
    `comma-separated model names, or 'all' (every model of the task's kind). Classifiers: ${names('classifier')}; ` +
    `anomaly detectors (--task binary or anomaly): ${names('detector')}. Default: ${DEFAULT_CLASSIFIERS.join(',')} ` +
    `(--task anomaly: ${DEFAULT_DETECTORS.join(',')})`
  );
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train and cross-validate candidate models, evaluate on a test set, save the best and write a report')
    .argument('<files...>', 'training data files (CSV / dataset files)')
    .option('--test <files...>', 'test data files (default: a seeded 20% hold-out of the training files)')
    .option('--format <name>', 'dataset format (default: detected)')
    .option('--label <column>', "label column (default: the format's own; in a CSV of no known format, the one column named label or class)")
    .option('--task <task>', `what to learn: ${TASKS.join(' | ')}`, 'binary')
    .option('--models <list>', modelsHelp())
    .option('--param <model.name=value>', 'set a model parameter, e.g. --param rf.n_estimators=200 --param dbscan.eps=2.1 (repeatable; --tune searches only the parameters not set)', (v: string, all: string[]) => [...all, v], [])
    .option('--cv <k>', 'cross-validation folds', integerOption('--cv', 2), 5)
    .option('--tune <strategy>', 'hyper-parameter search: grid | random')
    .option('--budget <n>', 'most parameter combinations per model when tuning', integerOption('--budget', 1))
    .option('--metric <name>', `ranking metric: ${METRICS.join(' | ')}`, 'f1')
    .option('--out <file>', 'model file to write', 'model.fsm')
    .option('--report <file>', 'HTML report to write')
    .option('--png <dir>', 'also export every report chart as PNG into this folder')
    .option('--split <how>', 'hold-out without --test: auto | stratified | time (auto: time-ordered when timestamps exist and every class is on both sides)', 'auto')
    .option('--keep-identifiers', 'make identifier columns (row and flow ids, addresses, source ports, timestamps) features; they leak: scores will not carry over to other networks, and detect/serve refuse the model')
    .option('--skip-bad-rows', 'skip malformed rows and rows without a label, in training and test files (counted by reason in the result and report) instead of stopping')
    .option('--seed <n>', 'seed for splits, folds and models', integerOption('--seed', 0, MAX_SEED), 0)
    .option('--target-fpr <rate>', 'detector threshold: false-positive rate on held-out normal training rows', numberOption('--target-fpr', { above: 0, below: 0.5 }), DEFAULT_TARGET_FPR)
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts: TrainCliOptions, cmd: Command) => {
      const globals = { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json };
      const log = (line: string): void => {
        if (!opts.json) process.stderr.write(`${line}\n`);
      };
      const progress = stageProgress(process.stderr.isTTY === true && !opts.json);
      const stop = interruptible(log);
      await runCommand(
        globals,
        async () => {
          if (opts.tune !== undefined && opts.tune !== 'grid' && opts.tune !== 'random') throw new UsageError(`--tune expects grid or random, got '${opts.tune}'`);
          if (!['auto', 'stratified', 'time'].includes(opts.split)) throw new UsageError(`--split expects auto, stratified or time, got '${opts.split}'`);
          // it was ignored without a word: the --test files are the test set
          if (opts.split !== 'auto' && opts.test !== undefined) throw new UsageError(`--split ${opts.split} chooses the hold-out drawn without --test; with --test the test files are the test set: drop one of them`);
          if (opts.budget !== undefined && opts.tune === undefined) throw new UsageError('--budget limits a search: add --tune grid or --tune random');
          if (opts.png !== undefined && opts.report === undefined) throw new UsageError('--png exports the report charts: add --report <file>');
          const models = opts.models === undefined ? undefined : opts.models.trim() === 'all' ? ('all' as const) : parseList(opts.models);
          // an empty list (`--models "$UNSET"`) would otherwise train the default models without a word
          if (Array.isArray(models) && models.length === 0) throw new UsageError(`--models names no model (got '${opts.models}'); give model names, or 'all'`);
          try {
            const { result } = await train({
              files,
              test: opts.test,
              format: opts.format,
              label: opts.label,
              task: opts.task as Task,
              models,
              params: parseParams(opts.param),
              cv: opts.cv,
              tune: opts.tune as 'grid' | 'random' | undefined,
              budget: opts.budget,
              metric: opts.metric as CvMetric,
              out: opts.out,
              report: opts.report,
              png: opts.png,
              seed: opts.seed,
              split: opts.split as 'auto' | 'stratified' | 'time',
              targetFpr: opts.targetFpr,
              keepIdentifiers: opts.keepIdentifiers === true,
              skipBadRows: opts.skipBadRows === true,
              signal: stop.signal,
              onProgress: progress.update,
              log: (line) => {
                progress.stop();
                log(line);
              },
              // on stderr with --json too: stdout holds only the JSON document
              warn: (line) => {
                progress.stop();
                process.stderr.write(`flowsentry: warning: ${line}\n`);
              },
            });
            return result;
          } finally {
            progress.stop();
            stop.dispose();
          }
        },
        (result) => {
          const lines = [leaderboardText(result), ''];
          const kept = result.dataset.keptIdentifiers;
          if (kept) lines.push(`identifier columns kept as features (--keep-identifiers): ${kept.join(', ')}`);
          for (const s of result.dataset.skipped) lines.push(`skipped ${s.count}: ${s.reason}`);
          if (result.model) lines.push(`best: ${result.best}, saved to ${result.model}`);
          if (result.report) lines.push(`report: ${result.report}`);
          return lines.join('\n');
        },
        (result) => toJsonSummary(result),
      );
    });
}

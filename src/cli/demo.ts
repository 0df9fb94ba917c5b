// `flowsentry demo`: the whole loop on the bundled NSL-KDD sample (samples/, see samples/README.md) in well under a
// minute — train several models with cross-validation, print the leaderboard, write the report, save the best model,
// reload it from the file and predict with explanations; then turn the sample capture into flow features.
// Everything goes to ./flowsentry-demo/.

import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { listModels } from '../models/index.js';
import { extractFlows } from '../flows/extract.js';
import { DEFAULT_TARGET_FPR } from '../workflow/data.js';
import { leaderboardText } from '../workflow/leaderboard.js';
import { predict, type PredictSummary } from '../workflow/predict.js';
import type { RunResult } from '../workflow/run-result.js';
import { train } from '../workflow/train.js';
import { runCommand, type GlobalOptions } from './command.js';
import { interruptible, stageProgress } from './train.js';

const SAMPLES = fileURLToPath(new URL('../../../samples/nsl-kdd/', import.meta.url));
const DEMO_MODELS = ['rf', 'gbdt', 'logreg', 'knn', 'hybrid'];

export interface DemoResult {
  run: RunResult;
  predictions: PredictSummary;
  examples: string[];
  dir: string;
  capture: { file: string; out: string; packets: number; flows: number };
}

/**
 * A bundled file as the demo's lines name it: relative to the working folder when inside it, else absolute (a path
 * up and out of it, "../../usr/lib/node_modules/flowsentry/samples/...", names the file no better).
 */
export function shownPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

export async function runDemo(dir: string, log: (line: string) => void, onProgress?: (stage: string, done: number, total: number) => void, signal?: AbortSignal): Promise<DemoResult> {
  mkdirSync(dir, { recursive: true });
  const trainFile = join(SAMPLES, 'KDDTrain+_sample.txt');
  const testFile = join(SAMPLES, 'KDDTest+_sample.txt');
  const models = DEMO_MODELS.filter((m) => listModels().some((s) => s.name === m));
  if (models.length === 0) throw new UserError('no demo model is registered in this build');
  log(`Flowsentry demo: NSL-KDD sample (Tavallaee et al., CISDA 2009), train ${shownPath(trainFile)}, test ${shownPath(testFile)}`);
  const model = join(dir, 'model.fsm');
  const report = join(dir, 'report.html');
  const { result } = await train({
    files: [trainFile],
    test: [testFile],
    task: 'binary',
    models,
    cv: 3,
    metric: 'f1',
    out: model,
    report,
    seed: 0,
    targetFpr: DEFAULT_TARGET_FPR,
    signal,
    onProgress,
    log,
  });
  log(`predicting from the saved file ${shownPath(model)}`);
  const examples: string[] = [];
  const out = join(dir, 'predictions.csv');
  const predictions = await predict(model, [testFile], {}, { path: out });
  await predict(model, [testFile], {}, {
    collect: (p) => {
      if (examples.length < 5 && p.row % 300 === 0) {
        const why = p.top.map((t) => `${t.feature}=${t.value} (${t.contribution >= 0 ? '+' : ''}${t.contribution.toFixed(3)})`).join(', ');
        examples.push(`row ${p.row}: ${p.label} (score ${p.score.toFixed(3)}, true ${p.trueLabel ?? '?'}) ${why ? `because ${why}` : '(no single feature changes it)'}`);
      }
    },
  });
  const capture = join(SAMPLES, '../captures/synscan.pcapng');
  const flowsOut = join(dir, 'synscan-flows.csv');
  log(`extracting flows from the sample capture ${shownPath(capture)}`);
  const flows = await extractFlows([capture], flowsOut, { features: 'cic' });
  return { run: result, predictions, examples, dir, capture: { file: capture, out: flowsOut, packets: flows.packets, flows: flows.flows } };
}

function render(d: DemoResult): string {
  const r = d.run;
  return [
    leaderboardText(r),
    '',
    `best model: ${r.best}, saved to ${r.model}`,
    `predictions from the saved model: ${d.predictions.rows} rows → ${d.predictions.out} (${Object.entries(d.predictions.counts).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    'a few explained predictions:',
    ...d.examples.map((e) => `  ${e}`),
    `sample capture: ${d.capture.packets} packets → ${d.capture.flows} flows with CICFlowMeter features → ${d.capture.out}`,
    '',
    `report: ${r.report}   (open it in a browser)`,
    `next: flowsentry info ${r.model}   |   flowsentry predict ${r.model} <your data>`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('train, compare, report, save and predict on the bundled NSL-KDD sample (output in ./flowsentry-demo)')
    .option('--dir <folder>', 'output folder', 'flowsentry-demo')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dir: string; json?: boolean }, cmd: Command) => {
      const log = (line: string): void => {
        if (!opts.json) process.stderr.write(`${line}\n`);
      };
      const progress = stageProgress(process.stderr.isTTY === true && !opts.json);
      const stop = interruptible(log);
      await runCommand(
        { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json },
        async () => {
          try {
            return await runDemo(opts.dir, (l) => {
              progress.stop();
              log(l);
            }, progress.update, stop.signal);
          } finally {
            progress.stop();
            stop.dispose();
          }
        },
        render,
        (d) => ({ best: d.run.best, model: d.run.model, report: d.run.report, predictions: d.predictions, capture: d.capture, leaderboard: d.run.candidates.map((c) => ({ name: c.name, cv: c.cv[d.run.metric], test: c.test })) }),
      );
    });
}

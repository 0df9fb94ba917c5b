// Model files whose preprocessing pipeline state does not fit this build (another layout, or edited): one line
// naming the file and the field and saying to train again, exit 1 — never a TypeError, an internal error or
// predictions from a missing field (before: a step without `log` predicted other values, exit 0). A freshly fitted
// pipeline's state fits the declared layout (no drift between getState and store/state-layouts.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../src/errors.js';
import type { ModelState, StateValue } from '../src/models/estimator.js';
import { Pipeline } from '../src/prep/pipeline.js';
import { decodeModel, encodeModel, type ModelDocument } from '../src/store/model-file.js';
import { PIPELINE_VERSION, pipelineStateProblem } from '../src/store/state-layouts.js';
import { readData } from '../src/workflow/data.js';

const CLI = resolve('dist/src/cli/main.js');
const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');
const dir = mkdtempSync(join(tmpdir(), 'fs-pipeline-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one line for a pipeline field, with the file named. */
function lineFor(file: string, problem: string): RegExp {
  return new RegExp(
    `^${escape(file)}: the preprocessing pipeline's state does not fit this version: ${problem}; the file was written by Flowsentry \\S+ \\(this is \\S+\\), whose pipeline layout differs, or was edited — train the model again with this version$`,
  );
}

let doc: ModelDocument;
const model = join(dir, 'logreg.fsm');

before(() => {
  const r = cli('train', TRAIN, '--models', 'logreg', '--cv', '2', '--out', model, '--json');
  assert.equal(r.code, 0, r.stderr);
  doc = decodeModel(readFileSync(model), model);
});

/** The saved document, with an imputed entry to probe (the NSL-KDD sample has no NaN or infinity). */
function probed(): ModelDocument {
  const copy = structuredClone(doc);
  copy.pipeline.imputed = [{ name: 'duration', nan: 1, posInf: 0, negInf: 0 }];
  return copy;
}

/** The saved document with its pipeline state edited at `path` (deleted, or set to `value`). */
function edited(path: (string | number)[], value: StateValue | undefined): ModelDocument {
  const copy = probed();
  let parent = copy.pipeline as Record<string | number, StateValue>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, StateValue>;
  const last = path[path.length - 1]!;
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

function rejection(d: ModelDocument): string {
  try {
    decodeModel(encodeModel(d), 'm.fsm');
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err.message;
  }
  return 'loaded';
}

describe('preprocessing pipeline state checked at load', () => {
  it('a freshly fitted pipeline (numeric, categorical, imputed, log1p names) fits the layout', async () => {
    const frame = await readData([TRAIN]);
    const duration = frame.features.find((c) => c.name === 'duration');
    assert.ok(duration?.kind === 'numeric');
    duration.values[0] = Number.NaN;
    const pipeline = Pipeline.fit(frame, { log1p: ['duration'], scaleOneHot: true, scaler: 'robust' });
    const state = pipeline.getState();
    assert.equal(state.version, PIPELINE_VERSION);
    assert.ok((state.imputed as ModelState[]).length > 0 && (state.dropped as ModelState[]).length > 0);
    assert.ok((state.steps as ModelState[]).some((s) => s.kind === 'categorical'));
    assert.equal(pipelineStateProblem(state, pipeline.columns.length), undefined);
    assert.equal(rejection(doc), 'loaded');
  });

  it('every field missing or of another type: one line naming it', () => {
    const p = doc.pipeline;
    const categorical = (p.steps as ModelState[]).findIndex((s) => s.kind === 'categorical');
    const paths: (string | number)[][] = [
      ...Object.keys(p).map((k) => [k]),
      ...Object.keys(p.options as ModelState).map((k) => ['options', k]),
      ['steps', 0],
      ...Object.keys((p.steps as ModelState[])[0]!).map((k) => ['steps', 0, k]),
      ...Object.keys((p.steps as ModelState[])[categorical]!).map((k) => ['steps', categorical, k]),
      ...['name', 'reason', 'detail'].map((k) => ['dropped', 0, k]),
      ...['name', 'nan', 'posInf', 'negInf'].map((k) => ['imputed', 0, k]),
    ];
    assert.equal(paths.length, 6 + 8 + 1 + 9 + 6 + 3 + 4);
    for (const path of paths) {
      const field = path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i > 0 ? `.${k}` : k)).join('');
      let parent = probed().pipeline as Record<string | number, StateValue>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, StateValue>;
      const other = typeof parent[path[path.length - 1]!] === 'string' ? 1 : 'x';
      if (path.length === 2 && path[0] === 'steps') {
        // a whole step gone: the columns it made are missing
        assert.match(rejection(edited(path, undefined)), lineFor('m.fsm', `'steps' make 107 model columns where the rest of the file has 108`));
      } else assert.match(rejection(edited(path, undefined)), lineFor('m.fsm', `'${escape(field)}' is missing \\(expected .*\\)`), field);
      assert.match(rejection(edited(path, other)), lineFor('m.fsm', `'${escape(field)}' is not .*`), field);
    }
  });

  it('a categorical step with more categories than centres: one line', () => {
    const categorical = (doc.pipeline.steps as ModelState[]).findIndex((s) => s.kind === 'categorical');
    const categories = (doc.pipeline.steps as ModelState[])[categorical]!.categories as string[];
    const message = rejection(edited(['steps', categorical, 'categories'], [...categories, 'extra']));
    assert.match(message, lineFor('m.fsm', `'steps\\[${categorical}\\]\\.centers' holds ${categories.length} values for ${categories.length + 1} categories`));
  });

  it('through the commands: exit 1 and the one line for predict, evaluate and info; the saved file still predicts', () => {
    const file = join(dir, 'edited.fsm');
    writeFileSync(file, encodeModel(edited(['steps', 0, 'log'], undefined)));
    for (const args of [['predict', file, TEST, '--out', join(dir, 'p.csv')], ['evaluate', file, TEST], ['info', file]]) {
      const r = cli(...args);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), lineFor(`flowsentry: ${file}`, `'steps\\[0\\]\\.log' is missing \\(expected true or false\\)`));
    }
    assert.equal(cli('predict', model, TEST, '--out', join(dir, 'ok.csv')).code, 0);
  });

  it('a pipeline from a newer build is still the line to upgrade', () => {
    const file = join(dir, 'newer.fsm');
    writeFileSync(file, encodeModel(edited(['version'], PIPELINE_VERSION + 1)));
    const r = cli('predict', file, TEST, '--out', join(dir, 'p.csv'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `flowsentry: ${file}: cannot rebuild the model: the preprocessing pipeline has version 2; this Flowsentry reads up to version 1\n`);
  });
});

// Model files whose saved state does not fit this build (written by a build with another layout, or edited): one
// line naming the file, the field and what to do (train again), exit 1 — never a TypeError, a stack trace, an internal
// error or predictions from missing fields. Both parts of a file are checked: the model's state (every kind, the
// hybrid's nested models) and the preprocessing pipeline's (before: a step without `log` predicted other values,
// exit 0). Freshly saved states fit their declared layouts (no drift between getState and store/state-layouts.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cli } from '../helpers/cli.js';
import { listModels } from '../../src/models/index.js';
import type { ModelSpec } from '../../src/models/registry.js';
import type { Classifier, Detector, Estimator, ModelState, Params, StateValue } from '../../src/models/estimator.js';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import type { Labels } from '../../src/frame/labels.js';
import { UserError } from '../../src/errors.js';
import { decodeModel, encodeModel, type ModelDocument } from '../../src/store/model-file.js';
import { LAYOUT_KINDS, PIPELINE_VERSION, pipelineStateProblem, stateProblem } from '../../src/store/state-layouts.js';
import { Pipeline } from '../../src/prep/pipeline.js';
import { Rng } from '../../src/util/rng.js';
import { readData } from '../../src/workflow/data.js';

const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');
const dir = mkdtempSync(join(tmpdir(), 'fs-state-layouts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Exit 1 with exactly one line on stderr, matching `pattern`, and no trace of a JavaScript error. */
function assertOneLine(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /TypeError|internal error|Cannot read|undefined|\n\s+at /);
}

/** Two Gaussian blobs (normal rows at 0, attacks at 3 on every feature). */
function blobs(rows: number, cols: number): { X: Matrix; y: Labels } {
  const rng = new Rng(3);
  const X = createMatrix(rows, cols);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    codes[i] = i % 3 === 0 ? 1 : 0;
    for (let j = 0; j < cols; j++) X.data[i * cols + j] = 3 * codes[i]! + rng.normal();
  }
  return { X, y: { codes, classes: ['normal', 'attack'] } };
}

/** A model document around a model state (only the model part matters here). */
function documentOf(name: string, state: ModelState): ModelDocument {
  return {
    meta: { flowsentryVersion: '0.0.9', task: 'binary' },
    schema: { features: [] },
    labels: { classes: ['normal', 'attack'], positive: 1, mapping: {} },
    pipeline: {
      format: 'flowsentry-pipeline',
      version: 1,
      options: { impute: 'median', infinity: 'clip', scaler: 'standard', scaleOneHot: false, log1p: false, maxCategories: 128, dropConstant: true, dropDuplicateColumns: true },
      steps: [{ kind: 'numeric', name: 'x', canonical: 'x', fill: 0, posInf: 1, negInf: 0, log: false, center: 0, scale: 1 }],
      dropped: [],
      imputed: [],
    },
    model: { name, state },
    threshold: null,
    explain: { reference: new Float32Array(1) },
    reference: {},
  } as unknown as ModelDocument;
}

function rejection(doc: ModelDocument): string {
  try {
    decodeModel(encodeModel(doc), 'm.fsm');
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err.message;
  }
  return 'loaded';
}

const data = blobs(300, 4);

async function fitted(spec: ModelSpec, params: Params): Promise<Estimator> {
  const model = spec.create({ ...spec.testParams, ...params });
  return spec.kind === 'classifier' ? (model as Classifier).fit(data.X, data.y) : (model as Detector).fit(data.X);
}

/** A state the layout lets through must rebuild and predict. */
async function predicts(spec: ModelSpec, state: ModelState): Promise<void> {
  const model = spec.fromState(state);
  await (model.kind === 'classifier' ? (model as Classifier).predictProba(data.X) : (model as Detector).scoreSamples(data.X));
}

describe('model state layouts', () => {
  it('every registered kind has a layout', () => {
    assert.deepEqual(listModels().map((s) => s.name).sort(), [...LAYOUT_KINDS].sort());
  });

  for (const spec of listModels()) {
    it(`${spec.name}: a freshly fitted state fits; each declared field missing or of another type is one clear line`, async () => {
      const variants: Params[] = [{}];
      if (spec.name === 'hybrid') variants.push({ classifier: 'gbdt', detectors: 'nearest+ecod+iforest' });
      if (spec.name === 'rf') variants.push({ bootstrap: true, oob_score: true });
      for (const params of variants) {
        const state = (await fitted(spec, params)).getState();
        assert.equal(stateProblem(spec.name, state), undefined, JSON.stringify(params));
        assert.equal(rejection(documentOf(spec.name, state)), 'loaded');
        for (const field of Object.keys(state)) {
          for (const value of [undefined, 'x'] as (StateValue | undefined)[]) {
            const edited: ModelState = { ...state };
            if (value === undefined) delete edited[field];
            else edited[field] = value;
            const message = rejection(documentOf(spec.name, edited));
            if (message === 'loaded') await predicts(spec, edited); // a field only reports read
            else assert.match(message, new RegExp(`^m\\.fsm: the ${spec.name} model's state does not fit this version: '${field}' is (missing|not) .*; the file was written by Flowsentry 0\\.0\\.9 \\(this is .*\\), whose ${spec.name} layout differs, or was edited — train the model again with this version$`));
          }
        }
      }
    });
  }
});

describe("a retrained model's feedback memory", () => {
  const memory: ModelState = { rows: new Float32Array([0, 1, 2, 3]), benign: new Uint8Array([1, 0]), cols: 2, radius: 0.5, cap: 0.1, floor: 0.9 };

  for (const name of ['iforest', 'hybrid']) {
    it(`${name}: fits the layout when whole; each of its fields missing or of another type is one clear line`, async () => {
      const state = (await fitted(listModels().find((s) => s.name === name)!, {})).getState();
      assert.equal(stateProblem(name, { ...state, feedbackMemory: memory }), undefined);
      assert.equal(rejection(documentOf(name, { ...state, feedbackMemory: memory })), 'loaded');
      assert.match(rejection(documentOf(name, { ...state, feedbackMemory: 'x' })), /'feedbackMemory' is not an object; /);
      for (const field of Object.keys(memory)) {
        const cut: ModelState = { ...memory };
        delete cut[field];
        assert.match(rejection(documentOf(name, { ...state, feedbackMemory: cut })), new RegExp(`'feedbackMemory\\.${field}' is missing \\(expected .*\\); `), field);
      }
      const withIds = { ...memory, alertIds: ['3f2a', 'c0ffee'] };
      assert.equal(rejection(documentOf(name, { ...state, feedbackMemory: withIds })), 'loaded', 'the verdicts\' alert ids (optional: older files have none)');
      assert.match(rejection(documentOf(name, { ...state, feedbackMemory: { ...memory, alertIds: [3, 4] } })), /'feedbackMemory\.alertIds' is not a list of names; /);
    });
  }
});

describe('a hybrid model file from an older build', () => {
  const fresh = join(dir, 'hybrid.fsm');
  before(() => {
    const r = cli(['train', TRAIN, '--models', 'hybrid', '--cv', '2', '--out', fresh, '--json']);
    assert.equal(r.code, 0, r.stderr);
  });

  /** The file with its hybrid state edited by `edit`. */
  function edited(name: string, edit: (state: ModelState) => ModelState): string {
    const doc = decodeModel(readFileSync(fresh), fresh);
    const path = join(dir, name);
    writeFileSync(path, encodeModel({ ...doc, model: { name: 'hybrid', state: edit(doc.model.state) } }));
    return path;
  }

  it('the first hybrid layout (one detector, a centre, no calibration lists): one line to train again, for every command', () => {
    // the state the first hybrid build wrote: params with `detector` and `classifier_threshold`, a `center`, the
    // nearest-normal reference and scaling at the top level
    const old = edited('old-layout.fsm', (s) => {
      const nearest = (s.detectors as ModelState[])[0]!;
      const { detectors: _d, calibration: _c, params, ...rest } = s;
      const { detectors: _p, combine: _m, classifier_weight: _w, ...oldParams } = params as Record<string, StateValue>;
      return { ...rest, params: { ...oldParams, detector: 'nearest', classifier_threshold: 0.5 }, center: 0.5, reference: { rows: nearest.rows, data: nearest.data }, scaling: { lo: nearest.lo, span: nearest.span } };
    });
    const line = new RegExp(`^flowsentry: ${old.replaceAll('.', '\\.')}: the hybrid model's state does not fit this version: 'calibration' is missing \\(expected a list of arrays of numbers\\); .* — train the model again with this version$`);
    assertOneLine(cli(['predict', old, TEST, '--out', join(dir, 'p.csv')]), line);
    assertOneLine(cli(['evaluate', old, TEST]), line);
    // info shows what the file holds, then this line: test/cli/info-unusable.test.ts
    assertOneLine(cli(['predict', old, TEST, '--json']), line);
  });

  it('fields that disagree (calibration lists, detectors, normal class): one line naming the disagreement', () => {
    const cases: [string, (s: ModelState) => ModelState, RegExp][] = [
      ['calibration.fsm', (s) => ({ ...s, calibration: (s.calibration as Float64Array[]).slice(0, 1) }), /the state holds 1 calibration score lists for 2 components/],
      ['detectors.fsm', (s) => ({ ...s, detectors: [] }), /the state holds 0 detectors where its parameters name 1 \('nearest'\)/],
      ['normal.fsm', (s) => ({ ...s, normalIndex: 7 }), /the normal class index 7 is not among its 2 classes/],
    ];
    for (const [name, edit, what] of cases) {
      const path = edited(name, edit);
      const r = cli(['predict', path, TEST, '--out', join(dir, 'p.csv')]);
      assertOneLine(r, new RegExp(`^flowsentry: ${path.replaceAll('.', '\\.')}: cannot rebuild the model: hybrid: ${what.source}; .* — train the model again with this version$`));
    }
  });

  it('the file as saved still predicts', () => {
    const r = cli(['predict', fresh, TEST, '--out', join(dir, 'ok.csv')]);
    assert.equal(r.code, 0, r.stderr);
  });
});

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one line for a pipeline field, with the file named. */
function lineFor(file: string, problem: string): RegExp {
  return new RegExp(
    `^${escape(file)}: the preprocessing pipeline's state does not fit this version: ${problem}; the file was written by Flowsentry \\S+ \\(this is \\S+\\), whose pipeline layout differs, or was edited — train the model again with this version$`,
  );
}

let doc: ModelDocument;
const logregFile = join(dir, 'logreg.fsm');

/** The saved document, with an imputed entry to probe (the NSL-KDD sample has no NaN or infinity). */
function probed(): ModelDocument {
  const copy = structuredClone(doc);
  copy.pipeline.imputed = [{ name: 'duration', nan: 1, posInf: 0, negInf: 0 }];
  return copy;
}

/** The saved document with its pipeline state edited at `path` (deleted, or set to `value`). */
function withPipelineEdit(path: (string | number)[], value: StateValue | undefined): ModelDocument {
  const copy = probed();
  let parent = copy.pipeline as Record<string | number, StateValue>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, StateValue>;
  const last = path[path.length - 1]!;
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

describe('preprocessing pipeline state checked at load', () => {
  before(() => {
    const r = cli(['train', TRAIN, '--models', 'logreg', '--cv', '2', '--out', logregFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    doc = decodeModel(readFileSync(logregFile), logregFile);
  });

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
        assert.match(rejection(withPipelineEdit(path, undefined)), lineFor('m.fsm', `'steps' make 107 model columns where the rest of the file has 108`));
      } else assert.match(rejection(withPipelineEdit(path, undefined)), lineFor('m.fsm', `'${escape(field)}' is missing \\(expected .*\\)`), field);
      assert.match(rejection(withPipelineEdit(path, other)), lineFor('m.fsm', `'${escape(field)}' is not .*`), field);
    }
  });

  it('a categorical step with more categories than centres: one line', () => {
    const categorical = (doc.pipeline.steps as ModelState[]).findIndex((s) => s.kind === 'categorical');
    const categories = (doc.pipeline.steps as ModelState[])[categorical]!.categories as string[];
    const message = rejection(withPipelineEdit(['steps', categorical, 'categories'], [...categories, 'extra']));
    assert.match(message, lineFor('m.fsm', `'steps\\[${categorical}\\]\\.centers' holds ${categories.length} values for ${categories.length + 1} categories`));
  });

  it('through the commands: exit 1 and the one line for predict and evaluate (info: test/cli/info-unusable.test.ts); the saved file still predicts', () => {
    const file = join(dir, 'edited.fsm');
    writeFileSync(file, encodeModel(withPipelineEdit(['steps', 0, 'log'], undefined)));
    for (const args of [['predict', file, TEST, '--out', join(dir, 'p.csv')], ['evaluate', file, TEST]]) {
      const r = cli(args);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), lineFor(`flowsentry: ${file}`, `'steps\\[0\\]\\.log' is missing \\(expected true or false\\)`));
    }
    assert.equal(cli(['predict', logregFile, TEST, '--out', join(dir, 'ok.csv')]).code, 0);
  });

  it('a pipeline from a newer build is still the line to upgrade', () => {
    const file = join(dir, 'newer.fsm');
    writeFileSync(file, encodeModel(withPipelineEdit(['version'], PIPELINE_VERSION + 1)));
    const r = cli(['predict', file, TEST, '--out', join(dir, 'p.csv')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `flowsentry: ${file}: cannot rebuild the model: the preprocessing pipeline has version 2; this Flowsentry reads up to version 1\n`);
  });
});

// Model files whose model state does not fit this build (written by a build with another layout, or edited): one
// line naming the file, the field and what to do (train again), exit 1 — never a TypeError, a stack trace or
// predictions from undefined fields. Every kind's freshly saved state fits its declared layout (no drift).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listModels } from '../src/models/index.js';
import type { ModelSpec } from '../src/models/registry.js';
import type { Classifier, Detector, Estimator, ModelState, Params, StateValue } from '../src/models/estimator.js';
import { createMatrix, type Matrix } from '../src/frame/matrix.js';
import type { Labels } from '../src/frame/labels.js';
import { UserError } from '../src/errors.js';
import { decodeModel, encodeModel, type ModelDocument } from '../src/store/model-file.js';
import { LAYOUT_KINDS, stateProblem } from '../src/store/state-layouts.js';
import { Rng } from '../src/util/rng.js';

const CLI = resolve('dist/src/cli/main.js');
const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');
const dir = mkdtempSync(join(tmpdir(), 'fs-model-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

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

describe('a hybrid model file from an older build', () => {
  const fresh = join(dir, 'hybrid.fsm');
  before(() => {
    const r = cli('train', TRAIN, '--models', 'hybrid', '--cv', '2', '--out', fresh, '--json');
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
    assertOneLine(cli('predict', old, TEST, '--out', join(dir, 'p.csv')), line);
    assertOneLine(cli('evaluate', old, TEST), line);
    assertOneLine(cli('info', old), line);
    assertOneLine(cli('predict', old, TEST, '--json'), line);
  });

  it('fields that disagree (calibration lists, detectors, normal class): one line naming the disagreement', () => {
    const cases: [string, (s: ModelState) => ModelState, RegExp][] = [
      ['calibration.fsm', (s) => ({ ...s, calibration: (s.calibration as Float64Array[]).slice(0, 1) }), /the state holds 1 calibration score lists for 2 components/],
      ['detectors.fsm', (s) => ({ ...s, detectors: [] }), /the state holds 0 detectors where its parameters name 1 \('nearest'\)/],
      ['normal.fsm', (s) => ({ ...s, normalIndex: 7 }), /the normal class index 7 is not among its 2 classes/],
    ];
    for (const [name, edit, what] of cases) {
      const path = edited(name, edit);
      const r = cli('predict', path, TEST, '--out', join(dir, 'p.csv'));
      assertOneLine(r, new RegExp(`^flowsentry: ${path.replaceAll('.', '\\.')}: cannot rebuild the model: hybrid: ${what.source}; .* — train the model again with this version$`));
    }
  });

  it('the file as saved still predicts', () => {
    const r = cli('predict', fresh, TEST, '--out', join(dir, 'ok.csv'));
    assert.equal(r.code, 0, r.stderr);
  });
});

// A model file written before every label view spelled the normal class 'normal' (its classes say 'BENIGN', as
// CIC-IDS2017's attack view did) must give the same output as the same model spelled the current way: predict
// labels, evaluate's confusion matrix classes and info all say 'normal', as the data's true labels do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { predict } from '../../src/workflow/predict.js';
import { evaluate } from '../../src/workflow/evaluate.js';
import { modelInfo } from '../../src/workflow/info.js';
import { loadModel, saveModel } from '../../src/store/model-file.js';
import { loadModelFile } from '../../src/workflow/data.js';

test("a model file naming its normal class 'BENIGN' predicts, evaluates and describes it as 'normal'", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-old-normal-'));
  const lines = ['x,y,label'];
  const names = ['normal', 'DoS', 'PortScan'];
  for (let i = 0; i < 240; i++) lines.push(`${(i % 3) * 10 + (i % 7)},${(i * 5) % 11},${names[i % 3]}`);
  const data = join(dir, 'd.csv');
  writeFileSync(data, `${lines.join('\n')}\n`);
  const current = join(dir, 'current.fsm');
  await train({ files: [data], label: 'label', task: 'multiclass', models: ['rf'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: current });
  const doc = await loadModel(current);
  assert.ok(doc.labels.classes.includes('normal'));
  // the file as the code before 4f2ed02 wrote it: the normal class under the dataset's own name
  const oldName = (c: string): string => (c === 'normal' ? 'BENIGN' : c);
  const old = join(dir, 'old.fsm');
  const evaluation = doc.meta.evaluation!;
  const oldMeta = { ...doc.meta, evaluation: { ...evaluation, confusion: { ...evaluation.confusion!, labels: evaluation.confusion!.labels.map(oldName) } } };
  saveModel(old, { ...doc, meta: oldMeta, labels: { ...doc.labels, classes: doc.labels.classes.map(oldName), mapping: Object.fromEntries(Object.entries(doc.labels.mapping).map(([k, v]) => [k, oldName(v)])) } });
  assert.ok((await loadModel(old)).labels.classes.includes('BENIGN'));

  const predictions = async (model: string): Promise<string> => {
    const out = join(dir, `${model.endsWith('old.fsm') ? 'old' : 'current'}.csv`);
    await predict(model, [data], { label: 'label', explain: true }, { path: out });
    return readFileSync(out, 'utf8');
  };
  const expected = await predictions(current);
  assert.equal(await predictions(old), expected);
  const rows = expected.trim().split('\n').slice(1).map((l) => l.split(','));
  assert.ok(rows.some((r) => r[1] === 'normal' && r[2] === 'normal'), "true and predicted 'normal' rows");

  const evaluated = await evaluate(old, [data], {});
  assert.deepEqual(evaluated.classes, doc.labels.classes);
  assert.deepEqual(evaluated.candidates[0].test, (await evaluate(current, [data], {})).candidates[0].test);
  assert.deepEqual((await modelInfo(old)).classes, doc.labels.classes);
  // the dashboard's confusion matrix (/api/model) reads the labels stored with the training evaluation
  assert.deepEqual((await loadModelFile(old)).meta.evaluation?.confusion?.labels, doc.labels.classes);
});

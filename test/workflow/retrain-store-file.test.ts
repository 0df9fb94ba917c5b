// retrain --store names the wrong file given: DuckDB opens an existing file that is not a database (a CSV, a model
// file) as an empty database, so retrain said "the store holds no feedback (0 feedback entries)" for it; a folder was
// an internal error once the file was read. A store written by the detection service is read as before, and `info`
// of the retrained model says where it came from.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { storeFalsePositive } from '../helpers/feedback-store.js';
import { infoText, modelInfo } from '../../src/workflow/info.js';

/** A decision tree trained on 60 rows of one feature, saved in `dir`. */
async function trainedTree(dir: string): Promise<{ data: string; model: string }> {
  const rows = ['x,label'];
  for (let i = 0; i < 60; i++) rows.push(`${i % 11},${i % 11 > 5 ? 'attack' : 'normal'}`);
  const data = join(dir, 'd.csv');
  writeFileSync(data, `${rows.join('\n')}\n`);
  const model = join(dir, 'dt.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
  return { data, model };
}

test('retrain --store: a CSV, a model file or a folder is named as not a store; a real store is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-retrain-store-'));
  const { data, model } = await trainedTree(dir);
  const out = join(dir, 'dt-2.fsm');
  for (const store of [data, model]) {
    const before = readFileSync(store);
    await assert.rejects(retrain({ model, store, out }), { message: `${store}: is not a detection store (a DuckDB file written by \`flowsentry serve\` or \`detect --store\`)` });
    assert.deepEqual(readFileSync(store), before, 'left as it was');
  }
  await assert.rejects(retrain({ model, store: dir, out }), { message: `${dir}: is a directory, expected a store file` });
  const store = join(dir, 'alerts.duckdb');
  await storeFalsePositive(store, { name: 'dt', file: model }, { x: 8 });
  assert.equal((await retrain({ model, store, out })).after.feedbackAgreement, 1);
  // info says where a retrained model came from (it was recorded, but info never showed it)
  const info = await modelInfo(out);
  assert.deepEqual(info.retrainedFrom, { model, store, feedbackRows: 1, feedbackWeight: 5 });
  assert.match(infoText(info), new RegExp(`^retrained from ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} with 1 feedback rows of the store .*alerts\\.duckdb \\(each counted 5 times\\)$`, 'm'));
  assert.equal((await modelInfo(model)).retrainedFrom, undefined);
});

test('retrain --out: the model under another spelling or a link is refused (it was overwritten); a missing folder fails before the fit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-retrain-out-'));
  const { model } = await trainedTree(dir);
  const store = join(dir, 'alerts.duckdb');
  await storeFalsePositive(store, { name: 'dt', file: model }, { x: 8 });
  const saved = readFileSync(model);
  const link = join(dir, 'link.fsm');
  linkSync(model, link);
  // spelled by hand: path.join would normalise them to the model's own path
  for (const out of [`${dir}/./dt.fsm`, `${dir}/sub/../dt.fsm`, link]) {
    await assert.rejects(retrain({ model, store, out }), { message: `${out}: retrain keeps the old model: give --out a new path` });
  }
  assert.deepEqual(readFileSync(model), saved, 'the old model as it was');
  await assert.rejects(retrain({ model, store, out: join(dir, 'no-such-dir', 'm.fsm') }), /--out: cannot write here: folder .*no-such-dir does not exist/);
});


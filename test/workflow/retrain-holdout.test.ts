// retrain's before/after comparison uses the model's own hold-out: for a model trained with a time-ordered hold-out
// that is the latest 20% of rows by time (it used to be a fresh stratified split, rows the old model had trained on).
// Hand-made data: 60 rows written out of time order; attack iff x > 5, except three flipped labels among the 12
// latest rows, so a decision tree fitted on the 48 earliest rows scores exactly 9/12 on the hold-out. And `evaluate`
// of a generic-CSV model reads the label column recorded in the model when --label is not given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { evaluate } from '../../src/workflow/evaluate.js';
import { loadModel } from '../../src/store/model-file.js';
import { storeFalsePositive } from '../helpers/feedback-store.js';

const FLIPPED_SECONDS = new Set([48, 50, 55]);

function timedCsv(): string {
  const lines = ['Timestamp,x,label'];
  for (let row = 0; row < 60; row++) {
    const second = (row * 37) % 60; // a permutation of 0..59: file order is not time order
    const x = second % 11;
    const attack = (x > 5) !== FLIPPED_SECONDS.has(second);
    lines.push(`2026-01-01 00:00:${String(second).padStart(2, '0')},${x},${attack ? 'attack' : 'normal'}`);
  }
  return `${lines.join('\n')}\n`;
}

test('retrain evaluates a time-hold-out model on the latest 20% of rows by time, as train did', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-retrain-holdout-'));
  const data = join(dir, 'timed.csv');
  writeFileSync(data, timedCsv());
  const model = join(dir, 'dt.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, split: 'time', out: model });
  const doc = await loadModel(model);
  assert.equal(doc.meta.testSource, 'holdout-time');
  assert.equal(doc.meta.test?.accuracy, 9 / 12, 'the tree misses exactly the three flipped rows');

  const storePath = join(dir, 'alerts.duckdb');
  await storeFalsePositive(storePath, { name: 'dt', file: model }, { x: 8 });

  const result = await retrain({ model, store: storePath, out: join(dir, 'dt-2.fsm') });
  assert.equal(result.evaluation, 'holdout-time');
  assert.equal(result.before.test.accuracy, 9 / 12, "before: the old model's own test accuracy on its own hold-out");
  assert.equal(result.before.test.accuracy, doc.meta.test?.accuracy);
  assert.equal(result.after.feedbackAgreement, 1, 'the refit tree learned the false positive at x = 8');

  // --data without a timestamp column: the stratified hold-out instead of an error
  const untimed = join(dir, 'untimed.csv');
  writeFileSync(untimed, timedCsv().replace(/^[^,\n]*,/gm, ''));
  const again = await retrain({ model, store: storePath, out: join(dir, 'dt-3.fsm'), data: [untimed] });
  assert.equal(again.evaluation, 'holdout-stratified');
});

test('evaluate a generic-CSV model without --label: the label column it was trained on is read again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-evaluate-label-'));
  const data = join(dir, 'timed.csv');
  writeFileSync(data, timedCsv());
  const model = join(dir, 'dt.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, split: 'time', out: model });
  const result = await evaluate(model, [data]);
  // the tree learned x > 5 from the clean rows: of all 60 rows it misses only the three flipped ones
  assert.equal(result.candidates[0]!.test?.accuracy, 57 / 60);
});

// retrain draws the training rows as `train` drew them, in the same order: refitted without feedback rows
// (--feedback-weight 0), a detector is the very model `train` saved (same state, same threshold), so what changes
// after a retrain comes from the feedback, not from another calibration sample. Hand-made data, stratified hold-out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { loadModel } from '../../src/store/model-file.js';
import { storeFalsePositive } from '../helpers/feedback-store.js';
import { Rng } from '../../src/util/rng.js';

function dataCsv(): string {
  const rng = new Rng(11);
  const lines = ['x,y,label'];
  // attack rows interleaved with normal ones, so that a shuffled and a file-order row list differ
  for (let i = 0; i < 1200; i++) lines.push(i % 10 === 0 ? `${500 + i},${700 + rng.next()},attack` : `${(50 + 5 * rng.normal()).toFixed(3)},${(80 + 5 * rng.normal()).toFixed(3)},normal`);
  return `${lines.join('\n')}\n`;
}

const plain = (v: unknown): string => JSON.stringify(v, (_, x: unknown) => (ArrayBuffer.isView(x) ? Array.from(x as Float64Array) : x));

test('a detector refitted without feedback rows is the model train saved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-retrain-same-'));
  const data = join(dir, 'd.csv');
  writeFileSync(data, dataCsv());
  for (const name of ['iforest', 'ecod']) {
    const model = join(dir, `${name}.fsm`);
    await train({ files: [data], label: 'label', task: 'anomaly', models: [name], cv: 2, metric: 'f1', seed: 3, targetFpr: 0.02, split: 'stratified', out: model });
    const store = join(dir, `${name}.duckdb`);
    await storeFalsePositive(store, { name, file: model }, { x: 50, y: 80 });
    const out = join(dir, `${name}-2.fsm`);
    await retrain({ model, store, out, feedbackWeight: 0 });
    const before = await loadModel(model);
    const after = await loadModel(out);
    assert.equal(after.threshold, before.threshold, `${name}: same threshold`);
    const { feedbackMemory, ...state } = after.model.state;
    assert.ok(feedbackMemory, `${name}: the verdict is kept in the memory`);
    assert.equal(plain(state), plain(before.model.state), `${name}: same fitted state`);
  }
});

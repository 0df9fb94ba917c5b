// --target-fpr is stored in the model file, and retrain sets the refitted detector's threshold for the same rate (it
// used to refit every detector at 1%). Independent check: the share of the 2,000 normal training rows the model
// flags, counted here from its scores and threshold: about 5% for a 5% rule, about 1% for the old default.
// Hand-made data: two features on a grid of normal values, 100 attack rows far away.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { fittedFromDocument, outputsOf } from '../../src/workflow/fitted.js';
import { infoText, modelInfo } from '../../src/workflow/info.js';
import { loadModel, saveModel } from '../../src/store/model-file.js';
import { storeFalsePositive } from '../helpers/feedback-store.js';

const NORMAL_ROWS = 2000;

function dataCsv(): string {
  const lines = ['x,y,label'];
  for (let i = 0; i < NORMAL_ROWS; i++) lines.push(`${((i * 7919) % 1000) / 10},${((i * 104729) % 997) / 10},normal`);
  for (let i = 0; i < 100; i++) lines.push(`${500 + i},${700 + i},attack`);
  return `${lines.join('\n')}\n`;
}

/** Share of the normal training rows whose score reaches the model's threshold. */
async function normalFlaggedShare(model: string, data: string): Promise<number> {
  const doc = await loadModel(model);
  assert.ok(doc.threshold !== null, 'a detector has a threshold');
  const fitted = fittedFromDocument(doc, model);
  const frame = await loadDataset([data], { label: 'label' });
  const scores = (await outputsOf(fitted, fitted.pipeline.transform(frame))).attackScore;
  assert.ok(scores);
  let flagged = 0;
  for (let i = 0; i < NORMAL_ROWS; i++) if (scores[i] >= doc.threshold) flagged++;
  return flagged / NORMAL_ROWS;
}

test('retrain keeps the --target-fpr the detector was trained with; old model files mean 1%', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-retrain-fpr-'));
  const data = join(dir, 'd.csv');
  writeFileSync(data, dataCsv());
  const model = join(dir, 'ecod.fsm');
  await train({ files: [data], label: 'label', task: 'anomaly', models: ['ecod'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.05, out: model });
  assert.equal((await loadModel(model)).meta.targetFpr, 0.05);
  assert.ok((await modelInfo(model)).targetFpr === 0.05);
  assert.match(infoText(await modelInfo(model)), /^threshold: \S+ \(for a 5% false-positive rate on held-out normal training rows\)$/m);

  const storePath = join(dir, 'alerts.duckdb');
  await storeFalsePositive(storePath, { name: 'ecod', file: model }, { x: 50, y: 50 });
  const retrained = join(dir, 'ecod-2.fsm');
  await retrain({ model, store: storePath, out: retrained });
  assert.equal((await loadModel(retrained)).meta.targetFpr, 0.05, 'the retrained file keeps the rate');
  const share = await normalFlaggedShare(retrained, data);
  assert.ok(share > 0.03 && share < 0.08, `retrained at 5%: flags ${share} of the normal training rows`);

  // a model file written before the rate was recorded: retrain uses the old default, 1%, and info says it was not recorded
  const old = await loadModel(model);
  delete old.meta.targetFpr;
  const oldModel = join(dir, 'old.fsm');
  saveModel(oldModel, old);
  assert.equal((await modelInfo(oldModel)).targetFpr, 0.01);
  // the file was trained at 5%: info must not claim the threshold is that of a 1% rate
  assert.equal((await modelInfo(oldModel)).targetFprRecorded, false);
  assert.match(infoText(await modelInfo(oldModel)), /^threshold: \S+ \(target false-positive rate not recorded in this older file; retrain uses the 1% default\)$/m);
  const oldRetrained = join(dir, 'old-2.fsm');
  await retrain({ model: oldModel, store: storePath, out: oldRetrained });
  assert.equal((await loadModel(oldRetrained)).meta.targetFpr, 0.01, 'the retrained file records the rate its threshold was set for');
  const oldShare = await normalFlaggedShare(oldRetrained, data);
  assert.ok(oldShare < 0.02, `retrained at the old default 1%: flags ${oldShare} of the normal training rows`);
});

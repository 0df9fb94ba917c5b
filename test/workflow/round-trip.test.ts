// The saved model predicts exactly what the in-memory model predicted: train → model file → load → same labels,
// same probabilities / scores, bit for bit, for a tree model, the hybrid and an anomaly detector. Also: the drift
// reference holds the training quantiles, and the model file records what it was trained on.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel } from '../../src/store/model-file.js';
import { readData } from '../../src/workflow/data.js';
import { fittedFromDocument, outputsOf } from '../../src/workflow/fitted.js';
import { train } from '../../src/workflow/train.js';
import type { Task } from '../../src/store/model-file.js';

const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');

async function roundTrip(model: string, task: Task): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-roundtrip-'));
  const out = join(dir, `${model}.fsm`);
  const { best, document, result } = await train({ files: [TRAIN], test: [TEST], task, models: [model], cv: 2, metric: 'f1', out, seed: 1, targetFpr: 0.02 });
  assert.ok(best && document);
  assert.equal(result.best, model);
  const testFrame = await readData([TEST]);
  const inMemory = await outputsOf(best, best.pipeline.transform(testFrame));
  const loaded = fittedFromDocument(await loadModel(out), out);
  const fromFile = await outputsOf(loaded, loaded.pipeline.transform(testFrame));
  assert.deepEqual(fromFile.pred, inMemory.pred, 'same predicted labels');
  assert.deepEqual(fromFile.attackScore, inMemory.attackScore, 'same scores');
  if (inMemory.proba) assert.deepEqual(fromFile.proba, inMemory.proba, 'same probabilities');
  assert.equal(loaded.threshold, best.threshold);
  // the recorded test metrics are those of these predictions
  let hits = 0;
  const truth = result.candidates[0].confusion as number[][];
  truth.forEach((row, i) => (hits += row[i]));
  const total = truth.flat().reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(hits / total - (result.candidates[0].test?.accuracy as number)) < 1e-12);
}

describe('model round trip: predictions from the saved file equal in-memory predictions', () => {
  it('random forest (binary)', () => roundTrip('rf', 'binary'));
  it('hybrid (binary)', () => roundTrip('hybrid', 'binary'));
  it('ecod (anomaly, threshold from held-out normal training rows)', () => roundTrip('ecod', 'anomaly'));
  it('decision tree (category labels)', () => roundTrip('dt', 'category'));

  it('records the training files, the label mapping and a drift reference of the training rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-roundtrip-'));
    const out = join(dir, 'dt.fsm');
    await train({ files: [TRAIN], task: 'binary', models: ['dt'], cv: 2, metric: 'accuracy', out, seed: 0, targetFpr: 0.01 });
    const doc = await loadModel(out);
    assert.equal(doc.meta.files[0].path, TRAIN);
    assert.match(doc.meta.files[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(doc.meta.testSource, 'holdout-stratified');
    assert.equal(doc.meta.trainRows + doc.meta.testRows, 3032);
    assert.equal(doc.meta.testRows, Math.ceil(3032 * 0.2));
    assert.equal(doc.labels.mapping.neptune, 'attack');
    assert.equal(doc.labels.mapping.normal, 'normal');
    const srcBytes = doc.reference.features.find((f) => f.name === 'src_bytes');
    assert.ok(srcBytes?.quantiles && srcBytes.counts);
    const q = srcBytes.quantiles;
    for (let k = 1; k < q.length; k++) assert.ok(q[k] >= q[k - 1], 'quantiles ascend');
    const protocol = doc.reference.features.find((f) => f.name === 'protocol_type');
    assert.ok(protocol?.frequencies);
    assert.ok(Math.abs(protocol.frequencies.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.equal(doc.reference.score.counts.reduce((a, b) => a + b, 0), doc.meta.trainRows);
  });

  it('multi-class: test rows whose attack name never occurs in training are counted, not scored', async () => {
    const { result } = await train({ files: [TRAIN], test: [TEST], task: 'multiclass', models: ['dt'], cv: 2, metric: 'macro_f1', seed: 0, targetFpr: 0.01 });
    const unseen = result.dataset.skipped.filter((s) => s.reason.includes('not seen in training'));
    assert.ok(unseen.some((s) => s.reason.includes("'mscan'")), 'mscan exists only in KDDTest+');
    assert.ok(!unseen.some((s) => s.reason.includes("'neptune'")));
    const skipped = unseen.reduce((a, s) => a + s.count, 0);
    assert.equal(result.dataset.testRows + skipped, 1538);
    const confusion = result.candidates[0].confusion as number[][];
    assert.equal(confusion.flat().reduce((a, b) => a + b, 0), result.dataset.testRows);
    assert.ok(result.classes.includes('neptune') && result.classes.includes('normal'));
  });
});

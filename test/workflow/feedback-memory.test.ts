// False-positive feedback takes effect for every anomaly detector and the hybrid (retrain's feedback memory,
// src/models/feedback-memory.ts).
// Independent truth from hand-made data: normal rows form a blob around (100, 100); the analyst clears a flow at
// (300, 20), far from it, which every detector flags before retrain. After retrain that flow and its near copies
// score below the threshold, a confirmed attack next to it and an attack elsewhere still alert, and `info` counts the
// feedback. Also: the nearest-neighbour rule itself on a few points, and the memory's round trip through the file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { fittedFromDocument, outputsOf } from '../../src/workflow/fitted.js';
import { infoText, modelInfo } from '../../src/workflow/info.js';
import { loadModel } from '../../src/store/model-file.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { matrixFromRows } from '../../src/frame/matrix.js';
import { Rng } from '../../src/util/rng.js';
import { FeedbackMemory, normalNeighbourRadius } from '../../src/models/feedback-memory.js';
import { makeAlert } from '../detect/alert-fixtures.js';
import type { Frame } from '../../src/frame/frame.js';

const CLEARED = { x: 300, y: 20 };
const NEAR_COPIES = [CLEARED, { x: 300.3, y: 20.05 }, { x: 299.8, y: 19.98 }];
// an attack right beside the cleared flow, confirmed by the analyst, and one far from everything
const CONFIRMED = { x: 300, y: 23 };
const ELSEWHERE = { x: 20, y: 300 };

function dataCsv(): string {
  const rng = new Rng(7);
  const lines = ['x,y,label'];
  for (let i = 0; i < 1500; i++) lines.push(`${(100 + 10 * rng.normal()).toFixed(3)},${(100 + 10 * rng.normal()).toFixed(3)},normal`);
  for (let i = 0; i < 60; i++) lines.push(`${20 + i},${300 + i},attack`);
  return `${lines.join('\n')}\n`;
}

function pointsFrame(points: { x: number; y: number }[]): Frame {
  return {
    nRows: points.length,
    features: [
      { kind: 'numeric', name: 'x', values: Float32Array.from(points, (p) => p.x) },
      { kind: 'numeric', name: 'y', values: Float32Array.from(points, (p) => p.y) },
    ],
    identifiers: [],
    source: { format: 'csv', files: [], dropped: [], skipped: [] },
  };
}

/** 1 where the model file alerts on the point. */
async function alerts(model: string, points: { x: number; y: number }[]): Promise<number[]> {
  const fitted = fittedFromDocument(await loadModel(model), model);
  const out = await outputsOf(fitted, fitted.pipeline.transform(pointsFrame(points)));
  return Array.from(out.pred, (p) => (p === fitted.info.normal ? 0 : 1));
}

async function storeVerdicts(path: string, model: { name: string; file: string }, verdicts: [{ x: number; y: number }, 'false_positive' | 'confirmed'][]): Promise<void> {
  const store = await AlertStore.open(path);
  verdicts.forEach(([input], i) => store.putAlert(makeAlert({ id: `a${i}`, label: 'attack', model: { ...model, version: '0' } }), true, input));
  await store.flush();
  for (const [i, [, verdict]] of verdicts.entries()) assert.ok(await store.addFeedback(`a${i}`, verdict));
  await store.close();
}

describe('false-positive feedback for anomaly detectors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-feedback-'));
  const data = join(dir, 'd.csv');
  writeFileSync(data, dataCsv());

  // the hybrid (binary: its classifier learns the attack rows) flags the cleared flow through its novelty detector
  for (const [name, task] of [...['iforest', 'lof', 'kmeans', 'ecod', 'hst', 'dbscan', 'autoencoder'].map((m) => [m, 'anomaly'] as const), ['hybrid', 'binary'] as const]) {
    it(`${name}: the cleared flow and its near copies stop alerting, attacks do not`, async () => {
      const model = join(dir, `${name}.fsm`);
      await train({ files: [data], label: 'label', task, models: [name], cv: 2, metric: 'f1', seed: 1, targetFpr: 0.01, out: model });
      assert.deepEqual(await alerts(model, [...NEAR_COPIES, CONFIRMED, ELSEWHERE]), [1, 1, 1, 1, 1], 'before: all far from the normal blob');

      const store = join(dir, `${name}.duckdb`);
      await storeVerdicts(store, { name, file: model }, [
        [CLEARED, 'false_positive'],
        [CONFIRMED, 'confirmed'],
      ]);
      const out = join(dir, `${name}-2.fsm`);
      const result = await retrain({ model, store, out });
      assert.equal(result.feedback.weight, task === 'anomaly' ? 0 : 5, 'a detector is not fitted on feedback rows; the hybrid is');
      assert.equal(result.feedback.feedbackMemory?.falsePositives, 1);
      assert.equal(result.feedback.feedbackMemory?.confirmed, 1);
      assert.equal(result.after.feedbackAgreement, 1, 'both verdicts followed');
      assert.deepEqual(await alerts(out, [...NEAR_COPIES, CONFIRMED, ELSEWHERE]), [0, 0, 0, 1, 1]);

      const info = await modelInfo(out);
      assert.deepEqual(info.retrainedFrom?.feedbackMemory && { ...info.retrainedFrom.feedbackMemory, radius: 0, cap: 0, floor: 0 }, { falsePositives: 1, confirmed: 1, radius: 0, cap: 0, floor: 0 });
      assert.match(infoText(info), /feedback memory: 1 false positives, 1 confirmed alerts, radius \d/);
      // the file it was retrained from has none and still reads
      assert.equal((await modelInfo(model)).retrainedFrom, undefined);
    });
  }
});

describe('feedback memory', () => {
  // feedback: a false positive at (0, 0) and a confirmed alert at (1, 0); radius 0.6; cap 0.1, floor (threshold) 0.5
  const memory = new FeedbackMemory(Float32Array.of(0, 0, 1, 0), Uint8Array.of(1, 0), 2, 0.6, 0.1, 0.5);

  it('caps rows nearest a false positive within the radius, floors rows nearest a confirmed alert', () => {
    const X = matrixFromRows([
      [0.2, 0.1], // near the false positive
      [0.3, 0.6], // farther than the radius from both
      [0.7, 0], // nearer the confirmed alert
      [0.5, 0], // a tie between both: the confirmed alert wins
      [0, -0.5], // inside the radius, already below the cap
      [1, 0.2], // near the confirmed alert, already above the floor
    ]);
    const scores = memory.apply(X, Float64Array.of(0.9, 0.9, 0.2, 0.3, 0.05, 0.8));
    assert.deepEqual(Array.from(scores), [0.1, 0.9, 0.5, 0.5, 0.05, 0.8]);
  });

  it('agrees with a plain nearest-neighbour search on random points', () => {
    const rng = new Rng(3);
    const cols = 4;
    const feedback = Float32Array.from({ length: 60 * cols }, () => rng.normal());
    const benign = Uint8Array.from({ length: 60 }, (_, j) => j % 3 === 0 ? 0 : 1);
    const many = new FeedbackMemory(feedback, benign, cols, 0.8, -1, 1);
    const X = matrixFromRows(Array.from({ length: 500 }, () => Array.from({ length: cols }, () => rng.normal())));
    const scores = many.apply(X, new Float64Array(X.rows));
    for (let i = 0; i < X.rows; i++) {
      let best = Infinity;
      let nearest = -1;
      for (let j = 0; j < 60; j++) {
        let d = 0;
        for (let c = 0; c < cols; c++) d += (X.data[i * cols + c] - feedback[j * cols + c]) ** 2;
        if (d < best) [best, nearest] = [d, j];
      }
      const expected = Math.sqrt(best) > 0.8 ? 0 : benign[nearest] ? -1 : 1;
      assert.equal(scores[i], expected, `row ${i}`);
    }
  });

  it('round-trips through its state', () => {
    const again = FeedbackMemory.fromState(memory.state());
    assert.deepEqual(again.summary(), { falsePositives: 1, confirmed: 1, radius: 0.6, cap: 0.1, floor: 0.5 });
  });

  it('names the feedback row that decides a row, its verdict, alert and distance', () => {
    const named = new FeedbackMemory(memory.rows, memory.benign, 2, 0.6, 0.1, 0.5, ['fp-1', 'conf-2']);
    const X = matrixFromRows([[0.3, 0.4], [0.3, 0.6], [0.7, 0], [0.5, 0]]);
    const matches = named.matches(X);
    assert.deepEqual(matches.map((m) => m && { row: m.row, benign: m.benign, alertId: m.alertId }), [
      { row: 0, benign: true, alertId: 'fp-1' },
      null, // farther than the radius from both
      { row: 1, benign: false, alertId: 'conf-2' },
      { row: 1, benign: false, alertId: 'conf-2' }, // a tie: the confirmed alert
    ]);
    // distances of the float32 model inputs
    const expected = [Math.hypot(Math.fround(0.3), Math.fround(0.4)), Number.NaN, 1 - Math.fround(0.7), 0.5];
    for (const k of [0, 2, 3]) assert.ok(Math.abs(matches[k]!.distance - expected[k]) < 1e-12, `row ${k}: ${matches[k]!.distance}`);
    // the ids survive the model file's state; a memory written before ids were kept names none
    assert.deepEqual(FeedbackMemory.fromState(named.state()).matches(X), matches);
    assert.equal('alertIds' in memory.state(), false);
    assert.equal(FeedbackMemory.fromState(memory.state()).matches(X)[0]?.alertId, null);
    assert.throws(() => FeedbackMemory.fromState({ ...named.state(), alertIds: ['only-one'] }), /not in this build's layout/);
  });

  it('takes the radius from normal rows: the median nearest-neighbour distance', () => {
    // points on a line at spacing 1, 2, 3 (each point's nearest neighbour): distances 1, 1, 2, 3, 3 → median 2
    const X = matrixFromRows([[0], [1], [3], [6], [9]]);
    assert.equal(normalNeighbourRadius(X, 1), 2);
  });
});

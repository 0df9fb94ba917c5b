// `train --task anomaly` on data without a label column (flows from `extract` or `collect` of one's own network): every
// row is baseline traffic, the detectors learn it, and the first of --models that trains is saved, since no score can
// rank detectors without attack rows. Other tasks need labels and say how to get on without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import { train, type TrainOptions } from '../../src/workflow/train.js';
import { predict } from '../../src/workflow/predict.js';
import { retrain } from '../../src/workflow/retrain.js';
import { extractFlows } from '../../src/flows/extract.js';
import { startService } from '../../src/detect/service.js';
import { loadConfig } from '../../src/serve/config.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { loadModel } from '../../src/store/model-file.js';

/** 400 rows of two correlated Gaussian columns and a count, no label column. */
function baseline(dir: string): string {
  const rng = new Rng(7);
  const lines = ['duration,bytes,packets'];
  for (let i = 0; i < 400; i++) {
    const a = rng.normal();
    lines.push(`${(1 + 0.1 * a).toFixed(4)},${(500 + 50 * (a + 0.3 * rng.normal())).toFixed(1)},${3 + (i % 4)}`);
  }
  const file = join(dir, 'flows.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const options = (files: string[], extra: Partial<TrainOptions> = {}): TrainOptions => ({ files, task: 'anomaly', models: ['iforest', 'ecod'], cv: 3, metric: 'f1', seed: 0, targetFpr: 0.05, ...extra });

test('unlabelled rows train detectors as normal traffic; the first of --models is saved, whatever the metric', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-baseline-'));
  try {
    const file = baseline(dir);
    for (const metric of ['f1', 'roc_auc'] as const) {
      const logged: string[] = [];
      const warned: string[] = [];
      const out = join(dir, `${metric}.fsm`);
      const { result } = await train(options([file], { metric, out, log: (l) => logged.push(l), warn: (w) => warned.push(w) }));
      assert.ok(logged.includes(`${file}: no label column: every row is taken as normal traffic, the baseline the detectors learn`), logged.join('\n'));
      assert.deepEqual(warned, [
        `the training rows hold no attacks: ${metric} cannot rank the detectors, so the first of iforest, ecod that trains is saved; the held-out rows measure each one's false-positive rate`,
      ]);
      assert.equal(result.best, 'iforest');
      assert.deepEqual(result.dataset.trainCounts, [320, 0]);
      assert.deepEqual(result.dataset.testCounts, [80, 0]);
      for (const c of result.candidates) {
        assert.equal(c.error, null);
        // every test row is normal: accuracy is 1 − the false-positive rate, which the held-out threshold keeps low
        const accuracy = c.test?.accuracy ?? Number.NaN;
        const fpr = c.test?.fpr ?? Number.NaN;
        assert.ok(Math.abs(accuracy + fpr - 1) < 1e-12, `${c.name} accuracy ${accuracy} fpr ${fpr}`);
        assert.ok(fpr <= 0.2, `${c.name} fpr ${fpr}`);
      }
      // the saved model scores new unlabelled rows
      const records: unknown[] = [];
      const predicted = await predict(out, [file], { explain: false }, { collect: (r) => records.push(r) });
      assert.equal(predicted.rows, 400);
      assert.equal(records.length, 400);
      assert.equal((predicted.counts.normal ?? 0) + (predicted.counts.attack ?? 0), 400);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('other tasks, and --tune, on unlabelled rows: one line each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-baseline-'));
  try {
    const file = baseline(dir);
    await assert.rejects(
      train(options([file], { tune: 'grid' })),
      (e: unknown) => e instanceof UserError && /^--tune: the training rows hold no attacks/.test(e.message),
    );
    await assert.rejects(
      train(options([file], { task: 'binary', models: ['dt'] })),
      (e: unknown) => e instanceof UserError && e.message === `${file}: the dataset has no label column: name it with --label, or learn every row as normal traffic with --task anomaly`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flows of a capture: baseline model, live alerts, analyst feedback, retrain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-baseline-'));
  try {
    const capture = resolve('samples/captures/synscan.pcapng');
    const flows = join(dir, 'flows.csv');
    await extractFlows([capture], flows);
    const model = join(dir, 'iforest.fsm');
    // a 20% false-positive target: the same capture then raises alerts for the analysts to judge
    await train(options([flows], { models: ['iforest'], targetFpr: 0.2, out: model }));

    const store = join(dir, 'alerts.duckdb');
    const service = await startService(loadConfig({ model, pcap: capture, store, sinks: [] }, undefined, {}), { http: false, store: true, keepAlive: false, log: () => undefined });
    const summary = await service.done;
    assert.ok(summary.engine.alertsRaised > 0, 'alerts on the baseline capture at a 20% target');
    const alerts = await AlertStore.open(store);
    const { alerts: raised } = await alerts.queryAlerts({ limit: 1000 });
    for (const a of raised) assert.ok(await alerts.addFeedback(a.id, 'false_positive'));
    await alerts.close();

    // retrain reads the unlabelled training file as baseline again (it stopped at "no label column" before) and
    // refits with the verdicts; alerts are aggregated per source, so this capture gives few feedback rows
    const retrained = join(dir, 'iforest-2.fsm');
    const result = await retrain({ model, store, out: retrained });
    assert.equal(result.feedback.falsePositives, raised.length);
    assert.equal(result.feedback.withoutInput, 0);
    assert.ok((result.after.test.fpr ?? 1) <= 0.3, `held-out false-positive rate near its 20% target: ${result.after.test.fpr}`);
    assert.equal((await loadModel(retrained)).meta.retrainedFrom?.feedbackRows, raised.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The feedback loop: detect → store → analyst feedback → retrain, on real CIC-IDS2017 data and a real attack capture.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/datasets.js';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { startService } from '../../src/detect/service.js';
import { loadConfig } from '../../src/serve/config.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { loadModel } from '../../src/store/model-file.js';
import { UserError } from '../../src/errors.js';

const cicDir = sharedFile('cic-ids2017');
const capture = sharedFile('pcaps/ddos/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng');

describe('retrain from feedback', { skip: (!cicDir || !capture) && 'shared datasets absent' }, () => {
  it('refits with the analysts verdicts, reports before/after and keeps the old model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-retrain-'));
    const model = join(dir, 'dt.fsm');
    const files = readdirSync(cicDir as string).filter((f) => f.endsWith('.csv')).map((f) => join(cicDir as string, f));
    await train({ files, task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 1, targetFpr: 0.01, out: model });
    const oldHash = createHash('sha256').update(readFileSync(model)).digest('hex');

    const store = join(dir, 'alerts.duckdb');
    const config = loadConfig({ model, pcap: capture, store, sinks: [] }, undefined, {});
    const service = await startService(config, { http: false, store: true, keepAlive: false, log: () => undefined });
    const summary = await service.done;
    assert.ok(summary.engine.alertsRaised > 5, `the attack capture raises alerts (${summary.engine.alertsRaised})`);

    const s = await AlertStore.open(store);
    const { alerts } = await s.queryAlerts({ limit: 1000 });
    for (const a of alerts) assert.ok(await s.addFeedback(a.id, 'false_positive'));
    await s.close();

    await assert.rejects(retrain({ model, store, out: model }), UserError, 'never overwrites the old model');
    const result = await retrain({ model, store, out: join(dir, 'dt-2.fsm') });
    assert.equal(result.feedback.falsePositives, alerts.length);
    assert.equal(result.feedback.withoutInput, 0, 'every new alert kept its flow input');
    assert.ok(result.before.feedbackAgreement < 0.5, `before: the model flagged these flows (${result.before.feedbackAgreement})`);
    assert.ok(result.after.feedbackAgreement > 0.9, `after: it learned the verdicts (${result.after.feedbackAgreement})`);
    assert.ok((result.after.test.accuracy ?? 0) > 0.95, 'and still detects the original attacks');
    assert.equal(createHash('sha256').update(readFileSync(model)).digest('hex'), oldHash, 'old model unchanged');
    const next = await loadModel(join(dir, 'dt-2.fsm'));
    assert.equal(next.meta.retrainedFrom?.feedbackRows, alerts.length);
  });
});

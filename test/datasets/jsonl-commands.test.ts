// Every command that reads data takes the JSON lines `extract` writes: inspect, train (anomaly and supervised),
// predict, evaluate and retrain --data; the old refusal ("data files are CSV") is gone. Truth: the same commands on the
// CSV extract writes of the same capture (the frames are the same, test/datasets/jsonl-frames.test.ts, so a model
// trained on one scores the other's rows alike), and the flows' own ports for the labels.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { storeFalsePositive } from '../helpers/feedback-store.js';

const CAPTURE = 'samples/captures/synscan.pcapng';

describe('commands read JSON-lines data', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-jsonl-commands-'));
    for (const ext of ['csv', 'jsonl']) assert.equal(cli(['extract', CAPTURE, '--out', join(dir, `flows.${ext}`)]).code, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('inspect reports the JSON lines as it reports the CSV', () => {
    const fromJson = cli(['inspect', join(dir, 'flows.jsonl'), '--json']);
    const fromCsv = cli(['inspect', join(dir, 'flows.csv'), '--json']);
    assert.equal(fromJson.code, 0, fromJson.stderr);
    const strip = (text: string): unknown => (JSON.parse(text) as { datasets: { files: unknown }[] }).datasets.map((r) => ({ ...r, files: [] }));
    assert.deepEqual(strip(fromJson.stdout), strip(fromCsv.stdout));
    assert.doesNotMatch(fromJson.stderr, /data files are CSV/);
  });

  it('extract .jsonl → train --task anomaly → predict on the .jsonl: the predictions of the .csv', () => {
    const model = join(dir, 'anomaly.fsm');
    const trained = cli(['train', join(dir, 'flows.jsonl'), '--task', 'anomaly', '--models', 'iforest', '--out', model, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    for (const ext of ['jsonl', 'csv']) {
      const r = cli(['predict', model, join(dir, `flows.${ext}`), '--out', join(dir, `preds-${ext}.csv`)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const fromJson = readFileSync(join(dir, 'preds-jsonl.csv'), 'utf8');
    assert.equal(fromJson.trimEnd().split('\n').length, 1 + 1994);
    assert.equal(fromJson, readFileSync(join(dir, 'preds-csv.csv'), 'utf8'));
    // predictions are not data: reading them back says what to give
    assert.equal(cli(['predict', model, join(dir, 'flows.jsonl'), '--out', join(dir, 'preds.jsonl')]).code, 0);
    const again = cli(['predict', model, join(dir, 'preds.jsonl')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /preds\.jsonl: holds predictions .* not flow rows/);
  });

  it('labelled JSON lines: train, evaluate and retrain --data', async () => {
    // a label key added to each of extract's lines (a port scan's probes to the low ports are the attack here)
    const lines = readFileSync(join(dir, 'flows.jsonl'), 'utf8').trimEnd().split('\n');
    const labelled = join(dir, 'labelled.jsonl');
    writeFileSync(labelled, `${lines.map((l) => JSON.stringify({ ...(JSON.parse(l) as object), label: (JSON.parse(l) as { dstPort: number }).dstPort < 1000 ? 'scan' : 'normal' })).join('\n')}\n`);
    const model = join(dir, 'dt.fsm');
    const trained = cli(['train', labelled, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', model, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    const evaluated = cli(['evaluate', model, labelled, '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.ok((JSON.parse(evaluated.stdout) as { test: { accuracy: number } }).test.accuracy > 0.9, evaluated.stdout);
    const store = join(dir, 'alerts.duckdb');
    await storeFalsePositive(store, { name: 'dt', file: model }, { 'Dst Port': 80, 'Flow Duration': 1000 });
    const retrained = cli(['retrain', '--model', model, '--store', store, '--data', labelled, '--out', join(dir, 'dt2.fsm'), '--json']);
    assert.equal(retrained.code, 0, retrained.stderr);
  });
});

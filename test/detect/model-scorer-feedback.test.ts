// An alert that a retrained model raises because of an analyst's confirmed verdict says so (Alert.decidedByFeedback),
// and a detector's keeps the explanation of its own score.
// Real data (skipped without ../shared/datasets): Isolation Forest (TreeSHAP) and LOF (occlusion) trained on
// CIC-IDS2017 benign flows, the hybrid on those and port-scan flows; the flows of a real web-browsing capture
// (http_espn.pcapng), on which none of them alerts. The capture's highest-scoring flow is confirmed as an attack in a
// store (as the dashboard records a verdict), the model is retrained, and the capture's flows, metered as `detect`
// meters them, are scored again (and replayed through `detect`). Independent truth: the flows' model inputs from
// `extract`, their distances computed here in the model's input space, the retrained model's file without its memory
// (what it alerts on alone), and the original model's explanations (it has no memory).

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { retrain } from '../../src/workflow/retrain.js';
import { fittedFromDocument, outputsOf } from '../../src/workflow/fitted.js';
import { loadModelFile, readModelInput } from '../../src/workflow/data.js';
import { explainRows } from '../../src/explain/index.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { canonicalFeatureName } from '../../src/datasets/cic-names.js';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import type { NumericColumn } from '../../src/frame/frame.js';
import type { Alert, FeatureContribution } from '../../src/detect/alert.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { ModelScorer } from '../../src/detect/model-scorer.js';
import { runPacketSource } from '../../src/detect/sources.js';
import { makeAlert } from './alert-fixtures.js';
import { cli } from '../helpers/cli.js';
import { sharedFile } from '../helpers/datasets.js';

const benign = sharedFile('cic-ids2017/BENIGN_5000.csv');
const portscan = sharedFile('cic-ids2017/Portscan_5000.csv');
const capture = sharedFile('pcaps/practical-packet-analysis/http_espn.pcapng');
const CONFIRMED_ID = 'analyst-confirmed-espn';

function rowOf(X: Matrix, i: number): Matrix {
  const m = createMatrix(1, X.cols, X.columns);
  m.data.set(X.data.subarray(i * X.cols, (i + 1) * X.cols));
  return m;
}

function distance(X: Matrix, i: number, j: number): number {
  let d = 0;
  for (let c = 0; c < X.cols; c++) d += (X.data[i * X.cols + c] - X.data[j * X.cols + c]) ** 2;
  return Math.sqrt(d);
}

/** A column of a CSV without quoted fields, as numbers. */
function csvColumn(path: string, name: string): number[] {
  const [header, ...rows] = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const k = header.split(',').indexOf(name);
  assert.ok(k >= 0, `column ${name}`);
  return rows.map((r) => Number(r.split(',')[k]));
}

describe('alerts raised by a confirmed verdict in the feedback memory', { skip: benign && portscan && capture ? false : 'shared datasets absent' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-decided-'));
  const flowsCsv = join(dir, 'espn.csv');
  const trainCsv = join(dir, 'benign.csv');
  const mixedCsv = join(dir, 'mixed.csv');
  before(() => {
    // the first 2,000 benign flows keep the fits quick; the hybrid's classifier also learns 500 port-scan flows
    const benignRows = readFileSync(benign!, 'utf8').split('\n').slice(0, 2001);
    writeFileSync(trainCsv, `${benignRows.join('\n')}\n`);
    writeFileSync(mixedCsv, `${[...benignRows, ...readFileSync(portscan!, 'utf8').split('\n').slice(1, 501)].join('\n')}\n`);
    const extracted = cli(['extract', capture!, '--out', flowsCsv]);
    assert.equal(extracted.code, 0, extracted.stderr);
  });

  // the hybrid's alerts are scored by its probabilities and explained with its memory: only the field is checked
  for (const [name, detector] of [['iforest', true], ['lof', true], ['hybrid', false]] as const) {
    it(`${name}: the raised alert names the confirmed alert and its distance${detector ? ", and explains the detector's own score" : ''}`, async () => {
      const model = join(dir, `${name}.fsm`);
      await train({ files: [detector ? trainCsv : mixedCsv], task: detector ? 'anomaly' : 'binary', models: [name], cv: 2, metric: 'f1', seed: 1, targetFpr: 0.01, out: model });
      const doc = await loadModelFile(model);
      const original = fittedFromDocument(doc, model);
      const flows = await readModelInput(doc, [flowsCsv], { format: doc.meta.format });
      const X = original.pipeline.transform(flows);
      const outputs = await outputsOf(original, X);
      const own = outputs.attackScore!;
      const threshold = original.threshold ?? (original.model as { threshold: number }).threshold;
      assert.ok(outputs.pred.every((p) => p === original.info.normal), 'no alert on the capture before retrain');

      // the analyst confirms the capture's highest-scoring flow: its model input, as the engine stores an alert's
      const confirmedRow = own.indexOf(Math.max(...own));
      const byName = new Map(flows.features.map((c) => [canonicalFeatureName(c.name), c as NumericColumn]));
      const input = Object.fromEntries(doc.schema.features.map((f) => [f.name, byName.get(canonicalFeatureName(f.name))!.values[confirmedRow]]));
      const storePath = join(dir, `${name}.duckdb`);
      const store = await AlertStore.open(storePath);
      store.putAlert(makeAlert({ id: CONFIRMED_ID, label: 'anomaly', model: { name, file: model, version: '0' } }), true, input);
      await store.flush();
      assert.ok(await store.addFeedback(CONFIRMED_ID, 'confirmed'));
      await store.close();
      const retrained = join(dir, `${name}-retrained.fsm`);
      // the hybrid is refitted without copies of the verdict (its default learns them), so its memory decides too
      const result = await retrain({ model, store: storePath, out: retrained, ...(detector ? {} : { feedbackWeight: 0 }) });
      const radius = result.feedback.feedbackMemory!.radius;
      const explained: { explanation: readonly FeatureContribution[]; expected: Promise<{ feature: string; contribution: number }[]> }[] = [];
      const expectedExplanation = async (row: number): Promise<{ feature: string; contribution: number }[]> => {
        const contrib = await explainRows(rowOf(X, row), { model: original.model, reference: original.reference, groups: original.groups });
        // largest contribution first, as alerts list them
        return Array.from(contrib.data, (c, j) => ({ feature: original.featureNames[j], contribution: c })).sort((a, b) => b.contribution - a.contribution);
      };

      // the capture's flows as detect meters them, scored by the retrained model
      const records: FlowRecord[] = [];
      await runPacketSource(capture!, (flow) => records.push(flow));
      assert.equal(records.length, flows.nRows);
      const scorer = await ModelScorer.load(retrained);
      const batch = await scorer.scoreBatch(records);
      assert.ok((await (await ModelScorer.load(model)).scoreBatch(records)).verdicts.every((v) => !v.isAlert && v.decidedByFeedback === undefined));
      const raised = batch.verdicts.flatMap((v, i) => (v.isAlert ? [i] : []));
      assert.ok(raised.length > 0, 'the confirmed flow alerts after retrain');
      const explanations = await batch.explain(raised);
      const srcPort = csvColumn(flowsCsv, 'Src Port');
      const dstPort = csvColumn(flowsCsv, 'Dst Port');
      // the retrained model without its memory: the alerts it raises alone are not the memory's
      const bare = await loadModelFile(retrained);
      delete bare.model.state.feedbackMemory;
      const alone = fittedFromDocument(bare, retrained);
      const alonePred = (await outputsOf(alone, alone.pipeline.transform(flows))).pred;
      let decidedCount = 0;
      raised.forEach((i, k) => {
        const v = batch.verdicts[i];
        const decided = v.decidedByFeedback;
        const row = srcPort.findIndex((p, r) => p === records[i].srcPort && dstPort[r] === records[i].dstPort);
        assert.ok(row >= 0, `flow ${records[i].srcPort} -> ${records[i].dstPort} among the extracted flows`);
        if (alonePred[row] !== alone.info.normal) {
          assert.equal(decided, undefined, 'an alert the model raises alone is not the memory\'s');
          return;
        }
        decidedCount++;
        assert.ok(decided, 'the verdict says the feedback decided it');
        assert.equal(decided.verdict, 'confirmed');
        assert.equal(decided.alertId, CONFIRMED_ID);
        assert.equal(decided.feedbackRow, 0);
        assert.equal(decided.radius, radius);
        if (detector) assert.equal(v.score, threshold, 'scored at the threshold');
        assert.ok(Math.abs(decided.distance - distance(X, row, confirmedRow)) <= 1e-6 * radius, `distance ${decided.distance} vs ${distance(X, row, confirmedRow)}`);
        assert.ok(decided.distance <= radius);
        if (detector) explained.push({ explanation: explanations[k], expected: expectedExplanation(row) });
      });
      assert.ok(decidedCount > 0, 'the memory raised the confirmed flow');
      for (const { explanation, expected } of explained) {
        // the original detector's explanation (it has no memory) of the flow's own score
        const top = (await expected).slice(0, explanation.length);
        assert.deepEqual(explanation.map((e) => e.feature), top.map((e) => e.feature));
        explanation.forEach((e, k) => assert.ok(Math.abs(e.contribution - top[k].contribution) <= 1e-9 * Math.max(1, Math.abs(top[k].contribution))));
      }

      // through detect: a new alert that opens an aggregate of one flow carries the field into the record
      const sink = join(dir, `${name}-after.jsonl`);
      const after = cli(['detect', '--pcap', capture!, '--model', retrained, '--sink', `file:${sink}`]);
      assert.equal(after.code, 0, after.stderr);
      const alerts = readFileSync(sink, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Alert);
      for (const alert of alerts.filter((a) => a.count === 1)) assert.equal(alert.decidedByFeedback?.alertId, CONFIRMED_ID);
    });
  }
});

// `flowsentry info` in words: which columns of the training data are not model inputs and why, and where the test
// rows came from. Hand-made data: a timestamp (identifier), x, a constant column, a copy of x and the label. A file
// this build cannot use shows the same details as a usable one (one field list serves both).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { infoText, modelInfo } from '../../src/workflow/info.js';
import { decodeModel, encodeModel } from '../../src/store/model-file.js';

test('info names the dropped columns by reason and the hold-out in words', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-info-'));
  const lines = ['Timestamp,x,k,x_copy,label'];
  for (let s = 0; s < 40; s++) lines.push(`2026-01-01 00:00:${String(s).padStart(2, '0')},${s % 7},7,${s % 7},${s % 7 > 3 ? 'attack' : 'normal'}`);
  const data = join(dir, 'd.csv');
  writeFileSync(data, `${lines.join('\n')}\n`);
  const model = join(dir, 'dt.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, split: 'time', out: model });
  const text = infoText(await modelInfo(model)).split('\n');
  assert.ok(text.includes('tested on 8 rows (the latest 20% of the training files by time)'), text.join('\n'));
  assert.ok(text.includes('features (1 inputs → 1 model columns): x'), text.join('\n'));
  assert.ok(text.includes('not inputs: Timestamp (identifier); label (label); k (constant); x_copy (duplicate)'), text.join('\n'));
});

test('a file this build cannot use shows every detail a usable one shows, retrain origin included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-info-'));
  const lines = ['x,y,label'];
  for (let s = 0; s < 40; s++) lines.push(`${s % 7},${s % 5},${s % 7 > 3 ? 'attack' : 'normal'}`);
  const data = join(dir, 'd.csv');
  writeFileSync(data, `${lines.join('\n')}\n`);
  const model = join(dir, 'dt.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
  const doc = decodeModel(readFileSync(model), model);
  const retrained = { ...doc, meta: { ...doc.meta, retrainedFrom: { model: 'old.fsm', store: 'alerts.duckdb', feedbackRows: 12, feedbackWeight: 5 } } };
  const usable = join(dir, 'retrained.fsm');
  writeFileSync(usable, encodeModel(retrained));
  // the same document with a pipeline step of another layout
  const pipeline = structuredClone(retrained.pipeline) as { steps: Record<string, unknown>[] };
  delete pipeline.steps[0]!.log;
  const unusable = join(dir, 'unusable.fsm');
  writeFileSync(unusable, encodeModel({ ...retrained, pipeline } as typeof retrained));
  const { usable: yes, problem: none, file: _a, bytes: _b, ...shown } = await modelInfo(usable);
  const { usable: no, problem, file: _c, bytes: _d, ...read } = await modelInfo(unusable);
  assert.deepEqual([yes, none, no], [true, null, false]);
  assert.match(String(problem), /'steps\[0\]\.log' is missing/);
  assert.deepEqual(read, shown);
  assert.ok(infoText(await modelInfo(unusable)).includes('retrained from old.fsm with 12 feedback rows of the store alerts.duckdb (each counted 5 times)'));
});

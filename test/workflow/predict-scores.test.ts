// predict writes probabilities as the shortest decimal of their float32 value ("0.94", not "0.9399999976158142"),
// and leaves float64 scores (detectors' anomaly scores) as they are. Hand-made data with overlapping classes, so a
// random forest's probabilities are fractions of its 100 trees. Infinite values are written as in the CSV.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { predict } from '../../src/workflow/predict.js';

test('predict --out .jsonl: probability scores have at most 8 significant digits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-predict-scores-'));
  const lines = ['x,y,label'];
  for (let i = 0; i < 200; i++) lines.push(`${i % 17},${(i * 7) % 13},${(i * 31) % 5 < 2 ? 'attack' : 'normal'}`);
  const data = join(dir, 'd.csv');
  writeFileSync(data, `${lines.join('\n')}\n`);
  const model = join(dir, 'rf.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['rf'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
  const out = join(dir, 'p.jsonl');
  await predict(model, [data], { label: 'label', explain: false }, { path: out });
  const text = readFileSync(out, 'utf8');
  const scores = [...text.matchAll(/"(?:score|attack_score)":([0-9.e-]+)/g)].map((m) => m[1]);
  assert.equal(scores.length, 400);
  let fractional = 0;
  for (const s of scores) {
    const digits = s.replace(/^0\.0*/, '').replace('.', '');
    assert.ok(digits.length <= 8, `${s} is printed with float64 noise`);
    if (!Number.isInteger(Number(s))) fractional++;
  }
  assert.ok(fractional > 0, 'the data gives the forest fractional probabilities to print');
});

test('predict --out .jsonl writes an infinite feature value as "Infinity", as the CSV does (it wrote null)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-predict-infinity-'));
  const lines = ['a,b,label'];
  for (let i = 0; i < 120; i++) {
    const attack = i % 3 === 0;
    lines.push(`${attack && i % 2 === 0 ? 'Infinity' : (i % 7) + (attack ? 50 : 0)},${i % 5},${attack ? 'attack' : 'normal'}`);
  }
  const data = join(dir, 'd.csv');
  writeFileSync(data, `${lines.join('\n')}\n`);
  const model = join(dir, 'dt.fsm');
  await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
  const jsonl = join(dir, 'p.jsonl');
  const csv = join(dir, 'p.csv');
  await predict(model, [data], { label: 'label' }, { path: jsonl });
  await predict(model, [data], { label: 'label' }, { path: csv });
  const first = JSON.parse(readFileSync(jsonl, 'utf8').split('\n')[0]!);
  assert.equal(first.top_features[0].feature, 'a');
  assert.equal(first.top_features[0].value, 'Infinity');
  assert.equal(readFileSync(csv, 'utf8').split('\n')[1]!.split(',')[6], 'Infinity');
});

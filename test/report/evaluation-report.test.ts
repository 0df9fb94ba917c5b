// The report of `evaluate`: a saved model scored on new files is titled an evaluation (it said "training report" and
// "saved to"), shows no fit time, and its class table gives the evaluated rows per class with no made-up zero
// training counts (the model file keeps its training row total, not rows per class).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { evaluate } from '../../src/workflow/evaluate.js';

test('evaluate --report: an evaluation heading, the evaluated rows per class, no training counts or fit time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-eval-report-'));
  const rows = (xs: number[]): string => `x,label\n${xs.map((x) => `${x},${x >= 10 ? 'attack' : 'normal'}`).join('\n')}\n`;
  const trainFile = join(dir, 'train.csv');
  writeFileSync(trainFile, rows(Array.from({ length: 40 }, (_, i) => i % 20)));
  const model = join(dir, 'dt.fsm');
  await train({ files: [trainFile], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
  const newFile = join(dir, 'new.csv');
  writeFileSync(newFile, rows([0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14])); // 7 normal, 5 attack
  const report = join(dir, 'eval.html');
  await evaluate(model, [newFile], { label: 'label', report });
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<h1>Flowsentry evaluation report<\/h1>/);
  assert.doesNotMatch(html, /training report|saved to/);
  assert.match(html, /evaluated on 12 rows/);
  assert.match(html, /<tr><td class="l">normal<\/td><td>–<\/td><td>7<\/td><\/tr><tr><td class="l">attack<\/td><td>–<\/td><td>5<\/td><\/tr>/);
  const leaderboardRow = /<tbody><tr class="best">(.*?)<\/tr>/.exec(html)?.[1] ?? '';
  const cells = [...leaderboardRow.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
  assert.equal(cells[3], '1.0000', 'test accuracy: the tree learned x >= 10');
  assert.equal(cells[12], '–', 'no fit time for a model that was not fitted here');
});

test("evaluate --report counts the model's input features, not the file's columns, and names the columns it did not use", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-eval-features-'));
  const trainFile = join(dir, 'train.csv');
  writeFileSync(trainFile, `x,y,label\n${Array.from({ length: 40 }, (_, i) => `${i % 20},${i % 3},${i % 20 >= 10 ? 'attack' : 'normal'}`).join('\n')}\n`);
  const model = join(dir, 'dt.fsm');
  await train({ files: [trainFile], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
  const wide = join(dir, 'wide.csv');
  writeFileSync(wide, `extra1,x,extra2,y,extra3,label\n${Array.from({ length: 20 }, (_, i) => `7,${i},a${i % 2},${i % 3},1.5,${i >= 10 ? 'attack' : 'normal'}`).join('\n')}\n`);
  const report = join(dir, 'eval.html');
  const result = await evaluate(model, [wide], { label: 'label', report });
  assert.equal(result.dataset.features, 2);
  assert.deepEqual(result.dataset.unusedColumns, ['extra1', 'extra2', 'extra3']);
  const html = readFileSync(report, 'utf8');
  assert.match(html, /2 input features \(the model's\); 2 model columns after preprocessing\./);
  assert.match(html, /Columns of the data the model does not use: <code>extra1<\/code>, <code>extra2<\/code>, <code>extra3<\/code>\./);
  assert.doesNotMatch(html, /5 input features/);
});

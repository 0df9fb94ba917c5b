// `flowsentry info` in words: which columns of the training data are not model inputs and why, and where the test
// rows came from. Hand-made data: a timestamp (identifier), x, a constant column, a copy of x and the label.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { infoText, modelInfo } from '../../src/workflow/info.js';

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

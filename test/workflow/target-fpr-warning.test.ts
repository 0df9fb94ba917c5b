// `train` says when a threshold's held-out normal rows are too few for the false-positive rate it targets: n rows
// promise at best 1 / (n + 1) (the split-conformal threshold then sits above every one of them). A detector holds out
// 20% of the normal training rows for --target-fpr; the hybrid its own `holdout` share for its `target_fpr`.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';

/** n rows, every fourth an attack: normal rows near (100, 5), attacks near (900, 50). */
function flowsCsv(n: number): string {
  const lines = ['bytes,packets,verdict'];
  for (let i = 0; i < n; i++) {
    const attack = i % 4 === 0;
    lines.push(`${(attack ? 900 : 100) + ((i * 37) % 50)},${(attack ? 50 : 5) + (i % 3)},${attack ? 'attack' : 'normal'}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('train: a target FPR the held-out normal rows cannot promise', () => {
  let file: string;
  before(() => {
    file = join(mkdtempSync(join(tmpdir(), 'fs-fpr-warning-')), 'flows.csv');
    writeFileSync(file, flowsCsv(400));
  });

  async function warnings(models: string[], targetFpr: number, params?: Record<string, Record<string, number>>): Promise<string[]> {
    const lines: string[] = [];
    await train({ files: [file], label: 'verdict', task: 'binary', models, cv: 2, metric: 'f1', seed: 0, targetFpr, split: 'stratified', params, warn: (l) => lines.push(l) });
    return lines;
  }

  it('warns for a detector, naming the rows it has and needs', async () => {
    // 400 rows, 80% train: 240 normal, 48 held out; 1% needs 99, 5% needs 19
    assert.deepEqual(await warnings(['iforest'], 0.01), [
      'iforest: 48 held-out normal rows cannot promise a 1% false-positive rate (that takes 99, i.e. about 495 normal training rows); its threshold sits above every held-out score, so it alerts only on rows beyond all of them (at most about 2% of normal rows, and fewer attacks)',
    ]);
    assert.deepEqual(await warnings(['iforest'], 0.05), []);
  });

  it('warns for the hybrid by its own target_fpr and holdout, not --target-fpr; never for a classifier', async () => {
    const [line] = await warnings(['hybrid'], 0.05, { hybrid: { target_fpr: 0.01 } });
    assert.match(line ?? '', /^hybrid: 48 held-out normal rows cannot promise a 1% false-positive rate \(that takes 99,/);
    assert.deepEqual(await warnings(['hybrid', 'dt'], 0.01, { hybrid: { target_fpr: 0.05 } }), []);
  });
});

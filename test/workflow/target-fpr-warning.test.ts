// `train` says when a threshold's held-out normal rows are too few for the false-positive rate it targets: n rows
// promise at best 1 / (n + 1) (the split-conformal threshold then sits above every one of them). A detector holds out
// 20% of the normal training rows for --target-fpr; the hybrid its own `holdout` share for its `target_fpr`. It also
// says when the test rows' normal traffic alerts far above that rate: it then differs from the training rows'.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { Rng } from '../../src/util/rng.js';

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

describe('train: test rows whose normal traffic alerts far above the target', () => {
  /** Unlabelled rows (baseline traffic) of a Gaussian around `centre` in both columns. */
  function gaussianCsv(dir: string, name: string, rows: number, centre: number, seed: number): string {
    const rng = new Rng(seed);
    const lines = ['bytes,packets'];
    for (let i = 0; i < rows; i++) lines.push(`${(centre + rng.normal()).toFixed(4)},${(centre + rng.normal()).toFixed(4)}`);
    const file = join(dir, name);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  it('warns with the measured and the targeted rate when the test normals moved, not when they did not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-fpr-shift-'));
    const trainFile = gaussianCsv(dir, 'train.csv', 2000, 10, 1);
    const run = async (test: string): Promise<string[]> => {
      const lines: string[] = [];
      await train({ files: [trainFile], test: [test], task: 'anomaly', models: ['iforest'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.02, warn: (l) => lines.push(l) });
      return lines.filter((l) => !l.startsWith('the training rows hold no attacks'));
    };
    // the same distribution: the test rate stays near 2%
    assert.deepEqual(await run(gaussianCsv(dir, 'same.csv', 1000, 10, 2)), []);
    // moved by two standard deviations: most rows alert
    const [line, ...rest] = await run(gaussianCsv(dir, 'moved.csv', 1000, 12, 3));
    assert.deepEqual(rest, []);
    assert.match(line ?? '', /^iforest: [0-9.]+% of the 1000 normal test rows alert, against the 2% its threshold targets: the normal traffic of the --test files differs from the training rows'/);
  });
});

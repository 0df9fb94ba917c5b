// A classifier needs two classes in the training rows and in every cross-validation fold's: `train` says so in one
// line before fitting, instead of every candidate failing with the same reason in one long line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { train, type TrainOptions } from '../../src/workflow/train.js';

/** A CSV of `labels.length` rows with two numeric columns. */
function dataset(dir: string, name: string, labels: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `a,b,label\n${labels.map((l, i) => `${i % 7},${(i * 3) % 11},${l}`).join('\n')}\n`);
  return file;
}

async function failure(o: Partial<TrainOptions> & { files: string[] }): Promise<string> {
  const logged: string[] = [];
  try {
    await train({ label: 'label', task: 'binary', models: ['dt', 'rf'], cv: 3, metric: 'f1', seed: 0, targetFpr: 0.01, log: (l) => logged.push(l), ...o });
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    assert.ok(!logged.some((l) => l.startsWith('cross-validating')), 'fails before any fitting');
    return err.message;
  }
  return 'no error';
}

test('one class in the training rows: one line that points to --task anomaly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-classes-'));
  try {
    const normal = dataset(dir, 'normal.csv', Array.from({ length: 60 }, () => 'normal'));
    const expected = "the training rows hold a single class ('normal'); a classifier needs at least two (detectors learn from normal rows alone: --task anomaly)";
    assert.equal(await failure({ files: [normal] }), expected);
    assert.equal(await failure({ files: [normal], task: 'multiclass' }), expected);
    // the detectors of --task anomaly, and detectors asked for by name, still train on it (48 normal training rows:
    // 3 folds of 32, 5 held out in each, test/workflow/small-data-detectors.test.ts)
    const anomaly = await train({ files: [normal], label: 'label', task: 'anomaly', models: ['iforest'], cv: 3, metric: 'f1', seed: 0, targetFpr: 0.01 });
    assert.equal(anomaly.result.best, 'iforest');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second class of one row: the fold that validates it would fit on one class', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-classes-'));
  try {
    const labels = Array.from({ length: 60 }, (_, i) => (i === 5 ? 'attack' : 'normal'));
    assert.equal(
      await failure({ files: [dataset(dir, 'one-attack.csv', labels)] }),
      "only 'normal' has more than one training row ('attack': 1 row); a cross-validation fold fits without the rows it validates, so it would hold a single class: give more rows of another class (detectors learn from normal rows alone: --task anomaly)",
    );
    // two rows of it (one kept in training by the hold-out, one more) train
    labels[40] = 'attack';
    labels[41] = 'attack';
    const trained = await train({ files: [dataset(dir, 'three-attacks.csv', labels)], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01 });
    assert.equal(trained.result.best, 'dt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

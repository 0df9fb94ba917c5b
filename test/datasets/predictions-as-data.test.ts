// The predictions `predict --out` writes, given back to train as data: their `label` column is the predicted label,
// so training on them "learns" the model's own output (f1 1.0). Both forms, CSV and JSON lines, are refused with one
// line naming the file, what it is and what to give. Truth: the files the real predict command writes, labelled
// (true_label column) and not, and a CSV whose header merely shares some of those names, which is still data.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { csvHeader } from '../../src/workflow/predict.js';

const DATA = 'samples/nsl-kdd/KDDTrain+_sample.txt';
const refusal = (file: string, written: string): string =>
  `flowsentry: ${file}: holds predictions (the ${written} \`flowsentry predict --out\` writes), not flow rows: give the flows themselves (the CSV or JSON lines of \`extract\` or \`collect\`)\n`;

describe('predictions given back as data', () => {
  let dir: string;
  let model: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-predictions-as-data-'));
    model = join(dir, 'm.fsm');
    const trained = cli(['train', DATA, '--format', 'nsl-kdd', '--models', 'dt', '--cv', '2', '--out', model, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const ext of ['csv', 'jsonl']) {
    it(`train refuses predict's ${ext}, as predict, evaluate and inspect do`, () => {
      const predictions = join(dir, `p.${ext}`);
      assert.equal(cli(['predict', model, DATA, '--format', 'nsl-kdd', '--out', predictions]).code, 0);
      if (ext === 'csv') assert.equal(readFileSync(predictions, 'utf8').split('\n')[0] + '\n', csvHeader(true));
      const written = ext === 'csv' ? 'CSV' : 'lines';
      for (const args of [['train', predictions], ['train', predictions, '--task', 'anomaly'], ['predict', model, predictions], ['evaluate', model, predictions], ['inspect', predictions]]) {
        const r = cli(args);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
        assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('flowsentry:')).join('\n') + '\n', refusal(predictions, written), args.join(' '));
        assert.equal(r.stdout, '');
      }
    });
  }

  it('unlabelled predictions (no true_label column) and predictions on stdout are refused too', () => {
    const unlabelled = join(dir, 'unlabelled.csv');
    const rows = ['bytes,packets'];
    for (let i = 0; i < 60; i++) rows.push(`${100 + ((i * 37) % 50)},${1 + (i % 4)}`);
    writeFileSync(unlabelled, `${rows.join('\n')}\n`);
    const baseline = join(dir, 'baseline.fsm');
    const trained = cli(['train', unlabelled, '--task', 'anomaly', '--models', 'iforest', '--out', baseline, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    const predicted = cli(['predict', baseline, unlabelled]);
    assert.equal(predicted.code, 0, predicted.stderr);
    assert.equal(predicted.stdout.split('\n')[0] + '\n', csvHeader(false));
    const saved = join(dir, 'stdout.csv');
    writeFileSync(saved, predicted.stdout);
    const r = cli(['train', saved]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stdout\.csv: holds predictions \(the CSV `flowsentry predict --out` writes\)/);
  });

  it('a CSV that only shares some of those column names is data', () => {
    const file = join(dir, 'scores.csv');
    const lines = ['row,label,score,attack_score,feature_1,value_1'];
    for (let i = 0; i < 40; i++) lines.push(`${i},${i % 2 ? 'attack' : 'normal'},${i % 2},${(i % 2) + (i % 7) / 10},${i % 5},${i % 3}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = cli(['train', file, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', join(dir, 'scores.fsm'), '--json']);
    assert.equal(r.code, 0, r.stderr);
  });
});

// `train --param MODEL.NAME=VALUE` (and --models) as a person types it: the value reaches the saved model (numbers, true/false, null,
// text), `--tune` searches only the parameters not set, and every mistake is one line before any work (exit 2 for a
// malformed or misplaced --param, 1 for a value the model's rules refuse).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { loadModel } from '../../src/store/model-file.js';
import { train } from '../../src/workflow/train.js';
import { Rng } from '../../src/util/rng.js';

describe('train --param', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-train-param-'));
  const data = join(dir, 'flows.csv');
  before(() => {
    const rng = new Rng(3);
    const rows = Array.from({ length: 120 }, (_, i) => (i < 80 ? `${rng.next().toFixed(3)},${rng.next().toFixed(3)},normal` : `${(2 + rng.next()).toFixed(3)},${rng.next().toFixed(3)},attack`));
    writeFileSync(data, `bytes,duration,label\n${rows.join('\n')}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sets the parameters of the saved model, typed as the model expects', async () => {
    const out = join(dir, 'rf.fsm');
    const r = cli(['train', data, '--models', 'rf', '--cv', '2', '--out', out, '--param', 'rf.n_estimators=7', '--param', 'rf.max_depth=none', '--param', 'rf.bootstrap=false', '--param', 'rf.max_features=log2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const params = (await loadModel(out)).meta.params;
    assert.equal(params.n_estimators, 7);
    assert.equal(params.max_depth, null);
    assert.equal(params.bootstrap, false);
    assert.equal(params.max_features, 'log2');
  });

  it('reads decimal numbers in every notation a data file may hold them', async () => {
    const out = join(dir, 'decimals.fsm');
    const r = cli(['train', data, '--models', 'rf', '--cv', '2', '--out', out, '--param', 'rf.n_estimators=+6E0', '--param', 'rf.max_features= 2. ', '--param', 'rf.min_samples_leaf=.3e1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const params = (await loadModel(out)).meta.params;
    assert.equal(params.n_estimators, 6);
    assert.equal(params.max_features, 2);
    assert.equal(params.min_samples_leaf, 3);
  });

  it('with --tune, searches only the parameters not set', async () => {
    const { result } = await train({ files: [data], task: 'binary', models: ['rf'], params: { rf: { max_depth: 3 } }, cv: 2, tune: 'grid', metric: 'f1', seed: 0, targetFpr: 0.01 });
    const trials = result.candidates[0].trials;
    assert.ok(trials.length > 1, 'a search ran');
    assert.ok(trials.every((t) => t.params.max_depth === 3), JSON.stringify(trials.map((t) => t.params)));
    assert.ok(new Set(trials.map((t) => t.params.n_estimators)).size > 1, 'the other parameters vary');
  });

  it('one line, before any work, for each mistake', () => {
    const cases: [string[], number, RegExp][] = [
      [['--param', 'rfn_estimators'], 2, /--param expects MODEL\.NAME=VALUE \(e\.g\. rf\.n_estimators=200\), got 'rfn_estimators'/],
      [['--param', 'gbdt.max_iter=5'], 2, /--param sets gbdt, which is not among the models to train \(rf\)/],
      [['--param', 'rf.n_estimators=3', '--param', 'rf.n_estimators=4'], 2, /--param sets rf\.n_estimators twice/],
      [['--param', 'rf.n_estimators=0'], 1, /rf: parameter n_estimators=0 is out of range; accepted: an integer in \[1, inf\)/],
      [['--param', 'rf.trees=5'], 1, /rf has no parameter 'trees'; its parameters: n_estimators, /],
      [['--models', 'rf,dt,rf'], 2, /--models names rf twice/],
      // numbers as the data readers read them: hex, octal, binary and blanks are not numbers here either
      [['--param', 'rf.n_estimators=0x10'], 2, /--param rf\.n_estimators=0x10: '0x10' is not a decimal number; values are decimal numbers \(200, 0\.5, 1e-3, inf\), true, false, null \(or none\), or text$/],
      [['--param', 'rf.n_estimators=0o17'], 2, /'0o17' is not a decimal number/],
      [['--param', 'rf.n_estimators=0B11'], 2, /'0B11' is not a decimal number/],
      [['--param', 'rf.max_depth=  '], 2, /--param rf\.max_depth=: has no value; values are decimal numbers/],
      [['--param', 'rf.n_estimators=1e999'], 1, /rf: parameter n_estimators=Infinity is out of range; accepted: an integer in \[1, inf\)$/],
      [['--param', 'rf.n_estimators=-inf'], 1, /rf: parameter n_estimators=-Infinity is out of range/],
      [['--param', 'rf.n_estimators=NaN'], 1, /rf: parameter n_estimators="NaN" is out of range/],
    ];
    for (const [args, code, line] of cases) {
      const r = cli(['train', data, '--models', 'rf', '--out', join(dir, 'never.fsm'), ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], line);
    }
  });
});

// A detector holds out 20% of its normal training rows to set its threshold and needs at least 5 of them, in the
// final fit and in every CV fold alike. Before, CV accepted folds with 1–4 held-out rows, so a detector passed CV and
// then failed the final fit ("no candidate could be trained" for a small baseline). Now it is either trained or
// refused before the search with one line saying how many normal rows there are and how many it needs, and the other
// candidates still train. Truth, by hand: with k stratified folds a fold trains on n − ⌈n/k⌉ of the n normal rows,
// so 5 held-out rows (⌊0.2 m⌋ ≥ 5 ⇔ m ≥ 25) need n − ⌈n/2⌉ ≥ 25 ⇔ n ≥ 50 for --cv 2 and n − ⌈n/5⌉ ≥ 25 ⇔ n ≥ 32
// for --cv 5 (31 − 7 = 24, 32 − 7 = 25).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { UserError } from '../../src/errors.js';
import { evaluateCandidates } from '../../src/eval/cross-validate.js';
import { createMatrix } from '../../src/frame/matrix.js';
import { Rng } from '../../src/util/rng.js';
import { train } from '../../src/workflow/train.js';

/** A labelled CSV: `normal` rows around 0, `attacks` rows around 5, two numeric columns. */
function labelled(file: string, normal: number, attacks: number, seed: number): string {
  const rng = new Rng(seed);
  const lines = ['a,b,label'];
  for (let i = 0; i < normal; i++) lines.push(`${rng.normal().toFixed(4)},${rng.normal().toFixed(4)},normal`);
  for (let i = 0; i < attacks; i++) lines.push(`${(5 + rng.normal()).toFixed(4)},${(5 + rng.normal()).toFixed(4)},attack`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

interface Candidate {
  name: string;
  error?: string | null;
  test: unknown;
}

describe('detectors on small data', () => {
  let dir: string;
  let test: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-small-detectors-'));
    test = labelled(join(dir, 'test.csv'), 30, 30, 9);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (normal: number, cv: number): { code: number; stderr: string; candidates: Candidate[] } => {
    const file = labelled(join(dir, `train-${normal}.csv`), normal, 20, normal);
    const r = cli(['train', file, '--test', test, '--label', 'label', '--models', 'dt,iforest', '--cv', String(cv), '--out', join(dir, `m-${normal}.fsm`), '--json']);
    return { code: r.code, stderr: r.stderr, candidates: r.code === 0 ? (JSON.parse(r.stdout) as { candidates: Candidate[] }).candidates : [] };
  };

  for (const [cv, needed] of [[2, 50], [5, 32]]) {
    it(`--cv ${cv}: ${needed} normal training rows train the detector, ${needed - 1} refuse it up front and dt still trains`, () => {
      const enough = run(needed, cv);
      assert.equal(enough.code, 0, enough.stderr);
      const trained = enough.candidates.find((c) => c.name === 'iforest');
      assert.equal(trained?.error ?? null, null, enough.stderr);
      assert.ok(trained?.test, 'iforest evaluated on the test rows');
      assert.doesNotMatch(enough.stderr, /too few normal rows/);

      const short = run(needed - 1, cv);
      assert.equal(short.code, 0, short.stderr);
      const line = `iforest: too few normal rows: the training rows hold ${needed - 1}, a detector needs ${needed} (5 held out to set its threshold, in the final fit and in each of the ${cv} CV folds)`;
      assert.ok(short.stderr.split('\n').includes(`flowsentry: warning: ${line}; not trained`), short.stderr);
      assert.doesNotMatch(short.stderr, /cross-validating dt, iforest/);
      assert.equal(short.candidates.find((c) => c.name === 'iforest')?.error, line);
      assert.equal(short.candidates.find((c) => c.name === 'dt')?.error ?? null, null);
    });
  }

  it('a 22-row baseline (--task anomaly) is one line naming both counts, exit 1', () => {
    const rng = new Rng(3);
    const lines = ['bytes,packets', ...Array.from({ length: 22 }, () => `${(500 + 50 * rng.normal()).toFixed(1)},${3 + Math.floor(4 * rng.next())}`)];
    const file = join(dir, 'baseline.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = cli(['train', file, '--task', 'anomaly', '--models', 'iforest,ecod', '--out', join(dir, 'b.fsm')]);
    assert.equal(r.code, 1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('flowsentry: ') && !l.startsWith('flowsentry: warning:'));
    // 22 rows, a stratified 20% hold-out (5 rows): 17 training rows
    assert.deepEqual(errors, ['flowsentry: iforest, ecod: too few normal rows: the training rows hold 17, a detector needs 32 (5 held out to set its threshold, in the final fit and in each of the 5 CV folds)']);
    assert.doesNotMatch(r.stderr, /no candidate could be trained/);
  });

  it('the library call refuses the same way before any fit', async () => {
    const file = labelled(join(dir, 'lib.csv'), 24, 10, 4);
    await assert.rejects(
      train({ files: [file], test: [test], label: 'label', task: 'binary', models: ['iforest'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01 }),
      (err: unknown) => err instanceof UserError && err.message === 'iforest: too few normal rows: the training rows hold 24, a detector needs 50 (5 held out to set its threshold, in the final fit and in each of the 2 CV folds)',
    );
  });

  it('cross-validation fails a detector on a fold with fewer than 5 held-out normal rows, as the final fit does', async () => {
    const rng = new Rng(5);
    // 40 normal rows, 10 attacks, 2 folds: each fold trains on 20 normal rows, ⌊0.2 · 20⌋ = 4 held out
    const rows = 50;
    const X = createMatrix(rows, 2, ['a', 'b'], Float32Array.from({ length: rows * 2 }, (_, i) => (i >= 80 ? 5 : 0) + rng.normal()));
    const y = { codes: Int32Array.from({ length: rows }, (_, i) => (i < 40 ? 0 : 1)), classes: ['normal', 'attack'] };
    const options = { folds: 2, seed: 0, parallel: 'sequential' as const, detectorThreshold: { targetFpr: 0.05, calibrationFraction: 0.2 } };
    const short = await evaluateCandidates({ X, y }, [{ model: 'iforest', params: { random_state: 0 } }], options);
    assert.equal(short.candidates[0].foldsDone, 0);
    assert.match(short.candidates[0].error ?? '', /^iforest: needs 5 held-out normal rows to set its threshold; cross-validation fold 1 has 20 normal training rows, which give 4$/);
    // 50 normal rows: 25 per fold, 5 held out
    const X50 = createMatrix(60, 2, ['a', 'b'], Float32Array.from({ length: 120 }, (_, i) => (i >= 100 ? 5 : 0) + rng.normal()));
    const y50 = { codes: Int32Array.from({ length: 60 }, (_, i) => (i < 50 ? 0 : 1)), classes: ['normal', 'attack'] };
    const enough = await evaluateCandidates({ X: X50, y: y50 }, [{ model: 'iforest', params: { random_state: 0 } }], options);
    assert.equal(enough.candidates[0].error, undefined);
    assert.equal(enough.candidates[0].foldsDone, 2);
  });
});

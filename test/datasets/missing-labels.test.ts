// Label cells that pandas' read_csv reads as missing ('NaN', 'N/A', 'null', ...; here case-insensitive, as a user
// spells them) are missing labels in every format: the empty-label error advising --skip-bad-rows, or with it skipped
// and counted as 'empty label'; never a class (they were, and the binary view counted them as attacks). The truth is
// pandas' default na_values list (pandas.read_csv documentation), written out here, not taken from the code.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { labelView } from '../../src/datasets/label-views.js';
import { inspectFiles } from '../../src/datasets/inspect.js';
import { UserError } from '../../src/errors.js';
import { train } from '../../src/workflow/train.js';
import { predict, type PredictionRecord } from '../../src/workflow/predict.js';
import { cli } from '../helpers/cli.js';

const PANDAS_NA = ['#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null'];
/** Spellings a user writes that differ from pandas' only in case or surrounding blanks. */
const OTHER_CASES = ['Null', 'NONE', ' nan ', 'Na', '   '];
const MISSING = [...PANDAS_NA, ...OTHER_CASES];

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-missing-labels-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** 200 labelled rows, then one row per missing spelling (label column last). */
function genericRows(): { text: string; normal: number; attack: number } {
  const lines = ['a,b,label'];
  let normal = 0;
  let attack = 0;
  for (let i = 0; i < 200; i++) {
    const isAttack = i % 3 === 0;
    lines.push(`${(i % 10) + (isAttack ? 20 : 0)},${i % 7},${isAttack ? 'attack' : 'normal'}`);
    if (isAttack) attack++;
    else normal++;
  }
  MISSING.forEach((m, k) => lines.push(`${k % 10},${k % 7},${m}`));
  return { text: `${lines.join('\n')}\n`, normal, attack };
}

describe('missing-label spellings', () => {
  it('generic CSV: one error line advising --skip-bad-rows; with it, skipped and counted, no class made of them', async () => {
    const { text, normal, attack } = genericRows();
    const file = join(dir, 'generic.csv');
    writeFileSync(file, text);
    await assert.rejects(loadDataset([file], { label: 'label' }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message.split('\n').length, 1);
      // the first of them is data row 200: line 202 after the header
      assert.match(e.message, new RegExp(`generic\\.csv, line 202, column 'label': ${MISSING.length} rows have an empty 'label' label \\('#N/A', .*'NaN', .*: missing, as pandas reads them\\), the first here; use --skip-bad-rows to skip them$`));
      return true;
    });
    const frame = await loadDataset([file], { label: 'label', skipBadRows: true });
    assert.equal(frame.nRows, 200);
    assert.deepEqual(frame.source.skipped, [{ reason: 'empty label', count: MISSING.length }]);
    const binary = labelView(frame, 'binary');
    assert.deepEqual([...binary.classes], ['normal', 'attack']);
    assert.equal(binary.codes.filter((c) => c === 1).length, attack);
    assert.equal(binary.codes.filter((c) => c === 0).length, normal);
    assert.deepEqual([...labelView(frame, 'attack').classes], ['attack', 'normal']);
  });

  it('NSL-KDD (headerless, label column 42): the same', async () => {
    const sample = readFileSync(resolve('samples/nsl-kdd/KDDTrain+_sample.txt'), 'utf8').trim().split('\n').slice(0, 300);
    const swapped = sample.map((line, i) => {
      if (i < 100 || i >= 100 + PANDAS_NA.length) return line;
      const cells = line.split(',');
      cells[41] = PANDAS_NA[i - 100];
      return cells.join(',');
    });
    const file = join(dir, 'kdd.txt');
    writeFileSync(file, `${swapped.join('\n')}\n`);
    await assert.rejects(loadDataset([file]), /kdd\.txt, line 101, column 'label': 18 rows have an empty 'label' label .*, the first here; use --skip-bad-rows/);
    const frame = await loadDataset([file], { skipBadRows: true });
    assert.equal(frame.nRows, 300 - PANDAS_NA.length);
    const expected = new Set(sample.filter((_, i) => i < 100 || i >= 100 + PANDAS_NA.length).map((l) => l.split(',')[41]));
    assert.deepEqual(new Set(labelView(frame, 'attack').classes), expected);
  });

  it('inspect counts them as skipped empty labels, not as a class', async () => {
    const file = join(dir, 'inspect.csv');
    writeFileSync(file, genericRows().text);
    const [report] = await inspectFiles([file], { label: 'label', skipBadRows: true });
    assert.deepEqual(report!.labels!.binary.map((c) => c.class).sort(), ['attack', 'normal']);
    assert.deepEqual(report!.labels!.attack.map((c) => c.class).sort(), ['attack', 'normal']);
    assert.deepEqual(report!.skipped, [{ reason: 'empty label', count: MISSING.length }]);
  });

  it('predict echoes them as an empty true_label; train and evaluate on the CLI give the one line', async () => {
    const { text } = genericRows();
    const file = join(dir, 'predict.csv');
    writeFileSync(file, text);
    const clean = join(dir, 'clean.csv');
    writeFileSync(clean, text.split('\n').slice(0, 201).join('\n') + '\n');
    const model = join(dir, 'dt.fsm');
    await train({ files: [clean], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
    const rows: PredictionRecord[] = [];
    await predict(model, [file], { label: 'label', explain: false }, { collect: (p) => rows.push(p) });
    assert.equal(rows.length, 200 + MISSING.length);
    assert.deepEqual(rows.slice(200).map((p) => p.trueLabel), MISSING.map(() => ''));
    for (const args of [['train', file, '--label', 'label', '--models', 'dt', '--cv', '2'], ['evaluate', model, file]]) {
      const r = cli(args);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^flowsentry: .*predict\\.csv, line 202, column 'label': ${MISSING.length} rows have an empty 'label' label .*; use --skip-bad-rows to skip them$`, 'm'));
    }
  });

  it('the line of the first is counted as the reader counts rows: header copies, blank lines, quoted line breaks, gzip, a later file', async () => {
    const header = 'a,note,label';
    // line numbers written down by hand from the text below
    const first = [header, '1,x,normal', '', '2,"two\nlines",attack', header, '3,y,normal'].join('\n');
    const second = [header, '4,z,normal', '5,"a ""quoted"", cell",attack', '', '6,w, Null ', '7,v,'].join('\n');
    const a = join(dir, 'first.csv');
    const b = join(dir, 'second.csv.gz');
    writeFileSync(a, `${first}\n`);
    writeFileSync(b, gzipSync(`${second}\n`));
    await assert.rejects(loadDataset([a, b], { label: 'label' }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, `${b}, line 5, column 'label': 2 rows of the 2 files have an empty 'label' label ('Null': missing, as pandas reads them), the first here; use --skip-bad-rows to skip them`);
      return true;
    });
    const one = join(dir, 'one.csv');
    writeFileSync(one, `${first}\n4,r,normal\n5,q,\n`);
    await assert.rejects(loadDataset([one], { label: 'label' }), new RegExp(`${one.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, line 9, column 'label': 1 row has an empty 'label' label; use --skip-bad-rows to skip them$`));
  });
});

// Rows without a label. predict only echoes labels: such a row is scored like any other, with an empty true_label
// (it stopped predict with a line advising --skip-bad-rows, an option predict does not have and whose skip would
// shift the row numbers). UNSW-NB15's binary view reads the 0/1 `label` column: an empty cell there was read as 1
// (attack) without a word; it now takes its class from the row's attack_cat. Hand-made CSV; rows of the shared
// UNSW-NB15 file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { predict, type PredictionRecord } from '../../src/workflow/predict.js';
import { readData } from '../../src/workflow/data.js';
import { labelView } from '../../src/datasets/label-views.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-unlabelled-'));

describe('predict on rows without a label', () => {
  it('scores every row; the unlabelled ones have an empty true_label, the others their label', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 120; i++) rows.push(`${(i % 10) + (i % 3 === 0 ? 20 : 0)},${i % 7},${i % 3 === 0 ? 'attack' : 'normal'}`);
    const data = join(dir, 'd.csv');
    writeFileSync(data, `a,b,label\n${rows.join('\n')}\n`);
    const model = join(dir, 'dt.fsm');
    await train({ files: [data], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
    const holes = join(dir, 'holes.csv');
    writeFileSync(holes, `a,b,label\n${rows.map((r, i) => (i === 3 || i === 4 ? r.replace(/[a-z]+$/, '') : r)).join('\n')}\n`);
    const all: PredictionRecord[] = [];
    const some: PredictionRecord[] = [];
    await predict(model, [data], { label: 'label', explain: false }, { collect: (p) => all.push(p) });
    await predict(model, [holes], { label: 'label', explain: false }, { collect: (p) => some.push(p) });
    assert.equal(some.length, 120);
    assert.deepEqual(some.map((p) => p.trueLabel), all.map((p, i) => (i === 3 || i === 4 ? '' : p.trueLabel)));
    assert.deepEqual(some.map((p) => p.label), all.map((p) => p.label));
    const out = join(dir, 'p.csv');
    await predict(model, [holes], { label: 'label', explain: false }, { path: out });
    assert.deepEqual(readFileSync(out, 'utf8').split('\n').slice(4, 6).map((l) => l.split(',').slice(0, 3).join(',')), ['3,,attack', '4,,normal']);
  });
});

const UNSW = resolve('../shared/datasets/unsw-nb15/UNSW_NB15_part-a.csv');

describe("UNSW-NB15 rows whose 0/1 'label' cell is empty", { skip: existsSync(UNSW) ? false : 'shared datasets missing' }, () => {
  it("take their binary class from attack_cat, as a line scan of attack_cat counts them", async () => {
    const lines = readFileSync(UNSW, 'utf8').split('\n').slice(0, 401);
    const header = lines[0]!.replace(/^\uFEFF/, '').split(',');
    const cat = header.indexOf('attack_cat');
    const label = header.indexOf('label');
    // empty the 0/1 label of ten normal and ten attack rows
    let normals = 0;
    let attacks = 0;
    for (let i = 1; i < lines.length && (normals < 10 || attacks < 10); i++) {
      const cells = lines[i]!.split(',');
      const normal = cells[cat] === 'Normal';
      if (normal ? normals++ >= 10 : attacks++ >= 10) continue;
      cells[label] = '';
      lines[i] = cells.join(',');
    }
    const file = join(dir, 'unsw.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const expectedNormal = lines.slice(1).filter((l) => l.split(',')[cat] === 'Normal').length;
    const y = labelView(await readData([file]), 'binary');
    assert.equal(y.codes.length, 400);
    assert.equal(y.codes.filter((c) => y.classes[c] === 'normal').length, expectedNormal);
  });
});

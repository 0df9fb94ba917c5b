// --label COLUMN on a known format: the named column drives every label view as it would in any CSV (binary: the
// generic normal names vs the rest; attack and category: its values), the format's own label columns are neither
// views nor features, and a column of thousands of numbers is refused as a label the same way for every format.
// Truth: the columns' own values counted from the files here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { labelColumnProblem, labelView } from '../../src/datasets/label-views.js';
import { inspectFiles } from '../../src/datasets/inspect.js';
import { taskLabels } from '../../src/workflow/data.js';
import { train } from '../../src/workflow/train.js';
import { evaluate } from '../../src/workflow/evaluate.js';
import { loadModel } from '../../src/store/model-file.js';
import { UserError } from '../../src/errors.js';
import type { Frame } from '../../src/frame/frame.js';

function counts(labels: { codes: Int32Array; classes: readonly string[] }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of labels.codes) out[labels.classes[c]] = (out[labels.classes[c]] ?? 0) + 1;
  return out;
}

/** Value counts of one field of a CSV's data lines. */
function fieldCounts(file: string, field: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const v = line.split(',')[field].trim();
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

const views = (frame: Frame): Record<string, Record<string, number>> => ({
  binary: counts(labelView(frame, 'binary')),
  attack: counts(labelView(frame, 'attack')),
  category: counts(labelView(frame, 'category')),
});

describe('--label on a known format', () => {
  it('UNSW-NB15: the named column drives all three views; attack_cat and label are not features', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-label-'));
    try {
      const file = join(dir, 'unsw.csv');
      const rows = ['1,0.1,udp,-,INT,254,Normal,0', '2,0.2,tcp,http,FIN,62,Exploits,1', '3,0.2,tcp,http,FIN,62,Normal,0', '4,0.3,tcp,-,CON,0,Normal,0'];
      writeFileSync(file, `id,dur,proto,service,state,sttl,attack_cat,label\n${rows.join('\n')}\n`);
      const byTtl = await loadDataset([file], { label: 'sttl' });
      assert.equal(byTtl.source.format, 'unsw-nb15');
      assert.equal(byTtl.source.labelColumn, 'sttl');
      assert.equal(byTtl.category, undefined);
      const ttl = fieldCounts(file, 5);
      assert.deepEqual(ttl, { 254: 1, 62: 2, 0: 1 });
      // 0 is a normal name of any CSV's label; 254 and 62 are attacks
      assert.deepEqual(views(byTtl), { binary: { attack: 3, normal: 1 }, attack: { 254: 1, 62: 2, normal: 1 }, category: { 254: 1, 62: 2, normal: 1 } });
      assert.deepEqual(byTtl.features.map((c) => c.name), ['dur', 'proto', 'service', 'state']);
      assert.deepEqual(byTtl.source.dropped.filter((d) => d.reason === 'label').map((d) => d.name).sort(), ['attack_cat', 'label', 'sttl']);
      // as the same file read as a generic CSV with that label
      assert.deepEqual(views(await loadDataset([file], { format: 'csv', label: 'sttl' })), views(byTtl));

      // --label label: the 0/1 column alone, for the category view too
      const byLabel = await loadDataset([file], { label: 'label' });
      assert.deepEqual(views(byLabel), { binary: { attack: 1, normal: 3 }, attack: { 1: 1, normal: 3 }, category: { 1: 1, normal: 3 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CIC-IDS2017: a port column as the label gives its values in every view, never BENIGN/attack from Label', async () => {
    const file = resolve('test/fixtures/datasets/cic2017-machinelearningcve.csv');
    const frame = await loadDataset([file], { label: 'Destination Port' });
    const ports = fieldCounts(file, 0);
    assert.equal(Object.keys(ports).includes('0'), false);
    const rows = Object.values(ports).reduce((a, b) => a + b, 0);
    assert.deepEqual(views(frame), { binary: { attack: rows }, attack: ports, category: ports });
    assert.equal(frame.features.some((c) => c.name === 'Label' || c.name === 'Destination Port'), false);
  });

  it('the format\'s own label column named with --label changes nothing', async () => {
    const file = resolve('test/fixtures/datasets/cic2017-machinelearningcve.csv');
    const own = await loadDataset([file], { label: 'Label' });
    assert.equal(own.source.labelColumn, undefined);
    assert.deepEqual(views(own), views(await loadDataset([file])));
  });
});

describe('a model trained with --label on a known format', () => {
  it('records the column, and evaluate reads it again without a second --label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-label-model-'));
    try {
      const file = join(dir, 'unsw.csv');
      // attack_cat names four attacks; the 0/1 label column is the one trained on
      const cats = ['Normal', 'Exploits', 'Normal', 'DoS', 'Normal', 'Fuzzers', 'Normal', 'Generic'];
      const rows = Array.from({ length: 40 }, (_, i) => `${i + 1},${i % 8 === 0 || i % 2 === 0 ? 0.1 : 2.5},tcp,http,FIN,${i},${cats[i % 8]},${cats[i % 8] === 'Normal' ? 0 : 1}`);
      writeFileSync(file, `id,dur,proto,service,state,sttl,attack_cat,label\n${rows.join('\n')}\n`);
      const model = join(dir, 'dt.fsm');
      await train({ files: [file], label: 'label', task: 'multiclass', models: ['dt'], cv: 2, metric: 'accuracy', seed: 0, targetFpr: 0.01, out: model });
      const doc = await loadModel(model);
      assert.equal(doc.meta.labelColumn, 'label');
      assert.deepEqual(doc.labels.classes, ['1', 'normal']);
      const result = await evaluate(model, [file]);
      assert.equal(result.dataset.testRows, 40);
      assert.deepEqual(result.dataset.skipped, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a label column of thousands of numbers', () => {
  it('is refused for training and flagged by inspect, for a known format and a generic CSV alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-label-num-'));
    try {
      const file = join(dir, 'unsw.csv');
      const rows = Array.from({ length: 300 }, (_, i) => `${i + 1},0.1,tcp,http,FIN,62,${1000 + i},${i % 3 === 0 ? 'Exploits' : 'Normal'},${i % 3 === 0 ? 1 : 0}`);
      writeFileSync(file, `id,dur,proto,service,state,sttl,sbytes,attack_cat,label\n${rows.join('\n')}\n`);
      const message = "label column 'sbytes' holds 300 distinct numbers, not classes: choose the column of class names (attack names, or 0/1) with --label";
      for (const format of [undefined, 'csv']) {
        const frame = await loadDataset([file], { format, label: 'sbytes' });
        assert.equal(labelColumnProblem(frame), message);
        for (const task of ['binary', 'multiclass', 'category', 'anomaly'] as const) {
          assert.throws(() => taskLabels(frame, task), (e: unknown) => e instanceof UserError && e.message === `${file}: ${message}`);
        }
        const [report] = await inspectFiles([file], { format, label: 'sbytes' });
        assert.equal(report.labelProblem, message);
      }
      // the file's own labels, and 0/1, are classes; so are hexadecimal codes (text, as pandas reads them)
      assert.equal(labelColumnProblem(await loadDataset([file])), undefined);
      assert.equal(labelColumnProblem(await loadDataset([file], { label: 'label' })), undefined);
      const hex = join(dir, 'hex.csv');
      writeFileSync(hex, `dur,code\n${Array.from({ length: 300 }, (_, i) => `0.1,0x${(0x100 + i).toString(16)}`).join('\n')}\n`);
      assert.equal(labelColumnProblem(await loadDataset([hex], { label: 'code' })), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a generic CSV without --label', () => {
  const write = (dir: string, header: string): string => {
    const file = join(dir, 'flows.csv');
    writeFileSync(file, `${header}\n1,2,normal\n3,4,attack\n5,6,normal\n`);
    return file;
  };

  it("takes the one column named 'label' or 'class' (any case, any punctuation) as the label", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-label-name-'));
    try {
      for (const name of ['label', 'Label', ' LABEL ', 'class', 'Class']) {
        const frame = await loadDataset([write(dir, `a,b,${name}`)]);
        assert.equal(frame.label?.name, name.trim(), name);
        assert.deepEqual(counts(labelView(frame, 'binary')), { normal: 2, attack: 1 }, name);
        assert.deepEqual(frame.features.map((c) => c.name), ['a', 'b'], name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes none when two columns are label names, and --label still chooses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-label-name-'));
    try {
      const file = join(dir, 'two.csv');
      writeFileSync(file, 'a,class,label\n1,x,normal\n3,y,attack\n');
      assert.equal((await loadDataset([file])).label, undefined);
      assert.equal((await loadDataset([file], { label: 'class' })).label?.name, 'class');
      assert.equal((await loadDataset([write(dir, 'a,label,kind')], { label: 'kind' })).label?.name, 'kind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// predict and evaluate read only the columns a model needs: a CIC-IDS2017 model (trained without --keep-identifiers)
// scores rows with its Flow ID, addresses, ports and Timestamp skipped unread, with predictions and explanations equal
// to those from the same rows read with every identifier column, and the same evaluation; a damaged identifier cell
// the model never sees is no longer an error. Row subsets of the shared CIC-IDS2017 files.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { predict, type PredictionRecord } from '../../src/workflow/predict.js';
import { evaluate } from '../../src/workflow/evaluate.js';
import { loadModelFile, modelInputOptions, readData } from '../../src/workflow/data.js';
import { fittedFromDocument, predictBlock } from '../../src/workflow/fitted.js';

const CIC = resolve('../shared/datasets/cic-ids2017');
const present = ['BENIGN_5000.csv', 'Botnet_736.csv', 'DoS_Slowloris_3859.csv'].every((f) => existsSync(join(CIC, f)));

describe('predict and evaluate skip the identifier columns a model does not use (CIC-IDS2017)', { skip: present ? false : 'shared datasets missing' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-predict-ids-'));
  const model = join(dir, 'dt.fsm');
  /** The first `rows` data rows of a shared file, as a file of its own. */
  const head = (name: string, rows: number): string => {
    const path = join(dir, name);
    writeFileSync(path, `${readFileSync(join(CIC, name), 'utf8').split('\n').slice(0, rows + 1).join('\n')}\n`);
    return path;
  };
  let input: string[];

  before(async () => {
    const files = [head('BENIGN_5000.csv', 600), head('Botnet_736.csv', 300)];
    await train({ files, task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
    input = [head('DoS_Slowloris_3859.csv', 200), join(CIC, 'Botnet_736.csv')];
  });

  it('reads no identifier column, and the columns it drops are named as before', async () => {
    const doc = await loadModelFile(model);
    const skipped = await readData(input, modelInputOptions(doc));
    const every = await readData(input, {});
    assert.equal(skipped.identifiers.length, 0);
    assert.deepEqual(every.identifiers.map((c) => c.name), ['id', 'Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Timestamp']);
    assert.deepEqual(skipped.source.dropped, every.source.dropped);
  });

  it('predictions and explanations equal those from the rows read with every identifier', async () => {
    const doc = await loadModelFile(model);
    const fitted = fittedFromDocument(doc, model);
    const every = await readData(input, {});
    const expected = await predictBlock(fitted, every, 0, every.nRows, true, 3);
    const got: PredictionRecord[] = [];
    const summary = await predict(model, input, {}, { collect: (p) => got.push(p) });
    assert.equal(summary.rows, every.nRows);
    assert.deepEqual(got.map(({ row: _r, trueLabel: _t, ...p }) => p), expected);
    assert.ok(new Set(got.map((p) => p.label)).size === 2, 'both classes predicted');
  });

  it('evaluate gives the same metrics as the rows read with every identifier', async () => {
    const result = await evaluate(model, input);
    const every = await readData(input, {});
    const doc = await loadModelFile(model);
    const fitted = fittedFromDocument(doc, model);
    const expected = await predictBlock(fitted, every, 0, every.nRows, false);
    const truth = every.label!;
    let correct = 0;
    expected.forEach((p, i) => {
      const raw = truth.dictionary[truth.codes[i]];
      if ((raw === 'BENIGN' ? 'normal' : 'attack') === p.label) correct++;
    });
    assert.equal(result.dataset.testRows, every.nRows);
    assert.equal(result.candidates[0]!.test!.accuracy, correct / every.nRows);
  });

  it('a damaged Timestamp or Src IP cell the model never reads is no error', async () => {
    const lines = readFileSync(input[0]!, 'utf8').split('\n');
    const header = lines[0]!.split(',');
    const cells = lines[5]!.split(',');
    cells[header.indexOf('Timestamp')] = 'not a time';
    cells[header.indexOf('Src IP')] = '999.1.2.3.4';
    lines[5] = cells.join(',');
    const damaged = join(dir, 'damaged.csv');
    writeFileSync(damaged, lines.join('\n'));
    const clean: PredictionRecord[] = [];
    const got: PredictionRecord[] = [];
    await predict(model, [input[0]!], { explain: false }, { collect: (p) => clean.push(p) });
    await predict(model, [damaged], { explain: false }, { collect: (p) => got.push(p) });
    assert.deepEqual(got, clean);
  });
});

describe("a model feature that the input's format names an identifier", () => {
  it('is read all the same (the input is read again with its identifiers), with the same predictions', async () => {
    // `vlan` is a feature of a plain CSV, an identifier in the layout of `extract --features netflow`'s CSV
    const dir = mkdtempSync(join(tmpdir(), 'fs-predict-vlan-'));
    const rows: string[] = [];
    for (let i = 0; i < 120; i++) rows.push(`${i % 3 === 0 ? 7 : i % 5},${i % 4},${i % 3 === 0 ? 'attack' : 'normal'}`);
    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, `vlan,b,label\n${rows.join('\n')}\n`);
    const model = join(dir, 'dt.fsm');
    await train({ files: [plain], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
    assert.ok((await loadModelFile(model)).schema.features.some((f) => f.name === 'vlan'));
    const extractLayout = join(dir, 'extract-layout.csv');
    writeFileSync(extractLayout, `src_addr,dst_addr,start,vlan,end_reason,b,label\n${rows.map((r) => `10.0.0.1,10.0.0.2,1700000000,${r.split(',')[0]},idle,${r.split(',').slice(1).join(',')}`).join('\n')}\n`);
    assert.ok((await readData([extractLayout], { label: 'label', identifiers: 'none' })).source.dropped.some((d) => d.name === 'vlan' && d.reason === 'identifier'));
    const expected: PredictionRecord[] = [];
    const got: PredictionRecord[] = [];
    await predict(model, [plain], { label: 'label' }, { collect: (p) => expected.push(p) });
    await predict(model, [extractLayout], { label: 'label' }, { collect: (p) => got.push(p) });
    assert.deepEqual(got, expected);
    const evaluation = await evaluate(model, [extractLayout], { label: 'label' });
    assert.equal(evaluation.candidates[0]!.test!.accuracy, (await evaluate(model, [plain], { label: 'label' })).candidates[0]!.test!.accuracy);
  });
});

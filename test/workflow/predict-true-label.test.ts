// predict with a generic-CSV model echoes the true labels from the label column the model records, as evaluate reads
// it again, without --label; input without that column is scored without true_label, and --label still names
// another column. Hand-made CSV; the truth is the file's own label cells.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/workflow/train.js';
import { predict, type PredictionRecord } from '../../src/workflow/predict.js';

let dir: string;
let data: string;
let model: string;
const labels: string[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fs-predict-truth-'));
  const rows: string[] = [];
  for (let i = 0; i < 150; i++) {
    const label = i % 3 === 0 ? 'attack' : 'normal';
    labels.push(label);
    rows.push(`${(i % 10) + (i % 3 === 0 ? 20 : 0)},${i % 7},${label},${i % 2 === 0 ? 'attack' : 'normal'}`);
  }
  data = join(dir, 'd.csv');
  writeFileSync(data, `a,b,verdict,other\n${rows.join('\n')}\n`);
  const trainFile = join(dir, 'train.csv');
  writeFileSync(trainFile, `a,b,verdict\n${rows.map((r) => r.replace(/,[a-z]+$/, '')).join('\n')}\n`);
  model = join(dir, 'dt.fsm');
  await train({ files: [trainFile], label: 'verdict', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, out: model });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(files: string[], label?: string): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  await predict(model, files, { explain: false, ...(label !== undefined ? { label } : {}) }, { collect: (p) => out.push(p) });
  return out;
}

describe("predict and a generic-CSV model's label column", () => {
  it('echoes the recorded label column without --label', async () => {
    const rows = await run([data]);
    assert.deepEqual(rows.map((p) => p.trueLabel), labels);
    const csv = join(dir, 'p.csv');
    await predict(model, [data], { explain: false }, { path: csv });
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(lines[0]!.split(',')[1], 'true_label');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[1]), labels);
  });

  it('input without the column: no true_label, no error', async () => {
    const bare = join(dir, 'bare.csv');
    writeFileSync(bare, readFileSync(data, 'utf8').replace(/^a,b,verdict,other\n/, 'a,b,x,other\n'));
    const rows = await run([bare]);
    assert.equal(rows.length, 150);
    assert.ok(rows.every((p) => p.trueLabel === undefined));
  });

  it('--label names another column', async () => {
    const rows = await run([data], 'other');
    assert.deepEqual(rows.map((p) => p.trueLabel), labels.map((_, i) => (i % 2 === 0 ? 'attack' : 'normal')));
  });
});

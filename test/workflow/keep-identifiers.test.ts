// `train --keep-identifiers`, end to end. By default identifier columns (flow ids, addresses, source ports, timestamps,
// row ids) are not features; with the flag they are, one warning line says so on stderr (with --json too), the model
// file records it, and evaluate, predict and retrain read data the same way without being told; detect and serve
// refuse such a model with one line. Hand-made generic CSVs: row k has time second k (written out of time order),
// attack iff k % 3 == 0, so the latest 20 of 100 rows hold exactly 7 attacks; a second file holds seconds 100-159.
// The CIC-IDS2017 case (text flow ids, the shared files) runs when the shared datasets are there.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel, saveModel, type ModelDocument } from '../../src/store/model-file.js';
import { readData } from '../../src/workflow/data.js';
import { outputsOf, type Fitted } from '../../src/workflow/fitted.js';
import { evaluate } from '../../src/workflow/evaluate.js';
import { predict, type PredictionRecord } from '../../src/workflow/predict.js';
import { modelInfo, infoText } from '../../src/workflow/info.js';
import { retrain } from '../../src/workflow/retrain.js';
import { train, type TrainOptions } from '../../src/workflow/train.js';
import { cli } from '../helpers/cli.js';
import { sharedFile } from '../helpers/datasets.js';
import { storeFalsePositive } from '../helpers/feedback-store.js';

const IDENTIFIERS = ['flow_id', 'src_ip', 'src_port', 'timestamp'];
const CAPTURE = resolve('samples/captures/synscan.pcapng');

/** Rows for time seconds [from, to), written in the order (k * 37) mod n: file order is not time order. */
function flowsCsv(from: number, to: number): string {
  const n = to - from;
  const lines = ['flow_id,src_ip,src_port,timestamp,dst_port,bytes,packets,verdict'];
  for (let row = 0; row < n; row++) {
    const second = from + ((row * 37) % n);
    const attack = second % 3 === 0;
    const src = attack ? `10.9.9.${second % 4}` : `10.0.0.${second % 5}`;
    const port = 40000 + second;
    const time = `2026-01-01 00:${String(Math.floor(second / 60)).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}`;
    lines.push(`${src}-10.1.1.1-${port}-80-6,${src},${port},${time},${[80, 443, 22][second % 3]},${100 + ((second * 7) % 50)},${1 + (second % 4)},${attack ? 'attack' : 'normal'}`);
  }
  return `${lines.join('\n')}\n`;
}

const BASE: Omit<TrainOptions, 'files'> = { label: 'verdict', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01, split: 'time' };

/** The in-memory model's predictions on `files`, read as the model's data is read. */
async function inMemory(fitted: Fitted, files: string[], keepIdentifiers: boolean): Promise<{ pred: Int32Array; attackScore: Float64Array | null }> {
  const frame = await readData(files, { label: 'verdict', keepIdentifiers });
  return outputsOf(fitted, fitted.pipeline.transform(frame));
}

async function predicted(model: string, files: string[], label?: string): Promise<PredictionRecord[]> {
  const rows: PredictionRecord[] = [];
  await predict(model, files, { label, explain: false }, { collect: (p) => rows.push(p) });
  return rows;
}

/** A model's input columns as the data names them (the schema holds canonical CIC names, e.g. flow_id as Flow ID). */
function inputsOf(doc: ModelDocument | null): string[] {
  return (doc?.schema.features ?? []).flatMap((f) => [f.name, ...f.aliases]);
}

describe('train --keep-identifiers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-keep-ids-'));
  const data = join(dir, 'flows.csv');
  const later = join(dir, 'later.csv');
  const plainModel = join(dir, 'plain.fsm');
  const keptModel = join(dir, 'kept.fsm');
  let plain: Awaited<ReturnType<typeof train>>;
  let kept: Awaited<ReturnType<typeof train>>;
  const warnings: string[] = [];

  before(async () => {
    writeFileSync(data, flowsCsv(0, 100));
    writeFileSync(later, flowsCsv(100, 160));
    plain = await train({ ...BASE, files: [data], out: plainModel, warn: (line) => warnings.push(`plain: ${line}`) });
    kept = await train({ ...BASE, files: [data], out: keptModel, report: join(dir, 'kept.html'), keepIdentifiers: true, warn: (line) => warnings.push(line) });
  });

  it('by default identifiers are not features: not in the schema, listed as dropped identifiers', async () => {
    const doc = await loadModel(plainModel);
    const inputs = inputsOf(doc);
    for (const name of IDENTIFIERS) assert.ok(!inputs.includes(name), `${name} is not a feature`);
    assert.deepEqual(doc.meta.dropped.filter((d) => d.reason === 'identifier').map((d) => d.name), IDENTIFIERS);
    assert.equal(doc.meta.keepIdentifiers, false);
    assert.equal(doc.meta.keptIdentifiers, undefined);
    assert.equal(plain.result.dataset.keptIdentifiers, undefined);
    assert.ok(!warnings.some((w) => w.startsWith('plain: ')), 'no warning without the flag');
  });

  it('with the flag they are features, recorded in the model file and listed as kept, not dropped', async () => {
    const doc = await loadModel(keptModel);
    const inputs = inputsOf(doc);
    for (const name of IDENTIFIERS) assert.ok(inputs.includes(name), `${name} is a feature`);
    assert.equal(doc.schema.features.find((f) => f.aliases.includes('src_ip'))?.kind, 'categorical');
    assert.equal(doc.schema.features.find((f) => f.aliases.includes('src_port'))?.kind, 'numeric');
    assert.deepEqual(doc.meta.dropped.filter((d) => d.reason === 'identifier'), []);
    assert.equal(doc.meta.keepIdentifiers, true);
    assert.deepEqual(doc.meta.keptIdentifiers, IDENTIFIERS);
    assert.deepEqual(kept.result.dataset.keptIdentifiers, IDENTIFIERS);
    assert.deepEqual(warnings, [
      '--keep-identifiers: flow_id, src_ip, src_port, timestamp are features; the model can learn this data\'s row ids, addresses, ports and times, so its scores will not carry over to other networks or flows (leakage)',
    ]);
  });

  it('the report lists the kept identifier columns', () => {
    const html = readFileSync(join(dir, 'kept.html'), 'utf8');
    assert.match(html, /<p id="kept-identifiers"><code>flow_id<\/code>, <code>src_ip<\/code>, <code>src_port<\/code>, <code>timestamp<\/code> \(<code>--keep-identifiers<\/code>\)/);
  });

  it('the time-ordered hold-out still works: the latest 20 rows by the kept timestamp, 13 normal and 7 attacks', () => {
    for (const run of [plain, kept]) {
      assert.equal(run.result.dataset.testSource, 'holdout-time');
      assert.deepEqual(run.result.dataset.classes, ['normal', 'attack']);
      assert.deepEqual(run.result.dataset.testCounts, [13, 7]);
      assert.deepEqual(run.result.dataset.trainCounts, [53, 27]);
    }
  });

  it('predict and evaluate read a second file with its identifiers, as the in-memory model did', async () => {
    const expected = await inMemory(kept.best as Fitted, [later], true);
    const rows = await predicted(keptModel, [later], 'verdict');
    assert.equal(rows.length, 60);
    const classes = kept.document?.labels.classes as string[];
    assert.deepEqual(rows.map((r) => r.label), Array.from(expected.pred, (c) => classes[c]));
    assert.deepEqual(rows.map((r) => r.attack), Array.from(expected.attackScore as Float64Array));
    const evaluation = await evaluate(keptModel, [later]);
    const truth = rows.map((r) => r.trueLabel);
    const hits = rows.filter((r, i) => r.label === truth[i]).length;
    assert.equal(evaluation.candidates[0]?.test?.accuracy, hits / 60);
    assert.deepEqual(evaluation.dataset.keptIdentifiers, IDENTIFIERS);
    // read without its identifiers the file could not be scored: the kept timestamp would be missing
    const withoutIdentifiers = await readData([later], { label: 'verdict' });
    assert.throws(() => (kept.best as Fitted).pipeline.transform(withoutIdentifiers), /input lacks 1 column the model was trained on: timestamp/);
  });

  it('info shows the kept identifiers', async () => {
    const info = await modelInfo(keptModel);
    assert.equal(info.keepIdentifiers, true);
    assert.deepEqual(info.keptIdentifiers, IDENTIFIERS);
    assert.match(infoText(info), /^identifiers kept as features \(--keep-identifiers; .*\): flow_id, src_ip, src_port, timestamp$/m);
    const before = await modelInfo(plainModel);
    assert.equal(before.keepIdentifiers, false);
    assert.ok(!/identifiers kept/.test(infoText(before)));
  });

  it('retrain reads the original data with its identifiers and draws the time hold-out from the kept timestamp', async () => {
    const store = join(dir, 'alerts.duckdb');
    await storeFalsePositive(store, { name: 'dt', file: keptModel }, { dst_port: 80, bytes: 120, packets: 2 });
    const out = join(dir, 'kept-2.fsm');
    const result = await retrain({ model: keptModel, store, out });
    assert.equal(result.evaluation, 'holdout-time');
    assert.equal(result.before.test.accuracy, kept.result.candidates[0]?.test?.accuracy, "the old model's own hold-out, re-drawn");
    const next = await loadModel(out);
    assert.equal(next.meta.keepIdentifiers, true);
    assert.deepEqual(next.schema.features.map((f) => f.name), kept.document?.schema.features.map((f) => f.name));
  });

  it('an older model file without the field is read as before (identifiers are not features)', async () => {
    const doc = await loadModel(plainModel);
    delete (doc.meta as { keepIdentifiers?: boolean }).keepIdentifiers;
    const old = join(dir, 'old.fsm');
    saveModel(old, doc);
    const expected = await inMemory(plain.best as Fitted, [later], false);
    const classes = doc.labels.classes;
    assert.deepEqual((await predicted(old, [later], 'verdict')).map((r) => r.label), Array.from(expected.pred, (c) => classes[c]));
    assert.equal((await evaluate(old, [later])).dataset.keptIdentifiers, undefined);
    assert.equal((await modelInfo(old)).keepIdentifiers, false);
  });

  it('a model file whose field is not true or false is refused in one line', async () => {
    const doc = await loadModel(keptModel);
    (doc.meta as unknown as { keepIdentifiers: string }).keepIdentifiers = 'yes';
    const bad = join(dir, 'bad.fsm');
    saveModel(bad, doc);
    await assert.rejects(loadModel(bad), { message: `${bad}: model file is damaged: meta.keepIdentifiers is not true or false` });
  });
});

describe('train --keep-identifiers from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-keep-ids-cli-'));
  const data = join(dir, 'flows.csv');
  const model = join(dir, 'kept.fsm');
  const warning =
    "flowsentry: warning: --keep-identifiers: flow_id, src_ip, src_port, timestamp are features; the model can learn this data's row ids, addresses, ports and times, so its scores will not carry over to other networks or flows (leakage)\n";
  const refusal = `flowsentry: ${model}: this model was trained with --keep-identifiers (flow_id, src_ip, src_port, timestamp are features), but live flows are scored without identifier columns; train it again without --keep-identifiers to use it with detect or serve\n`;

  before(() => writeFileSync(data, flowsCsv(0, 100)));

  it('--json: the JSON document on stdout lists the kept columns, the warning is the one line on stderr', () => {
    const r = cli(['train', data, '--label', 'verdict', '--models', 'dt', '--cv', '2', '--keep-identifiers', '--out', model, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, warning);
    const summary = JSON.parse(r.stdout) as { kept_identifiers: string[]; best: string };
    assert.deepEqual(summary.kept_identifiers, IDENTIFIERS);
    assert.equal(summary.best, 'dt');
  });

  it('text output: the warning among the progress lines, the kept columns under the leaderboard', () => {
    const r = cli(['train', data, '--label', 'verdict', '--models', 'dt', '--cv', '2', '--keep-identifiers', '--out', join(dir, 'text.fsm')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('warning')).join('\n') + '\n', warning);
    assert.match(r.stdout, /^identifier columns kept as features \(--keep-identifiers\): flow_id, src_ip, src_port, timestamp$/m);
    const plain = cli(['train', data, '--label', 'verdict', '--models', 'dt', '--cv', '2', '--out', join(dir, 'plain.fsm')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(!plain.stderr.includes('warning') && !plain.stdout.includes('kept'));
  });

  it('detect and serve refuse the model at start with one line, exit 1', () => {
    const detect = cli(['detect', '--model', model, '--pcap', CAPTURE, '--json']);
    assert.deepEqual([detect.code, detect.stderr, detect.stdout], [1, refusal, '']);
    const serve = cli(['serve', '--model', model, '--pcap', CAPTURE, '--store', join(dir, 'alerts.duckdb'), '--http', '127.0.0.1:0']);
    assert.deepEqual([serve.code, serve.stderr, serve.stdout], [1, refusal, '']);
  });

  it('--split time on data without a timestamp column is one line, not a silent stratified hold-out', () => {
    const nsl = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
    const r = cli(['train', nsl, '--models', 'dt', '--cv', '2', '--split', 'time', '--out', join(dir, 'nsl.fsm'), '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `flowsentry: ${nsl}: --split time: the data has no timestamp column (looked for Timestamp, stime, Start Time, first seen, ts, startMs); use --split stratified or --test FILES\n`);
    assert.equal(r.stdout, '');
  });
});

const benign = sharedFile('cic-ids2017/BENIGN_5000.csv');
const portscan = sharedFile('cic-ids2017/Portscan_5000.csv');

describe('train --keep-identifiers on CIC-IDS2017 (shared files)', { skip: !benign || !portscan ? 'shared datasets missing' : false }, () => {
  it('the flow ids, addresses, source port, timestamp and row id are features only with the flag; predict matches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-keep-ids-cic-'));
    // the first rows of each file for training, the next ones to predict
    const part = (file: string, from: number, to: number): string[] => readFileSync(file, 'utf8').split('\n').slice(from, to);
    const header = part(benign!, 0, 1);
    const trainCsv = join(dir, 'train.csv');
    const laterCsv = join(dir, 'later.csv');
    writeFileSync(trainCsv, [...header, ...part(benign!, 1, 301), ...part(portscan!, 1, 201)].join('\n') + '\n');
    writeFileSync(laterCsv, [...header, ...part(benign!, 301, 501), ...part(portscan!, 201, 351)].join('\n') + '\n');
    const cicIdentifiers = ['id', 'Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Timestamp'];
    const options = { ...BASE, label: undefined, split: 'auto' as const, files: [trainCsv] };
    const plain = await train({ ...options, out: join(dir, 'plain.fsm') });
    const plainInputs = inputsOf(plain.document);
    for (const name of cicIdentifiers) assert.ok(!plainInputs.includes(name), `${name} is not a feature by default`);
    const model = join(dir, 'kept.fsm');
    const kept = await train({ ...options, out: model, keepIdentifiers: true });
    assert.deepEqual(kept.result.dataset.keptIdentifiers, cicIdentifiers);
    const keptInputs = inputsOf(kept.document);
    for (const name of cicIdentifiers) assert.ok(keptInputs.includes(name), `${name} is a feature with the flag`);
    assert.equal(kept.document?.schema.features.find((f) => f.name === 'Flow ID')?.kind, 'categorical');
    const frame = await readData([laterCsv], { keepIdentifiers: true });
    const expected = await outputsOf(kept.best as Fitted, (kept.best as Fitted).pipeline.transform(frame));
    const rows = await predicted(model, [laterCsv]);
    assert.deepEqual(rows.map((r) => r.attack), Array.from(expected.attackScore as Float64Array));
  });
});

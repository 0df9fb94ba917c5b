// End-to-end CLI behaviour of train / evaluate / predict / info on the bundled NSL-KDD sample: exit codes 0/1/2,
// --json shapes, the model round trip (predictions from the saved file reproduce train's test metrics), and clear
// one-line errors for tampered, cut and newer model files, swapped model/data arguments, missing columns, unknown
// models and unwritable outputs.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FORMAT_VERSION } from '../../src/store/model-file.js';
import { KDD_FEATURES } from '../../src/datasets/kdd-common.js';

const CLI = resolve('dist/src/cli/main.js');
const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

function cli(...args: string[]): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

/** A user error: exit 1 and exactly one error line on stderr (after any progress lines), matching `pattern`. */
function assertUserError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code 1 expected, got ${r.code}; stderr: ${r.stderr}`);
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('flowsentry:'));
  assert.equal(errors.length, 1, `one error line on stderr, got: ${r.stderr}`);
  assert.ok(r.stderr.trim().endsWith(errors[0]), 'the error is the last line');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(errors[0], pattern);
}

/** Headerless NSL-KDD rows → CSV with a header (a generic CSV), optionally without some columns. */
function toGenericCsv(src: string, dest: string, drop: readonly string[] = []): void {
  const names = [...KDD_FEATURES, 'label', 'difficulty'];
  const keep = names.map((n, i) => (drop.includes(n) ? -1 : i)).filter((i) => i >= 0);
  const lines = readFileSync(src, 'utf8').trim().split('\n');
  const out = [keep.map((i) => names[i]).join(','), ...lines.map((l) => {
    const f = l.split(',');
    return keep.map((i) => f[i]).join(',');
  })];
  writeFileSync(dest, `${out.join('\n')}\n`);
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('train / evaluate / predict / info on the NSL-KDD sample', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-cli-'));
  const model = join(dir, 'model.fsm');
  const report = join(dir, 'report.html');
  let trained: {
    task: string;
    best: string;
    model: string;
    report: string;
    candidates: { name: string; params: Record<string, unknown>; cv: Record<string, { mean: number; std: number }>; test: Record<string, number | null>; fit_seconds: number; predict_seconds: number }[];
  };

  before(() => {
    const r = cli('train', TRAIN, '--test', TEST, '--models', 'dt,logreg', '--cv', '3', '--metric', 'f1', '--out', model, '--report', report, '--json');
    assert.equal(r.code, 0, r.stderr);
    trained = JSON.parse(r.stdout);
  });

  it('train --json has the documented shape, saves the model and writes the report', () => {
    assert.equal(trained.task, 'binary');
    assert.equal(trained.model, model);
    assert.equal(trained.report, report);
    assert.ok(['dt', 'logreg'].includes(trained.best));
    assert.deepEqual(trained.candidates.map((c) => c.name).sort(), ['dt', 'logreg']);
    for (const c of trained.candidates) {
      assert.deepEqual(Object.keys(c.test).sort(), ['accuracy', 'f1', 'fpr', 'macro_f1', 'pr_auc', 'precision', 'recall', 'roc_auc', 'weighted_f1']);
      assert.ok(c.cv.f1.mean > 0.9 && c.cv.f1.mean <= 1, `${c.name} CV f1 ${c.cv.f1.mean}`);
      assert.ok(c.cv.f1.std >= 0);
      for (const v of Object.values(c.test)) assert.ok(v !== null && v >= 0 && v <= 1);
      assert.ok(c.fit_seconds > 0 && c.predict_seconds > 0);
      assert.equal(typeof c.params, 'object');
    }
    assert.equal(trained.best, trained.candidates[0].name, 'the best candidate leads the leaderboard');
    assert.ok(trained.candidates[0].cv.f1.mean >= trained.candidates[1].cv.f1.mean, 'ranked by the CV metric');
    assert.ok(existsSync(model));
    assert.match(readFileSync(report, 'utf8'), /<html/i);
  });

  it('predictions from the saved model reproduce the test metrics train reported', () => {
    const preds = join(dir, 'preds.csv');
    const r = cli('predict', model, TEST, '--out', preds);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(preds, 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    assert.deepEqual(header.slice(0, 5), ['row', 'true_label', 'label', 'score', 'attack_score']);
    assert.equal(lines.length - 1, readFileSync(TEST, 'utf8').trim().split('\n').length, 'one prediction per input row');
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    for (const line of lines.slice(1)) {
      const [, truth, label] = line.split(',');
      const flagged = label === 'attack';
      if (truth === 'attack') {
        if (flagged) tp++;
        else fn++;
      } else if (flagged) fp++;
      else tn++;
    }
    const best = trained.candidates.find((c) => c.name === trained.best)!;
    const close = (a: number, b: number | null): void => assert.ok(b !== null && Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
    close((tp + tn) / (tp + tn + fp + fn), best.test.accuracy);
    close(tp / (tp + fp), best.test.precision);
    close(tp / (tp + fn), best.test.recall);
    close(fp / (fp + tn), best.test.fpr);
  });

  it('evaluate gives the same test metrics for the saved model', () => {
    const r = cli('evaluate', model, TEST, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const best = trained.candidates.find((c) => c.name === trained.best)!;
    for (const [k, v] of Object.entries(best.test)) assert.ok(Math.abs(out.test[k] - (v as number)) < 1e-9, `${k}: ${out.test[k]} vs ${v}`);
    const total = (out.confusion as number[][]).flat().reduce((a, b) => a + b, 0);
    assert.equal(total, out.rows);
    // per class, from the confusion matrix (rows true, columns predicted): the attack row is the test metrics' class
    const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
    const m = out.confusion as number[][];
    const attack = (out.classes as string[]).indexOf('attack');
    const perClass = out.perClass as { class: string; precision: number; recall: number; f1: number; support: number }[];
    const row = perClass.find((p) => p.class === 'attack')!;
    close(row.recall, m[attack][attack] / m[attack].reduce((a, b) => a + b, 0));
    close(row.precision, out.test.precision);
    close(row.f1, out.test.f1);
    assert.equal(perClass.reduce((a, p) => a + p.support, 0), out.rows);
    assert.match(cli('evaluate', model, TEST).stdout, /^per class:\n\s+precision\s+recall\s+f1-score\s+support\n/m);
  });

  it('predict --json and .jsonl give a label, a score and up to three explained features per row', () => {
    const jsonl = join(dir, 'preds.jsonl');
    assert.equal(cli('predict', model, TEST, '--out', jsonl).code, 0);
    const rows = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 1538);
    for (const row of rows.slice(0, 50)) {
      assert.ok(['normal', 'attack'].includes(row.label));
      assert.ok(row.score >= 0 && row.score <= 1);
      // up to three: a feature that contributes nothing is not listed (a tree may use only two on a row's path)
      assert.ok(row.top_features.length >= 1 && row.top_features.length <= 3, JSON.stringify(row));
      for (const t of row.top_features) assert.ok(typeof t.feature === 'string' && t.value !== undefined && Number.isFinite(t.contribution) && t.contribution !== 0);
    }
    const r = cli('predict', model, TEST, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.rows, 1538);
    assert.equal(doc.predictions.length, 1538);
    assert.deepEqual(doc.predictions.map((p: { label: string }) => p.label), rows.map((p) => p.label));
    // the same records as the .jsonl lines (they had other keys: attack, top, trueLabel)
    assert.deepEqual(doc.predictions, rows);
  });

  it('info names the training files with their checksums, rows, features and metrics', () => {
    const r = cli('info', model, '--json');
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.trainedOn[0].sha256, sha256(TRAIN));
    assert.equal(info.testedOn[0].sha256, sha256(TEST));
    assert.equal(info.trainRows, 3032);
    assert.equal(info.labelView, 'binary');
    assert.equal(info.model, trained.best);
    assert.ok(info.features.some((f: { name: string }) => f.name === 'src_bytes'));
    assert.ok(Math.abs(info.cv.f1.mean - trained.candidates[0].cv.f1.mean) < 1e-12);
    const text = cli('info', model);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /made by Flowsentry \d+\.\d+\.\d+ on \d{4}-/);
  });

  it('rejects tampered, cut and newer-version model files with one line', () => {
    const bytes = readFileSync(model);
    const tampered = join(dir, 'tampered.fsm');
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    writeFileSync(tampered, flipped);
    assertUserError(cli('predict', tampered, TEST), /tampered\.fsm: model file checksum mismatch/);
    const cut = join(dir, 'cut.fsm');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    assertUserError(cli('evaluate', cut, TEST), /cut\.fsm: model file is cut short/);
    const newer = join(dir, 'newer.fsm');
    const v = Buffer.from(bytes);
    v.writeUInt32LE(FORMAT_VERSION + 1, 8);
    writeFileSync(newer, v);
    assertUserError(cli('info', newer), /newer\.fsm: model file format v\d+ was written by a newer Flowsentry/);
  });

  it('rejects data given as a model, and a model given as data', () => {
    assertUserError(cli('predict', TEST, TEST), /KDDTest\+_sample\.txt: is not a Flowsentry model file \(it looks like CSV data\)/);
    assertUserError(cli('predict', model, model), /model\.fsm: is a Flowsentry model file, but data was expected here/);
    const copy = join(dir, 'copy.fsm');
    copyFileSync(model, copy);
    assertUserError(cli('train', copy, '--models', 'dt'), /copy\.fsm: is a Flowsentry model file, but data was expected/);
  });

  it('names the columns missing from the input', () => {
    const trainCsv = join(dir, 'train.csv');
    const partial = join(dir, 'partial.csv');
    toGenericCsv(TRAIN, trainCsv);
    toGenericCsv(TEST, partial, ['src_bytes', 'service']);
    const csvModel = join(dir, 'csv.fsm');
    const r = cli('train', trainCsv, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', csvModel, '--json');
    assert.equal(r.code, 0, r.stderr);
    const p = cli('predict', csvModel, partial);
    assertUserError(p, /input lacks 2 columns the model was trained on: .*service.*src_bytes|input lacks 2 columns the model was trained on: .*src_bytes.*service/);
    const t = cli('train', trainCsv, '--label', 'label', '--test', partial, '--models', 'dt', '--cv', '2', '--out', join(dir, 'x.fsm'));
    assertUserError(t, /partial\.csv: --test data lacks 2 training columns: service, src_bytes/);
  });

  it('fails fast on an unwritable --out or --report, before loading or training', () => {
    const r = cli('train', TRAIN, '--models', 'dt', '--out', join(dir, 'no-such-dir', 'm.fsm'));
    assertUserError(r, /--out: cannot write here: folder .*no-such-dir does not exist/);
    assert.ok(r.seconds < 5, `took ${r.seconds} s`);
    const notDir = join(dir, 'model.fsm', 'r.html');
    assertUserError(cli('train', TRAIN, '--models', 'dt', '--out', join(dir, 'ok.fsm'), '--report', notDir), /--report: cannot write here: .* is not a folder/);
    assert.equal(existsSync(join(dir, 'ok.fsm')), false);
  });

  it('usage errors exit 2: unknown model (listing the valid ones), bad --cv, bad --metric', () => {
    const r = cli('train', TRAIN, '--models', 'dt,forest9');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown model 'forest9'; valid models: /);
    for (const name of ['dt', 'knn', 'logreg', 'hybrid']) assert.match(r.stderr, new RegExp(`valid models: .*\\b${name}\\b`));
    assert.equal(cli('train', TRAIN, '--cv', '1').code, 2);
    assert.equal(cli('train', TRAIN, '--metric', 'speed').code, 2);
    assert.equal(cli('train', TRAIN, '--task', 'anomaly', '--models', 'dt').code, 2);
    assert.equal(cli('predict').code, 2);
  });

  it('--task anomaly trains detectors on normal rows with a threshold from held-out normal training rows', () => {
    const out = join(dir, 'anomaly.fsm');
    const r = cli('train', TRAIN, '--test', TEST, '--task', 'anomaly', '--models', 'ecod', '--cv', '2', '--target-fpr', '0.05', '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.best, 'ecod');
    const t = res.candidates[0].test;
    assert.ok(t.roc_auc > 0.7, `ecod ROC-AUC ${t.roc_auc}`);
    assert.ok(t.fpr < 0.3, `test FPR ${t.fpr}`);
    const info = JSON.parse(cli('info', out, '--json').stdout);
    assert.equal(info.task, 'anomaly');
    assert.ok(Number.isFinite(info.threshold));
  });

  it('Ctrl-C during a search keeps the results finished so far, says so, and still saves the best', async () => {
    const out = join(dir, 'interrupted.fsm');
    const run = async (delayMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      const child = spawn(process.execPath, [CLI, 'train', TRAIN, '--models', 'rf', '--tune', 'grid', '--cv', '5', '--out', out], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      let sent = false;
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!sent && stderr.includes('tuning')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), delayMs);
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stdout, stderr };
    };
    // On a loaded machine no CV task may have finished by the time Ctrl-C arrives: that run must fail cleanly
    // (exit 1, one line saying why); the signal is then sent later, until a run has something to keep.
    let kept = false;
    for (const delayMs of [3000, 8000, 20000, 45000]) {
      const { code, stdout, stderr } = await run(delayMs);
      if (/keeping the 0 of 270 CV tasks/.test(stderr)) {
        assert.equal(code, 1, stderr);
        assert.match(stderr, /flowsentry: no candidate could be trained \(rf: not cross-validated before the interruption\)/);
        assert.ok(!existsSync(out), 'nothing is saved when nothing finished');
        continue;
      }
      assert.equal(code, 0, stderr);
      assert.match(stderr, /interrupted: keeping the [1-9]\d* of 270 CV tasks finished so far/);
      assert.match(stdout, /interrupted: these are the results finished before Ctrl-C/);
      assert.ok(existsSync(out), 'the best finished candidate is saved');
      kept = true;
      break;
    }
    assert.ok(kept, 'some run was interrupted after at least one CV task had finished');
  });
});

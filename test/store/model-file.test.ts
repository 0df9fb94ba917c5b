// The .fsm model file: round trip, and clear one-line errors for tampered, cut, newer-version and non-model files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import {
  FORMAT_VERSION,
  assertNotModelFile,
  decodeModel,
  encodeModel,
  isModelFile,
  loadModel,
  saveModel,
  type ModelDocument,
} from '../../src/store/model-file.js';

function sampleDocument(): ModelDocument {
  return {
    meta: {
      flowsentryVersion: '0.1.0',
      createdAt: '2026-11-21T00:00:00.000Z',
      task: 'binary',
      format: 'nsl-kdd',
      files: [{ path: 'train.txt', sha256: 'ab'.repeat(32), bytes: 10 }],
      testFiles: [],
      trainRows: 100,
      testRows: 20,
      testSource: 'holdout-stratified',
      labelView: 'binary',
      modelName: 'rf',
      params: { n_estimators: 10, max_depth: null },
      metric: 'f1',
      cv: { f1: { mean: 0.9, std: 0.01, folds: [0.89, 0.91] } },
      test: { accuracy: 0.95 },
      seed: 1,
      dropped: [{ name: 'difficulty', reason: 'user' }],
    },
    schema: { features: [{ name: 'duration', kind: 'numeric', aliases: [] }, { name: 'service', kind: 'categorical', aliases: [], categories: ['http', 'ftp'] }] },
    labels: { classes: ['attack', 'normal'], positive: 0, mapping: { neptune: 'attack', normal: 'normal' } },
    pipeline: {
      format: 'flowsentry-pipeline',
      version: 1,
      options: { impute: 'median', infinity: 'clip', scaler: 'standard', scaleOneHot: true, log1p: false, maxCategories: 128, dropConstant: true, dropDuplicateColumns: true },
      steps: [{ kind: 'categorical', name: 'service', canonical: 'service', categories: ['http', 'ftp'], centers: Float64Array.from([1.5, -2]), scales: Float64Array.from([1, 2]) }],
      dropped: [],
      imputed: [],
    },
    // a kind without a state layout (store/state-layouts.ts): these tests are about the file and its codec
    model: { name: 'codec-only', state: { thresholds: Float32Array.from([0.5, Number.NaN, 2]), left: Int32Array.from([1, -1, -1]) } },
    threshold: 0.5,
    explain: { reference: Float32Array.from([0, 1]) },
    reference: {
      levels: Float64Array.from([0, 0.5, 1]),
      features: [{ name: 'duration', quantiles: Float64Array.from([0, 1, 2]), missing: 0 }],
      score: { quantiles: Float64Array.from([0, 0.5, 1]), edges: Float64Array.from([0, 1]), counts: Float64Array.from([100]) },
    },
  };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'fs-modelfile-'));

function rejectsWith(buf: Buffer, pattern: RegExp): void {
  assert.throws(
    () => decodeModel(buf, 'm.fsm'),
    (err: unknown) => err instanceof UserError && pattern.test(err.message) && err.message.startsWith('m.fsm: ') && !err.message.includes('\n'),
  );
}

describe('model file', () => {
  it('round-trips the document, typed arrays included', async () => {
    const dir = tmp();
    const path = join(dir, 'model.fsm');
    const doc = sampleDocument();
    saveModel(path, doc);
    assert.ok(isModelFile(path));
    const back = await loadModel(path);
    assert.deepEqual(back, doc);
    assert.ok(back.model.state.thresholds instanceof Float32Array);
    assert.ok(Number.isNaN((back.model.state.thresholds as Float32Array)[1]));
    assert.deepEqual(readdirSync(dir), ['model.fsm'], 'no temporary file is left behind');
  });

  it('replaces an existing file atomically', async () => {
    const dir = tmp();
    const path = join(dir, 'model.fsm');
    saveModel(path, sampleDocument());
    const doc = sampleDocument();
    doc.meta.modelName = 'knn';
    saveModel(path, doc);
    assert.equal((await loadModel(path)).meta.modelName, 'knn');
    assert.deepEqual(readdirSync(dir), ['model.fsm']);
  });

  it('rejects a tampered file (checksum mismatch)', () => {
    const buf = encodeModel(sampleDocument());
    buf[buf.length - 3] ^= 0x01;
    rejectsWith(buf, /checksum mismatch/);
  });

  it('rejects a cut file, saying it is cut short', () => {
    const buf = encodeModel(sampleDocument());
    rejectsWith(buf.subarray(0, buf.length - 100), /cut short: \d+ of \d+ payload bytes/);
    rejectsWith(buf.subarray(0, 40), /cut short/);
  });

  it('rejects trailing bytes', () => {
    const buf = encodeModel(sampleDocument());
    rejectsWith(Buffer.concat([buf, Buffer.from('xx')]), /2 unexpected trailing bytes/);
  });

  it('rejects a newer format version, asking to upgrade', () => {
    const buf = encodeModel(sampleDocument());
    buf.writeUInt32LE(FORMAT_VERSION + 1, 8);
    rejectsWith(buf, new RegExp(`format v${FORMAT_VERSION + 1} was written by a newer Flowsentry.*upgrade`));
  });

  it('recognises data given where a model was expected', () => {
    rejectsWith(Buffer.from('0,tcp,http,SF,215,45076,0,0,0,0\n'), /not a Flowsentry model file \(it looks like CSV data\)/);
    const pcap = Buffer.alloc(24);
    pcap.writeUInt32LE(0xa1b2c3d4, 0);
    rejectsWith(pcap, /looks like a pcap capture/);
    rejectsWith(Buffer.alloc(0), /it is empty/);
  });

  it('recognises a model file given where data was expected', () => {
    const dir = tmp();
    const path = join(dir, 'model.fsm');
    saveModel(path, sampleDocument());
    assert.throws(() => assertNotModelFile(path), /is a Flowsentry model file, but data was expected/);
    const csv = join(dir, 'data.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    assertNotModelFile(csv);
    assert.equal(isModelFile(csv), false);
  });

  it('names a missing model file', async () => {
    await assert.rejects(loadModel('/nonexistent/model.fsm'), /\/nonexistent\/model.fsm: no such model file/);
  });

  it('stores arrays in binary, not as JSON text', () => {
    const doc = sampleDocument();
    doc.model.state = { big: new Float32Array(100000).fill(1.25) };
    const buf = encodeModel(doc);
    assert.ok(buf.length < 100000 * 4 + 8192, `file is ${buf.length} bytes`);
  });
});

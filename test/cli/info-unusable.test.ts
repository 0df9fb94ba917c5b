// `flowsentry info` on a whole model file this build cannot use (a newer format version, the first hybrid layout, a
// pipeline from another layout): what the file is, as far as it can be read, on stdout (text and --json), then the
// reason as the one error line and exit 1; predict and evaluate still refuse the file with that same line. Files that
// are not models, or are cut or tampered, still get only the one error line. Real files: trained on the NSL-KDD
// sample, then edited as test/store/state-layouts.test.ts does.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeModel, encodeModel, FORMAT_VERSION } from '../../src/store/model-file.js';
import type { ModelState, StateValue } from '../../src/models/estimator.js';
import { cli, type Run } from '../helpers/cli.js';

const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exit 1, nothing on stdout, one stderr line matching `pattern`. */
function assertOnlyError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr.trim(), pattern);
}

describe('info on a model file this build cannot use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-info-unusable-'));
  const hybrid = join(dir, 'hybrid.fsm');
  let saved: { createdAt: string; version: string; features: number };

  before(() => {
    const r = cli(['train', TRAIN, '--models', 'hybrid', '--cv', '2', '--out', hybrid, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = decodeModel(readFileSync(hybrid), hybrid);
    saved = { createdAt: doc.meta.createdAt, version: doc.meta.flowsentryVersion, features: doc.schema.features.length };
  });

  /** The reason line for `file`, as predict prints it, and checks that predict and evaluate refuse the file with it. */
  function refusedLine(file: string): string {
    const p = cli(['predict', file, TEST, '--out', join(dir, 'p.csv')]);
    assert.equal(p.code, 1, p.stderr);
    assert.equal(p.stderr.trim().split('\n').length, 1, p.stderr);
    const e = cli(['evaluate', file, TEST]);
    assert.equal(e.code, 1);
    assert.equal(e.stderr, p.stderr);
    assert.equal(e.stdout, '');
    return p.stderr.trim();
  }

  /** info shows the metadata (text and --json), then the same line predict printed, exit 1. */
  function assertShown(file: string, formatVersion: number, reason: RegExp): void {
    const line = refusedLine(file);
    assert.match(line, new RegExp(`^flowsentry: ${escape(file)}: ${reason.source}`));
    const text = cli(['info', file]);
    assert.equal(text.code, 1, text.stderr);
    assert.equal(text.stderr.trim(), line, 'one line on stderr: why, and what to do');
    assert.ok(text.stdout.startsWith(`${file}: Flowsentry model (format v${formatVersion}, `), text.stdout);
    assert.match(text.stdout, new RegExp(`made by Flowsentry ${escape(saved.version)} on ${escape(saved.createdAt)}\n`));
    assert.match(text.stdout, /^model: hybrid \{/m);
    assert.match(text.stdout, /^task: binary \(binary labels: normal, attack\), attack class 'attack'$/m);
    assert.match(text.stdout, new RegExp(`^features \\(${saved.features} inputs`, 'm'));
    assert.match(text.stdout, /^trained on \(nsl-kdd, \d+ rows\):$/m);
    const json = cli(['info', file, '--json']);
    assert.equal(json.code, 1);
    assert.equal(json.stderr.trim(), line);
    const info = JSON.parse(json.stdout);
    assert.equal(info.usable, false);
    assert.equal(info.problem, line.slice(`flowsentry: ${file}: `.length));
    assert.equal(info.formatVersion, formatVersion);
    assert.equal(info.model, 'hybrid');
    assert.equal(info.task, 'binary');
    assert.equal(info.createdAt, saved.createdAt);
    assert.equal(info.flowsentryVersion, saved.version);
    assert.equal(info.features.length, saved.features);
  }

  /** The saved file with its document edited by `edit`, re-checksummed. */
  function edited(name: string, edit: (doc: ModelState) => ModelState): string {
    const doc = decodeModel(readFileSync(hybrid), hybrid) as unknown as ModelState;
    const path = join(dir, name);
    writeFileSync(path, encodeModel(edit(doc) as never));
    return path;
  }

  it('a newer format version: what it holds, then the line to upgrade', () => {
    const newer = join(dir, 'newer.fsm');
    const bytes = Buffer.from(readFileSync(hybrid));
    bytes.writeUInt32LE(FORMAT_VERSION + 1, 8);
    writeFileSync(newer, bytes);
    assertShown(newer, FORMAT_VERSION + 1, /model file format v\d+ was written by a newer Flowsentry; .* — upgrade Flowsentry$/);
  });

  it('a newer format whose payload this build cannot decode: the header facts, then the line to upgrade', () => {
    const payload = Buffer.from('a payload encoding of a later version');
    const header = Buffer.alloc(64);
    readFileSync(hybrid).copy(header, 0, 0, 8);
    header.writeUInt32LE(FORMAT_VERSION + 1, 8);
    header.writeBigUInt64LE(BigInt(payload.length), 16);
    createHash('sha256').update(payload).digest().copy(header, 24);
    const file = join(dir, 'opaque.fsm');
    writeFileSync(file, Buffer.concat([header, payload]));
    const r = cli(['info', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, `${file}: Flowsentry model (format v${FORMAT_VERSION + 1}, ${64 + payload.length} bytes), made by Flowsentry (version unreadable) on (date unreadable)\n`);
    assert.match(r.stderr, new RegExp(`^flowsentry: ${escape(file)}: model file format v\\d+ was written by a newer Flowsentry; .* — upgrade Flowsentry\n$`));
  });

  it('the first hybrid layout: what it holds, then the line to train again', () => {
    const old = edited('old-layout.fsm', (doc) => {
      const s = (doc.model as { state: ModelState }).state;
      const nearest = (s.detectors as ModelState[])[0]!;
      const { detectors: _d, calibration: _c, params, ...rest } = s;
      const { detectors: _p, combine: _m, classifier_weight: _w, ...oldParams } = params as Record<string, StateValue>;
      const state = { ...rest, params: { ...oldParams, detector: 'nearest', classifier_threshold: 0.5 }, center: 0.5, reference: { rows: nearest.rows, data: nearest.data }, scaling: { lo: nearest.lo, span: nearest.span } };
      return { ...doc, model: { name: 'hybrid', state } };
    });
    assertShown(old, FORMAT_VERSION, /the hybrid model's state does not fit this version: 'calibration' is missing .* — train the model again with this version$/);
  });

  it('a pipeline of another layout, and a hybrid whose parts disagree (found when it is rebuilt)', () => {
    const pipeline = edited('pipeline.fsm', (doc) => {
      const p = structuredClone(doc.pipeline) as { steps: Record<string, StateValue>[] };
      delete p.steps[0]!.log;
      return { ...doc, pipeline: p as unknown as StateValue };
    });
    assertShown(pipeline, FORMAT_VERSION, /the preprocessing pipeline's state does not fit this version: 'steps\[0\]\.log' is missing .* — train the model again with this version$/);
    const disagree = edited('calibration.fsm', (doc) => {
      const s = (doc.model as { state: ModelState }).state;
      return { ...doc, model: { name: 'hybrid', state: { ...s, calibration: (s.calibration as Float64Array[]).slice(0, 1) } } };
    });
    assertShown(disagree, FORMAT_VERSION, /cannot rebuild the model: hybrid: the state holds 1 calibration score lists for 2 components; .* — train the model again with this version$/);
  });

  it('a usable file: usable true, exit 0, nothing on stderr', () => {
    const r = cli(['info', hybrid, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const info = JSON.parse(r.stdout);
    assert.equal(info.usable, true);
    assert.equal(info.problem, null);
  });

  it('not a model, cut, tampered, or a newer version that is cut: only the one error line', () => {
    const bytes = readFileSync(hybrid);
    assertOnlyError(cli(['info', TEST]), /KDDTest\+_sample\.txt: is not a Flowsentry model file \(it looks like CSV data\)/);
    const tampered = join(dir, 'tampered.fsm');
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    writeFileSync(tampered, flipped);
    assertOnlyError(cli(['info', tampered]), /tampered\.fsm: model file checksum mismatch/);
    const cut = join(dir, 'cut.fsm');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    assertOnlyError(cli(['info', cut]), /cut\.fsm: model file is cut short/);
    const newerCut = join(dir, 'newer-cut.fsm');
    const v = Buffer.from(bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    v.writeUInt32LE(FORMAT_VERSION + 1, 8);
    writeFileSync(newerCut, v);
    assertOnlyError(cli(['info', newerCut]), /newer-cut\.fsm: model file is cut short/);
    const newerTampered = join(dir, 'newer-tampered.fsm');
    const w = Buffer.from(flipped);
    w.writeUInt32LE(FORMAT_VERSION + 1, 8);
    writeFileSync(newerTampered, w);
    assertOnlyError(cli(['info', newerTampered]), /newer-tampered\.fsm: model file checksum mismatch/);
  });
});

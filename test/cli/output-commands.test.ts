// Output that cannot be written, for the commands other than extract: predict (stdout and --out), inspect --json,
// train's report, PNGs and model file, and the detect sinks. Exactly one stderr line naming the file, the errno code
// and meaning, and what was written before it; exit 1; no success line; a model file never left half-written; stdout's
// reader going away is exit 0 with nothing on stderr; a sink that cannot write counts it and the run goes on.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileSink } from '../../src/detect/sinks/file.js';
import { StdoutSink } from '../../src/detect/sinks/stdout.js';
import { Writable } from 'node:stream';
import { makeAlert } from '../detect/alert-fixtures.js';
import { completeLines, fullDevice, runCli, runCliReaderGone } from './output-targets.js';

const TRAIN = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
const TEST = resolve('samples/nsl-kdd/KDDTest+_sample.txt');
const dir = mkdtempSync(join(tmpdir(), 'fs-output-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const full = fullDevice(dir);
const noFull = 'reason' in full ? full.reason : false;
const fullPath = 'path' in full ? full.path : '';
const model = join(dir, 'model.fsm');
const TRAIN_ARGS = ['train', TRAIN, '--models', 'dt', '--cv', '2'];

before(() => {
  const r = runCli([...TRAIN_ARGS, '--out', model]);
  assert.equal(r.code, 0, r.stderr);
});

describe('predict', () => {
  it('stdout a full device: one line, exit 1', { skip: noFull }, () => {
    const r = runCli(['predict', model, TEST], { stdoutPath: fullPath });
    assert.equal(r.stderr, 'flowsentry: stdout: cannot write: ENOSPC (no space left on device); the output is incomplete: 0 predictions written before it\n');
    assert.equal(r.code, 1);
  });

  it('stdout a file past the size limit: the count is the complete rows written', () => {
    const out = join(dir, 'stdout-predictions.csv');
    const r = runCli(['predict', model, TEST], { stdoutPath: out, fileLimitKb: 40 });
    const rows = completeLines(readFileSync(out, 'utf8')) - 1;
    assert.ok(rows > 0);
    assert.equal(r.stderr, `flowsentry: stdout: cannot write: EFBIG (file too large); the output is incomplete: ${rows} predictions written before it\n`);
    assert.equal(r.code, 1);
  });

  it('--out past the size limit: one line with the predictions on disk, no success line', () => {
    const out = join(dir, 'predictions.jsonl');
    const r = runCli(['predict', model, TEST, '--out', out], { fileLimitKb: 40 });
    const rows = completeLines(readFileSync(out, 'utf8'));
    assert.ok(rows > 0);
    assert.equal(r.stderr, `flowsentry: ${out}: cannot write: EFBIG (file too large); the file is incomplete: ${rows} predictions written before it\n`);
    assert.equal(r.stdout, '');
    assert.equal(r.code, 1);
  });

  it('the reader goes away after the first chunk (EPIPE): exit 0, nothing on stderr', async () => {
    const r = await runCliReaderGone(['predict', model, TEST]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });
});

describe('inspect --json', () => {
  it('stdout a full device: one line, exit 1, no stack trace', { skip: noFull }, () => {
    const r = runCli(['inspect', TEST, '--json'], { stdoutPath: fullPath });
    assert.equal(r.stderr, 'flowsentry: stdout: cannot write: ENOSPC (no space left on device); the output is incomplete\n');
    assert.equal(r.code, 1);
  });
});

describe('train', () => {
  it('--report a full device: one line, no "report:" success line, the device is still a device', { skip: noFull }, () => {
    const r = runCli([...TRAIN_ARGS, '--out', join(dir, 'other.fsm'), '--report', fullPath]);
    assert.match(r.stderr, new RegExp(`\\nflowsentry: ${fullPath}: cannot write: ENOSPC \\(no space left on device\\); the file is incomplete: 0 of \\d+ bytes written before it\\n$`));
    assert.doesNotMatch(r.stderr + r.stdout, /report: /);
    assert.equal(r.code, 1);
    assert.ok(statSync(fullPath).isCharacterDevice(), 'not renamed over');
  });

  it('--out past the size limit: no model file and no temporary file left', () => {
    const folder = join(dir, 'model-limit');
    mkdirSync(folder);
    const out = join(folder, 'model.fsm');
    const r = runCli([...TRAIN_ARGS, '--out', out], { fileLimitKb: 8 });
    assert.match(r.stderr, new RegExp(`\\nflowsentry: ${out}: cannot write: EFBIG \\(file too large\\); nothing was written, the file was left as it was\\n$`));
    assert.equal(r.code, 1);
    assert.deepEqual(readdirSync(folder), []);
  });

  it('--png where a chart file name is a folder (EISDIR): the charts exported before it are counted', () => {
    const png = join(dir, 'png');
    mkdirSync(join(png, 'cv-distribution.png'), { recursive: true });
    const r = runCli([...TRAIN_ARGS, '--out', join(dir, 'png.fsm'), '--report', join(dir, 'report.html'), '--png', png]);
    const line = r.stderr.trimEnd().split('\n').at(-1)!;
    const m = /^flowsentry: (.*): cannot write: EISDIR \(is a folder\); (\d+) of (\d+) charts were exported before it$/.exec(line);
    assert.ok(m, line);
    assert.equal(m[1], join(png, 'cv-distribution.png'));
    assert.equal(readdirSync(png).filter((f) => f !== 'cv-distribution.png').length, Number(m[2]));
    assert.equal(r.code, 1);
  });
});

describe('detect sinks', () => {
  it('file sink on a full device: every failure counted, one log line, no rotation of the device', { skip: noFull }, () => {
    const lines: string[] = [];
    const sink = new FileSink({ path: fullPath, maxBytes: 10, log: (line) => lines.push(line) });
    for (let i = 0; i < 3; i++) sink.write(makeAlert({ id: `a${i}` }));
    assert.deepEqual(sink.stats(), { written: 0, dropped: 0, failed: 3, queued: 0 });
    assert.deepEqual(lines, [`sink file:${fullPath}: cannot write: ENOSPC (no space left on device); failed alerts are counted (sink stats), detection goes on`]);
    assert.ok(statSync(fullPath).isCharacterDevice());
    assert.equal(existsSync(`${fullPath}.1`), false);
  });

  it('file sink: an unopenable path is one error', () => {
    assert.throws(() => new FileSink({ path: join(dir, 'no-such-folder', 'alerts.jsonl') }), /no-such-folder\/alerts.jsonl: cannot write: ENOENT \(the folder does not exist\); no alert was written/);
  });

  it('stdout sink whose stream fails: failures counted, one log line', async () => {
    const lines: string[] = [];
    const broken = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) }).on('error', () => undefined);
    const sink = new StdoutSink(broken, (line) => lines.push(line));
    for (let i = 0; i < 3; i++) sink.write(makeAlert({ id: `s${i}` }));
    await sink.close();
    assert.equal(sink.stats().failed, 3);
    assert.equal(sink.stats().written, 0);
    assert.deepEqual(lines, ['sink stdout: cannot write: EPIPE (the reader closed it); failed alerts are counted (sink stats)']);
  });
});

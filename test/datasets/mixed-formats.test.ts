// Files of two known formats in one command (`train KDDTrain+.txt kddcup.data_10_percent.gz`): one line naming both
// files and their formats, instead of the reader's "line 1: 42 fields, expected 43" on the second file. A format named
// with --format is checked against every file. Files of one family (CIC-IDS2017 and CSE-CIC-IDS2018) still load
// together. The KDD'99 file is the NSL-KDD sample's rows written as KDD'99 writes them (no difficulty, label dot).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { UserError } from '../../src/errors.js';
import { cli } from '../helpers/cli.js';

const NSL = resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
let dir: string;
let kdd99: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-mixed-'));
  kdd99 = join(dir, 'kdd99.txt');
  const rows = readFileSync(NSL, 'utf8').trim().split('\n').slice(0, 200);
  writeFileSync(kdd99, `${rows.map((r) => `${r.split(',').slice(0, 42).join(',')}.`).join('\n')}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const oneLine = (message: string) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError);
  assert.equal(e.message, message);
  return true;
};

describe('files of two formats in one command', () => {
  it("NSL-KDD then KDD Cup'99, and the other way round: one line naming both", async () => {
    await assert.rejects(loadDataset([NSL, kdd99]), oneLine(`${kdd99} is KDD Cup'99 data, ${NSL} is NSL-KDD data: give files of one format`));
    await assert.rejects(loadDataset([kdd99, NSL]), oneLine(`${NSL} is NSL-KDD data, ${kdd99} is KDD Cup'99 data: give files of one format`));
    const r = cli(['train', NSL, kdd99, '--models', 'dt', '--cv', '2']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^flowsentry: .*kdd99\.txt is KDD Cup'99 data, .*KDDTrain\+_sample\.txt is NSL-KDD data: give files of one format$/m);
  });

  it('--format names the file that does not fit it', async () => {
    await assert.rejects(loadDataset([NSL, kdd99], { format: 'nsl-kdd' }), oneLine(`${kdd99}: this is kdd99 data, not NSL-KDD: it cannot be read as nsl-kdd (detected, it reads as kdd99)`));
  });

  it('CIC-IDS2017 and CSE-CIC-IDS2018 files (one family) load together', async () => {
    const cic = resolve('test/fixtures/datasets/cic2017-machinelearningcve.csv');
    const cse = resolve('test/fixtures/datasets/cse-cic-ids2018.csv');
    const both = await loadDataset([cic, cse], { skipBadRows: true }).catch((e: unknown) => e);
    assert.ok(!(both instanceof UserError && / data: give files of one format$/.test(both.message)), String(both));
  });
});

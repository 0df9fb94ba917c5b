// train --test with files of another dataset format: the error says so, instead of naming the first cell that failed
// to parse in the training format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { UserError } from '../../src/errors.js';
import { alignToTraining, readTestData } from '../../src/workflow/data.js';

const NSL = resolve('samples/nsl-kdd/KDDTest+_sample.txt');
const CSE = resolve('test/fixtures/datasets/cse-cic-ids2018.csv');
const GENERIC = resolve('test/fixtures/datasets/generic-flows.csv');

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err.message;
  }
  return 'no error';
}

test('test files of the training format load as before', async () => {
  const frame = await readTestData([NSL], 'nsl-kdd', {});
  assert.equal(frame.source.format, 'nsl-kdd');
  assert.equal(frame.nRows, 1538);
});

test('a test file of another known format is named as such', async () => {
  const msg = await message(readTestData([NSL, CSE], 'nsl-kdd', {}));
  assert.equal(msg, `${CSE}: --test: this is cse-cic-ids2018 data, but the training data is nsl-kdd: test on data with the training columns`);
});

test('an unknown CSV keeps the parse error that locates the problem; a format chosen with --format that the file does not fit says so', async () => {
  assert.match(await message(readTestData([GENERIC], 'nsl-kdd', {})), /generic-flows\.csv, line \d+/);
  // it was the first cell that did not parse as NSL-KDD ("line 1, column 'duration': ...")
  assert.equal(
    await message(readTestData([CSE], 'nsl-kdd', { format: 'nsl-kdd' })),
    `${CSE}: this is cse-cic-ids2018 data, not NSL-KDD: it cannot be read as nsl-kdd (detected, it reads as cse-cic-ids2018)`,
  );
});

test("labels of a model trained when the attack view kept the file's spelling of normal ('BENIGN') still align", () => {
  // data now says 'normal'; the model's classes are ['BENIGN', 'DoS']: rows 0 and 2 are class 0, row 1 class 1
  const aligned = alignToTraining({ codes: Int32Array.from([1, 0, 1, 2]), classes: ['DoS', 'normal', 'Heartbleed'] }, ['BENIGN', 'DoS']);
  assert.deepEqual(Array.from(aligned.rows), [0, 1, 2]);
  assert.deepEqual(Array.from(aligned.labels.codes), [0, 1, 0]);
  assert.deepEqual([...aligned.unseen], [['Heartbleed', 1]]);
});

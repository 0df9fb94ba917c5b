// Data files a hostile or careless user gives (session 13 audit): each is one line naming the file (and line) through
// the library and the CLI, exit 1, or loads with exactly the rows it holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { UserError } from '../../src/errors.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-hostile-rows-'));

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The library's UserError and the CLI's one stderr line (exit 1) are both exactly `message`. */
async function expectOneLine(file: string, message: string): Promise<void> {
  await assert.rejects(loadDataset([file], {}), (e: unknown) => e instanceof UserError && e.message === message);
  const r = cli(['inspect', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `flowsentry: ${message}\n`);
}

// An NSL-KDD record: 41 features, label, difficulty.
const NSL_FIELDS = '0,tcp,http,SF,215,45076,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,1,0.00,0.00,0.00,0.00,1.00,0.00,0.00,0,0,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,normal,21'.split(',');

test('KDD records of 41 fields (the features, no label) are named as such, not as a header with duplicate columns', async () => {
  const row = NSL_FIELDS.slice(0, 41).join(',');
  const file = write('kdd41.txt', `${row}\n${row}\n${row}\n`);
  await expectOneLine(file, `${file}, line 1: the rows look like KDD connection records of 41 fields, the features without a label: NSL-KDD rows have 43 fields (label, difficulty), KDD Cup'99 rows 42 (label)`);
  // 42 and 43 fields stay KDD Cup'99 and NSL-KDD
  const kdd99 = write('kdd42.txt', `${NSL_FIELDS.slice(0, 41).join(',')},smurf.\n`.repeat(3));
  assert.equal((await loadDataset([kdd99], {})).source.format, 'kdd99');
  const nsl = write('kdd43.txt', `${NSL_FIELDS.join(',')}\n`.repeat(3));
  assert.equal((await loadDataset([nsl], {})).source.format, 'nsl-kdd');
});

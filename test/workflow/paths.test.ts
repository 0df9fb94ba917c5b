// Output-path checks: the one-line errors name the file and say why in words, not as a bare errno code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { checkWritableFile } from '../../src/workflow/paths.js';

function failure(path: string): string {
  try {
    checkWritableFile(path, '--out');
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err.message;
  }
  return 'no error';
}

test('a folder that accepts no new files (/proc) is reported in words, not as ENOENT', { skip: !existsSync('/proc/self') && 'no /proc' }, () => {
  const msg = failure('/proc/preds.csv');
  assert.match(msg, /--out: cannot write in folder \/proc: the folder does not accept new files/);
  assert.doesNotMatch(msg, /ENOENT/);
});

test('a missing folder and a writable folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-paths-'));
  assert.match(failure(join(dir, 'nope', 'x.csv')), /folder .*nope does not exist/);
  assert.equal(failure(join(dir, 'x.csv')), 'no error');
  assert.deepEqual(readdirSync(dir), [], 'the write probe leaves nothing behind');
});

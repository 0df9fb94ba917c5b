// Data files a hostile or careless user gives (session 13 audit): each is one line naming the file (and line) through
// the library and the CLI, exit 1, or loads with exactly the rows it holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

test('ISCX XML: a character reference to no character XML allows is one line naming file, line and field (was an internal error); a legal one decodes', async () => {
  const fixture = readFileSync('test/fixtures/datasets/TestbedSynthJun14Flows.xml', 'utf8');
  assert.ok(fixture.includes('<appName>HTTPWeb</appName>') && fixture.includes('<Tag>Normal</Tag>'));
  const lineOf = (text: string, needle: string): number => text.slice(0, text.indexOf(needle)).split('\n').length;
  const cases: [string, string, string, string][] = [
    ['<appName>HTTPWeb</appName>', '<appName>HTTP&#99999999;Web</appName>', 'appName', '&#99999999;'],
    ['<Tag>Normal</Tag>', '<Tag>Nor&#x110000;mal</Tag>', 'Tag', '&#x110000;'],
    ['<appName>HTTPWeb</appName>', '<appName>HTTP&#0;Web</appName>', 'appName', '&#0;'],
    ['<appName>HTTPWeb</appName>', '<appName>&#xD800;</appName>', 'appName', '&#xD800;'],
    ['<appName>HTTPWeb</appName>', '<appName>&#123456789012345678901234567890;</appName>', 'appName', '&#12345678901234...'],
  ];
  for (const [from, to, field, shown] of cases) {
    const text = fixture.replace(from, to);
    const file = write(`bad-reference-${cases.findIndex((c) => c[1] === to)}.xml`, text);
    await expectOneLine(file, `${file}, line ${lineOf(text, to)}, column '${field}': '${shown}' refers to no character XML allows (a damaged file?)`);
  }
  const legal = write('legal-reference.xml', fixture.replace('<appName>HTTPWeb</appName>', '<appName>HTTP&#xe9;W&#101;b</appName>'));
  const frame = await loadDataset([legal], {});
  const apps = frame.features.find((c) => c.name === 'appName');
  assert.ok(apps?.kind === 'categorical');
  assert.equal(apps.dictionary[apps.codes[0]!], 'HTTPéWeb');
});

test('a first line longer than the 1 MiB sample is named as such, detected or read as --format csv (was "unknown format", and with --format csv "expected 0 fields")', async () => {
  const names = Array.from({ length: 200_000 }, (_, i) => `c${i}`);
  const file = write('wide.csv', `${names.join(',')},label\n${names.map(() => '1').join(',')},normal\n`);
  const message = `${file}, line 1: the first line runs past 1 MiB without a line end: a header or row this long is not read (is it a data file?)`;
  await expectOneLine(file, message);
  await assert.rejects(loadDataset([file], { format: 'csv' }), (e: unknown) => e instanceof UserError && e.message === message);
});

test('a cell quoted into an error line cannot break the line or drive the terminal: its control characters are escaped', async () => {
  // past the sample the types come from, so the column is numeric
  const rows = (bad: string): string => `n,label\n${Array.from({ length: 400 }, (_, i) => (i === 300 ? bad : `${i},${i % 2 ? 'attack' : 'normal'}`)).join('\n')}\n`;
  const lineFeed = write('line-feed-in-cell.csv', rows('"1\n2",normal'));
  await assert.rejects(loadDataset([lineFeed], {}), (e: unknown) => e instanceof UserError && e.message.includes(`'1\n2' is not a number`));
  const r = cli(['inspect', lineFeed]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `flowsentry: ${lineFeed}, line 302, column 'n': '1\\n2' is not a number (text in a numeric column)\n`);
  const escapes = write('escape-in-cell.csv', rows('\x1b[2J\x07,normal'));
  const shown = cli(['inspect', escapes]);
  assert.equal(shown.code, 1);
  assert.equal(shown.stderr, `flowsentry: ${escapes}, line 302, column 'n': '\\x1b[2J\\x07' is not a number (text in a numeric column)\n`);
});

// `detect --pcap` and `serve --pcap` check the capture before starting: a missing or empty file is one error line and
// exit 1 (detect printed the reader's error twice; serve kept running with no source).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-capture-files-'));

test('detect --pcap of a missing file: one line naming it, exit 1, nothing on stdout', () => {
  const missing = join(dir, 'missing.pcap');
  const r = cli(['detect', '--model', join(dir, 'm.fsm'), '--pcap', missing]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `flowsentry: ${missing}: no such file\n`);
  assert.equal(r.stdout, '');
});

test('serve --pcap of an empty file: one line naming it and exit 1 at once, instead of serving without a source', () => {
  const empty = join(dir, 'empty.pcap');
  writeFileSync(empty, '');
  const r = cli(['serve', '--model', join(dir, 'm.fsm'), '--pcap', empty, '--http', '127.0.0.1:0', '--store', join(dir, 'a.duckdb')]);
  assert.equal(r.code, 1, 'exited by itself (a running service would be killed by the timeout: status null)');
  assert.equal(r.stderr, `flowsentry: ${empty}: empty file: not a packet capture\n`);
});

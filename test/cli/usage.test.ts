// Exit codes of the command line itself: help and version succeed; no command at all is a usage error (it exited 0).
// And the wording of inspect's class counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { flowsentryVersion } from '../../src/store/model-file.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = 'dist/src/cli/main.js';
const run = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('no command: the usage on stderr, nothing on stdout, exit 2', () => {
  const r = run();
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Usage: flowsentry/);
});

test('--help, help CMD, CMD --help and --version: exit 0 with the text on stdout', () => {
  for (const args of [['--help'], ['help'], ['help', 'inspect'], ['inspect', '--help']]) {
    const r = run(...args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage: flowsentry/, args.join(' '));
  }
  const v = run('--version');
  assert.equal(v.code, 0);
  // the package's own version, the one model files are stamped with
  assert.equal(v.stdout.trim(), (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  assert.equal(v.stdout.trim(), flowsentryVersion());
});

test('an unknown command: exit 2 naming it', () => {
  const r = run('bogus');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'bogus'/);
});

test('inspect counts classes in words that fit the number ("1 class", "2 classes")', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-usage-'));
  const file = join(dir, 'one-attack.csv');
  writeFileSync(file, 'bytes,packets,verdict\n10,1,portscan\n20,2,portscan\n');
  const r = run('inspect', file, '--label', 'verdict');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /labels\/attack\s+1 class: portscan 2\n/);
  assert.match(r.stdout, /labels\/binary\s+2 classes: attack 2, normal 0\n/);
});

test('train --help names every model README lists, by kind, and the defaults', () => {
  const r = run('train', '--help');
  assert.equal(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, ' ');
  const listed = (label: string): string[] => (new RegExp(`${label}: ([a-z, ]+)[;.]`).exec(help)?.[1] ?? '').split(', ').sort();
  assert.deepEqual(listed('Classifiers'), ['dt', 'gbdt', 'hybrid', 'knn', 'logreg', 'mlp', 'rf', 'svm']);
  assert.deepEqual(listed('anomaly detectors \\(--task binary or anomaly\\)'), ['autoencoder', 'dbscan', 'ecod', 'hst', 'iforest', 'kmeans', 'lof']);
  assert.match(help, /Default: rf,gbdt,dt,logreg \(--task anomaly: iforest,lof,kmeans,ecod,autoencoder\)/);
});

// Paths that are no regular file, given where a file is read (session 13 audit): a named pipe, a device, a path
// through a file. A capture through a FIFO streams (tcpdump -w into a pipe); a data file through one cannot be read
// twice, so it is one line at once instead of an open that waits for a writer forever; each names the path, exit 1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, CLI } from '../helpers/cli.js';
import { ethernet, ipv4, pcapFile, tcp, type Frame } from '../flows/packet-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-hostile-files-'));
const noMkfifo = spawnSync('mkfifo', ['--version']).status !== 0 && 'no mkfifo';

/** Runs the CLI with a guard against a hang: status null and a SIGTERM when it did not end within a minute. */
function cliGuarded(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fifo(name: string): string {
  const path = join(dir, name);
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  return path;
}

// Two TCP flows of 3 and 2 packets (different source ports).
const packet = (t: number, sport: number): Frame => ({ t, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport, dport: 80, flags: 0x10 }))) });
const capture = pcapFile([packet(1_700_000_000, 1000), packet(1_700_000_000.1, 1000), packet(1_700_000_000.2, 2000), packet(1_700_000_000.3, 1000), packet(1_700_000_000.4, 2000)]);

test('extract of a named pipe reads the capture once, as from the file: same rows, and the writer is not cut off', { skip: noMkfifo }, async () => {
  const file = join(dir, 'flows.pcap');
  writeFileSync(file, capture);
  const fromFile = cliGuarded(['extract', file, '--out', join(dir, 'from-file.csv')]);
  assert.equal(fromFile.code, 0, fromFile.stderr);

  const pipe = fifo('capture.fifo');
  // The writer runs in its own process: the CLI below blocks this one.
  const writer = spawn('sh', ['-c', `cat "${file}" > "${pipe}"`], { stdio: 'ignore' });
  const writerExit = new Promise<number | null>((resolve) => writer.once('exit', (code) => resolve(code)));
  const fromPipe = cliGuarded(['extract', pipe, '--out', join(dir, 'from-pipe.csv')]);
  assert.equal(fromPipe.code, 0, `exit ${fromPipe.code}: ${fromPipe.stderr}`);
  assert.equal(await writerExit, 0, 'the writer ended normally (the up-front check used to open and close the pipe: SIGPIPE)');
  assert.match(fromPipe.stdout + fromPipe.stderr, /packets 5, flows 2\b/);
  assert.equal(readFileSync(join(dir, 'from-pipe.csv'), 'utf8'), readFileSync(join(dir, 'from-file.csv'), 'utf8'));
});

test('a named pipe given as a data file: one line naming it at once, not an open waiting for a writer', { skip: noMkfifo }, () => {
  const pipe = fifo('rows.fifo');
  for (const args of [['inspect', pipe], ['train', pipe, '--out', join(dir, 'm.fsm')]]) {
    const r = cliGuarded(args);
    assert.equal(r.code, 1, `${args[0]}: exit ${r.code} (null: still waiting after a minute)`);
    // train says what it loads first
    assert.equal(r.stderr.replace(/^loading .*\n/, ''), `flowsentry: ${pipe}: is a pipe, not a regular file: data files are read more than once; save the data to a file first\n`);
    assert.equal(r.stdout, '');
  }
});

test('a device or a path through a file given as a data file: one line naming it', () => {
  const r = cli(['inspect', '/dev/zero']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'flowsentry: /dev/zero: is a device or socket, not a regular file: expected a data file\n');
  const file = join(dir, 'rows.csv');
  writeFileSync(file, 'a,label\n1,x\n');
  const through = cli(['inspect', join(file, 'inner.csv')]);
  assert.equal(through.code, 1);
  assert.equal(through.stderr, `flowsentry: ${join(file, 'inner.csv')}: no such file (a part of its path is a file, not a folder)\n`);
});

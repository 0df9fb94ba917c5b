// `flowsentry extract` whose output cannot be written, on each of its output paths (one thread to a file, the
// two-thread CSV writer, the stream path of JSON lines and of partition workers, stdout): stdout's reader going away
// ends it quietly with exit 0; any other failed write is exactly one stderr line naming the file, the errno code and
// its meaning, and the flows written before it, which must be the complete rows on disk; exit 1, no stack trace.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ethernet, ipv4, pcapFile, udp } from '../flows/packet-builder.js';
import { completeLines, fullDevice, runCli, runCliReaderGone } from './output-targets.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-output-extract-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const full = fullDevice(dir);
const noFull = 'reason' in full ? full.reason : false;
const fullPath = 'path' in full ? full.path : '';

// 8000 one-packet UDP flows: about 2.5 MB of CIC CSV rows, several of the writer's 1 MB chunks.
const FLOWS = 8000;
const capture = join(dir, 'many.pcap');
writeFileSync(
  capture,
  pcapFile(Array.from({ length: FLOWS }, (_, i) => ({ t: 100 + i / 1000, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(1024 + (i % 60000), 53, 20 + (i % 7)))) }))),
);

/** Every output path of extract: its options and the format of its rows. */
const PATHS: { name: string; args: string[]; header: boolean }[] = [
  { name: 'one thread, CSV', args: [], header: true },
  { name: 'two-thread CSV writer', args: ['--workers', '2'], header: true },
  { name: 'JSON lines', args: ['--format', 'jsonl'], header: false },
  { name: 'partition workers, JSON lines', args: ['--workers', '2', '--format', 'jsonl'], header: false },
  { name: 'partition workers, NetFlow CSV', args: ['--workers', '2', '--features', 'netflow'], header: true },
];

const EFBIG = (file: string, flows: number): string => `flowsentry: ${file}: cannot write: EFBIG (file too large); the file is incomplete: ${flows} flows written before it\n`;

describe('extract --out a full device (ENOSPC)', { skip: noFull }, () => {
  for (const path of PATHS) {
    it(`${path.name}: one line, 0 flows written, exit 1`, () => {
      const r = runCli(['extract', capture, '--out', fullPath, ...path.args]);
      assert.equal(r.stderr, `flowsentry: ${fullPath}: cannot write: ENOSPC (no space left on device); the file is incomplete: 0 flows written before it\n`);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
    });
  }
});

describe('extract --out past the file size limit (EFBIG): the count is the complete rows on disk', () => {
  for (const path of PATHS) {
    it(path.name, () => {
      const out = join(dir, `limited-${path.args.join('')}.${path.header ? 'csv' : 'jsonl'}`);
      const r = runCli(['extract', capture, '--out', out, ...path.args], { fileLimitKb: 600 });
      const rows = completeLines(readFileSync(out, 'latin1')) - (path.header ? 1 : 0);
      assert.ok(rows > 0 && rows < FLOWS, `${rows} rows before the limit`);
      assert.equal(r.stderr, EFBIG(out, rows));
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '', 'no summary: the run did not succeed');
    });
  }
});

describe('extract to stdout', () => {
  it('stdout a full device: one line naming stdout, exit 1', { skip: noFull }, () => {
    const r = runCli(['extract', capture], { stdoutPath: fullPath });
    assert.equal(r.stderr, 'flowsentry: stdout: cannot write: ENOSPC (no space left on device); the output is incomplete: 0 flows written before it\n');
    assert.equal(r.code, 1);
  });

  for (const workers of ['1', '2']) {
    it(`--workers ${workers}, stdout a file past the size limit: the count is the complete rows written, no summary`, () => {
      const out = join(dir, `stdout-${workers}.csv`);
      const r = runCli(['extract', capture, '--workers', workers], { stdoutPath: out, fileLimitKb: 600 });
      const rows = completeLines(readFileSync(out, 'latin1')) - 1;
      assert.ok(rows > 0 && rows < FLOWS);
      assert.equal(r.stderr, `flowsentry: stdout: cannot write: EFBIG (file too large); the output is incomplete: ${rows} flows written before it\n`);
      assert.equal(r.code, 1);
    });

    it(`--workers ${workers}, the reader goes away after the first chunk (EPIPE): exit 0, nothing on stderr`, async () => {
      const r = await runCliReaderGone(['extract', capture, '--workers', workers]);
      assert.equal(r.chunks, 1);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
    });
  }
});

describe('extract --out a path that cannot be a file', () => {
  it('a folder: one line before any work, exit 1', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const r = runCli(['extract', capture, '--out', folder]);
    assert.equal(r.stderr, `flowsentry: ${folder}: --out: is a folder, expected a file name\n`);
    assert.equal(r.code, 1);
  });

  it('a read-only folder (EACCES)', { skip: process.getuid?.() === 0 ? 'running as root: permissions do not apply' : false }, () => {
    const folder = join(dir, 'read-only');
    mkdirSync(folder, { mode: 0o555 });
    const out = join(folder, 'flows.csv');
    const r = runCli(['extract', capture, '--out', out]);
    assert.equal(r.stderr, `flowsentry: ${out}: --out: cannot write in folder ${folder}: permission denied\n`);
    assert.equal(r.code, 1);
  });
});

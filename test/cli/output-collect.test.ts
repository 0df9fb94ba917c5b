// `collect` when its flows cannot be written, as every command (src/util/output.ts): a full device or a file size
// limit is one line naming the file, the errno and the flow records written before it (equal to the complete lines
// on disk), exit 1; flows on stdout whose reader goes away end the collector at once, quietly, exit 0. The
// datagrams are softflowd's own v5 export of the shared tcp_ports capture (test/fixtures/netflow).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, completeLines, fullDevice } from './output-targets.js';

const V5 = new URL('../../../test/fixtures/netflow/softflowd-r-tcp_ports-v5.bin', import.meta.url);

/** The fixture's datagrams ([u32 length][bytes]...). */
function datagrams(): Buffer[] {
  const buf = readFileSync(V5);
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += 4 + buf.readUInt32BE(at)) out.push(buf.subarray(at + 4, at + 4 + buf.readUInt32BE(at)));
  return out;
}

interface Collecting {
  child: ChildProcessWithoutNullStreams;
  port: Promise<number>;
  stderr: () => string;
  exited: Promise<{ code: number | null; ms: number }>;
}

/** Starts `collect` on a free port (under `ulimit -f` when asked); `port` resolves once it listens. */
function startCollect(args: string[], fileLimitKb?: number): Collecting {
  const argv = ['--listen', 'udp://127.0.0.1:0', '--duration', '20', ...args];
  const child = fileLimitKb === undefined ? spawn(process.execPath, [CLI, 'collect', ...argv]) : spawn('/bin/sh', ['-c', `ulimit -f ${fileLimitKb} && exec "$@"`, 'sh', process.execPath, CLI, 'collect', ...argv]);
  const started = Date.now();
  let stderr = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on udp:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error(`collect exited before listening: ${stderr}`)));
  });
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) => child.once('close', (code) => resolve({ code, ms: Date.now() - started })));
  return { child, port, stderr: () => stderr, exited };
}

/** Sends the fixture's datagrams `times` times, paced so that nothing is lost on the way. */
async function send(port: number, times: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  const grams = datagrams();
  for (let t = 0; t < times; t++) {
    for (const g of grams) await new Promise((resolve) => socket.send(g, port, '127.0.0.1', resolve));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  socket.close();
}

describe('collect output that cannot be written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-output-collect-'));
  const full = fullDevice(dir);

  it('--out on a full device: one line naming it, 0 flow records written, exit 1', { skip: 'reason' in full ? full.reason : false }, async () => {
    const path = (full as { path: string }).path;
    const c = startCollect(['--out', path]);
    await send(await c.port, 5);
    const { code, ms } = await c.exited;
    assert.equal(code, 1, c.stderr());
    assert.ok(ms < 15_000, `ended at the failure (${ms} ms), not at --duration`);
    assert.equal(c.stderr().split('\n').filter(Boolean).slice(1).join('\n'), `flowsentry: ${path}: cannot write: ENOSPC (no space left on device); the file is incomplete: 0 flow records written before it`);
  });

  it('--out past the file size limit (EFBIG): the count is the complete lines on disk', async () => {
    const out = join(dir, 'flows.jsonl');
    const c = startCollect(['--out', out], 8);
    await send(await c.port, 200);
    const { code } = await c.exited;
    assert.equal(code, 1, c.stderr());
    const lines = completeLines(readFileSync(out, 'latin1'));
    assert.ok(lines > 0 && readFileSync(out).length <= 8 * 1024, `${lines} lines within the limit`);
    assert.equal(c.stderr().split('\n').filter(Boolean).slice(1).join('\n'), `flowsentry: ${out}: cannot write: EFBIG (file too large); the file is incomplete: ${lines} flow records written before it`);
  });

  it('flows on stdout whose reader goes away: ends at once, exit 0, nothing but the listening line on stderr', async () => {
    const c = startCollect([]);
    c.child.stdout.once('data', () => c.child.stdout.destroy());
    const sending = send(await c.port, 20);
    const { code, ms } = await c.exited;
    await sending;
    assert.equal(code, 0, c.stderr());
    assert.ok(ms < 15_000, `ended when the reader went away (${ms} ms), not at --duration`);
    assert.deepEqual(c.stderr().split('\n').filter(Boolean), [c.stderr().split('\n')[0]]);
    assert.match(c.stderr(), /^flowsentry: listening on udp:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});

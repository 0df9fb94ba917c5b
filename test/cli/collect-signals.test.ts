// `collect` stopped (SIGTERM, SIGINT) while it starts: its decoding thread and warm-up take ~0.2 s, and a signal
// there met no handler (the default action, exit 143). `--out` names a named pipe, so the test knows when the process
// has opened its output (the pipe's other end opens then) and signals right after, inside the start. Exit 0, the
// --json summary, and the output closed.
// A signal while it stops quits at once: the final flush writes every queued flow, and here the pipe's reader reads
// nothing, so the flush never ends. After --duration the first signal quits (it was ignored, and only a second one,
// by its default action, ended the process without a word); after a first signal, the second.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, exitWithin } from '../helpers/cli.js';
import { readDatagrams } from '../collector/build.js';

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`collect: ${signal} while it starts is a clean stop, exit 0`, { skip: process.platform === 'win32' && 'named pipes' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-collect-signals-'));
    try {
      const pipe = join(dir, 'flows.jsonl');
      execFileSync('mkfifo', [pipe]);
      const child = spawn(process.execPath, [CLI, 'collect', '--listen', 'udp://127.0.0.1:0', '--out', pipe, '--json']);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
      // if the process ended before opening its output, a writer of our own releases the pending open
      void exited.then(() => open(pipe, constants.O_WRONLY | constants.O_NONBLOCK).then((w) => w.close(), () => undefined));
      const reader = await open(pipe, 'r'); // returns once the process has opened --out: it is starting the collector
      child.kill(signal);
      const flows = await reader.readFile('utf8'); // to the end: the process closes its output
      await reader.close();
      assert.deepEqual(await exited, { code: 0, signal: null }, stderr);
      assert.equal(flows, '');
      const summary = JSON.parse(stdout) as { datagrams: number; records: number };
      assert.deepEqual([summary.datagrams, summary.records], [0, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const STALLED = [
  { name: 'after --duration, the first SIGINT', args: ['--duration', '1'], signals: ['SIGINT'] as const },
  { name: 'after a first SIGTERM, the second', args: [], signals: ['SIGTERM', 'SIGTERM'] as const },
];
for (const { name, args, signals } of STALLED) {
  test(`collect: ${name} during a final flush that cannot end quits at once, saying so`, { skip: process.platform === 'win32' && 'named pipes' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-collect-signals-'));
    const pipe = join(dir, 'flows.jsonl');
    execFileSync('mkfifo', [pipe]);
    const child = spawn(process.execPath, [CLI, 'collect', '--listen', 'udp://127.0.0.1:0', '--out', pipe, ...args]);
    let stderr = '';
    const listening = new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /listening on udp:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`collect exited before listening: ${stderr}`)));
    });
    const reader = await open(pipe, 'r'); // opened, never read: 64 KiB in, the collector's writes block
    try {
      // 2,104 flow records, ~0.8 MB of JSON lines: far more than the pipe holds
      const port = await listening;
      const socket = dgram.createSocket('udp4');
      for (const d of readDatagrams('test/fixtures/netflow/softflowd-v5.bin')) await new Promise((resolve) => socket.send(d, port, '127.0.0.1', resolve));
      socket.close();
      await new Promise((resolve) => setTimeout(resolve, 2500)); // received, and --duration's stop begun
      for (const signal of signals.slice(0, -1)) {
        child.kill(signal);
        assert.equal(await exitWithin(child, 1000), null, `the first ${signal} starts the stop, whose flush cannot end: ${stderr}`);
      }
      const last = signals[signals.length - 1];
      child.kill(last);
      assert.deepEqual(await exitWithin(child, 10_000), { code: null, signal: last }, stderr);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 2, stderr);
      assert.match(lines[1], new RegExp(`^flowsentry: ${last} while stopping: quitting at once; ${pipe.replace(/[.]/g, '\\.')} holds only the flows written before it \\(its last line may be cut\\); \\d+ flow records decoded so far$`));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

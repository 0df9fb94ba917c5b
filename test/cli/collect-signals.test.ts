// `collect` stopped (SIGTERM, SIGINT) while it starts: its decoding thread and warm-up take ~0.2 s, and a signal
// there met no handler (the default action, exit 143). `--out` names a named pipe, so the test knows when the process
// has opened its output (the pipe's other end opens then) and signals right after, inside the start. Exit 0, the
// --json summary, and the output closed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/cli.js';

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

// `extract --workers 2`: the CSV-writer thread ended from outside (Worker.terminate, which runs none of its error
// handling, as an out-of-memory end does) at several moments of the run — before it starts, while the main thread
// is metering, once it has written rows, before the final flush, and while the main thread waits for a free slot of
// the ring (a writer that never takes a batch) — is an error naming the writer, never a hang. The Worker class of node:worker_threads is replaced for the test (syncBuiltinESMExports), so the
// product code has no test hook.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker as WorkerType, WorkerOptions } from 'node:worker_threads';
import { extractFlows } from '../../src/flows/extract.js';
import { ethernet, type Frame, ipv4, pcapFile, udp } from './packet-builder.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const threads = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof WorkerType };
const RealWorker = threads.Worker;

/** 40,000 one-packet UDP flows 0.5 ms apart (3.4 MB: several 1 MB reads); with a 2 s idle timeout most end mid-capture. */
function capture(dir: string): string {
  const frames: Frame[] = [];
  for (let i = 0; i < 40_000; i++) {
    const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    frames.push({ t: 1_600_000_000 + i * 0.0005, bytes: ethernet(ipv4({ src, dst: '192.168.0.1', protocol: 17 }, udp(1024 + (i % 60000), 53, 40))) });
  }
  const path = join(dir, 'many.pcap');
  writeFileSync(path, pcapFile(frames));
  return path;
}

/** Runs `body` with every new Worker handed to `onWorker` as it is made. */
async function withWorkers<T>(onWorker: (w: WorkerType) => void, body: () => Promise<T>): Promise<T> {
  threads.Worker = class extends RealWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      onWorker(this);
    }
  };
  syncBuiltinESMExports();
  try {
    return await body();
  } finally {
    threads.Worker = RealWorker;
    syncBuiltinESMExports();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fs-writer-death-'));
const pcap = capture(dir);
const size = statSync(pcap).size;
const options = { workers: 2, idleTimeoutS: 2 };

test('control: with its writer left alone, the capture (3.4 MB, several reads) gives its 40,000 flows', async () => {
  const out = join(dir, 'ok.csv');
  const s = await extractFlows([pcap], out, options);
  assert.equal(s.flows, 40_000);
  assert.ok(size > 3 << 20, `${size} bytes`);
});

const moments: [string, (w: WorkerType, out: string) => ExtractHooks][] = [
  ['before the writer has started', (w) => (void w.terminate(), {})],
  ['after the first 1 MB read, while the main thread meters', (w) => ({ onProgress: (bytes) => bytes >= 1 << 20 && void w.terminate() })],
  [
    'once the writer has written 100 kB (polled whenever the main thread awaits: between reads, or waiting for a slot)',
    (w, out) => {
      const poll = setInterval(() => {
        if (statSync(out).size > 100_000) {
          clearInterval(poll);
          void w.terminate();
        }
      }, 1);
      w.once('exit', () => clearInterval(poll));
      return {};
    },
  ],
  ['after the last read, before the final flush', (w) => ({ onProgress: (bytes) => bytes === size && void w.terminate() })],
];

interface ExtractHooks {
  onProgress?: (bytes: number) => unknown;
}

for (const [moment, act] of moments) {
  test(`the CSV writer thread terminated ${moment}: an error, not a hang`, { timeout: 60_000 }, async () => {
    const out = join(dir, 'out.csv');
    let hooks: ExtractHooks = {};
    const run = withWorkers(
      (w) => (hooks = act(w, out)),
      () => extractFlows([pcap], out, { ...options, onProgress: (bytes) => void hooks.onProgress?.(bytes) }),
    );
    await assert.rejects(run, /CSV writer thread exited with code \d before it finished/);
  });
}

test('the CSV writer thread stalled (never takes a batch) and terminated while the main thread waits for a slot: an error', { timeout: 60_000 }, async () => {
  let waiting = false;
  const stalled = class extends RealWorker {
    constructor() {
      super('setInterval(() => undefined, 1000);', { eval: true });
      // The ring holds 8 batches and the capture ends over 30 of them: after 1 s the main thread can only be waiting.
      setTimeout(() => {
        waiting = true;
        void this.terminate();
      }, 1000);
    }
  };
  threads.Worker = stalled;
  syncBuiltinESMExports();
  try {
    await assert.rejects(extractFlows([pcap], join(dir, 'stalled.csv'), options), /CSV writer thread exited with code 1 before it finished/);
    assert.ok(waiting);
  } finally {
    threads.Worker = RealWorker;
    syncBuiltinESMExports();
  }
});

/** `extract --workers 2` in a child process whose Worker class is replaced by `workerClass` (a preload module). */
function cliWithWorkers(name: string, workerClass: string): { status: number | null; signal: NodeJS.Signals | null; lines: string[] } {
  const preload = join(dir, `${name}.mjs`);
  writeFileSync(
    preload,
    `import { createRequire, syncBuiltinESMExports } from 'node:module';
const threads = createRequire(import.meta.url)('node:worker_threads');
const Real = threads.Worker;
threads.Worker = ${workerClass};
syncBuiltinESMExports();
`,
  );
  const r = spawnSync(process.execPath, ['--import', preload, CLI, 'extract', pcap, '--out', join(dir, `${name}.csv`), '--workers', '2'], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, lines: r.stderr.trim().split('\n') };
}

test('extract --workers 2 whose writer thread is terminated: one error line, exit 1', { timeout: 60_000 }, () => {
  const r = cliWithWorkers('terminated', 'class extends Real { constructor(...a) { super(...a); void this.terminate(); } }');
  assert.equal(r.signal, null, 'no hang');
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  assert.match(r.lines[0]!, /^flowsentry: internal error: CSV writer thread exited with code \d before it finished/);
});

test('extract --workers 2 whose writer thread runs out of memory (a 4 MB heap; Node 22 cannot start a thread in 2 MB): one error line, exit 1', { timeout: 60_000 }, () => {
  const r = cliWithWorkers('out-of-memory', 'class extends Real { constructor(u, o) { super(u, { ...o, resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 } }); } }');
  assert.equal(r.signal, null, 'no hang');
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  assert.match(r.lines[0]!, /^flowsentry: internal error: CSV writer thread failed: .*memory limit/);
});

// `detect` and `serve` stopped while they start, as a person stops them: SIGTERM, SIGINT (Ctrl-C) and SIGHUP (the
// terminal closing). The model is handed to the process through a named pipe, so the signal deterministically
// arrives while the model loads (it used to find no handler there: the default action, exit 143); then the same at
// a few delays after the model is handed over (loading, starting, running), with a stdin source that never sent a
// byte (a stop before the capture's first byte was "empty file: not a packet capture", exit 1). Every stop is exit 0
// with a whole summary, and what the sinks and the store hold agrees with it.
// A signal while it stops (draining and flushing) quits at once, as collect's does: one line saying so and what is
// lost, then the signal's own action. It met the default action without a word (a second signal), or nothing at all
// (the first after detect's capture ended). The stop here cannot end soon: the webhook sink's endpoint never answers,
// and the sink gives up only 5 s after the stop began.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, exitWithin } from '../helpers/cli.js';
import { SYNSCAN, TRAINING_CSVS, sharedFiles, startServe, trainPortscanModel, waitFor, writeTo } from '../e2e/service-harness.js';

const captures = sharedFiles(SYNSCAN);
const skip = !captures || !sharedFiles(...TRAINING_CSVS) ? 'shared datasets missing' : process.platform === 'win32' ? 'named pipes' : false;

interface Summary {
  engine: { alertUpdates: number; alertsRaised: number; dropped: number; queued: number };
  sinks: Record<string, { written: number; dropped: number; failed: number }>;
}

interface Stopped {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stdout: string;
  stderr: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('detect and serve stopped while they start', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-detect-signals-'));
  const model = join(dir, 'cic-rf.fsm');
  let fifoCount = 0;

  before(() => trainPortscanModel(model));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs the CLI with `--model PIPE` (the model's bytes come through a named pipe) and sends `signal`: before the
   * model's bytes when `delayMs` is undefined (the process is then reading the pipe: it is loading the model),
   * otherwise `delayMs` after them. stdin stays open and empty until the process exits.
   */
  async function stopWhileStarting(args: readonly string[], signal: NodeJS.Signals, delayMs?: number): Promise<Stopped> {
    const pipe = join(dir, `model-${++fifoCount}.fsm`);
    execFileSync('mkfifo', [pipe]);
    const child = spawn(process.execPath, [CLI, ...args, '--model', pipe], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    const exited = new Promise<Stopped['exit']>((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
    const writer = await openOnceRead(pipe, () => child.exitCode !== null || child.signalCode !== null);
    if (delayMs === undefined) child.kill(signal);
    await writer.writeFile(readFileSync(model)).catch(() => undefined); // EPIPE when the signal killed it
    await writer.close();
    if (delayMs !== undefined) {
      await sleep(delayMs);
      child.kill(signal);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exit = await exited;
    clearTimeout(timer);
    return { exit, stdout, stderr };
  }

  /** The pipe opened for writing once the process has opened it for reading (never blocks on a process that died). */
  async function openOnceRead(pipe: string, died: () => boolean): Promise<FileHandle> {
    for (;;) {
      try {
        // without a reader a non-blocking open fails (ENXIO); with one, a blocking open returns at once
        const probe = await open(pipe, constants.O_WRONLY | constants.O_NONBLOCK);
        const writer = await open(pipe, 'w');
        await probe.close();
        return writer;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
        if (died()) throw new Error('the process exited before it read its model', { cause: err });
        await sleep(5);
      }
    }
  }

  /** The --json summary, checked against the file sink's lines: every alert update written, none lost. */
  function checkSummary(r: Stopped, sinkFile: string): Summary {
    assert.deepEqual(r.exit, { code: 0, signal: null }, r.stderr);
    assert.doesNotMatch(r.stderr, /empty file|not a packet capture|source stopped|error/, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary;
    const lines = existsSync(sinkFile) ? readFileSync(sinkFile, 'utf8').split('\n').filter((l) => l !== '') : [];
    for (const line of lines) JSON.parse(line);
    assert.equal(summary.sinks.file.written, lines.length);
    assert.equal(summary.engine.alertUpdates, lines.length);
    assert.deepEqual([summary.engine.dropped, summary.engine.queued, summary.sinks.file.failed], [0, 0, 0]);
    return summary;
  }

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`detect: ${signal} while the model loads stops it cleanly, exit 0`, async () => {
      const out = join(dir, `detect-${signal}.jsonl`);
      const r = await stopWhileStarting(['detect', '--pcap', captures![0], '--sink', `file:${out}`, '--json'], signal);
      checkSummary(r, out);
    });
  }

  it('serve: SIGTERM while the model loads stops it cleanly, exit 0; the store opens again with what the summary says', async () => {
    const store = join(dir, 'loading.duckdb');
    const out = join(dir, 'serve-loading.jsonl');
    const r = await stopWhileStarting(['serve', '--stdin', '--http', '127.0.0.1:0', '--store', store, '--sink', `file:${out}`, '--json'], 'SIGTERM');
    const summary = checkSummary(r, out);
    const again = await startServe(['--model', model, '--stdin', '--store', store]);
    try {
      const page = (await (await again.get('/api/alerts?limit=10')).json()) as { total: number };
      assert.equal(page.total, summary.engine.alertsRaised);
    } finally {
      assert.deepEqual(await again.stop(), { code: 0, signal: null }, again.stderr());
    }
  });

  for (const delayMs of [0, 50, 150, 400]) {
    it(`serve --stdin: SIGTERM ${delayMs} ms after the model is handed over, exit 0`, async () => {
      const out = join(dir, `serve-${delayMs}.jsonl`);
      const r = await stopWhileStarting(['serve', '--stdin', '--http', '127.0.0.1:0', '--store', join(dir, `serve-${delayMs}.duckdb`), '--sink', `file:${out}`, '--json'], 'SIGTERM', delayMs);
      checkSummary(r, out);
    });

    it(`detect --stdin: SIGINT ${delayMs} ms after the model is handed over, exit 0`, async () => {
      const out = join(dir, `detect-stdin-${delayMs}.jsonl`);
      const r = await stopWhileStarting(['detect', '--stdin', '--sink', `file:${out}`, '--json'], 'SIGINT', delayMs);
      checkSummary(r, out);
    });
  }
});

describe('detect and serve: a signal while they stop quits at once', { skip: !captures || !sharedFiles(...TRAINING_CSVS) ? 'shared datasets missing' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-detect-quit-'));
  const model = join(dir, 'cic-rf.fsm');
  /** Requests the webhook endpoint received; it answers none. */
  const requests: IncomingMessage[] = [];
  const endpoint = createServer((req) => void requests.push(req));
  let webhook = '';

  before(async () => {
    trainPortscanModel(model);
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    webhook = `webhook:http://127.0.0.1:${(endpoint.address() as { port: number }).port}/alerts`;
  });
  after(async () => {
    endpoint.closeAllConnections();
    await new Promise((resolve) => endpoint.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the CLI with alerts going to the endpoint; `input`, when given, is written to stdin, which stays open. */
  async function startAlerting(args: readonly string[], input?: Buffer): Promise<{ child: ChildProcessWithoutNullStreams; stderr: () => string }> {
    const before = requests.length;
    const child = spawn(process.execPath, [CLI, ...args, '--model', model, '--sink', webhook, '--early-packets', '1'], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    if (input) await writeTo(child, input);
    await waitFor('the first alert at the webhook', () => requests.length > before || child.exitCode !== null || child.signalCode !== null);
    assert.ok(requests.length > before, `exited before alerting: ${stderr}`);
    return { child, stderr: () => stderr };
  }

  /** The last stderr line: the signal, and what quitting loses. */
  function assertQuitLine(stderr: string, signal: NodeJS.Signals, store: boolean): void {
    const last = stderr.trim().split('\n').at(-1)!;
    const lost = `alerts the sinks have not yet written${store ? " and the store's unflushed alert and traffic rows" : ''} are lost`;
    assert.match(last, new RegExp(`^flowsentry: ${signal} while stopping: quitting at once; [1-9]\\d* flows scored so far; (\\d+ queued flows not yet scored(, | and ))?${lost}$`), stderr);
  }

  for (const [command, signal] of [['serve', 'SIGTERM'], ['detect', 'SIGHUP']] as const) {
    it(`${command} --stdin: a second ${signal} during the stop quits at once, saying what is lost`, async () => {
      const extra = command === 'serve' ? ['--http', '127.0.0.1:0', '--store', join(dir, `${signal}.duckdb`)] : [];
      const { child, stderr } = await startAlerting([command, '--stdin', ...extra], readFileSync(captures![0]));
      try {
        child.kill(signal);
        assert.equal(await exitWithin(child, 1000), null, `the first ${signal} starts the stop, which waits for the webhook: ${stderr()}`);
        child.kill(signal);
        assert.deepEqual(await exitWithin(child, 10_000), { code: null, signal }, stderr());
        assertQuitLine(stderr(), signal, command === 'serve');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  }

  it('detect --pcap: the first SIGINT once the capture ended (the stop under way) quits at once', async () => {
    const { child, stderr } = await startAlerting(['detect', '--pcap', captures![0]]);
    try {
      await sleep(2000); // the capture (0.1 s of work) ended: the stop waits for the webhook until 5 s after it began
      assert.equal(child.exitCode, null, stderr());
      child.kill('SIGINT');
      assert.deepEqual(await exitWithin(child, 10_000), { code: null, signal: 'SIGINT' }, stderr());
      assertQuitLine(stderr(), 'SIGINT', false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

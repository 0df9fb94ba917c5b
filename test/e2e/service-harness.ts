// Shared helpers for the person-level tests of `detect` and `serve`: a small random forest trained through the real
// CLI on the shared CIC-IDS2017 data, and `serve` run as a real child process on 127.0.0.1 (a free port picked by the
// OS) whose dashboard URL and token are read from its stderr, as a person would.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI, cli } from '../helpers/cli.js';
import { sharedFile } from '../helpers/datasets.js';

/** Training data: benign flows plus the port-scan flows of CIC-IDS2017 (the SYN-scan capture is a port scan). */
export const TRAINING_CSVS = ['cic-ids2017/BENIGN_5000.csv', 'cic-ids2017/Infiltration_-_Portscan_5000.csv'];
export const SYNSCAN = 'pcaps/practical-packet-analysis/synscan.pcapng';
export const SESSION_HIJACKING = 'pcaps/practical-packet-analysis/sessionhijacking.pcapng';

/** Absolute paths of the shared files, or undefined when any is missing (tests then skip). */
export function sharedFiles(...relative: string[]): string[] | undefined {
  const paths = relative.map(sharedFile);
  return paths.every((p): p is string => p !== undefined) ? paths : undefined;
}

/** Trains a random forest on benign + port-scan CIC-IDS2017 flows (≈ 4 s on 2 cores) into `out`. */
export function trainPortscanModel(out: string): void {
  const csvs = sharedFiles(...TRAINING_CSVS);
  if (!csvs) throw new Error('shared CIC-IDS2017 files missing');
  const r = cli(['train', ...csvs, '--models', 'rf', '--cv', '2', '--out', out, '--json']);
  if (r.code !== 0) throw new Error(`train failed (${r.code}): ${r.stderr}`);
}

export interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  readonly token: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (and signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  get(path: string, token?: string | null): Promise<Response>;
}

/** Starts `flowsentry serve` with `args` on 127.0.0.1 (free port) and waits for its dashboard line. */
export async function startServe(args: readonly string[], timeoutMs = 20_000): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0', ...args], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
  let err = '';
  let out = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // A test writes to stdin and may end it while the child exits: ignore EPIPE there.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const line = await new Promise<RegExpExecArray>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve did not start in ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    const check = (): void => {
      const m = /dashboard (http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr.off('data', check);
        res(m);
      }
    };
    child.stderr.on('data', check);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      rej(new Error(`serve exited with ${code} before listening; stderr: ${err}`));
    });
  });
  const [, base, token] = line;
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    }
    return exited;
  };
  return {
    child,
    base,
    token,
    stderr: () => err,
    stdout: () => out,
    exited,
    stop,
    get: (path, tok = token) => fetch(base + path, { headers: tok === null ? {} : { authorization: `Bearer ${tok}` } }),
  };
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Writes `data` to a child's stdin and resolves once it has been handed to the pipe. */
export function writeTo(child: ChildProcessWithoutNullStreams, data: Buffer): Promise<void> {
  return new Promise((res, rej) => child.stdin.write(data, (e) => (e ? rej(e) : res())));
}

/** Alerts in a JSON-lines sink file, latest update per id (aggregates are re-emitted as they grow). */
export function latestById(jsonl: string): Map<string, { id: string; count: number; flow: { srcAddr: string }; label: string }> {
  const m = new Map<string, { id: string; count: number; flow: { srcAddr: string }; label: string }>();
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    const a = JSON.parse(line) as { id: string; count: number; flow: { srcAddr: string }; label: string };
    const old = m.get(a.id);
    if (!old || a.count >= old.count) m.set(a.id, a);
  }
  return m;
}

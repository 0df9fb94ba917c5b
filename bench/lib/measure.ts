// Measuring helpers shared by every benchmark: wall time, peak RSS, running a peer command (python3-sklearn,
// pandas, softflowd, nfcapd, tshark) and printing a side-by-side table.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';

/** Debian's python, where python3-sklearn and python3-pandas live (not a pyenv shim). */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface Timed<T> {
  value: T;
  seconds: number;
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<Timed<T>> {
  const start = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export interface PeerRun {
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak RSS of the child in MB, from GNU time when available. */
  peakRssMb: number | undefined;
  code: number;
}

/** Runs a peer command, measuring wall time and (through /usr/bin/time) its peak RSS. */
export function runPeer(cmd: string, args: readonly string[], input?: string): Promise<PeerRun> {
  const useTime = existsSync('/usr/bin/time');
  const argv = useTime ? ['-f', '__PEAK_RSS_KB=%M', cmd, ...args] : [...args];
  const bin = useTime ? '/usr/bin/time' : cmd;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /__PEAK_RSS_KB=(\d+)/.exec(stderr);
      resolve({
        stdout,
        stderr: stderr.replace(/__PEAK_RSS_KB=\d+\n?/, ''),
        seconds: (performance.now() - start) / 1000,
        peakRssMb: m ? Number(m[1]) / 1024 : undefined,
        code: code ?? 1,
      });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** A Markdown table, also readable in a terminal. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const fmt = (v: string | number): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v);
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(fmt).join(' | ')} |`);
  return lines.join('\n');
}

const CLI = resolve('dist/src/cli/main.js');

/** Runs the built CLI (from the repository root) to the end and returns its stdout; its stderr is the error. */
export function runCli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`flowsentry ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/** User plus system CPU seconds of a process so far (/proc/PID/stat, in ticks of 1/100 s). */
export function processCpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

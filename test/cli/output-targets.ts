// Outputs that fail, for the output-error tests: a full device (ENOSPC), a file size limit (EFBIG, `ulimit -f`), a
// pipe whose reader goes away after the first chunk (EPIPE), and the CLI run against them.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** /dev/full when it is the device, else one made with mknod(1) in `dir`; a reason when neither is there. */
export function fullDevice(dir: string): { path: string } | { reason: string } {
  const isFull = (path: string): boolean => {
    try {
      const st = statSync(path);
      return st.isCharacterDevice() && st.rdev === 0x107;
    } catch {
      return false;
    }
  };
  if (isFull('/dev/full')) return { path: '/dev/full' };
  const own = join(dir, 'full');
  spawnSync('mknod', [own, 'c', '1', '7']);
  return isFull(own) ? { path: own } : { reason: '/dev/full is not the full device here and mknod is not permitted' };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with stdout sent to `stdoutPath` (opened for writing) or piped, under `ulimit -f <fileLimitKb>`. */
export function runCli(args: string[], options: { stdoutPath?: string; fileLimitKb?: number } = {}): Run {
  const stdoutFd = options.stdoutPath === undefined ? undefined : openSync(options.stdoutPath, 'w');
  try {
    const argv = options.fileLimitKb === undefined ? [process.execPath, CLI, ...args] : ['/bin/sh', '-c', `ulimit -f ${options.fileLimitKb} && exec "$@"`, 'sh', process.execPath, CLI, ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'] });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr };
  } finally {
    if (stdoutFd !== undefined) closeSync(stdoutFd);
  }
}

/** Runs the CLI and destroys its stdout pipe after the first chunk, as `| head -c1` does; resolves when it exits. */
export function runCliReaderGone(args: string[]): Promise<Run & { chunks: number; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let chunks = 0;
    let stderr = '';
    child.stdout.once('data', () => {
      chunks++;
      child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: '', stderr, chunks, ms: Date.now() - started }));
  });
}

/** Lines ended by a newline: the complete rows in what was written. */
export function completeLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

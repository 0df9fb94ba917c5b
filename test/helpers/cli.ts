// The built CLI run as a person runs it: a child process (two helper threads, so every machine runs it alike), its
// exit code (-1 when a signal ended it, or the 5-minute guard against a hang), stdout and stderr.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('dist/src/cli/main.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: readonly string[], input?: Buffer | string): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, env: { ...process.env, FLOWSENTRY_THREADS: '2' }, maxBuffer: 64 << 20, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** How a child process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Ends with the process's exit, or with null after `ms` (the process then still runs). */
export function exitWithin(child: ChildProcess, ms: number): Promise<Exit | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

// The built CLI run as a person runs it: a child process (two helper threads, so every machine runs it alike), its
// exit code (-1 when a signal ended it, or the 5-minute guard against a hang), stdout and stderr.

import { spawnSync } from 'node:child_process';
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

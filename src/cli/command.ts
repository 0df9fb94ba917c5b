// Shared command plumbing: global options, --json output, exit codes and error printing.
// Exit codes: 0 ok, 1 user error (one line on stderr), 2 usage error. Stack traces only with --debug.
// Output that cannot be written: src/util/output.ts (stdout's reader gone: exit 0, quietly; otherwise one line, exit 1).

import { UsageError, UserError } from '../errors.js';
import { describeWriteError, guardStdout, writeStdout } from '../util/output.js';

export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
}

/**
 * Runs a command body. With --json the result is printed as one JSON document on stdout and nothing else;
 * otherwise `render` turns it into text for humans. `toJson`, when given, picks what --json prints.
 */
export async function runCommand<R>(opts: GlobalOptions, work: () => Promise<R>, render: (result: R) => string, toJson?: (result: R) => unknown): Promise<void> {
  guardStdout();
  try {
    const result = await work();
    if (opts.json) writeStdout(`${JSON.stringify(toJson ? toJson(result) : result, jsonReplacer)}\n`);
    else {
      const text = render(result);
      if (text) writeStdout(text.endsWith('\n') ? text : `${text}\n`);
    }
  } catch (err) {
    reportError(err, opts.debug === true);
  }
}

/** Typed arrays become plain arrays and non-finite numbers become strings, so JSON output never loses them. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

export function reportError(err: unknown, debug: boolean): void {
  if (err instanceof UsageError) {
    process.stderr.write(`flowsentry: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof UserError) {
    process.stderr.write(`flowsentry: ${err.message}\n`);
    process.exitCode = 1;
  } else if (isWriteError(err)) {
    // A write that no command turned into an OutputError still gets the one line, never "internal error".
    const path = (err as NodeJS.ErrnoException).path;
    process.stderr.write(`flowsentry: ${path === undefined ? '' : `${path}: `}cannot write: ${describeWriteError(err)}\n`);
    process.exitCode = 1;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`flowsentry: internal error: ${message}${debug ? '' : ' (run with --debug for details)'}\n`);
    process.exitCode = 1;
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

/** An errno error from a system call that writes or creates files. */
function isWriteError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.code === 'string' && ['write', 'rename', 'mkdir', 'fsync'].includes(e.syscall ?? '');
}

/** Parses a comma-separated list option. */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Parses an integer option, with a usage error naming the option. */
export function parseIntOption(name: string, min = Number.MIN_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`option ${name} expects an integer >= ${min}, got '${value}'`);
    return n;
  };
}

// Shared command plumbing: global options, --json output, exit codes and error printing.
// Exit codes: 0 ok, 1 user error (one line on stderr), 2 usage error. Stack traces only with --debug.
// Output that cannot be written: src/util/output.ts (stdout's reader gone: exit 0, quietly; otherwise one line, exit 1).

import { UsageError, UserError } from '../errors.js';
import { numericCellValue } from '../io/numeric-text.js';
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

/** A number typed on the command line has no missing value: a blank or 'NaN' is not a number. */
const NO_MISSING_TEXTS: ReadonlySet<string> = new Set();

/**
 * A number as typed on the command line, by the data readers' rule (numericCellValue): a decimal ('1e999' is
 * Infinity) or an infinity; undefined for anything else, including what Number() alone reads ('0x10', '0o17', '0b11', '').
 */
export function typedNumber(text: string): number | undefined {
  return numericCellValue(text.trim(), NO_MISSING_TEXTS);
}

/** Text Number() reads as a number and typedNumber does not (0x10, 0o17, 0b11, a blank): refused, never passed on. */
export function misreadByNumber(text: string): boolean {
  return typedNumber(text) === undefined && Number.isFinite(Number(text));
}

/**
 * The parser of a numeric option: a finite number by `typedNumber` that `accepts`, else a usage error naming the
 * option, the value as typed and what it accepts. A 0x, 0o or 0b literal is shown in decimal, the way to write it.
 */
function numericOption(name: string, accepted: string, accepts: (n: number) => boolean): (value: string) => number {
  return (value: string) => {
    const n = typedNumber(value);
    if (n !== undefined && Number.isFinite(n) && accepts(n)) return n;
    const literal = value.trim() !== '' && misreadByNumber(value);
    throw new UsageError(`${name} expects ${accepted}, got '${value}'${literal ? ` (write it in decimal: ${Number(value)})` : ''}`);
  };
}

/** An integer option, at least `min` (and at most `max`). */
export function integerOption(name: string, min: number, max = Infinity): (value: string) => number {
  return numericOption(name, max < Infinity ? `an integer in [${min}, ${max}]` : `an integer >= ${min}`, (n) => Number.isInteger(n) && n >= min && n <= max);
}

/** A number option, optionally strictly between bounds. */
export function numberOption(name: string, bounds: { above?: number; below?: number } = {}): (value: string) => number {
  const { above = -Infinity, below = Infinity } = bounds;
  const accepted = below < Infinity ? `a number in (${above}, ${below})` : above > -Infinity ? `a number > ${above}` : 'a number';
  return numericOption(name, accepted, (n) => n > above && n < below);
}

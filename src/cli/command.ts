// Shared command plumbing: global options, --json output, exit codes and error printing.
// Exit codes: 0 ok, 1 user error (one line on stderr), 2 usage error. Stack traces only with --debug.
// Output that cannot be written: src/util/output.ts (stdout's reader gone: exit 0, quietly; otherwise one line, exit 1).

import { writeSync } from 'node:fs';
import { UsageError, UserError } from '../errors.js';
import type { ReceiverKind } from '../flows/collector-pipeline.js';
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

/**
 * An option parser's error as every other usage error: one line, `flowsentry: …` (commander writes `error: …`, and a
 * suggestion on a line of its own), with where the usage is.
 */
export function parserErrorLine(text: string, command: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean /, ' (did you mean ')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\. Expected (.*)\.$/, ': expected $1');
  return `flowsentry: ${message}; see ${command} --help\n`;
}

/**
 * A message with its control characters escaped (\n, \r, \t, else \xNN): a value quoted from the input (a quoted
 * cell holding a line feed, an escape sequence) can neither break the one line nor drive the terminal.
 */
export function printable(message: string): string {
  return message.replace(/\p{Cc}/gu, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function reportError(err: unknown, debug: boolean): void {
  if (err instanceof UsageError) {
    process.stderr.write(`flowsentry: ${printable(err.message)}\n`);
    process.exitCode = 2;
  } else if (err instanceof UserError) {
    process.stderr.write(`flowsentry: ${printable(err.message)}\n`);
    process.exitCode = 1;
  } else if (isWriteError(err)) {
    // A write that no command turned into an OutputError still gets the one line, never "internal error".
    const path = (err as NodeJS.ErrnoException).path;
    process.stderr.write(`flowsentry: ${path === undefined ? '' : `${path}: `}cannot write: ${describeWriteError(err)}\n`);
    process.exitCode = 1;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`flowsentry: internal error: ${printable(message)}${debug ? '' : ' (run with --debug for details)'}\n`);
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
 * option, the value as typed and what it accepts. A 0x, 0o or 0b literal is shown in decimal, the way to write it;
 * `hint` may add why another refused number is refused.
 */
function numericOption(name: string, accepted: string, accepts: (n: number) => boolean, hint: (n: number) => string | undefined = () => undefined): (value: string) => number {
  return (value: string) => {
    const n = typedNumber(value);
    if (n !== undefined && Number.isFinite(n) && accepts(n)) return n;
    const note = value.trim() !== '' && misreadByNumber(value) ? `write it in decimal: ${Number(value)}` : n !== undefined ? hint(n) : undefined;
    throw new UsageError(`${name} expects ${accepted}, got '${value}'${note ? ` (${note})` : ''}`);
  };
}

/**
 * An integer option, at least `min` and at most `max`, which is at most 2^53 - 1: past it a number no longer holds
 * every integer (9007199254740993 would be read as 9007199254740992), and the config schema's integers stop there too.
 */
export function integerOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const unbounded = max >= Number.MAX_SAFE_INTEGER;
  const tooLarge = (n: number): string | undefined => (unbounded && Number.isFinite(n) && n > Number.MAX_SAFE_INTEGER ? `at most ${Number.MAX_SAFE_INTEGER}, the largest integer held exactly` : undefined);
  return numericOption(name, unbounded ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`, (n) => Number.isSafeInteger(n) && n >= min && n <= max, tooLarge);
}

/** A number option, optionally above a bound and below (or at most) another. */
export function numberOption(name: string, bounds: { above?: number; below?: number; max?: number } = {}): (value: string) => number {
  const { above = -Infinity, below = Infinity, max = Infinity } = bounds;
  const upper = below < Infinity ? `${below})` : max < Infinity ? `${max}]` : undefined;
  const accepted = upper !== undefined ? `a number in (${above}, ${upper}` : above > -Infinity ? `a number > ${above}` : 'a number';
  return numericOption(name, accepted, (n) => n > above && n < below && n <= max);
}

/** How NetFlow datagrams are received (collect, detect and serve --receiver). */
export function receiverOption(value: string): ReceiverKind {
  if (value === 'auto' || value === 'recvmmsg' || value === 'dgram') return value;
  throw new UsageError(`--receiver expects auto, recvmmsg or dgram, got '${value}'`);
}

/**
 * Stops a long-running command on the first of `signals`. One that comes while it is already stopping (after a first
 * signal, or a stop of its own: --duration, a source's end) quits at once: one line on stderr, "SIGINT while
 * stopping: quitting at once; " and `lost()`, what is lost, then the signal's own action (exit status 128 + its
 * number). Not process.exit(): it joins the worker threads, and one blocked in a write never returns. The final
 * flush can take long behind a slow reader or endpoint, and never ends behind a stalled one. Returns the remover.
 */
export function stopOnSignals(signals: readonly NodeJS.Signals[], handlers: { stop: () => void; stopping: () => boolean; lost: () => string }): () => void {
  const remove = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!handlers.stopping()) return handlers.stop();
    writeSync(2, `flowsentry: ${signal} while stopping: quitting at once; ${handlers.lost()}\n`);
    remove();
    process.kill(process.pid, signal);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return remove;
}

// Output that cannot be written, handled in one place for every command. Two cases, as Unix filters treat them
// (POSIX write(2) errors; SIGPIPE's default action ends a C filter quietly):
//   - EPIPE on stdout: the reader went away (`| head`). The process stops at once, exit 0, nothing on stderr.
//   - any other failed write (ENOSPC, EIO, EACCES, EFBIG, a folder, ...): one line
//     `FILE: cannot write: CODE (meaning); the file is incomplete: N flows written before it`, exit 1.

import { closeSync, fstatSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { UserError } from '../errors.js';

/** Plain words for the errno codes a write meets (the code alone tells a user little). */
export function errnoMeaning(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EFBIG':
      return 'file too large';
    case 'EIO':
      return 'input/output error';
    case 'EISDIR':
      return 'is a folder';
    case 'EEXIST':
      return 'a file of that name is in the way';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'ENOENT':
      return 'the folder does not exist';
    case 'EPIPE':
      return 'the reader closed it';
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return 'the folder does not accept new files';
    default:
      return 'write failed';
  }
}

/** `CODE (meaning)` for an errno error, or its message for anything else. */
export function describeWriteError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return `${code} (${errnoMeaning(code)})`;
  return err instanceof Error ? err.message : String(err);
}

/** A write that failed: exit 1 with one line naming the file, what went wrong and what was written before it. */
export class OutputError extends UserError {
  readonly code: string | undefined;
  /**
   * `written` says what the file holds now: a count with its unit for a file written as it goes (it is then
   * incomplete), or a whole phrase (e.g. for a file written to a temporary name and left as it was).
   */
  constructor(file: string, cause: unknown, written: { count: number; unit: string } | string) {
    const state = typeof written === 'string' ? written : `the ${file === 'stdout' ? 'output' : 'file'} is incomplete: ${written.count} ${written.unit} written before it`;
    super(`cannot write: ${describeWriteError(cause)}; ${state}`, { file });
    this.name = 'OutputError';
    this.cause = cause;
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** What stdout has received so far, for the error line when stdout fails. */
let stdoutWritten: (() => { count: number; unit: string }) | undefined;
let guarded = false;
let serviceStdout = false;

/**
 * For a service (`serve`): a failed stdout ends nothing; what writes there (the stdout alert sink) counts its failed
 * writes instead. Called before guardStdout.
 */
export function keepRunningOnStdoutErrors(): void {
  serviceStdout = true;
}

/**
 * Installs the stdout 'error' handler (once per process). A failed write to stdout is an event, not an exception,
 * and the command may be waiting for a 'drain' that never comes: the process ends here, after the one line (or
 * none for EPIPE). Worker threads end with it.
 */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (serviceStdout) return;
    if (err.code === 'EPIPE') process.exit(0);
    const error = new OutputError('stdout', err, stdoutWritten?.() ?? 'the output is incomplete');
    process.stderr.write(`flowsentry: ${error.message}\n`);
    if (process.argv.includes('--debug') && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}

/** True when a failed stdout ends the process with its own line (guardStdout, not a service): writers need not log it. */
export function stdoutFailureEndsRun(): boolean {
  return guarded && !serviceStdout;
}

/** Tells the stdout guard how to count what stdout has received (rows, flows, predictions). */
export function countStdout(written: () => { count: number; unit: string }): void {
  stdoutWritten = written;
}

let stdoutIsFile: boolean | undefined;

/**
 * 1 when stdout is a file or a device other than a terminal, else undefined. Node writes such a stdout with one
 * writeSync per chunk and ignores a short write (at a file size limit or a nearly full disk the rest of the chunk is
 * lost without an error): output that matters goes to this descriptor through writeAllSync instead.
 */
export function stdoutFd(): number | undefined {
  if (stdoutIsFile === undefined) {
    try {
      const st = fstatSync(1);
      stdoutIsFile = st.isFile() || (st.isCharacterDevice() && !isatty(1));
    } catch {
      stdoutIsFile = false;
    }
  }
  return stdoutIsFile ? 1 : undefined;
}

/** Writes all of `bytes` to `fd`, after short writes too; a failure's error carries the bytes written (writtenBefore). */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (err) {
    (err as { bytesWritten?: number }).bytesWritten = at;
    throw err;
  }
}

/** Bytes of the failed chunk that reached the output before `err` (0 when the error does not say). */
export function writtenBefore(err: unknown): number {
  return (err as { bytesWritten?: number } | undefined)?.bytesWritten ?? 0;
}

/**
 * Where rows for stdout go: process.stdout, or for a stdout that is a file (stdoutFd) a stream that writes every byte
 * or fails (syncFileStream).
 */
export function stdoutStream(): Writable {
  const fd = stdoutFd();
  return fd === undefined ? process.stdout : syncFileStream(fd, false);
}

/**
 * A stream over a file descriptor that writes each chunk whole (writeAllSync) or fails with the bytes it took
 * (writtenBefore), and closes the descriptor at the end when `close`. Its errors reach the write callbacks (and any
 * 'error' listener of its user), never an unhandled 'error'.
 */
export function syncFileStream(fd: number, close: boolean): Writable {
  let open = close;
  const shut = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, done) {
      try {
        writeAllSync(fd, chunk);
      } catch (err) {
        done(err as Error);
        return;
      }
      done();
    },
    final(done) {
      shut();
      done();
    },
    destroy(err, done) {
      shut();
      done(err);
    },
  }).on('error', () => undefined);
}

/** Newlines in `bytes`: the rows of a chunk written only in part. */
export function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Text for stdout: through writeAllSync when stdout is a file (stdoutFd), else process.stdout. */
export function writeStdout(text: string): void {
  const fd = stdoutFd();
  if (fd === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeAllSync(fd, Buffer.from(text));
  } catch (err) {
    throw new OutputError('stdout', err, stdoutWritten?.() ?? 'the output is incomplete');
  }
}

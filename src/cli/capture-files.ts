// Capture files named on the command line (`extract`, `detect --pcap`, `serve --pcap`), checked up front: a missing
// second file used to leave an output file holding only the CSV header, and `detect` printed the reader's error twice.

import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { UserError } from '../errors.js';
import { isGzip, readerFor } from '../io/capture.js';

/** Compressed bytes read to see what a gzip file holds: enough for its header and first inflated bytes. */
const GZIP_PEEK_BYTES = 1 << 16;

/** The first inflated bytes of a gzip file's head (undefined when it holds none yet); damaged gzip data is an error. */
function inflatedHead(compressed: Uint8Array, file: string): Uint8Array | undefined {
  let out: Buffer;
  try {
    out = gunzipSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch (err) {
    throw new UserError(`corrupt gzip data: ${(err as Error).message}`, { file });
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Checks capture files before any work or output starts: each exists and is not a folder, and a regular file is not
 * empty and starts with a pcap or pcapng magic, itself or inside its gzip (the head of the file is inflated: damaged
 * gzip data there is an error too). Pipes and devices are left to the reader unopened: opening a FIFO here would wait
 * for its writer, and closing it again would end that writer (SIGPIPE) and leave the reader waiting for another.
 * Same wording as the reader's errors.
 */
export function checkCaptureFiles(captures: readonly string[]): void {
  for (const file of captures) {
    if (file === '-') continue;
    let stat: Stats;
    try {
      stat = statSync(file);
    } catch (err) {
      throw openError(file, err);
    }
    if (stat.isDirectory()) throw new UserError('is a directory, not a capture file', { file });
    if (!stat.isFile()) continue;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw openError(file, err);
    }
    try {
      const buffer = new Uint8Array(GZIP_PEEK_BYTES);
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      if (n === 0) throw new UserError('empty file: not a packet capture', { file });
      const gzip = isGzip(buffer.subarray(0, n));
      const head = gzip ? inflatedHead(buffer.subarray(0, n), file) : buffer.subarray(0, n);
      if (head !== undefined && (head.length < 4 || readerFor(head.subarray(0, 4), () => undefined) === undefined)) {
        throw new UserError('not a packet capture (expected pcap, pcapng or a gzip of either; first bytes do not match)', { file });
      }
    } finally {
      closeSync(fd);
    }
  }
}

function openError(file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError('no such file', { file });
  if (code === 'EACCES') return new UserError('permission denied', { file });
  if (code === 'EISDIR') return new UserError('is a directory, not a capture file', { file });
  return err;
}

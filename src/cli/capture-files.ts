// Capture files named on the command line (`extract`, `detect --pcap`, `serve --pcap`), checked up front: a missing
// second file used to leave an output file holding only the CSV header, and `detect` printed the reader's error twice.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { readerFor } from '../io/capture.js';

/**
 * Checks capture files before any work or output starts: each exists and is not a folder, and a regular file is not
 * empty and starts with a pcap, pcapng or gzip magic (what is inside a gzip, pipes and devices are left to the
 * reader). Same wording as the reader's errors.
 */
export function checkCaptureFiles(captures: readonly string[]): void {
  for (const file of captures) {
    if (file === '-') continue;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError('no such file', { file });
      if (code === 'EACCES') throw new UserError('permission denied', { file });
      if (code === 'EISDIR') throw new UserError('is a directory, not a capture file', { file });
      throw err;
    }
    try {
      const stat = statSync(file);
      if (stat.isDirectory()) throw new UserError('is a directory, not a capture file', { file });
      if (!stat.isFile()) continue;
      const head = new Uint8Array(4);
      const n = readSync(fd, head, 0, 4, 0);
      if (n === 0) throw new UserError('empty file: not a packet capture', { file });
      const gzip = n >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      if (!gzip && (n < 4 || readerFor(head, () => undefined) === undefined)) {
        throw new UserError('not a packet capture (expected pcap, pcapng or a gzip of either; first bytes do not match)', { file });
      }
    } finally {
      closeSync(fd);
    }
  }
}

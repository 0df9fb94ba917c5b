// Byte sources for the text readers: a plain file read straight into the caller's buffer, or a gzip file (detected by
// its magic bytes, RFC 1952) decompressed as a stream (./csv-gunzip.ts). Nothing is held whole in memory. Missing files,
// directories and cut-short or corrupt gzip data become one-line UserErrors naming the file. Files are opened and plain
// files read synchronously: a load is CPU-bound, and a promise per read was most of what a load allocated besides its
// columns (young-generation garbage that made V8 grow its new space during small loads).

import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UserError } from '../errors.js';
import { GunzipReader, GzipCorrupt, GzipCutShort } from './csv-gunzip.js';

export interface ByteSource {
  readonly file: string;
  readonly gzip: boolean;
  /** Size of the file on disk (compressed size for gzip). */
  readonly totalBytes: number;
  /**
   * Bytes the reads will give: the range length of a plain file; for gzip the size its trailer records (ISIZE,
   * RFC 1952: modulo 2^32, of the last member only), so only an estimate for gzip files.
   */
  readonly expandedBytes: number;
  /** Fills target from offset on; resolves to the number of bytes written, 0 at the end. */
  read(target: Uint8Array, offset: number): Promise<number>;
  /** The same as `read`, synchronously, where the source can (plain files). */
  readonly readSync?: (target: Uint8Array, offset: number) => number;
  /** Where the reads start in the data: the range's start for a byte range of a plain file, else 0 (absent: 0). */
  readonly rangeStart?: number;
  /** Bytes of the file on disk consumed so far (for progress). */
  bytesRead(): number;
  close(): Promise<void>;
}

/** Opens a file for streaming (optionally bytes [start, end) of a plain file); errors name the file. */
export async function openByteSource(file: string, range?: { start: number; end: number }): Promise<ByteSource> {
  let fd: number;
  try {
    // Checked before opening: opening a FIFO waits for a writer.
    const notRegular = notRegularFile(statSync(file));
    if (notRegular) throw new UserError(notRegular, { file });
    fd = openSync(file, 'r');
  } catch (err) {
    throw fileError(file, err);
  }
  try {
    const stat = fstatSync(fd);
    const magic = new Uint8Array(2);
    const magicBytes = readSync(fd, magic, 0, 2, 0);
    if (magicBytes === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
      if (range) throw new Error('byte ranges of gzip files cannot be read');
      const trailer = new Uint8Array(4);
      const tail = stat.size >= 18 ? readSync(fd, trailer, 0, 4, stat.size - 4) : 0;
      return gzipSource(file, fd, stat.size, tail === 4 ? new DataView(trailer.buffer).getUint32(0, true) : 0);
    }
    return plainSource(file, fd, range?.start ?? 0, range?.end ?? stat.size);
  } catch (err) {
    closeSync(fd);
    throw err instanceof UserError ? err : fileError(file, err);
  }
}

/**
 * Why a path is no data file, or undefined for a regular file. A data file is read several times (its format, its
 * rows), at given offsets, so a pipe or device cannot be one.
 */
export function notRegularFile(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'is a directory, expected a data file';
  if (stat.isFIFO()) return 'is a pipe, not a regular file: data files are read more than once; save the data to a file first';
  return 'is a device or socket, not a regular file: expected a data file';
}

function plainSource(file: string, fd: number, start: number, end: number): ByteSource {
  let position = start;
  const readNow = (target: Uint8Array, offset: number): number => {
    const length = Math.min(target.length - offset, end - position);
    if (length <= 0) return 0;
    try {
      const bytesRead = readSync(fd, target, offset, length, position);
      position += bytesRead;
      return bytesRead;
    } catch (err) {
      throw fileError(file, err);
    }
  };
  return {
    file,
    gzip: false,
    totalBytes: end - start,
    expandedBytes: end - start,
    rangeStart: start,
    read: async (target, offset) => readNow(target, offset),
    readSync: readNow,
    bytesRead: () => position - start,
    close: async () => closeSync(fd),
  };
}

function gzipSource(file: string, fd: number, totalBytes: number, expandedBytes: number): ByteSource {
  let position = 0;
  const gunzip = new GunzipReader(async (target, offset) => {
    const bytesRead = readSync(fd, target, offset, target.length - offset, position);
    position += bytesRead;
    return bytesRead;
  });
  return {
    file,
    gzip: true,
    totalBytes,
    expandedBytes,
    async read(target, offset) {
      try {
        return await gunzip.read(target, offset);
      } catch (err) {
        throw gzipError(file, err);
      }
    },
    bytesRead: () => position,
    close: async () => closeSync(fd),
  };
}

function gzipError(file: string, err: unknown): UserError {
  if (err instanceof GzipCutShort) return new UserError('the gzip data is cut short (unexpected end of file); the file is incomplete', { file });
  if (err instanceof GzipCorrupt) return new UserError(`the gzip data is corrupt (${err.message})`, { file });
  return fileError(file, err);
}

function fileError(file: string, err: unknown): UserError {
  if (err instanceof UserError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return new UserError('no such file', { file });
  if (code === 'ENOTDIR') return new UserError('no such file (a part of its path is a file, not a folder)', { file });
  if (code === 'EACCES' || code === 'EPERM') return new UserError('permission denied', { file });
  if (code === 'EISDIR') return new UserError('is a directory, expected a data file', { file });
  return new UserError(`cannot read the file (${(err as Error).message ?? String(err)})`, { file });
}

/** Longest record the readers take (a CSV row, a JSON line, an XML element): longer is no data file, or a damaged one. */
export const MAX_RECORD_BYTES = 256 << 20;

/**
 * Streams a source through `parse` in one buffer (`initial`, or a new one of that many bytes; callers reading several
 * files pass the same buffer) that doubles whenever a single record fills it, up to MAX_RECORD_BYTES (`maxRecordBytes`
 * for tests): a longer record is a UserError naming the file and the record's byte offset.
 * `parse(buf, filled, eof)` sees bytes [0, filled) and returns where its unconsumed tail starts; that tail moves to the
 * front for the next read (synchronous where the source can read so). While one record fills all that was read, the
 * buffer is filled before it is parsed again: re-parsing it after every short read (a gzip source gives at most its
 * window per read) made a long line quadratic (a 30 MB line: 5 minutes). Reports progress after every parse and
 * closes the source, also on error.
 */
export async function pumpSource(
  source: ByteSource,
  initial: Uint8Array | number,
  parse: (buf: Uint8Array, filled: number, eof: boolean) => number,
  onProgress?: (bytesRead: number, totalBytes: number) => void,
  maxRecordBytes = MAX_RECORD_BYTES,
): Promise<void> {
  let buf = typeof initial === 'number' ? new Uint8Array(initial) : initial;
  let filled = 0;
  /** Byte of the data at buf[0]. */
  let offset = source.rangeStart ?? 0;
  let stalled = false;
  try {
    for (;;) {
      if (filled === buf.length) {
        if (buf.length >= maxRecordBytes) {
          const limit = maxRecordBytes % (1 << 20) === 0 ? `${maxRecordBytes >> 20} MiB` : `${maxRecordBytes} bytes`;
          const data = source.gzip ? 'of the decompressed data ' : '';
          throw new UserError(`the record at byte ${offset} ${data}runs past ${limit} without ending: not a data file, or a damaged one`, { file: source.file });
        }
        const bigger = new Uint8Array(Math.min(buf.length * 2, maxRecordBytes));
        bigger.set(buf);
        buf = bigger;
      }
      const n = source.readSync ? source.readSync(buf, filled) : await source.read(buf, filled);
      const eof = n === 0;
      filled += n;
      if (stalled && !eof && filled < buf.length) continue;
      const consumed = parse(buf, filled, eof);
      onProgress?.(source.bytesRead(), source.totalBytes);
      if (eof) break;
      stalled = consumed === 0;
      buf.copyWithin(0, consumed, filled);
      filled -= consumed;
      offset += consumed;
    }
  } finally {
    await source.close();
  }
}

// Opens any packet capture source — a file path, '-' for stdin, or any Readable (e.g. `tcpdump -w -` stdout) —
// sniffs the format from the first bytes (pcap either byte order / µs or ns, pcapng, gzip of either) and streams
// packets through the incremental readers in constant memory. A source that is not a capture at all is one UserError
// naming it; everything else (truncation, corruption) is counted by reason and skipped.

import { closeSync, createReadStream, fstatSync, openSync, read, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { isPcapMagic, PcapReader, type CaptureReader, type PacketCallback, type ReadPause, type SkipCounts } from './pcap.js';
import { isPcapngMagic, PcapngReader } from './pcapng.js';

export interface CaptureSummary {
  source: string;
  format: 'pcap' | 'pcapng';
  gzip: boolean;
  packets: number;
  bytes: number;
  skipped: SkipCounts;
  /**
   * Byte offset (in the decompressed capture) where it is cut short or its framing is lost; absent when the reader
   * met no such damage (a corrupt gzip stream is counted under `corrupt-gzip`).
   */
  damageOffset?: number;
}

/** Reader skip reasons that say the capture file itself is cut short or damaged, not one odd packet. */
const FILE_DAMAGE: Readonly<Record<string, string>> = {
  'truncated-file-header': 'its file header is cut short',
  'truncated-record': 'it ends in the middle of a packet record',
  'truncated-block': 'it ends in the middle of a block',
  'corrupt-gzip': 'its gzip data is corrupt or cut short',
  'corrupt-record-length': 'a record length is corrupt, so the rest of the file was skipped',
  'corrupt-block-length': 'a block length is corrupt, so the rest of the file was skipped',
  'block-length-mismatch': 'a block is damaged (its two length fields differ)',
  'corrupt-packet-length': 'a packet length is corrupt',
};

/**
 * The one line for a capture cut short or damaged (as tcpdump reports a "truncated dump file"): the file, where, what
 * is wrong and the packets read before the damage, whose flows were `used` ("written", "scored"); undefined when the
 * capture is whole (per-packet skips are not damage). Shared by `extract` and `detect`/`serve --pcap`.
 */
export function captureDamageLine(capture: CaptureSummary, used: string): string | undefined {
  const problems = Object.keys(capture.skipped).filter((reason) => reason in FILE_DAMAGE);
  if (problems.length === 0) return undefined;
  const what = problems.map((reason) => FILE_DAMAGE[reason]).join('; ');
  const at = capture.damageOffset !== undefined ? ` at byte ${capture.damageOffset}` : '';
  return `${capture.source}: the capture is cut short or damaged${at}: ${what}; the flows of the ${capture.packets} packets read were ${used}`;
}

/** The summary of a finished reader over `bytes` bytes of input. */
function summary(source: string, reader: CaptureReader, gzip: boolean, bytes: number): CaptureSummary {
  const out: CaptureSummary = { source, format: reader.format, gzip, packets: reader.packets, bytes, skipped: { ...reader.skipped } };
  if (reader.damagedTail >= 0) out.damageOffset = bytes - reader.damagedTail;
  return out;
}

/** True when the first bytes are the gzip magic. */
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Creates the reader for a buffer's first bytes, or undefined when they are no capture format we know. */
export function readerFor(head: Uint8Array, onPacket: PacketCallback, pause?: ReadPause): CaptureReader | undefined {
  if (isPcapMagic(head)) return new PcapReader(onPacket, pause);
  if (isPcapngMagic(head)) return new PcapngReader(onPacket, pause);
  return undefined;
}

function openSource(source: string | Readable, fd: number | undefined): { stream: Readable; name: string } {
  if (typeof source !== 'string') return { stream: source, name: '<stream>' };
  if (source === '-' || fd === undefined) return { stream: process.stdin, name: '<stdin>' };
  // The file is already open (and still at position 0): read it through that descriptor, which the stream closes.
  return { stream: createReadStream(source, { fd, highWaterMark: 1 << 18 }), name: source };
}

/** Collects chunks until at least `n` bytes (or the end), so sniffing works on tiny first chunks. */
async function* withHead(stream: AsyncIterable<Uint8Array>, n: number, onHead: (head: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0;
  let headDone = false;
  for await (const chunk of stream) {
    if (headDone) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    have += chunk.length;
    if (have >= n) {
      const head = Buffer.concat(parts);
      headDone = true;
      onHead(head);
      yield head;
    }
  }
  if (!headDone) {
    const head = Buffer.concat(parts);
    onHead(head);
    if (head.length > 0) yield head;
  }
}

/** Runs after each chunk's packets with the bytes read so far (decompressed for gzip); awaited. */
export type AfterChunk = (bytesRead: number) => Promise<void> | void;

/**
 * Delivers one chunk: pushes it, then for as long as a ReadPause stops the reader part-way, awaits `afterChunk`
 * (the consumer's wait, e.g. for 'drain'), clears the pause and resumes. So a consumer that sets the pause bounds
 * what it queues to one packet's worth, however many flows end within a chunk.
 */
async function deliver(reader: CaptureReader, chunk: Uint8Array, bytes: number, afterChunk: AfterChunk | undefined, pause: ReadPause | undefined): Promise<void> {
  reader.push(chunk);
  if (afterChunk) await afterChunk(bytes);
  while (reader.paused) {
    if (pause) pause.requested = false;
    reader.resume();
    if (afterChunk) await afterChunk(bytes);
  }
}

/** Opens a capture path, with the one-line errors a user should see. */
function openPath(path: string): number {
  try {
    const fd = openSync(path, 'r');
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      throw new UserError('is a directory, not a capture file', { file: path });
    }
    return fd;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UserError('no such file', { file: path });
    if (e.code === 'EACCES') throw new UserError('permission denied', { file: path });
    throw err;
  }
}

/** A positional read of `buffer.length` bytes on the libuv thread pool; `settled` once its callback has run. */
class PoolRead {
  settled = false;
  bytes = 0;
  error: Error | undefined;
  readonly done: Promise<void>;

  constructor(
    fd: number,
    readonly buffer: Uint8Array<ArrayBuffer>,
    position: number,
  ) {
    this.done = new Promise((resolve) =>
      read(fd, buffer, 0, buffer.length, position, (err, n) => {
        this.settled = true;
        this.error = err ?? undefined;
        this.bytes = n;
        resolve();
      }),
    );
  }
}

/** One turn of the event loop that does not block: completed thread-pool reads get their callbacks run. */
function pollEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Buffers of READ_BYTES beside the one being delivered: room for reads overtaken by this thread. */
const READ_SPARES = 3;
const READ_BYTES = 1 << 20;

/**
 * Fast path for an uncompressed regular capture file: positional reads into reused 1 MB buffers (no stream, no chunk
 * allocation), read ahead: the next megabyte is read on the thread pool (the kernel's copy on another core) while the
 * packets of the current one are delivered. When that read has not run yet once they are (the pool thread found no
 * free core: V8's compiler threads early in a run, other processes), this thread reads the megabyte itself rather
 * than wait, into a spare buffer; the overtaken read's buffer is reused once that read has completed. Returns
 * undefined, without moving the file position, when the file is gzipped or not a capture, for the general path.
 */
async function readRegularFile(
  fd: number,
  path: string,
  onPacket: PacketCallback,
  afterChunk: AfterChunk | undefined,
  pause: ReadPause | undefined,
): Promise<CaptureSummary | undefined> {
  // Plain Uint8Arrays, not Buffers: the partial records the reader keeps are Uint8Arrays, and one array class keeps
  // the decoder's byte reads monomorphic (a Buffer here deoptimized them as soon as a record crossed two reads).
  let buf = new Uint8Array(READ_BYTES);
  let n = readSync(fd, buf, 0, buf.length, 0);
  const reader = n >= 4 ? readerFor(buf.subarray(0, n), onPacket, pause) : undefined;
  if (!reader) return undefined;
  const spares = Array.from({ length: READ_SPARES }, () => new Uint8Array(READ_BYTES));
  /** Overtaken reads still running. The caller closes the descriptor once this returns or throws: none may be left. */
  const overtaken = new Set<Promise<void>>();
  let bytes = 0;
  while (n > 0) {
    bytes += n;
    // The reader copies what it keeps of a chunk, so the next buffer may be overwritten while `buf` is being read.
    const ahead = new PoolRead(fd, spares.pop()!, bytes);
    try {
      await deliver(reader, buf.subarray(0, n), bytes, afterChunk, pause);
      if (!ahead.settled) await pollEventLoop();
      if (ahead.settled || spares.length === 0) {
        await ahead.done;
        if (ahead.error) throw ahead.error;
        spares.push(buf);
        buf = ahead.buffer;
        n = ahead.bytes;
      } else {
        const own = spares.pop()!;
        n = readSync(fd, own, 0, own.length, bytes);
        spares.push(buf);
        buf = own;
        overtaken.add(ahead.done);
        void ahead.done.then(() => {
          spares.push(ahead.buffer);
          overtaken.delete(ahead.done);
        });
      }
    } catch (err) {
      await Promise.all([ahead.done, ...overtaken]);
      throw err;
    }
  }
  await Promise.all(overtaken);
  reader.end();
  return summary(path, reader, false, bytes);
}

/**
 * Streams every packet of a capture to `onPacket` (a reused RawPacket: copy what you keep). `afterChunk` runs after
 * each chunk's packets, and is awaited — the place to drain emitted flows to a slow writer with back-pressure. With
 * `pause`, the consumer can also stop the reader after any packet: `afterChunk` is then awaited before it goes on.
 */
export async function readCapture(
  source: string | Readable,
  onPacket: PacketCallback,
  afterChunk?: AfterChunk,
  pause?: ReadPause,
): Promise<CaptureSummary> {
  let fd: number | undefined;
  if (typeof source === 'string' && source !== '-') {
    fd = openPath(source);
    // Only regular files take the synchronous path: a FIFO or device would block the event loop in readSync.
    if (fstatSync(fd).isFile()) {
      try {
        const direct = await readRegularFile(fd, source, onPacket, afterChunk, pause);
        if (direct) {
          closeSync(fd);
          return direct;
        }
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    }
  }
  const { stream, name } = openSource(source, fd);
  let reader: CaptureReader | undefined;
  let gzip = false;
  let bytes = 0;
  const notCapture = (): UserError =>
    new UserError('not a packet capture (expected pcap, pcapng or a gzip of either; first bytes do not match)', { file: name });

  try {
    const raw = withHead(stream, 4, (head) => {
      gzip = isGzip(head);
    })[Symbol.asyncIterator]();
    const first = await raw.next(); // decides `gzip`
    if (first.done) throw new UserError('empty file: not a packet capture', { file: name });
    async function* replay(): AsyncGenerator<Uint8Array> {
      yield first.value as Uint8Array;
      for (;;) {
        const next = await raw.next();
        if (next.done) return;
        yield next.value;
      }
    }
    let chunks: AsyncIterable<Uint8Array> = replay();
    if (gzip) {
      const gunzip = createGunzip({ chunkSize: 1 << 18 });
      pipeline(Readable.from(replay()), gunzip, () => undefined);
      chunks = gunzip;
    }
    const sniffed = withHead(chunks, 4, (head) => {
      reader = readerFor(head, onPacket, pause);
    });
    for await (const chunk of sniffed) {
      if (!reader) throw notCapture();
      bytes += chunk.length;
      await deliver(reader, chunk, bytes, afterChunk, pause);
    }
    if (!reader) throw notCapture();
    reader.end();
  } catch (err) {
    if (err instanceof UserError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UserError('no such file', { file: name });
    if (e.code === 'EISDIR') throw new UserError('is a directory, not a capture file', { file: name });
    if (e.code === 'EACCES') throw new UserError('permission denied', { file: name });
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || e.code === 'Z_DATA_ERR') {
      // A corrupt or truncated gzip stream: keep what was decoded and count the rest.
      if (!reader) throw new UserError(`corrupt gzip data: ${e.message}`, { file: name });
      reader.end();
      reader.skipped['corrupt-gzip'] = (reader.skipped['corrupt-gzip'] ?? 0) + 1;
    } else throw err;
  } finally {
    if (typeof source === 'string' && source !== '-') stream.destroy();
  }
  return summary(name, reader as CaptureReader, gzip, bytes);
}

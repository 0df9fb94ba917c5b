// Captures → flows → feature rows, streamed: the library side of `flowsentry extract`. Flows are written as they
// end, with back-pressure from the output, so memory stays bounded by the flow table whatever the capture size.

import { closeSync, openSync, writeSync, WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { CIC_FEATURES, CIC_IDENTIFIERS } from '../datasets/cic-names.js';
import { UserError } from '../errors.js';
import { countLines, countStdout, OutputError, syncFileStream, writtenBefore } from '../util/output.js';
import { readCapture, type CaptureSummary } from '../io/capture.js';
import { countSkip, ReadPause, type SkipCounts } from '../io/pcap.js';
import type { FlowRecord } from './flow-record.js';
import { Worker } from 'node:worker_threads';
import { MeterBatch, FlowMeter, type MeterOptions, type MeterStats, Row, warmUpBatch } from './meter.js';
import { formatAddress } from './decode/packet.js';
import { RingAborted, SlotRing, workerResult, type WorkerReply } from './pipeline.js';
import { NETFLOW_FEATURES, netflowFeatures } from './features/netflow.js';

export type FeatureSet = 'cic' | 'netflow';
export type OutputFormat = 'csv' | 'jsonl';

export interface ExtractOptions extends MeterOptions {
  features?: FeatureSet;
  format?: OutputFormat;
  /**
   * Threads (default 1). CIC CSV to a file path: 2 or more = metering here and CSV writing in a worker. Otherwise,
   * for file inputs: one worker per hash partition of the flows, each reading the files.
   */
  workers?: number;
  /** Called as input is read: bytes read in the current capture and its index (single-thread path only). */
  onProgress?: (bytesRead: number, captureIndex: number) => void;
}

export interface ExtractSummary {
  captures: CaptureSummary[];
  packets: number;
  /** Packets (or records) skipped by reason: reader corruption and decoding failures together. */
  skipped: SkipCounts;
  flows: number;
  evictions: number;
  trailingPackets: number;
  seconds: number;
  packetsPerSecond: number;
}

/** Column names of a feature set's rows. */
export function extractColumns(features: FeatureSet): string[] {
  return features === 'cic'
    ? [...CIC_IDENTIFIERS, ...CIC_FEATURES]
    : ['src_addr', 'dst_addr', 'start', 'vlan', 'end_reason', ...NETFLOW_FEATURES];
}

let cachedSecond = NaN;
let cachedPrefix = '';

/** Seconds since the epoch of 0000-01-01 00:00:00 and 9999-12-31 23:59:59 UTC: the range of 4-digit years. */
const FIRST_4_DIGIT_SECOND = -62_167_219_200;
const LAST_4_DIGIT_SECOND = 253_402_300_799;

/** Year, month, day, hour, minute, second (UTC) of the second being converted, written by civilTime. */
const civil = new Float64Array(6);

/**
 * Fills `civil` for a whole second since the epoch, any finite value (Date stops at ±8.64e15 ms, which a hostile
 * pcapng timestamp exceeds). Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms").
 */
function civilTime(second: number): void {
  const day = Math.floor(second / 86400);
  let rem = second - day * 86400;
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const m = mp < 10 ? mp + 3 : mp - 9;
  civil[0] = yoe + era * 400 + (m <= 2 ? 1 : 0);
  civil[1] = m;
  civil[2] = doy - Math.floor((153 * mp + 2) / 5) + 1;
  civil[3] = Math.floor(rem / 3600);
  rem -= civil[3] * 3600;
  civil[4] = Math.floor(rem / 60);
  civil[5] = rem - civil[4] * 60;
}

/** CICFlowMeter-style timestamp, UTC, microseconds: 2017-07-06 12:39:06.818901 (years past 9999 get more digits). */
export function cicTimestamp(ms: number): string {
  let micros = Math.round(ms * 1000);
  const second = Math.floor(micros / 1e6);
  micros -= second * 1e6;
  if (second !== cachedSecond) {
    civilTime(second);
    const two = (i: number): string => String(civil[i]).padStart(2, '0');
    const year = civil[0]! < 0 ? `-${String(-civil[0]!).padStart(4, '0')}` : String(civil[0]).padStart(4, '0');
    cachedPrefix = `${year}-${two(1)}-${two(2)} ${two(3)}:${two(4)}:${two(5)}.`;
    cachedSecond = second;
  }
  return cachedPrefix + String(micros).padStart(6, '0');
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function featureValues(flow: FlowRecord, features: FeatureSet): Float64Array {
  if (features === 'cic') {
    if (!flow.features) throw new Error('flow has no CIC features');
    return flow.features;
  }
  return netflowFeatures(flow);
}

/** One JSON line (without newline) for a flow: the FlowRecord fields, the start time and the named features. */
export function formatFlowJson(flow: FlowRecord, features: FeatureSet, columns: readonly string[]): string {
  const values = featureValues(flow, features);
  const { features: _vector, ...fields } = flow;
  const named: Record<string, number> = {};
  const names = columns.slice(columns.length - values.length);
  for (let i = 0; i < values.length; i++) named[names[i]!] = values[i]!;
  return JSON.stringify({ ...fields, start: cicTimestamp(flow.startMs), features: named });
}

/** Constants (a const enum: literals in the code, not module-variable loads in the hot paths). */
const enum K {
  COMMA = 0x2c,
  DASH = 0x2d,
  NEWLINE = 0x0a,
  SIGNIFICANT = 12,
  /** Half-width of the POW10 table. */
  POW10_ZERO = 32,
  /** Chunk buffers kept for reuse once their write has completed. */
  SPARE_CHUNKS = 3,
  /** Rows per MeterBatch between the meter and the CSV writer. */
  BATCH_ROWS = 1024,
  /** Slots of the ring between the meter and the CSV writer. */
  RING_SLOTS = 8,
}
const CHUNK = 1 << 20;
/** 10 ** k for k in [-POW10_ZERO, POW10_ZERO], the same doubles as the `**` operator gives (a table lookup, not pow). */
const POW10 = Float64Array.from({ length: 2 * K.POW10_ZERO + 1 }, (_, i) => 10 ** (i - K.POW10_ZERO));


/**
 * Output in large byte chunks, numbers encoded straight into the buffer (integers digit by digit, others with 12
 * significant digits): no string per value. To a Writable it waits for 'drain' when the destination is slow, and
 * reuses the chunks of an fs.WriteStream once written (a fresh 1 MB buffer per chunk kept the GC busy); to a file
 * descriptor it writes synchronously from one buffer. With a ReadPause, a chunk handed to a Writable that then asks
 * for 'drain' also pauses the capture reader after its current packet, so the queue stays within the stream's
 * high-water mark plus about one chunk, however many flows end at once. A chunk holds whole rows (a push comes
 * after a row, never inside one), so the rows the output has taken are counted per chunk; a failed write is an
 * OutputError naming `file` with that count (src/util/output.ts).
 */
export class ByteWriter {
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private readonly digits = new Uint8Array(24);
  private readonly spare: Buffer[] = [];
  /** "YYYY-MM-DD HH:MM:SS." of `prefixSecond`. */
  private readonly prefix = new Uint8Array(20);
  private prefixSecond = NaN;
  private readonly cell = new Float64Array(1);
  /** Rows in the current chunk (countRows). */
  private chunkRows = 0;
  /** Rows the output has taken. */
  rowsWritten = 0;
  /** Chunks handed to a stream whose write callback has not run yet, and who waits for them (finish). */
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  private failure: unknown;
  constructor(
    private readonly out: Writable | number,
    private readonly pause?: ReadPause,
    private readonly file = 'stdout',
  ) {
    if (typeof out !== 'number') {
      out.on('error', (err) => {
        this.failure ??= err;
      });
    }
  }

  /** Marks the end of `n` rows written since the last call. */
  countRows(n: number): void {
    this.chunkRows += n;
  }

  text(s: string): void {
    if (this.pos + s.length * 3 > this.buf.length) this.spill(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** An ASCII-only string (addresses, names). */
  ascii(s: string): void {
    if (this.pos + s.length > this.buf.length) this.spill(s.length);
    const b = this.buf;
    for (let i = 0; i < s.length; i++) b[this.pos++] = s.charCodeAt(i);
  }

  /** Dotted text of an IPv4 address or RFC 5952 text of an IPv6 address given as four 32-bit words at words[k]. */
  address(version: number, words: Uint32Array, k: number): void {
    if (version !== 4) return this.ascii(formatAddress(version, words, k));
    if (this.pos + 16 > this.buf.length) this.spill(16);
    const a = words[k]!;
    this.uint(a >>> 24);
    this.buf[this.pos++] = 0x2e;
    this.uint((a >>> 16) & 255);
    this.buf[this.pos++] = 0x2e;
    this.uint((a >>> 8) & 255);
    this.buf[this.pos++] = 0x2e;
    this.uint(a & 255);
  }

  /** cicTimestamp(ms) written without building strings; the date and time of day are cached per second. */
  timestamp(ms: number): void {
    this.cell[0] = ms;
    this.timestampInCell();
  }

  /** timestamp(values[i]). */
  timestampAt(values: Float64Array, i: number): void {
    this.cell[0] = values[i]!;
    this.timestampInCell();
  }

  private timestampInCell(): void {
    if (this.pos + 32 > this.buf.length) this.spill(32);
    const micros = Math.round(this.cell[0]! * 1000);
    const second = Math.floor(micros / 1e6);
    if (second !== this.prefixSecond) {
      // Only a hostile capture has times outside years 0000-9999: written as text, the prefix left as it was.
      if (!(second >= FIRST_4_DIGIT_SECOND && second <= LAST_4_DIGIT_SECOND)) return this.ascii(cicTimestamp(this.cell[0]!));
      this.prefixSecond = second;
      this.cachePrefix();
    }
    this.buf.set(this.prefix, this.pos);
    this.pos += 20;
    this.padded(micros - second * 1e6, 6);
  }

  /** Encodes the date and time of day of `prefixSecond` (a 4-digit year) into `prefix`. */
  private cachePrefix(): void {
    const start = this.pos;
    civilTime(this.prefixSecond);
    this.padded(civil[0]!, 4);
    this.buf[this.pos++] = K.DASH;
    this.padded(civil[1]!, 2);
    this.buf[this.pos++] = K.DASH;
    this.padded(civil[2]!, 2);
    this.buf[this.pos++] = 0x20;
    this.padded(civil[3]!, 2);
    this.buf[this.pos++] = 0x3a;
    this.padded(civil[4]!, 2);
    this.buf[this.pos++] = 0x3a;
    this.padded(civil[5]!, 2);
    this.buf[this.pos++] = 0x2e;
    for (let i = 0; i < 20; i++) this.prefix[i] = this.buf[start + i]!;
    this.pos = start;
  }

  /** A non-negative integer, left-padded with zeros to `width` digits. */
  private padded(v: number, width: number): void {
    let x = v;
    for (let i = width - 1; i >= 0; i--) {
      const q = Math.floor(x / 10);
      this.buf[this.pos + i] = 0x30 + (x - q * 10);
      x = q;
    }
    this.pos += width;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.spill(1);
    this.buf[this.pos++] = b;
  }

  number(v: number): void {
    this.cell[0] = v;
    this.numberInCell();
  }

  /**
   * Writes this.cell[0]. Doubles travel through that cell rather than as arguments: a double argument of a call
   * that is not inlined is a new heap number.
   */
  private numberInCell(): void {
    if (this.pos + 32 > this.buf.length) this.spill(32);
    const v = this.cell[0]!;
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) this.uint(v);
    else if (Number.isInteger(v) && Math.abs(v) < 1e15) {
      let x = v;
      if (x < 0) {
        this.buf[this.pos++] = 0x2d;
        x = -x;
      }
      let n = 0;
      do {
        const q = Math.floor(x / 10);
        this.digits[n++] = 0x30 + (x - q * 10);
        x = q;
      } while (x > 0);
      while (n > 0) this.buf[this.pos++] = this.digits[--n]!;
    } else this.fraction();
  }

  /** values[from, to), each preceded by a comma; zeros and one-digit integers (most of a row) inline. */
  values(values: Float64Array, from: number, to: number): void {
    if (this.pos + (to - from) * 33 > this.buf.length) this.spill((to - from) * 33);
    const b = this.buf;
    let pos = this.pos;
    for (let j = from; j < to; j++) {
      const v = values[j]!;
      b[pos++] = K.COMMA;
      if (v === 0) b[pos++] = 0x30;
      else if (v > 0 && v < 10 && (v | 0) === v) b[pos++] = 0x30 + v;
      else {
        this.pos = pos;
        this.cell[0] = v;
        this.numberInCell();
        pos = this.pos;
      }
    }
    this.pos = pos;
  }

  /** An integer in [0, 2^31) in 32-bit arithmetic (most values of a row); the caller made room. */
  private uint(v: number): void {
    const b = this.buf;
    if (v < 10) {
      b[this.pos++] = 0x30 + v;
      return;
    }
    let p = this.pos + (v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10);
    this.pos = p;
    let x = v;
    while (x >= 10) {
      const q = (x / 10) | 0;
      b[--p] = 0x30 + x - q * 10;
      x = q;
    }
    b[p - 1] = 0x30 + x;
  }

  /**
   * A non-integer with 12 significant digits (relative error ≤ 5e-13, far below the float32 the models use),
   * written digit by digit: several times faster than String(v), which dominated the CSV cost.
   */
  private fraction(): void {
    let x = this.cell[0]!;
    if (!Number.isFinite(x)) {
      this.pos += this.buf.write(String(x), this.pos, 'latin1');
      return;
    }
    if (x < 0) {
      this.buf[this.pos++] = 0x2d;
      x = -x;
    }
    if (!(x >= POW10[K.POW10_ZERO - 8]! && x < POW10[K.POW10_ZERO + 16]!)) {
      this.pos += this.buf.write(String(x), this.pos, 'latin1');
      return;
    }
    // Decimal exponent (10^e <= x < 10^(e+1)) by binary search in the power table: Math.log10 cost as much as the rest.
    let e = -8;
    for (let hi = 15; e < hi; ) {
      const mid = (e + hi + 1) >> 1;
      if (x >= POW10[K.POW10_ZERO + mid]!) e = mid;
      else hi = mid - 1;
    }
    let scaled = Math.round(x * POW10[K.POW10_ZERO + K.SIGNIFICANT - 1 - e]!);
    // Rounding can carry into a 13th digit (or, next to a power of ten, leave 11): fix the exponent so `scaled` has
    // exactly SIGNIFICANT digits.
    if (scaled >= POW10[K.POW10_ZERO + K.SIGNIFICANT]!) {
      e++;
      scaled = Math.round(x * POW10[K.POW10_ZERO + K.SIGNIFICANT - 1 - e]!);
    } else if (scaled < POW10[K.POW10_ZERO + K.SIGNIFICANT - 1]!) {
      e--;
      scaled = Math.round(x * POW10[K.POW10_ZERO + K.SIGNIFICANT - 1 - e]!);
    }
    if (e < -7 || e > 14) {
      this.pos += this.buf.write(String(x), this.pos, 'latin1');
      return;
    }
    // Twelve digits as two six-digit halves in 32-bit arithmetic.
    const d = this.digits;
    let high = Math.floor(scaled / 1e6);
    let low = scaled - high * 1e6;
    for (let i = K.SIGNIFICANT - 1; i >= 6; i--) {
      const q = (low / 10) | 0;
      d[i] = 0x30 + low - q * 10;
      low = q;
    }
    for (let i = 5; i >= 0; i--) {
      const q = (high / 10) | 0;
      d[i] = 0x30 + high - q * 10;
      high = q;
    }
    let last = K.SIGNIFICANT - 1;
    while (last > 0 && d[last] === 0x30 && last > e) last--;
    const b = this.buf;
    if (e < 0) {
      b[this.pos++] = 0x30;
      b[this.pos++] = 0x2e;
      for (let z = -1; z > e; z--) b[this.pos++] = 0x30;
      for (let i = 0; i <= last; i++) b[this.pos++] = d[i]!;
      return;
    }
    for (let i = 0; i <= Math.max(last, e); i++) {
      if (i === e + 1) b[this.pos++] = 0x2e;
      b[this.pos++] = i < K.SIGNIFICANT ? d[i]! : 0x30;
    }
  }

  /** Hands the chunk to the output when it is nearly full (or always with `force`) without waiting. */
  push(force = false): void {
    if (this.pos === 0 || (!force && this.pos < CHUNK - (CHUNK >> 3))) return;
    const out = this.out;
    if (typeof out === 'number') {
      let at = 0;
      try {
        while (at < this.pos) at += writeSync(out, this.buf, at, this.pos - at);
      } catch (err) {
        this.rowsWritten += countLines(this.buf.subarray(0, at));
        throw new OutputError(this.file, err, { count: this.rowsWritten, unit: 'flows' });
      }
      this.rowsWritten += this.chunkRows;
      this.chunkRows = 0;
      this.pos = 0;
      return;
    }
    this.check();
    const full = this.buf;
    const chunk = full.subarray(0, this.pos);
    const rows = this.chunkRows;
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    this.chunkRows = 0;
    // Only a file stream is done with a chunk when its write callback runs; other streams may pass it on as is.
    const reuse = out instanceof WriteStream && full.length === CHUNK;
    this.inFlight++;
    out.write(chunk, (err) => {
      if (err) {
        if (this.failure === undefined) this.rowsWritten += countLines(chunk.subarray(0, writtenBefore(err)));
        this.failure ??= err;
      } else this.rowsWritten += rows;
      if (reuse && this.spare.length < K.SPARE_CHUNKS) this.spare.push(full);
      if (--this.inFlight === 0) this.onIdle?.();
    });
    if (this.pause && out.writableNeedDrain) this.pause.requested = true;
  }

  /** push(), then waits while the output stream asks for it ('drain'). */
  async drain(force = false): Promise<void> {
    this.push(force);
    const out = this.out;
    if (typeof out !== 'number' && out.writableNeedDrain) {
      // A stream that fails never drains: it closes.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off('drain', done);
          out.off('close', done);
          resolve();
        };
        out.on('drain', done);
        out.on('close', done);
      });
      this.check();
    }
  }

  /** Writes the last chunk and waits until the output has taken every chunk; an OutputError if any write failed. */
  async finish(): Promise<void> {
    await this.drain(true);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw new OutputError(this.file, this.failure, { count: this.rowsWritten, unit: 'flows' });
  }

  /** Grows the current chunk when a line outruns it between drains. */
  private spill(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

function writeCsvFlow(w: ByteWriter, flow: FlowRecord, features: FeatureSet): void {
  const values = featureValues(flow, features);
  // Written piece by piece (no string per row). Addresses, numbers and end reasons never need CSV quoting.
  if (features === 'cic') {
    w.ascii(flow.srcAddr);
    w.byte(K.DASH);
    w.ascii(flow.dstAddr);
    w.byte(K.DASH);
    w.number(flow.srcPort);
    w.byte(K.DASH);
    w.number(flow.dstPort);
    w.byte(K.DASH);
    w.number(flow.protocol);
    w.byte(K.COMMA);
    w.ascii(flow.srcAddr);
    w.byte(K.COMMA);
    w.number(flow.srcPort);
    w.byte(K.COMMA);
    w.ascii(flow.dstAddr);
    w.byte(K.COMMA);
    w.timestamp(flow.startMs);
  } else {
    w.ascii(flow.srcAddr);
    w.byte(K.COMMA);
    w.ascii(flow.dstAddr);
    w.byte(K.COMMA);
    w.timestamp(flow.startMs);
    w.byte(K.COMMA);
    w.number(flow.vlan);
    w.byte(K.COMMA);
    w.ascii(flow.endReason);
  }
  for (let i = 0; i < values.length; i++) {
    w.byte(K.COMMA);
    w.number(values[i]!);
  }
  w.byte(K.NEWLINE);
}

/** CIC CSV rows of a MeterBatch of the flow meter: no FlowRecord, no address or number text. */
export function writeCicBatch(w: ByteWriter, batch: MeterBatch): void {
  const words = batch.words;
  const features = batch.features;
  const width = batch.featureCount;
  for (let i = 0; i < batch.length; i++) {
    const k = i * Row.BATCH_WORDS;
    const version = words[k]!;
    w.address(version, words, k + 1);
    w.byte(K.DASH);
    w.address(version, words, k + 5);
    w.byte(K.DASH);
    w.number(words[k + 9]!);
    w.byte(K.DASH);
    w.number(words[k + 10]!);
    w.byte(K.DASH);
    w.number(words[k + 11]!);
    w.byte(K.COMMA);
    w.address(version, words, k + 1);
    w.byte(K.COMMA);
    w.number(words[k + 9]!);
    w.byte(K.COMMA);
    w.address(version, words, k + 5);
    w.byte(K.COMMA);
    w.timestampAt(batch.doubles, i * Row.BATCH_DOUBLES);
    w.values(features, i * width, (i + 1) * width);
    w.byte(K.NEWLINE);
  }
  w.countRows(batch.length);
}

let csvWarmedUp = false;

/**
 * Writes the CIC CSV rows of the meter's warm-up capture (warmUpBatch) once per process into a writer that discards
 * them, so the row writer is compiled with its paths seen (IPv6 addresses, negative, fractional and large values)
 * before the first real batch; on the real bench capture its first compilations were thrown away 8 times.
 */
export function warmUpCsvWriter(): void {
  if (csvWarmedUp) return;
  csvWarmedUp = true;
  const writer = new ByteWriter(new Writable({ write: (_chunk, _encoding, done: () => void) => done() }));
  writeCicBatch(writer, warmUpBatch());
  writer.push(true);
}

/** What one meter (the only one, or one partition's) reports. */
export interface PartialExtract {
  captures: CaptureSummary[];
  stats: MeterStats;
}

/**
 * Meters captures into `out` as rows (no header); the body shared by the single-thread and worker paths. To a file
 * descriptor the rows are written synchronously, so memory stays bounded however many flows end in a burst; to a
 * Writable the reader stops after the packet whose rows filled the stream (ByteWriter's ReadPause) and waits for
 * 'drain'. A failed write is an OutputError naming `file` and the flows written before it.
 */
export async function extractInto(captures: readonly (string | Readable)[], out: Writable | number, options: ExtractOptions, file = 'stdout'): Promise<PartialExtract> {
  const features = options.features ?? 'cic';
  const format = options.format ?? 'csv';
  const columns = extractColumns(features);
  const pause = new ReadPause();
  const writer = new ByteWriter(out, pause, file);
  if (out === process.stdout) countStdout(() => ({ count: writer.rowsWritten, unit: 'flows' }));
  const onFlow =
    format === 'csv'
      ? (flow: FlowRecord) => {
          writeCsvFlow(writer, flow, features);
          writer.countRows(1);
          writer.push();
        }
      : (flow: FlowRecord) => {
          writer.text(`${formatFlowJson(flow, features, columns)}\n`);
          writer.countRows(1);
          writer.push();
        };
  // CIC CSV rows are written from columnar batches of the meter (one batch, refilled after each write).
  const batch = features === 'cic' && format === 'csv' ? new MeterBatch(K.BATCH_ROWS, CIC_FEATURES.length) : undefined;
  if (batch) warmUpCsvWriter();
  const full = (b: MeterBatch): MeterBatch => {
    writeCicBatch(writer, b);
    writer.push();
    b.length = 0;
    return b;
  };
  const meter = new FlowMeter(onFlow, {
    ...options,
    cicFeatures: features === 'cic',
    reuseFeatureVector: true, // each row is written inside the callback
    ...(batch ? { batches: { first: batch, full } } : {}),
  });
  const summaries: CaptureSummary[] = [];
  const onPacket = meter.addPacket.bind(meter);
  for (let i = 0; i < captures.length; i++) {
    const afterChunk = (bytes: number): Promise<void> => {
      options.onProgress?.(bytes, i);
      return writer.drain();
    };
    summaries.push(await readCapture(captures[i]!, onPacket, afterChunk, pause));
  }
  while (!meter.flush(1024)) await writer.drain();
  await writer.finish();
  return { captures: summaries, stats: meter.stats };
}

/**
 * Runs one meter per worker thread, each on its hash partition of the flows; rows arrive as transferred chunks. A
 * failed write to `stream` ends every worker and is an OutputError naming `file` with the rows written before it.
 */
async function extractInWorkers(paths: readonly string[], stream: Writable, file: string, options: ExtractOptions, count: number): Promise<PartialExtract[]> {
  const maxFlows = Math.ceil((options.maxFlows ?? 100_000) / count);
  const workers: Worker[] = [];
  let rowsWritten = 0;
  if (stream === process.stdout) countStdout(() => ({ count: rowsWritten, unit: 'flows' }));
  let failed: (err: unknown) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = (err) => reject(new OutputError(file, err, { count: rowsWritten, unit: 'flows' }));
  });
  failure.catch(() => undefined); // raced below
  stream.on('error', (err) => failed(err));
  try {
    const all = Promise.all(
      Array.from({ length: count }, (_, index) => {
        const worker = new Worker(new URL('./extract-worker.js', import.meta.url), {
          workerData: { role: 'partition', captures: paths, options: { ...options, onProgress: undefined, maxFlows, partition: { index, count } } },
        });
        workers.push(worker);
        return new Promise<PartialExtract>((resolve, reject) => {
          worker.on('message', (msg: Uint8Array | WorkerReply) => {
            if (ArrayBuffer.isView(msg)) {
              stream.write(msg, (err) => {
                rowsWritten += countLines(err ? msg.subarray(0, writtenBefore(err)) : msg);
                if (err) return failed(err);
                worker.postMessage('ack');
              });
            }
            else if (msg.type === 'done') resolve(msg.result);
            else if (msg.type === 'error') reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
          });
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`extract worker exited with code ${code}`)));
        });
      }),
    );
    return await Promise.race([all, failure]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}




/** The MeterBatch over each slot of a ring made with slotBytes = MeterBatch.bytesFor(rows, featureCount). */
export function ringBatches(ring: SlotRing, rows: number, featureCount: number): MeterBatch[] {
  return Array.from({ length: ring.slots }, (_, i) => new MeterBatch(rows, featureCount, ring.buffer, ring.offset(i)));
}

/** Opens an output file for writing; an OutputError naming it when it cannot be. */
function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new OutputError(path, err, 'nothing was written');
  }
}

/** Writes the header line of `path`. */
function writeHeader(fd: number, path: string, header: string): void {
  const bytes = Buffer.from(header);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (err) {
    throw new OutputError(path, err, { count: 0, unit: 'flows' });
  }
}

/**
 * Two-thread pipeline for CIC CSV to a file: this thread reads, decodes and meters into a BatchRing; a worker
 * thread formats the rows and writes them (formatting costs about as much as metering). Same rows, same order as
 * the one-thread path. This thread never blocks on the ring: at most 66 flows end per packet (meter.ts
 * EXPIRE_PER_PACKET + a timeout + an eviction), fewer than a batch holds, so the meter hands over at most one full
 * batch per packet; when the slot after the new one is still being written, the reader stops after that packet and
 * the slot is awaited (SlotRing.room). The writer's 'exit' then aborts the ring: a writer that dies at any moment
 * (out of memory, terminated) is an error here, never a hang.
 */
async function extractPipelined(captures: readonly (string | Readable)[], out: string, options: ExtractOptions): Promise<PartialExtract> {
  const fd = openOutput(out);
  const width = CIC_FEATURES.length;
  const ring = SlotRing.create(K.RING_SLOTS, MeterBatch.bytesFor(K.BATCH_ROWS, width));
  const batches = ringBatches(ring, K.BATCH_ROWS, width);
  let worker: Worker | undefined;
  // Rows the writer thread's output has taken, kept where this thread can read them after the writer has died.
  const rowsWritten = new Float64Array(new SharedArrayBuffer(8));
  try {
    writeHeader(fd, out, `${extractColumns('cic').map(csvField).join(',')}\n`);
    worker = new Worker(new URL('./extract-worker.js', import.meta.url), {
      workerData: { role: 'writer', ring: ring.buffer, rows: K.BATCH_ROWS, width, fd, file: out, rowsWritten: rowsWritten.buffer },
    });
    // The writer's own failures (OutputError) say what was written; its death (out of memory, terminated: an internal
    // error) says it here.
    const written = workerResult(worker, 'written', 'CSV writer').catch((err: unknown) => {
      if (err instanceof UserError) throw err;
      throw new Error(`${(err as Error).message}; ${out} is incomplete: ${rowsWritten[0]} flows written before it`, { cause: err });
    });
    written.catch(() => undefined); // awaited later; the meter may fail first
    worker.once('exit', () => ring.abort());
    const pause = new ReadPause();
    const full = (b: MeterBatch): MeterBatch => {
      const next = batches[ring.publish(b.length)]!;
      if (!ring.hasRoom(1)) pause.requested = true;
      next.length = 0;
      return next;
    };
    const meter = new FlowMeter(() => undefined, { ...options, cicFeatures: true, batches: { first: batches[0]!, full } });
    const summaries: CaptureSummary[] = [];
    const onPacket = meter.addPacket.bind(meter);
    try {
      for (let i = 0; i < captures.length; i++) {
        const afterChunk = (bytes: number): Promise<void> => {
          options.onProgress?.(bytes, i);
          return ring.room(1);
        };
        summaries.push(await readCapture(captures[i]!, onPacket, afterChunk, pause));
      }
      // A flush call of at most BATCH_ROWS flows hands over at most two batches (a full one and the last part).
      do {
        await ring.room(2);
      } while (!meter.flush(K.BATCH_ROWS));
    } catch (err) {
      if (err instanceof RingAborted) await written;
      ring.abort();
      throw err;
    }
    ring.close();
    await written;
    return { captures: summaries, stats: meter.stats };
  } finally {
    await worker?.terminate();
    closeSync(fd);
  }
}


/**
 * Extracts flows from captures (paths, '-' for stdin, or Readables) and writes one row per flow to `out`
 * (a path or a Writable; '.jsonl' / '.json' paths get JSON lines unless `format` says otherwise). With `workers` > 1:
 * CIC CSV to a file path runs as a two-thread pipeline (metering here, CSV formatting and writing in a worker);
 * otherwise, with only file paths as input, the flows are split by hash between worker threads, each reading the
 * files.
 */
export async function extractFlows(
  captures: readonly (string | Readable)[],
  out: string | Writable,
  options: ExtractOptions = {},
): Promise<ExtractSummary> {
  const features = options.features ?? 'cic';
  const format = options.format ?? (typeof out === 'string' && /\.jsonl?$/i.test(out) ? 'jsonl' : 'csv');
  const workers = Math.max(1, Math.floor(options.workers ?? 1));
  const started = performance.now();
  let parts: PartialExtract[];
  if (workers > 1 && typeof out === 'string' && features === 'cic' && format === 'csv') parts = [await extractPipelined(captures, out, options)];
  else if (workers === 1 && typeof out === 'string') {
    const fd = openOutput(out);
    try {
      if (format === 'csv') writeHeader(fd, out, `${extractColumns(features).map(csvField).join(',')}\n`);
      parts = [await extractInto(captures, fd, { ...options, features, format }, out)];
    } finally {
      closeSync(fd);
    }
  } else {
    // To a file: written synchronously from this thread, so a failure says how many bytes of its chunk went out.
    const stream = typeof out === 'string' ? syncFileStream(openOutput(out), true) : out;
    const file = typeof out === 'string' ? out : 'stdout';
    try {
      if (format === 'csv') stream.write(`${extractColumns(features).map(csvField).join(',')}\n`);
      const paths = captures.filter((c): c is string => typeof c === 'string' && c !== '-');
      parts =
        workers > 1 && paths.length === captures.length
          ? await extractInWorkers(paths, stream, file, { ...options, features, format }, workers)
          : [await extractInto(captures, stream, { ...options, features, format }, file)];
      if (typeof out === 'string') await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } finally {
      if (typeof out === 'string' && !stream.writableFinished) stream.destroy();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // Every partition reads and decodes every packet: reader and decoder counts come from the first one.
  const first = parts[0]!;
  const skipped: SkipCounts = {};
  for (const s of first.captures) for (const [reason, n] of Object.entries(s.skipped)) countSkip(skipped, reason, n);
  for (const [reason, n] of Object.entries(first.stats.skipped)) countSkip(skipped, reason, n);
  const sum = (pick: (s: MeterStats) => number): number => parts.reduce((t, p) => t + pick(p.stats), 0);
  return {
    captures: first.captures,
    packets: first.stats.packets,
    skipped,
    flows: sum((s) => s.flows),
    evictions: sum((s) => s.evictions),
    trailingPackets: sum((s) => s.trailingPackets),
    seconds,
    packetsPerSecond: seconds > 0 ? first.stats.packets / seconds : 0,
  };
}

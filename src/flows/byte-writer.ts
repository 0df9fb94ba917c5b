// Row output as bytes: ByteWriter writes text, numbers, addresses and timestamps straight into large chunks for a
// file descriptor or a Writable (with back-pressure), and cicTimestamp gives the same timestamp text as a string.

import { writeSync, WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { countLines, OutputError, writtenBefore } from '../util/output.js';
import type { ReadPause } from '../io/pcap.js';
import { formatAddress } from './decode/packet.js';

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

/** The second cicTimestamp last converted, and its text up to the microseconds. */
let cachedSecond = NaN;
let cachedPrefix = '';

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

/** Constants (a const enum: literals in the code, not module-variable loads in the hot paths). */
const enum K {
  COMMA = 0x2c,
  DASH = 0x2d,
  SIGNIFICANT = 12,
  /** Half-width of the POW10 table. */
  POW10_ZERO = 32,
  /** Chunk buffers kept for reuse once their write has completed. */
  SPARE_CHUNKS = 3,
}
const CHUNK = 1 << 20;
/** "00" to "99": two digits per division in the integer paths. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)));
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

  /**
   * A string as JSON.stringify writes it: printable ASCII other than `"` and `\\` byte by byte between quotes, any
   * other string through JSON.stringify.
   */
  jsonString(s: string): void {
    if (this.pos + s.length + 2 > this.buf.length) this.spill(s.length + 2);
    const b = this.buf;
    let pos = this.pos;
    b[pos++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return this.text(JSON.stringify(s));
      b[pos++] = c;
    }
    b[pos++] = 0x22;
    this.pos = pos;
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
    this.copyPrefix();
    const fraction = micros - second * 1e6;
    // In 32-bit arithmetic (a multiply per digit, not a float division); past 2^53 µs (year 2255) second * 1e6 is
    // rounded and the difference can leave [0, 1e6): padded() writes what it always wrote.
    if (fraction >= 0 && fraction < 1e6) {
      this.sixDigitsAt(this.pos, fraction | 0);
      this.pos += 6;
    } else this.padded(fraction, 6);
  }

  /**
   * The 20 bytes of `prefix`, unrolled: TypedArray.prototype.set is a call into the runtime, and a loop re-checks
   * both arrays after every iteration's interrupt check (~25 instructions a byte).
   */
  private copyPrefix(): void {
    const b = this.buf;
    const p = this.prefix;
    const at = this.pos;
    b[at] = p[0]!;
    b[at + 1] = p[1]!;
    b[at + 2] = p[2]!;
    b[at + 3] = p[3]!;
    b[at + 4] = p[4]!;
    b[at + 5] = p[5]!;
    b[at + 6] = p[6]!;
    b[at + 7] = p[7]!;
    b[at + 8] = p[8]!;
    b[at + 9] = p[9]!;
    b[at + 10] = p[10]!;
    b[at + 11] = p[11]!;
    b[at + 12] = p[12]!;
    b[at + 13] = p[13]!;
    b[at + 14] = p[14]!;
    b[at + 15] = p[15]!;
    b[at + 16] = p[16]!;
    b[at + 17] = p[17]!;
    b[at + 18] = p[18]!;
    b[at + 19] = p[19]!;
    this.pos = at + 20;
  }

  /** An integer in [0, 1e6) as six digits with leading zeros at `pos` (not moving the write position); room made. */
  private sixDigitsAt(pos: number, v: number): void {
    const b = this.buf;
    const high = (v / 10000) | 0;
    const middle = ((v / 100) | 0) - high * 100;
    const low = v - high * 10000 - middle * 100;
    b[pos] = DIGIT_PAIRS[2 * high]!;
    b[pos + 1] = DIGIT_PAIRS[2 * high + 1]!;
    b[pos + 2] = DIGIT_PAIRS[2 * middle]!;
    b[pos + 3] = DIGIT_PAIRS[2 * middle + 1]!;
    b[pos + 4] = DIGIT_PAIRS[2 * low]!;
    b[pos + 5] = DIGIT_PAIRS[2 * low + 1]!;
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
    while (x >= 100) {
      const q = (x / 100) | 0;
      const pair = 2 * (x - q * 100);
      b[--p] = DIGIT_PAIRS[pair + 1]!;
      b[--p] = DIGIT_PAIRS[pair]!;
      x = q;
    }
    if (x >= 10) {
      b[p - 1] = DIGIT_PAIRS[2 * x + 1]!;
      b[p - 2] = DIGIT_PAIRS[2 * x]!;
    } else b[p - 1] = 0x30 + x;
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
    // Twelve digits, two six-digit halves in 32-bit arithmetic, written where they end up, then the trailing zeros
    // after the units dropped (at least one digit kept) and the point put in by moving the decimals one place.
    const b = this.buf;
    const high = Math.floor(scaled / 1e6);
    let pos = this.pos;
    if (e < 0) {
      b[pos++] = 0x30;
      b[pos++] = 0x2e;
      for (let z = -1; z > e; z--) b[pos++] = 0x30;
    }
    this.sixDigitsAt(pos, high | 0);
    this.sixDigitsAt(pos + 6, (scaled - high * 1e6) | 0);
    let last = K.SIGNIFICANT - 1;
    while (last > 0 && b[pos + last] === 0x30 && last > e) last--;
    if (e < 0 || last === e) {
      this.pos = pos + last + 1;
      return;
    }
    if (e >= K.SIGNIFICANT) {
      // An integer part of more than 12 digits: zeros after them, no point
      pos += K.SIGNIFICANT;
      for (let i = K.SIGNIFICANT; i <= e; i++) b[pos++] = 0x30;
      this.pos = pos;
      return;
    }
    for (let i = last; i > e; i--) b[pos + i + 1] = b[pos + i]!;
    b[pos + e + 1] = 0x2e;
    this.pos = pos + last + 2;
  }

  /**
   * The bytes written since the last take(), for a caller that writes them out itself (the collector's decoding thread
   * gathers every datagram's rows in its own buffer), and empties the chunk. The view is valid until the next write.
   */
  take(): Uint8Array {
    const bytes = this.buf.subarray(0, this.pos);
    this.pos = 0;
    this.chunkRows = 0;
    return bytes;
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


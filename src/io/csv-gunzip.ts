// Streaming gzip decompression (RFC 1952 members around RFC 1951 DEFLATE data) that writes into one fixed window
// and hands the bytes to the caller's buffer. zlib streams allocate a new output Buffer for every chunk, and those
// stay resident until V8 happens to collect them (as many megabytes as the file expands to); here nothing is
// allocated per chunk. Huffman codes are decoded canonically, as in Mark Adler's puff: a lookup table indexed by the
// next 9 bits resolves short codes in one step, longer (rare) codes are walked bit by bit through the per-length
// counts. CRC-32 (zlib.crc32) and the size of every member are checked; concatenated members are read in turn.

import { crc32 } from 'node:zlib';

/** The data ends inside the stream. */
export class GzipCutShort extends Error {}
/** The data is not valid gzip/DEFLATE. */
export class GzipCorrupt extends Error {}

const TABLE_BITS = 9;
const MAX_BITS = 15;
/** Back-references reach at most 32 KiB back. */
const HISTORY = 1 << 15;
const WINDOW = 1 << 18;
/** Longest match. */
const MAX_MATCH = 258;
/** Input bytes kept available before each step (a dynamic block header needs at most ~600). */
const MARGIN = 1024;
/** Input buffer: a member header (up to 64 KiB of extra field, names) is read from one full buffer. */
const INPUT = 1 << 17;
/** Output bytes decoded per call of the inner loop at most. */
const STEP_BYTES = 1 << 14;

const LENGTH_BASE = Uint16Array.from([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]);
const LENGTH_EXTRA = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
const DIST_BASE = Uint16Array.from([1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]);
const DIST_EXTRA = Uint8Array.from([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** Order of the code-length code lengths in a dynamic block header. */
const CLEN_ORDER = Uint8Array.from([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

/** A canonical Huffman code: counts per length, symbols in code order, and the short-code lookup table. */
class Huffman {
  readonly counts = new Uint16Array(MAX_BITS + 1);
  readonly symbols = new Uint16Array(288);
  /** Indexed by the next TABLE_BITS bits: symbol << 4 | length, or 0 when the code is longer. */
  readonly table = new Int32Array(1 << TABLE_BITS);
  private readonly offsets = new Uint16Array(MAX_BITS + 2);
  /** Code space the last build left unused (0: a complete code), and the longest code length in use. */
  private left = 0;
  private maxLength = 0;

  /** Builds the code from `n` code lengths; false when they over-subscribe the code space. */
  build(lengths: Uint8Array, n: number): boolean {
    const counts = this.counts;
    counts.fill(0);
    for (let s = 0; s < n; s++) counts[lengths[s]]++;
    let left = 1;
    this.maxLength = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      left = left * 2 - counts[len];
      if (left < 0) return false;
      if (counts[len] > 0) this.maxLength = len;
    }
    this.left = left;
    const offsets = this.offsets;
    offsets[1] = 0;
    for (let len = 1; len < MAX_BITS; len++) offsets[len + 1] = offsets[len] + counts[len];
    for (let s = 0; s < n; s++) if (lengths[s] !== 0) this.symbols[offsets[lengths[s]]++] = s;
    // Short codes into the table: canonical codes in symbol order per length, bit-reversed (DEFLATE sends them MSB first).
    const table = this.table;
    table.fill(0);
    let code = 0;
    let index = 0;
    for (let len = 1; len <= TABLE_BITS; len++) {
      for (let k = 0; k < counts[len]; k++) {
        let reversed = 0;
        for (let b = 0; b < len; b++) reversed |= ((code >>> b) & 1) << (len - 1 - b);
        const entry = (this.symbols[index++] << 4) | len;
        for (let i = reversed; i < table.length; i += 1 << len) table[i] = entry;
        code++;
      }
      code <<= 1;
    }
    return true;
  }

  /**
   * zlib's rule for a dynamic block's codes (inflate_table): code space left unused is corrupt, except in a code
   * whose only code is 1 bit long (`oneBitCode`: allowed for the literal/length and distance codes) or a code with
   * none at all (which fails when used).
   */
  incomplete(oneBitCode: boolean): boolean {
    return this.maxLength > 0 && this.left > 0 && !(oneBitCode && this.maxLength === 1);
  }
}

const FIXED_LITERALS = new Huffman();
const FIXED_DISTANCES = new Huffman();
{
  const lengths = new Uint8Array(288);
  lengths.fill(8, 0, 144);
  lengths.fill(9, 144, 256);
  lengths.fill(7, 256, 280);
  lengths.fill(8, 280, 288);
  FIXED_LITERALS.build(lengths, 288);
  FIXED_DISTANCES.build(new Uint8Array(30).fill(5), 30);
}

const enum Phase {
  Header,
  BlockStart,
  Stored,
  Codes,
  Trailer,
  Done,
}

/**
 * Decompresses a gzip stream fed by `fill` (which appends to a buffer and returns the bytes added, 0 at the end)
 * into `read`'s targets.
 */
export class GunzipReader {
  private readonly input = new Uint8Array(INPUT);
  private inPos = 0;
  private inEnd = 0;
  private inEof = false;
  private bitBuf = 0;
  private bitCount = 0;
  private readonly window = new Uint8Array(WINDOW);
  /** Decoded bytes are window[readPos, writePos). */
  private readPos = 0;
  private writePos = 0;
  private phase = Phase.Header;
  private finalBlock = false;
  private storedLeft = 0;
  private literals = FIXED_LITERALS;
  private distances = FIXED_DISTANCES;
  private readonly dynamicLiterals = new Huffman();
  private readonly dynamicDistances = new Huffman();
  private readonly lengths = new Uint8Array(320);
  /** CRC-32 of the member so far, in a typed slot: as a field it would switch between small-integer and double. */
  private readonly crc = new Uint32Array(1);
  private memberBytes = 0;
  private members = 0;

  constructor(private readonly fill: (target: Uint8Array, offset: number) => Promise<number>) {}

  /** Writes decoded bytes into target from offset on; resolves to their number, 0 at the end of the data. */
  async read(target: Uint8Array, offset: number): Promise<number> {
    for (;;) {
      if (this.readPos < this.writePos) {
        const n = Math.min(this.writePos - this.readPos, target.length - offset);
        target.set(this.window.subarray(this.readPos, this.readPos + n), offset);
        this.readPos += n;
        return n;
      }
      if (this.phase === Phase.Done) return 0;
      const low = this.phase === Phase.Header ? this.inPos > 0 || this.inEnd < INPUT : this.inEnd - this.inPos <= MARGIN;
      if (low && !this.inEof) {
        await this.refill();
        continue;
      }
      if (this.writePos + MAX_MATCH > WINDOW) {
        this.window.copyWithin(0, this.writePos - HISTORY, this.writePos);
        this.readPos = this.writePos = HISTORY;
      }
      this.step();
    }
  }

  private async refill(): Promise<void> {
    // Whole bytes of the bit buffer stay in it; only the unread input moves to the front.
    this.input.copyWithin(0, this.inPos, this.inEnd);
    this.inEnd -= this.inPos;
    this.inPos = 0;
    while (this.inEnd < INPUT) {
      const n = await this.fill(this.input, this.inEnd);
      if (n === 0) {
        this.inEof = true;
        break;
      }
      this.inEnd += n;
    }
    // Past the end the bit reader sees zeros; endCheck tells them from data.
    if (this.inEof) this.input.fill(0, this.inEnd);
  }

  /** At the end of the input: throws when the bits consumed so far reach past the real data. */
  private endCheck(inPos: number, bitCount: number): void {
    if (this.inEof && inPos * 8 - bitCount > this.inEnd * 8) throw new GzipCutShort('unexpected end of file');
  }

  /** Decodes until the window is full, the input runs low, or a member ends. */
  private step(): void {
    switch (this.phase) {
      case Phase.Header:
        if (this.members > 0) {
          // After a member, a zero byte ends the data: zlib takes it and whatever follows as padding (and ignores
          // them); anything else must be another member.
          if (this.inPos === this.inEnd) {
            if (this.inEof) this.phase = Phase.Done;
            return;
          }
          if (this.input[this.inPos] === 0) {
            this.phase = Phase.Done;
            return;
          }
        }
        this.header();
        return;
      case Phase.BlockStart:
        this.blockStart();
        return;
      case Phase.Stored:
        this.stored();
        return;
      case Phase.Codes:
        this.codes();
        return;
      case Phase.Trailer:
        this.trailer();
        return;
      default:
        return;
    }
  }

  private byte(): number {
    if (this.inPos >= this.inEnd) throw new GzipCutShort('unexpected end of file');
    return this.input[this.inPos++];
  }

  private header(): void {
    const start = this.inPos;
    const id1 = this.byte();
    const id2 = this.byte();
    if (id1 !== 0x1f || id2 !== 0x8b) throw new GzipCorrupt('incorrect header check');
    if (this.byte() !== 8) throw new GzipCorrupt('unknown compression method');
    const flags = this.byte();
    if (flags & 0xe0) throw new GzipCorrupt('unknown header flags set');
    this.inPos += 6; // MTIME, XFL, OS
    if (flags & 4) {
      const extra = this.byte() | (this.byte() << 8);
      // The buffer is full here (or holds the rest of the file), so the field is in it unless the file ends.
      if (this.inEnd - this.inPos < extra) throw new GzipCutShort('unexpected end of file');
      this.inPos += extra;
    }
    if (flags & 8) while (this.byte() !== 0);
    if (flags & 16) while (this.byte() !== 0);
    if (this.inPos > this.inEnd) throw new GzipCutShort('unexpected end of file');
    if (flags & 2) {
      const check = crc32(this.input.subarray(start, this.inPos)) & 0xffff;
      if ((this.byte() | (this.byte() << 8)) !== check) throw new GzipCorrupt('header crc mismatch');
    }
    this.crc[0] = 0;
    this.memberBytes = 0;
    this.bitBuf = 0;
    this.bitCount = 0;
    this.phase = Phase.BlockStart;
  }

  private bits(n: number): number {
    while (this.bitCount < n) {
      this.bitBuf |= this.byte() << this.bitCount;
      this.bitCount += 8;
    }
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCount -= n;
    this.endCheck(this.inPos, this.bitCount);
    return v;
  }

  private blockStart(): void {
    if (this.finalBlock) {
      this.finalBlock = false;
      this.phase = Phase.Trailer;
      return;
    }
    this.finalBlock = this.bits(1) === 1;
    const type = this.bits(2);
    if (type === 0) {
      // Stored data starts at the next byte boundary: whole bytes read ahead go back to the input.
      this.inPos -= this.bitCount >>> 3;
      this.bitBuf = 0;
      this.bitCount = 0;
      const len = this.byte() | (this.byte() << 8);
      const nlen = this.byte() | (this.byte() << 8);
      if ((len ^ 0xffff) !== nlen) throw new GzipCorrupt('invalid stored block lengths');
      this.storedLeft = len;
      this.phase = Phase.Stored;
    } else if (type === 1) {
      this.literals = FIXED_LITERALS;
      this.distances = FIXED_DISTANCES;
      this.phase = Phase.Codes;
    } else if (type === 2) {
      this.dynamicTables();
      this.phase = Phase.Codes;
    } else throw new GzipCorrupt('invalid block type');
  }

  private dynamicTables(): void {
    const nLiterals = this.bits(5) + 257;
    const nDistances = this.bits(5) + 1;
    const nCodeLengths = this.bits(4) + 4;
    if (nLiterals > 286 || nDistances > 30) throw new GzipCorrupt('too many length or distance symbols');
    const lengths = this.lengths;
    lengths.fill(0, 0, 19);
    for (let i = 0; i < nCodeLengths; i++) lengths[CLEN_ORDER[i]] = this.bits(3);
    const lengthCode = this.dynamicDistances; // borrowed to decode the code lengths
    if (!lengthCode.build(lengths, 19) || lengthCode.incomplete(false)) throw new GzipCorrupt('invalid code lengths set');
    const total = nLiterals + nDistances;
    let i = 0;
    while (i < total) {
      const sym = this.decode(lengthCode);
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      let repeat: number;
      let value = 0;
      if (sym === 16) {
        if (i === 0) throw new GzipCorrupt('invalid bit length repeat');
        value = lengths[i - 1];
        repeat = 3 + this.bits(2);
      } else if (sym === 17) repeat = 3 + this.bits(3);
      else repeat = 11 + this.bits(7);
      if (i + repeat > total) throw new GzipCorrupt('invalid bit length repeat');
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lengths[256] === 0) throw new GzipCorrupt('invalid code -- missing end-of-block');
    if (!this.dynamicLiterals.build(lengths, nLiterals) || this.dynamicLiterals.incomplete(true)) throw new GzipCorrupt('invalid literal/lengths set');
    lengths.copyWithin(0, nLiterals, total);
    if (!this.dynamicDistances.build(lengths, nDistances) || this.dynamicDistances.incomplete(true)) throw new GzipCorrupt('invalid distances set');
    this.literals = this.dynamicLiterals;
    this.distances = this.dynamicDistances;
  }

  /** One symbol (outside the hot loop: block headers). */
  private decode(h: Huffman): number {
    while (this.bitCount < MAX_BITS && this.inPos < this.inEnd) {
      this.bitBuf |= this.input[this.inPos++] << this.bitCount;
      this.bitCount += 8;
    }
    const entry = h.table[this.bitBuf & ((1 << TABLE_BITS) - 1)];
    const len = entry & 15;
    if (entry !== 0 && len <= this.bitCount) {
      this.bitBuf >>>= len;
      this.bitCount -= len;
      this.endCheck(this.inPos, this.bitCount);
      return entry >>> 4;
    }
    return this.slowDecode(h);
  }

  /** Walks a code bit by bit through the per-length counts (codes longer than TABLE_BITS, or near the end). */
  private slowDecode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.counts[len];
      if (code - first < count) return h.symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new GzipCorrupt('invalid code');
  }

  private stored(): void {
    if (this.storedLeft === 0) {
      this.phase = Phase.BlockStart;
      return;
    }
    const n = Math.min(this.storedLeft, this.inEnd - this.inPos, WINDOW - this.writePos);
    if (n === 0 && this.inPos >= this.inEnd) throw new GzipCutShort('unexpected end of file');
    this.window.set(this.input.subarray(this.inPos, this.inPos + n), this.writePos);
    this.produced(this.writePos, this.writePos + n);
    this.inPos += n;
    this.writePos += n;
    this.storedLeft -= n;
    if (this.storedLeft === 0) this.phase = Phase.BlockStart;
  }

  /** The hot loop: literals and matches until the block ends, the window fills or the input runs low. */
  private codes(): void {
    const input = this.input;
    const window = this.window;
    const lit = this.literals;
    const dist = this.distances;
    const litTable = lit.table;
    const distTable = dist.table;
    const mask = (1 << TABLE_BITS) - 1;
    const inEnd = this.inEnd;
    // Short of the end, MARGIN bytes cover any symbol; at the end the zeros past it are read and endCheck decides.
    const stopIn = this.inEof ? inEnd + 8 : inEnd - MARGIN;
    const eof = this.inEof;
    // At most STEP_BYTES per call: short calls reach the code after the loop early, so V8 has feedback for it when it
    // optimises the loop (an on-stack-replaced loop compiled without it deoptimised at every exit).
    const stopOut = Math.min(WINDOW - MAX_MATCH, this.writePos + STEP_BYTES);
    const start = this.writePos;
    let inPos = this.inPos;
    let bitBuf = this.bitBuf;
    let bitCount = this.bitCount;
    let w = start;
    let ended = false;
    while (w <= stopOut && inPos < stopIn) {
      // 30 bits cover a literal/length code with its extra bits; distances refill again.
      while (bitCount <= 22) {
        bitBuf |= input[inPos++] << bitCount;
        bitCount += 8;
      }
      let entry = litTable[bitBuf & mask];
      let sym: number;
      if (entry !== 0) {
        const len = entry & 15;
        bitBuf >>>= len;
        bitCount -= len;
        sym = entry >>> 4;
      } else {
        this.inPos = inPos;
        this.bitBuf = bitBuf;
        this.bitCount = bitCount;
        sym = this.slowDecode(lit);
        inPos = this.inPos;
        bitBuf = this.bitBuf;
        bitCount = this.bitCount;
      }
      if (eof) this.endCheck(inPos, bitCount);
      if (sym < 256) {
        window[w++] = sym;
        continue;
      }
      if (sym === 256) {
        ended = true;
        break;
      }
      sym -= 257;
      if (sym >= 29) throw new GzipCorrupt('invalid literal/length code');
      let extra = LENGTH_EXTRA[sym];
      const length = LENGTH_BASE[sym] + (bitBuf & ((1 << extra) - 1));
      bitBuf >>>= extra;
      bitCount -= extra;
      while (bitCount <= 22) {
        bitBuf |= input[inPos++] << bitCount;
        bitCount += 8;
      }
      entry = distTable[bitBuf & mask];
      let dsym: number;
      if (entry !== 0) {
        const len = entry & 15;
        bitBuf >>>= len;
        bitCount -= len;
        dsym = entry >>> 4;
      } else {
        this.inPos = inPos;
        this.bitBuf = bitBuf;
        this.bitCount = bitCount;
        dsym = this.slowDecode(dist);
        inPos = this.inPos;
        bitBuf = this.bitBuf;
        bitCount = this.bitCount;
      }
      if (dsym >= 30) throw new GzipCorrupt('invalid distance code');
      extra = DIST_EXTRA[dsym];
      while (bitCount < extra) {
        bitBuf |= input[inPos++] << bitCount;
        bitCount += 8;
      }
      const distance = DIST_BASE[dsym] + (bitBuf & ((1 << extra) - 1));
      bitBuf >>>= extra;
      bitCount -= extra;
      if (eof) this.endCheck(inPos, bitCount);
      if (distance > w || distance > this.memberBytes + (w - start)) throw new GzipCorrupt('invalid distance too far back');
      for (let k = 0; k < length; k++, w++) window[w] = window[w - distance];
    }
    this.inPos = inPos;
    this.bitBuf = bitBuf;
    this.bitCount = bitCount;
    this.produced(start, w);
    this.writePos = w;
    this.phase = ended ? Phase.BlockStart : Phase.Codes;
  }

  /** Adds window[from, to) to the member's CRC and size. */
  private produced(from: number, to: number): void {
    if (to > from) this.crc[0] = crc32(this.window.subarray(from, to), this.crc[0]);
    this.memberBytes += to - from;
  }

  private trailer(): void {
    // Whole unused bytes of the bit buffer go back to the input; the trailer starts at the next byte boundary.
    this.inPos -= this.bitCount >>> 3;
    this.bitBuf = 0;
    this.bitCount = 0;
    if (this.inEnd - this.inPos < 8) throw new GzipCutShort('unexpected end of file');
    const crc = this.word();
    const size = this.word();
    if (crc !== this.crc[0]) throw new GzipCorrupt('incorrect data check');
    if (size !== this.memberBytes % 2 ** 32) throw new GzipCorrupt('incorrect length check');
    this.members++;
    this.phase = Phase.Header;
  }

  private word(): number {
    const i = this.inPos;
    this.inPos += 4;
    return (this.input[i] | (this.input[i + 1] << 8) | (this.input[i + 2] << 16) | (this.input[i + 3] << 24)) >>> 0;
  }
}

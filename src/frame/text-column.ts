// Text columns (TextColumn in ./frame.ts) in Apache Arrow's variable-size binary layout (Arrow Columnar Format,
// "Variable-size Binary Layout"): the values' UTF-8 bytes back to back and Int32 offsets between them. Appending a
// value is O(its length) with no JS object made; reading one back decodes its bytes to the string a dictionary entry
// of the same bytes holds (ByteDictionary.toStrings), so both kinds give equal values.
// A CICFlowMeter flow id of IPv4 addresses ("192.168.10.5-104.16.207.165-54865-443-6", ~36 bytes) is held packed:
// a 0xFF byte (never part of valid UTF-8; a 14-byte value of invalid text starting with it is stored with 0xFE, which
// decodes to the same U+FFFD), the two addresses, the two ports and the protocol, 14 bytes; it reads back
// as the same text. Only canonical decimal text is packed (no leading zeros, fields in range), so packing is a
// one-to-one map and equal values keep equal bytes; anything else is held as written.

import { UserError } from '../errors.js';
import type { CategoricalColumn, TextColumn } from './frame.js';

const utf8 = new TextDecoder();

/** Bytes an Int32 offset can address: a text column holds less than 2 GiB of text. */
export const MAX_TEXT_BYTES = 0x7fffffff;

/** First byte of a packed flow id, and its length: marker, 2 × 4 address bytes, 2 × 2 port bytes, protocol. */
const PACKED = 0xff;
const PACKED_BYTES = 14;
/** The shortest and longest canonical IPv4 flow ids: "0.0.0.0-0.0.0.0-0-0-0", and 255s, 65535s and 255. */
const FLOW_ID_MIN = 21;
const FLOW_ID_MAX = 47;

/**
 * Packs src[start, end) into out[at, at + PACKED_BYTES) when it is a canonical IPv4 flow id (see the file's head);
 * returns false otherwise, having written at most those bytes.
 */
function packFlowId(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): boolean {
  out[at] = PACKED;
  let i = start;
  // 11 decimal fields; the separator after each, then the byte width its value is stored in
  for (let field = 0; field < 11; field++) {
    const first = i;
    let value = 0;
    while (i < end && src[i] >= 0x30 && src[i] <= 0x39 && i - first < 5) value = value * 10 + src[i++] - 0x30;
    const digits = i - first;
    if (digits === 0 || (digits > 1 && src[first] === 0x30)) return false;
    const width = field < 8 ? 1 : field < 10 ? 2 : 1;
    if (value >= (width === 1 ? 256 : 65536)) return false;
    if (width === 1) out[at + 1 + (field < 8 ? field : 12)] = value;
    else {
      out[at + 9 + 2 * (field - 8)] = value >>> 8;
      out[at + 10 + 2 * (field - 8)] = value & 255;
    }
    const separator = field === 10 ? -1 : field === 3 || field >= 7 ? 0x2d : 0x2e;
    if (separator < 0) return i === end;
    if (i >= end || src[i] !== separator) return false;
    i++;
  }
  return false;
}

/** The text of a packed flow id at bytes[at]. */
function unpackFlowId(bytes: Uint8Array, at: number): string {
  const b = (k: number): number => bytes[at + k];
  const port = (k: number): number => (b(k) << 8) | b(k + 1);
  return `${b(1)}.${b(2)}.${b(3)}.${b(4)}-${b(5)}.${b(6)}.${b(7)}.${b(8)}-${port(9)}-${port(11)}-${b(13)}`;
}

/** Appends values row by row; the one place a TextColumn is built. */
export class TextColumnBuilder {
  /** offsets[r + 1] is where row r's value ends in `bytes`; offsets[0] is 0. */
  private offsets: Int32Array;
  private bytes: Uint8Array;
  private used = 0;
  private appended = 0;
  private readonly fixed: boolean;

  /**
   * Room for `rows` rows and `bytes` bytes up front (an upper bound costs no memory until written: zero-filled memory
   * of this size is mapped, and a page becomes resident when a value is written into it); beyond it the arrays double.
   * With `preset`, those arrays are filled instead (views of shared columns, large enough by construction); its
   * offsets[0] is left as it is (it may be the previous part's last offset).
   */
  constructor(rows: number, bytes: number, preset?: { readonly offsets: Int32Array; readonly bytes: Uint8Array }) {
    this.fixed = preset !== undefined;
    this.offsets = preset ? preset.offsets : new Int32Array(Math.max(1, rows) + 1);
    this.bytes = preset ? preset.bytes : new Uint8Array(Math.max(16, Math.min(bytes, MAX_TEXT_BYTES)));
  }

  get rows(): number {
    return this.appended;
  }

  /** Bytes of the values appended so far. */
  get byteLength(): number {
    return this.used;
  }

  /** Appends the text src[start, end) as the next row's value (empty: a missing cell), packed if it is a flow id. */
  append(src: Uint8Array, start: number, end: number): void {
    const len = end - start;
    this.reserve(len);
    if (len >= FLOW_ID_MIN && len <= FLOW_ID_MAX && packFlowId(src, start, end, this.bytes, this.used)) {
      this.used += PACKED_BYTES;
      this.offsets[++this.appended] = this.used;
      return;
    }
    const at = this.used;
    this.copy(src, start, end);
    // Invalid UTF-8 of a packed value's length and first byte: 0xFE instead of 0xFF, which decodes to the same U+FFFD.
    if (len === PACKED_BYTES && this.bytes[at] === PACKED) this.bytes[at] = 0xfe;
  }

  /** Appends a row of another text column, its stored bytes (packed or not) as they are. */
  appendStored(column: TextColumn, row: number): void {
    const start = column.offsets[row];
    const end = column.offsets[row + 1];
    this.reserve(end - start);
    this.copy(column.bytes, start, end);
  }

  private reserve(len: number): void {
    if (this.used + len > this.bytes.length) this.growBytes(len);
    if (this.appended + 1 >= this.offsets.length) this.growOffsets();
  }

  private copy(src: Uint8Array, start: number, end: number): void {
    // Byte by byte (values are short): a subarray per value would be young garbage.
    const bytes = this.bytes;
    const at = this.used;
    for (let i = 0; i < end - start; i++) bytes[at + i] = src[start + i];
    this.used += end - start;
    this.offsets[++this.appended] = this.used;
  }

  /** The column; the builder must not be used afterwards. Views of the arrays: no copy. */
  finish(name: string): TextColumn {
    return { kind: 'text', name, offsets: this.offsets.subarray(0, this.appended + 1), bytes: this.bytes.subarray(0, this.used) };
  }

  private growBytes(len: number): void {
    if (this.fixed) throw new Error('text column: more bytes than its shared part holds');
    if (this.used + len > MAX_TEXT_BYTES) throw new UserError('an identifier column has 2 GiB of text or more (flow ids of ~60M rows); load fewer rows at a time');
    const bytes = new Uint8Array(Math.min(MAX_TEXT_BYTES, Math.max(2 * this.bytes.length, this.used + len)));
    bytes.set(this.bytes.subarray(0, this.used));
    this.bytes = bytes;
  }

  private growOffsets(): void {
    if (this.fixed) throw new Error('text column: more rows than its shared part holds');
    const offsets = new Int32Array(2 * this.offsets.length);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }
}

/** Rows of a text column. */
export function textRows(column: TextColumn): number {
  return column.offsets.length - 1;
}

/** The value of a row ('' for a missing cell). */
export function textValue(column: TextColumn, row: number): string {
  const start = column.offsets[row];
  const end = column.offsets[row + 1];
  if (end - start === PACKED_BYTES && column.bytes[start] === PACKED) return unpackFlowId(column.bytes, start);
  return utf8.decode(column.bytes.subarray(start, end));
}

/**
 * The same values as a CategoricalColumn: the dictionary in order of first appearance and -1 for missing cells, as
 * the CSV reader's dictionary encoding gives them. For consumers that need codes (a model trained on the column).
 */
export function textAsCategorical(column: TextColumn): CategoricalColumn {
  const n = textRows(column);
  const codes = new Int32Array(n);
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    if (column.offsets[r] === column.offsets[r + 1]) {
      codes[r] = -1;
      continue;
    }
    const value = textValue(column, r);
    let code = index.get(value);
    if (code === undefined) {
      code = dictionary.length;
      index.set(value, code);
      dictionary.push(value);
    }
    codes[r] = code;
  }
  return { kind: 'categorical', name: column.name, codes, dictionary };
}

/** The column restricted to `rows`, in that order. */
export function subsetTextColumn(column: TextColumn, rows: ArrayLike<number>): TextColumn {
  let bytes = 0;
  for (let k = 0; k < rows.length; k++) bytes += column.offsets[rows[k] + 1] - column.offsets[rows[k]];
  const builder = new TextColumnBuilder(rows.length, bytes);
  for (let k = 0; k < rows.length; k++) builder.appendStored(column, rows[k]);
  return builder.finish(column.name);
}

/**
 * Missing cells and distinct values of a text column, comparing bytes: an open-addressing table (linear probing,
 * FNV-1a hashes) of row numbers, so no string is made. O(bytes).
 */
export function textCounts(column: TextColumn): { missing: number; distinct: number } {
  const { offsets, bytes } = column;
  const n = textRows(column);
  let size = 2;
  while (size < 2 * n) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const mask = size - 1;
  let missing = 0;
  let distinct = 0;
  for (let r = 0; r < n; r++) {
    const start = offsets[r];
    const end = offsets[r + 1];
    if (start === end) {
      missing++;
      continue;
    }
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const other = slots[slot];
      if (other < 0) {
        slots[slot] = r;
        distinct++;
        break;
      }
      if (sameBytes(bytes, offsets[other], offsets[other + 1], start, end)) break;
    }
  }
  return { missing, distinct };
}

function sameBytes(bytes: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (bytes[aStart + i] !== bytes[bStart + i]) return false;
  return true;
}

// Text columns (TextColumn in ./frame.ts) in Apache Arrow's variable-size binary layout (Arrow Columnar Format,
// "Variable-size Binary Layout"): the values' UTF-8 bytes back to back and Int32 offsets between them. Appending a
// value is O(its length) with no JS object made; reading one back decodes its bytes to the string a dictionary entry
// of the same bytes holds (ByteDictionary.toStrings), so both kinds give equal values.

import { UserError } from '../errors.js';
import type { CategoricalColumn, TextColumn } from './frame.js';

const utf8 = new TextDecoder();

/** Bytes an Int32 offset can address: a text column holds less than 2 GiB of text. */
export const MAX_TEXT_BYTES = 0x7fffffff;

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

  /** Appends src[start, end) as the next row's value (empty: a missing cell). */
  append(src: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.used + len > this.bytes.length) this.growBytes(len);
    if (this.appended + 1 >= this.offsets.length) this.growOffsets();
    // Byte by byte (values are short): a subarray per value would be young garbage.
    const bytes = this.bytes;
    const at = this.used;
    for (let i = 0; i < len; i++) bytes[at + i] = src[start + i];
    this.used += len;
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
  return utf8.decode(column.bytes.subarray(column.offsets[row], column.offsets[row + 1]));
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
  for (let k = 0; k < rows.length; k++) builder.append(column.bytes, column.offsets[rows[k]], column.offsets[rows[k] + 1]);
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

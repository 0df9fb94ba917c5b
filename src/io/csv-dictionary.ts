// Dictionary encoding of text cells straight from bytes: an open-addressing hash table (linear probing, FNV-1a
// hashes) over a byte pool, so a repeated category costs one hash and one byte compare, and no JS string is made
// per cell. O(cell length) per lookup, amortised O(1) growth.
//
// The pool grows to SEGMENT_BYTES; once full it is turned into one string (a large object, allocated outside V8's
// young generation) and its bytes are reused, so a column of mostly distinct values (flow ids) holds its text once,
// as those strings, instead of as bytes and again as strings at the end. Entries in full pools are compared against
// their string.

import { isAscii } from 'node:buffer';

const EMPTY = -1;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

/** Bytes of a pool that is turned into a string when full (128 KiB: such a string is above V8's largest young object). */
const SEGMENT_BYTES = 1 << 17;

export class ByteDictionary {
  private pool: Uint8Array;
  private poolUsed = 0;
  /** The first entry whose bytes are in `pool`; earlier ones are in `segments`. */
  private poolFirstId = 0;
  /** Full pools as byte-for-byte (ISO-8859-1) strings, with their first entry and whether they are ASCII. */
  private readonly segments: string[] = [];
  private readonly segmentFirstIds: number[] = [];
  private readonly segmentAscii: boolean[] = [];
  /** Per entry: offset in its pool or segment, length in bytes, hash. */
  private starts: Int32Array;
  private lengths: Int32Array;
  private hashes: Int32Array;
  private slots: Int32Array;
  private count = 0;
  private readonly segmentBytes: number;

  /**
   * `expected`: entries to make room for up front, `bytesPerEntry` their expected mean length (columns of mostly
   * distinct values grow less); `segmentBytes`: the size at which a full pool becomes a string (smaller only to warm up).
   */
  constructor(expected = 1024, bytesPerEntry = 16, segmentBytes = SEGMENT_BYTES) {
    this.segmentBytes = segmentBytes;
    // A power of two: slots are indexed by hash & (length - 1).
    let entries = 1024;
    while (entries < expected) entries *= 2;
    this.pool = new Uint8Array(Math.min(segmentBytes, Math.max(1 << 14, Math.ceil(expected * bytesPerEntry * 1.1))));
    this.starts = new Int32Array(entries);
    this.lengths = new Int32Array(entries);
    this.hashes = new Int32Array(entries);
    this.slots = new Int32Array(entries * 2).fill(EMPTY);
  }

  get size(): number {
    return this.count;
  }

  /** The code of bytes[start, end), adding it when new. */
  code(bytes: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot];
      if (id === EMPTY) return this.insert(slot, h, bytes, start, len);
      if (this.hashes[id] === h && this.lengths[id] === len && (id >= this.poolFirstId ? this.sameBytes(id, bytes, start, len) : this.sameText(id, bytes, start, len))) return id;
    }
  }

  /** The entries as strings, in code order: slices of each full pool's string and of the last pool decoded once. */
  toStrings(): string[] {
    const out = new Array<string>(this.count);
    const last = this.pool.subarray(0, this.poolUsed);
    const lastAscii = isAscii(last);
    const texts = [...this.segments, lastAscii ? latin1.decode(last) : ''];
    const firstIds = [...this.segmentFirstIds, this.poolFirstId, this.count];
    const ascii = [...this.segmentAscii, lastAscii];
    for (let k = 0; k < texts.length; k++) {
      const text = texts[k];
      if (ascii[k]) {
        for (let id = firstIds[k]; id < firstIds[k + 1]; id++) out[id] = text.slice(this.starts[id], this.starts[id] + this.lengths[id]);
        continue;
      }
      const bytes = k < this.segments.length ? Buffer.from(text, 'latin1') : last;
      for (let id = firstIds[k]; id < firstIds[k + 1]; id++) out[id] = utf8.decode(bytes.subarray(this.starts[id], this.starts[id] + this.lengths[id]));
    }
    return out;
  }

  private sameBytes(id: number, bytes: Uint8Array, start: number, len: number): boolean {
    const pool = this.pool;
    const at = this.starts[id];
    for (let i = 0; i < len; i++) if (pool[at + i] !== bytes[start + i]) return false;
    return true;
  }

  /** sameBytes for an entry of a full pool (a string of one character per byte). */
  private sameText(id: number, bytes: Uint8Array, start: number, len: number): boolean {
    let k = this.segments.length - 1;
    while (this.segmentFirstIds[k] > id) k--;
    const text = this.segments[k];
    const at = this.starts[id];
    for (let i = 0; i < len; i++) if (text.charCodeAt(at + i) !== bytes[start + i]) return false;
    return true;
  }

  private insert(slot: number, h: number, bytes: Uint8Array, start: number, len: number): number {
    const id = this.count++;
    if (id === this.starts.length) {
      this.starts = grow(this.starts);
      this.lengths = grow(this.lengths);
      this.hashes = grow(this.hashes);
    }
    if (this.poolUsed + len > this.pool.length) this.makeRoom(id, len);
    // Copied byte by byte (entries are short): a subarray per new entry was ~100 bytes of young garbage each, 2 MB
    // for the 16 CIC-IDS2017 files' flow ids and addresses.
    const pool = this.pool;
    const at = this.poolUsed;
    for (let i = 0; i < len; i++) pool[at + i] = bytes[start + i];
    this.starts[id] = this.poolUsed;
    this.lengths[id] = len;
    this.hashes[id] = h;
    this.poolUsed += len;
    this.slots[slot] = id;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  /** Room in the pool for entry `id` of `len` bytes: a full pool becomes a segment, a small one grows. */
  private makeRoom(id: number, len: number): void {
    if (this.pool.length >= this.segmentBytes && this.poolUsed > 0) {
      const used = this.pool.subarray(0, this.poolUsed);
      this.segments.push(Buffer.from(used.buffer, used.byteOffset, used.length).toString('latin1'));
      this.segmentFirstIds.push(this.poolFirstId);
      this.segmentAscii.push(isAscii(used));
      this.poolFirstId = id;
      this.poolUsed = 0;
    }
    if (this.poolUsed + len <= this.pool.length) return;
    const pool = new Uint8Array(Math.max(Math.min(this.pool.length * 2, this.segmentBytes), this.poolUsed + len));
    pool.set(this.pool.subarray(0, this.poolUsed));
    this.pool = pool;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id] & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}

/**
 * Takes every path of a dictionary once per process (full pools, lookups in them, ASCII and UTF-8 strings) with
 * 64-byte pools: V8 compiles the lookup during the first data, and a path first taken later (the first full pool, after
 * 128 KiB of distinct values) would throw that code away and compile it again.
 */
export function warmUpDictionary(): void {
  if (dictionaryWarmedUp) return;
  dictionaryWarmedUp = true;
  const dictionary = new ByteDictionary(16, 16, 64);
  warmUpDictionaries.push(dictionary);
  // Distinct entries fill several pools (the first ones ASCII, one not) and are looked up again once each; then the
  // last one, in the current pool, many times: the common lookup of a category, which V8 should see as the hot one.
  const entries = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`10.0.0.${i}-${i === 30 ? '\u00e9' : 'e'}`));
  for (let pass = 0; pass < 2; pass++) for (const entry of entries) dictionary.code(entry, 0, entry.length);
  const last = entries[entries.length - 1];
  for (let i = 0; i < 400; i++) dictionary.code(last, 0, last.length);
  dictionary.toStrings();
}
let dictionaryWarmedUp = false;
/** Kept for the process's life, as the parser's warm-up objects are (csv-reader.ts): optimised code refers to it weakly. */
const warmUpDictionaries: ByteDictionary[] = [];

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

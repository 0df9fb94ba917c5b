// Dictionary encoding of text cells straight from bytes: an open-addressing hash table (linear probing, FNV-1a
// hashes) over a growing byte pool, so a repeated category costs one hash and one byte compare, and no JS string is
// made until the dictionary is read at the end. O(cell length) per lookup, amortised O(1) growth.

import { isAscii } from 'node:buffer';

const EMPTY = -1;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

export class ByteDictionary {
  private pool: Uint8Array;
  private poolUsed = 0;
  private starts: Int32Array;
  private lengths: Int32Array;
  private hashes: Int32Array;
  private slots: Int32Array;
  private count = 0;

  /**
   * `expected`: entries to make room for up front, `bytesPerEntry` their expected mean length (columns of mostly
   * distinct values grow less).
   */
  constructor(expected = 1024, bytesPerEntry = 16) {
    // A power of two: slots are indexed by hash & (length - 1).
    let entries = 1024;
    while (entries < expected) entries *= 2;
    this.pool = new Uint8Array(Math.max(1 << 14, Math.ceil(expected * bytesPerEntry * 1.1)));
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
      if (this.hashes[id] === h && this.lengths[id] === len && this.sameBytes(id, bytes, start, len)) return id;
    }
  }

  /** The entries as strings, in code order. An ASCII pool is decoded once and sliced. */
  toStrings(): string[] {
    const out = new Array<string>(this.count);
    const used = this.pool.subarray(0, this.poolUsed);
    if (isAscii(used)) {
      const text = latin1.decode(used);
      for (let i = 0; i < this.count; i++) out[i] = text.slice(this.starts[i], this.starts[i] + this.lengths[i]);
      return out;
    }
    for (let i = 0; i < this.count; i++) out[i] = utf8.decode(this.pool.subarray(this.starts[i], this.starts[i] + this.lengths[i]));
    return out;
  }

  private sameBytes(id: number, bytes: Uint8Array, start: number, len: number): boolean {
    const pool = this.pool;
    const at = this.starts[id];
    for (let i = 0; i < len; i++) if (pool[at + i] !== bytes[start + i]) return false;
    return true;
  }

  private insert(slot: number, h: number, bytes: Uint8Array, start: number, len: number): number {
    const id = this.count++;
    if (id === this.starts.length) {
      this.starts = grow(this.starts);
      this.lengths = grow(this.lengths);
      this.hashes = grow(this.hashes);
    }
    if (this.poolUsed + len > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + len));
      pool.set(this.pool.subarray(0, this.poolUsed));
      this.pool = pool;
    }
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

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

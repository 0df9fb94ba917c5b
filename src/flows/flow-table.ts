// Bidirectional flow table: open addressing with linear probing and backward-shift deletion (Knuth, TAOCP vol. 3,
// 6.4 Algorithm R) over a numeric hash of the canonical 5-tuple + VLAN — no string key per packet. Per-flow
// accumulators live in fixed pages of PAGE_SLOTS slots (added as needed, never copied), the small per-slot arrays
// grow by doubling up to `maxFlows`, so peak memory follows the live flows; an intrusive doubly-linked list
// keeps flows in last-seen order (idle timeouts and LRU eviction pop from its head), a second one holds closed TCP
// flows waiting out their linger time. Every operation is O(1) expected.

import type { DecodedPacket } from './decode/packet.js';

/** Key and page layout, as literals (a const enum: no module-variable loads in the hot paths). */
export const enum Layout {
  /** A address (4), B address (4), ports (A << 16 | B), protocol | version << 8 | vlan << 12. */
  KEY_WORDS = 10,
  PAGE_BITS = 12,
}
/** Constants (a const enum: literals in the code). */
const enum K {
  /** Entries of the cache of TCP connections split by timeouts (power of two; 3 MB). */
  CONNECTIONS = 1 << 16,
  /** How long a TCP connection split by a timeout is remembered for "Total TCP Flow Time" (1 hour). */
  CONNECTION_MEMORY_US = 3600e6,
  PAGE_SLOTS = 1 << Layout.PAGE_BITS,
  NIL = -1,
}
/** Offset of a slot's first double inside its page. */
export function pageBase(slot: number, slotDoubles: number): number {
  return (slot & (K.PAGE_SLOTS - 1)) * slotDoubles;
}

export class FlowTable {
  /** Per-flow accumulators, `slotDoubles` doubles per slot: slot s lives in pages[s >> PAGE_BITS]. */
  readonly pages: Float64Array[] = [];
  size = 0;
  private capacity: number;
  private keys: Uint32Array;
  private hashes: Uint32Array;
  /** 1 when the initiator is endpoint A of the canonical key. */
  private initiatorIsA: Uint8Array;
  /** End reason code per slot, set when the flow closes or times out. */
  reason: Uint8Array;
  private prev: Int32Array;
  private next: Int32Array;
  private closedPrev: Int32Array;
  private closedNext: Int32Array;
  private index: Int32Array; // slot + 1, 0 = empty
  private mask: number;
  private freeList: number[] = [];
  private used = 0; // slots handed out so far (below capacity)
  lruHead = K.NIL;
  private lruTail = K.NIL;
  closedHead = K.NIL;
  private closedTail = K.NIL;
  // Scratch for the packet being looked up.
  private readonly key = new Uint32Array(Layout.KEY_WORDS);
  private readonly connKeys = new Uint32Array(K.CONNECTIONS * Layout.KEY_WORDS);
  private readonly connTimes = new Float64Array(K.CONNECTIONS * 2);
  private keyHash = 0;
  /** After lookup(): true when the packet's source is endpoint A. */
  packetFromA = false;

  constructor(
    readonly maxFlows: number,
    private readonly slotDoubles: number,
  ) {
    // Small to start (the arrays double as flows arrive), and the first page now: a page array that is never empty
    // keeps one shape, and the meter's warm-up capture (warmup.ts) reaches the growth path.
    this.capacity = Math.min(maxFlows, 64);
    this.pages.push(new Float64Array(K.PAGE_SLOTS * slotDoubles));
    this.keys = new Uint32Array(this.capacity * Layout.KEY_WORDS);
    this.hashes = new Uint32Array(this.capacity);
    this.initiatorIsA = new Uint8Array(this.capacity);
    this.reason = new Uint8Array(this.capacity);
    this.prev = new Int32Array(this.capacity);
    this.next = new Int32Array(this.capacity);
    this.closedPrev = new Int32Array(this.capacity).fill(K.NIL);
    this.closedNext = new Int32Array(this.capacity).fill(K.NIL);
    const indexSize = indexSizeFor(this.capacity);
    this.index = new Int32Array(indexSize);
    this.mask = indexSize - 1;
  }

  /** Finds the flow of a decoded packet; -1 when none. Leaves the canonical key in scratch for insert(). */
  lookup(p: DecodedPacket): number {
    const s = p.src;
    const d = p.dst;
    // Canonical order: the smaller (address, port) endpoint is A. (Compared, not subtracted: the difference of two
    // 32-bit words is no int32, which deoptimized this function.)
    let i = 0;
    while (i < 4 && s[i] === d[i]) i++;
    const fromA = i < 4 ? s[i]! < d[i]! : p.srcPort <= p.dstPort;
    this.packetFromA = fromA;
    const a = fromA ? s : d;
    const b = fromA ? d : s;
    // The key words in locals: the hash and the comparison below read them from registers, not back from the array.
    const a0 = a[0]!;
    const a1 = a[1]!;
    const a2 = a[2]!;
    const a3 = a[3]!;
    const b0 = b[0]!;
    const b1 = b[1]!;
    const b2 = b[2]!;
    const b3 = b[3]!;
    const ports = fromA ? ((p.srcPort << 16) | p.dstPort) >>> 0 : ((p.dstPort << 16) | p.srcPort) >>> 0;
    const kind = (p.protocol | (p.ipVersion << 8) | (p.vlan << 12)) >>> 0;
    const k = this.key;
    k[0] = a0;
    k[1] = a1;
    k[2] = a2;
    k[3] = a3;
    k[4] = b0;
    k[5] = b1;
    k[6] = b2;
    k[7] = b3;
    k[8] = ports;
    k[9] = kind;
    // Word by word over the KEY_WORDS words, in key order.
    let h = 0x811c9dc5;
    h = Math.imul(h ^ a0, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ a1, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ a2, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ a3, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ b0, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ b1, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ b2, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ b3, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ ports, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ kind, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ (h >>> 13), 0x85ebca6b);
    h = (h ^ (h >>> 16)) >>> 0;
    this.keyHash = h;
    const keys = this.keys;
    const index = this.index;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let pos = h & mask; ; pos = (pos + 1) & mask) {
      const entry = index[pos]!;
      if (entry === 0) return K.NIL;
      const slot = entry - 1;
      if (hashes[slot] !== h) continue;
      const o = slot * Layout.KEY_WORDS;
      if (
        keys[o] === a0 && keys[o + 1] === a1 && keys[o + 2] === a2 && keys[o + 3] === a3 &&
        keys[o + 4] === b0 && keys[o + 5] === b1 && keys[o + 6] === b2 && keys[o + 7] === b3 &&
        keys[o + 8] === ports && keys[o + 9] === kind
      ) return slot;
    }
  }

  /**
   * Remembers when a TCP connection started (times[startAt]) and was last seen (times[lastAt]), for a flow that a
   * timeout or eviction ends while the connection may go on. A direct-mapped cache of CONNECTIONS entries: bounded,
   * and a collision only forgets an older connection. (Times are passed by position: a double argument of a call
   * that is not inlined is a heap allocation, and a subarray view another.)
   */
  rememberConnection(slot: number, times: Float64Array, startAt: number, lastAt: number): void {
    const i = this.hashes[slot]! & (K.CONNECTIONS - 1);
    const from = slot * Layout.KEY_WORDS;
    const to = i * Layout.KEY_WORDS;
    for (let w = 0; w < Layout.KEY_WORDS; w++) this.connKeys[to + w] = this.keys[from + w]!;
    this.connTimes[2 * i] = times[startAt]!;
    this.connTimes[2 * i + 1] = times[lastAt]!;
  }

  /**
   * For the key of the last lookup: when a TCP connection last seen at most CONNECTION_MEMORY_US before p.tsUs is
   * remembered, writes its start to times[startAt] and returns true. The entry is consumed.
   */
  recallConnection(p: DecodedPacket, times: Float64Array, startAt: number): boolean {
    const i = this.keyHash & (K.CONNECTIONS - 1);
    const o = i * Layout.KEY_WORDS;
    const t = this.connTimes;
    if (t[2 * i + 1]! < p.tsUs - K.CONNECTION_MEMORY_US || t[2 * i + 1] === 0) return false;
    const k = this.key;
    for (let w = 0; w < Layout.KEY_WORDS; w++) if (this.connKeys[o + w] !== k[w]) return false;
    t[2 * i + 1] = 0;
    times[startAt] = t[2 * i]!;
    return true;
  }

  /** True when the packet of the last lookup travels in the flow's forward (initiator) direction. */
  isForward(slot: number): boolean {
    return (this.initiatorIsA[slot] === 1) === this.packetFromA;
  }

  /** Adds a flow for the key of the last lookup (the caller checked it is absent and that size < maxFlows). */
  insert(): number {
    let slot: number;
    if (this.freeList.length > 0) slot = this.freeList.pop()!;
    else {
      if (this.used === this.capacity) this.grow();
      slot = this.used++;
    }
    const keys = this.keys;
    const k = this.key;
    const o = slot * Layout.KEY_WORDS;
    for (let w = 0; w < Layout.KEY_WORDS; w++) keys[o + w] = k[w]!;
    this.hashes[slot] = this.keyHash;
    this.initiatorIsA[slot] = this.packetFromA ? 1 : 0;
    this.reason[slot] = 0;
    let pos = this.keyHash & this.mask;
    while (this.index[pos] !== 0) pos = (pos + 1) & this.mask;
    this.index[pos] = slot + 1;
    this.appendLru(slot);
    this.size++;
    return slot;
  }

  /** Removes a flow; its slot is reused. */
  remove(slot: number): void {
    const mask = this.mask;
    let pos = this.hashes[slot]! & mask;
    while (this.index[pos] !== slot + 1) pos = (pos + 1) & mask;
    // Backward-shift deletion keeps probe sequences unbroken without tombstones.
    let hole = pos;
    for (let j = (hole + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[this.index[j]! - 1]! & mask;
      // Move entry j into the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.index[hole] = this.index[j]!;
        hole = j;
      }
    }
    this.index[hole] = 0;
    this.unlinkLru(slot);
    if (this.closedPrev[slot] !== K.NIL || this.closedHead === slot) this.unlinkClosed(slot);
    this.freeList.push(slot);
    this.size--;
  }

  /** Marks a flow most recently seen. */
  touch(slot: number): void {
    if (this.lruTail === slot) return;
    this.unlinkLru(slot);
    this.appendLru(slot);
  }

  nextLru(slot: number): number {
    return this.next[slot]!;
  }

  /** Queues a closed flow for its linger time (FIFO: flows close in time order). */
  markClosed(slot: number): void {
    this.closedPrev[slot] = this.closedTail;
    this.closedNext[slot] = K.NIL;
    if (this.closedTail !== K.NIL) this.closedNext[this.closedTail] = slot;
    else this.closedHead = slot;
    this.closedTail = slot;
  }

  /** True when the flow's initiator is endpoint A of its canonical key. */
  initiatorIsAOf(slot: number): boolean {
    return this.initiatorIsA[slot] === 1;
  }

  /** The canonical key words of every slot (KEY_WORDS per slot): A address, B address, ports, protocol/version/vlan. */
  get keyWords(): Uint32Array {
    return this.keys;
  }

  private appendLru(slot: number): void {
    this.prev[slot] = this.lruTail;
    this.next[slot] = K.NIL;
    if (this.lruTail !== K.NIL) this.next[this.lruTail] = slot;
    else this.lruHead = slot;
    this.lruTail = slot;
  }

  private unlinkLru(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== K.NIL) this.next[p] = n;
    else this.lruHead = n;
    if (n !== K.NIL) this.prev[n] = p;
    else this.lruTail = p;
  }

  private unlinkClosed(slot: number): void {
    const p = this.closedPrev[slot]!;
    const n = this.closedNext[slot]!;
    if (p !== K.NIL) this.closedNext[p] = n;
    else this.closedHead = n;
    if (n !== K.NIL) this.closedPrev[n] = p;
    else this.closedTail = p;
    this.closedPrev[slot] = K.NIL;
    this.closedNext[slot] = K.NIL;
  }

  private grow(): void {
    const cap = Math.min(this.maxFlows, this.capacity * 2);
    const grown = <T extends Uint32Array | Uint8Array | Int32Array>(a: T, per: number, fill?: number): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * per);
      if (fill !== undefined) b.fill(fill);
      b.set(a);
      return b;
    };
    this.keys = grown(this.keys, Layout.KEY_WORDS);
    this.hashes = grown(this.hashes, 1);
    this.initiatorIsA = grown(this.initiatorIsA, 1);
    this.reason = grown(this.reason, 1);
    this.prev = grown(this.prev, 1);
    this.next = grown(this.next, 1);
    this.closedPrev = grown(this.closedPrev, 1, K.NIL);
    this.closedNext = grown(this.closedNext, 1, K.NIL);
    this.capacity = cap;
    // Pages are added here, not in insert(): the warm-up capture never fills a page, and a branch insert() had never
    // taken deoptimized it (and the meter it is inlined into) when the first real capture did.
    while (this.pages.length << Layout.PAGE_BITS < cap) this.pages.push(new Float64Array(K.PAGE_SLOTS * this.slotDoubles));
    const indexSize = indexSizeFor(cap);
    if (indexSize !== this.index.length) {
      this.index = new Int32Array(indexSize);
      this.mask = indexSize - 1;
      for (let slot = this.lruHead; slot !== K.NIL; slot = this.next[slot]!) {
        let pos = this.hashes[slot]! & this.mask;
        while (this.index[pos] !== 0) pos = (pos + 1) & this.mask;
        this.index[pos] = slot + 1;
      }
    }
  }
}

/** Power of two ≥ 2 × capacity: load factor ≤ 0.5 keeps linear probes short. */
function indexSizeFor(capacity: number): number {
  let n = 16;
  while (n < capacity * 2) n *= 2;
  return n;
}

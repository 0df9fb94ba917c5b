// Alert aggregation: repeated alerts for one source (same source address and label) within a window update one
// growing alert instead of raising a new one, so a flood gives one alert with a rising count, not a million.
// Open aggregates are kept per label, then per source address (no "src|label" string to build and hash per alert);
// the engine finds an aggregate once per scoring batch and grows it with the batch's totals (`find`, `growSlot`).
// Aggregates idle for longer than the window are forgotten as time goes on (`expireDue`, per batch), so the map holds
// only the sources of about the last window; `maxOpen` is the hard bound beyond that (a flood from more sources).
// SeenRecords remembers the alerting flow records already counted, so a copy of one is neither a second alert nor a
// second flow of an aggregate's count.

import { randomBytes } from 'node:crypto';
import type { Alert, AlertStage } from './alert.js';
import type { FlowChunk } from './flow-chunk.js';
import type { FlowRecord } from '../flows/flow-record.js';

export interface AggregationResult {
  readonly alert: Alert;
  /** True when this started a new aggregate; false when it grew an existing one. */
  readonly isNew: boolean;
}

/** Where an open aggregate's latest state is kept (growing it replaces `alert`). */
export interface AggregateSlot {
  alert: Alert;
}

/** The 32-bit words of the identity being looked up (at most 12: two IPv6 addresses, ports, the rest, the start). */
const words = new Int32Array(12);
/** The flow's start time as the two 32-bit words of its float64 (exact, fractions of a millisecond included). */
const startBits = new Float64Array(1);
const startWords = new Int32Array(startBits.buffer);

/**
 * The identities of the alerting flow records counted lately: addresses, ports, protocol, VLAN, start time and stage
 * (an alert id's flow and stage; the model is the engine's one), so that a copy of a record (an exporter sending it
 * twice, two exporters seeing the flow, or a later record of the same long flow) is neither raised as an alert again
 * nor added to an open aggregate's count again. A record is kept as a 64-bit hash of its identity (two 32-bit hashes
 * with different mixing and per-process random seeds; a false match is ~1 in 10^13 at a full table) in two
 * generations of `generation` records each: when the newer one is full the older is cleared and becomes the newer, so
 * the last `generation` to 2 x `generation` alerting records are remembered, in 16 x `generation` bytes (16 MB at the
 * default 2^19: 5-10 s of a flood of 100k alerting flows/s, hours at tens per second). A copy arriving after that is
 * counted again. The generations are two banks of one open-addressed table (linear probing, at most half full), side
 * by side in each slot, so a lookup in both mostly reads one cache line. Chunk rows are hashed from their columns and
 * FlowRecords from their text addresses, so the two do not match each other: one source feeds an engine one of them.
 */
export class SeenRecords {
  /** Slot k holds the key (hi, lo) of bank 0 at 4k, 4k + 1 and of bank 1 at 4k + 2, 4k + 3; (0, 0) is empty. */
  private readonly table: Int32Array;
  /** The bank of the newer generation (0 or 2: its offset in a slot), and how many records it holds. */
  private newer = 0;
  private inNewer = 0;
  private readonly mask: number;
  private readonly seedHi: number;
  private readonly seedLo: number;

  constructor(private readonly generation = 1 << 19) {
    if (!(Number.isInteger(Math.log2(generation)) && generation >= 2)) throw new RangeError(`generation must be a power of two >= 2, got ${generation}`);
    this.table = new Int32Array(8 * generation);
    this.mask = 2 * generation - 1;
    const seeds = randomBytes(8);
    this.seedHi = seeds.readInt32LE(0);
    this.seedLo = seeds.readInt32LE(4);
  }

  /** Whether row i of the chunk (a final verdict) is counted for the first time; it is remembered from now on. */
  firstChunkRow(chunk: FlowChunk, i: number): boolean {
    let n = 0;
    if (chunk.family[i] === 4) {
      words[n++] = chunk.srcIPv4[i];
      words[n++] = chunk.dstIPv4[i];
    } else {
      n = addressWords(chunk.srcIPv6, i * 16, n);
      n = addressWords(chunk.dstIPv6, i * 16, n);
    }
    words[n++] = (chunk.srcPort[i] << 16) | chunk.dstPort[i];
    words[n++] = (chunk.vlan[i] << 16) | (chunk.protocol[i] << 8) | 1;
    startBits[0] = chunk.startMs[i];
    words[n++] = startWords[0];
    words[n++] = startWords[1];
    return this.firstKey(n);
  }

  /** Whether the flow's verdict at `stage` is counted for the first time; it is remembered from now on. */
  firstFlow(flow: FlowRecord, stage: AlertStage): boolean {
    words[0] = textHash(flow.srcAddr, 0x2545f491);
    words[1] = textHash(flow.srcAddr, 0x6c8e9cf5);
    words[2] = textHash(flow.dstAddr, 0x2545f491);
    words[3] = textHash(flow.dstAddr, 0x6c8e9cf5);
    words[4] = (flow.srcPort << 16) | flow.dstPort;
    words[5] = (flow.vlan << 16) | (flow.protocol << 8) | (stage === 'final' ? 1 : 2);
    startBits[0] = flow.startMs;
    words[6] = startWords[0];
    words[7] = startWords[1];
    return this.firstKey(8);
  }

  /**
   * Hashes the first n words into a 64-bit key (a murmur3 round per word for one half, a multiply-rotate with other
   * constants for the other, each finished with its own finaliser constants), looks it up in both banks and adds it to
   * the newer one when in neither.
   */
  private firstKey(n: number): boolean {
    let hi = this.seedHi ^ n;
    let lo = this.seedLo;
    for (let k = 0; k < n; k++) {
      const w = words[k];
      let m = Math.imul(w, 0xcc9e2d51);
      m = Math.imul((m << 15) | (m >>> 17), 0x1b873593);
      hi = (Math.imul(((hi ^ m) << 13) | ((hi ^ m) >>> 19), 5) + 0xe6546b64) | 0;
      lo = Math.imul(lo ^ w, 0x9e3779b1);
      lo = (lo << 11) | (lo >>> 21);
    }
    hi = finish(hi, 0x85ebca6b, 13, 0xc2b2ae35);
    lo = finish(lo, 0x7feb352d, 15, 0x846ca68b);
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty slot
    let at = this.slotOf(this.newer, hi, lo);
    const table = this.table;
    if (table[at] !== 0 || table[at + 1] !== 0) return false;
    const older = this.slotOf(2 - this.newer, hi, lo);
    if (table[older] !== 0 || table[older + 1] !== 0) return false;
    if (this.inNewer === this.generation) {
      // the older bank is cleared and becomes the newer
      this.newer = 2 - this.newer;
      for (let k = this.newer; k < table.length; k += 4) table[k] = table[k + 1] = 0;
      this.inNewer = 0;
      at = this.slotOf(this.newer, hi, lo);
    }
    table[at] = hi;
    table[at + 1] = lo;
    this.inNewer++;
    return true;
  }

  /** The index in the table of the key (hi, lo) in `bank`, or of the empty slot where it would go. */
  private slotOf(bank: number, hi: number, lo: number): number {
    const table = this.table;
    for (let slot = hi & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = 4 * slot + bank;
      if ((table[at] === hi && table[at + 1] === lo) || (table[at] === 0 && table[at + 1] === 0)) return at;
    }
  }
}

/** Puts an IPv6 address (16 bytes from `at`) in `words` from index n as four words; returns the next index. */
function addressWords(bytes: Uint8Array, at: number, n: number): number {
  for (let k = at; k < at + 16; k += 4) words[n++] = (bytes[k] << 24) | (bytes[k + 1] << 16) | (bytes[k + 2] << 8) | bytes[k + 3];
  return n;
}

/** A 32-bit hash of a text address (FNV-1a over its UTF-16 code units, then a murmur3 finaliser), seeded. */
function textHash(text: string, seed: number): number {
  let h = seed ^ text.length;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return finish(h, 0x85ebca6b, 13, 0xc2b2ae35);
}

/** A 32-bit xor-shift-multiply finaliser (murmur3's with its constants), the middle shift and multipliers given. */
function finish(h: number, m1: number, shift: number, m2: number): number {
  h = Math.imul(h ^ (h >>> 16), m1);
  h = Math.imul(h ^ (h >>> shift), m2);
  return h ^ (h >>> 16);
}

/** Longest time between two scans for idle aggregates (a shorter window scans once per window). */
const MAX_EXPIRY_INTERVAL_MS = 10_000;

export class AlertAggregator {
  private readonly open = new Map<string, Map<string, AggregateSlot>>();
  private count = 0;
  private lastExpiryMs = -Infinity;

  /** @param windowMs alerts from the same source and label closer than this join one aggregate */
  constructor(private readonly windowMs: number, private readonly maxOpen = 100_000) {}

  /** The aggregate an alert from `src` with `label` at `timeMs` would grow; undefined when it would start one. */
  find(src: string, label: string, timeMs: number): AggregateSlot | undefined {
    const slot = this.open.get(label)?.get(src);
    return slot && timeMs - slot.alert.lastSeenMs <= this.windowMs ? slot : undefined;
  }

  /** Whether an alert from `src` with `label` at `timeMs` would start a new aggregate (rather than grow one). */
  startsNew(src: string, label: string, timeMs: number): boolean {
    return this.find(src, label, timeMs) === undefined;
  }

  /** Grows the open aggregate of `src` and `label` (see growSlot); undefined when none is open. */
  grow(src: string, label: string, timeMs: number, count: number, flowEndMs: number, score: number, final: boolean): Alert | undefined {
    const slot = this.find(src, label, timeMs);
    return slot ? this.growSlot(slot, timeMs, count, flowEndMs, score, final) : undefined;
  }

  /**
   * Grows an aggregate found by `find` by `count` alerts at `timeMs` (latest flow end, highest score, and whether any
   * was a final verdict); the same as adding them one by one. Every other field is the opening alert's (a field added
   * to Alert is added here too). Returns its new state (a new object: published states are never changed afterwards).
   */
  growSlot(slot: AggregateSlot, timeMs: number, count: number, flowEndMs: number, score: number, final: boolean): Alert {
    const current = slot.alert;
    // the fields listed (a spread of `current` made live scoring ~30% dearer in a flood); the rare verdict a feedback
    // memory decided is carried over apart
    const listed: Alert = {
      id: current.id,
      timeMs: current.timeMs,
      flowStartMs: current.flowStartMs,
      flowEndMs: Math.max(current.flowEndMs, flowEndMs),
      flow: current.flow,
      model: current.model,
      score: Math.max(current.score, score),
      threshold: current.threshold,
      label: current.label,
      category: current.category,
      stage: current.stage === 'final' || final ? 'final' : 'early',
      packets: current.packets,
      explanation: current.explanation,
      count: current.count + count,
      lastSeenMs: timeMs,
    };
    const grown = current.decidedByFeedback ? { ...listed, decidedByFeedback: current.decidedByFeedback } : listed;
    slot.alert = grown;
    return grown;
  }

  add(alert: Alert): AggregationResult {
    const grown = this.grow(alert.flow.srcAddr, alert.label, alert.timeMs, alert.count, alert.flowEndMs, alert.score, alert.stage === 'final');
    if (grown) return { alert: grown, isNew: false };
    let bySrc = this.open.get(alert.label);
    if (!bySrc) this.open.set(alert.label, (bySrc = new Map()));
    if (!bySrc.has(alert.flow.srcAddr)) {
      if (this.count >= this.maxOpen) this.expire(alert.timeMs, true);
      this.count++;
    }
    bySrc.set(alert.flow.srcAddr, { alert });
    return { alert, isNew: true };
  }

  /**
   * Forgets idle aggregates (see expire) when the last scan is at least min(window, 10 s) old: an aggregate is then
   * kept at most that long past its window, and the scan's cost is spread over that time.
   */
  expireDue(nowMs: number): void {
    if (nowMs - this.lastExpiryMs < Math.min(this.windowMs, MAX_EXPIRY_INTERVAL_MS)) return;
    this.lastExpiryMs = nowMs;
    this.expire(nowMs);
  }

  /** Forgets aggregates idle for longer than the window (or the oldest half when `force`, to bound memory). */
  expire(nowMs: number, force = false): void {
    for (const bySrc of this.open.values()) {
      for (const [src, slot] of bySrc) {
        if (nowMs - slot.alert.lastSeenMs > this.windowMs) {
          bySrc.delete(src);
          this.count--;
        }
      }
    }
    if (force && this.count >= this.maxOpen) {
      let drop = this.count >> 1;
      for (const bySrc of this.open.values()) {
        for (const src of bySrc.keys()) {
          if (drop-- <= 0) return;
          bySrc.delete(src);
          this.count--;
        }
      }
    }
  }

  get size(): number {
    return this.count;
  }
}

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

/** The flow's start time as the two 32-bit words of its float64 (exact, fractions of a millisecond included). */
const startBits = new Float64Array(1);
const startWords = new Uint32Array(startBits.buffer);

/** The two halves of the key being hashed (see SeenRecords.mix). */
let keyHi = 0;
let keyLo = 0;

/**
 * The identities of the alerting flow records counted lately: addresses, ports, protocol, VLAN, start time and stage
 * (an alert id's flow and stage; the model is the engine's one), so that a copy of a record (an exporter sending it
 * twice, two exporters seeing the flow, or a later record of the same long flow) is neither raised as an alert again
 * nor added to an open aggregate's count again. A record is kept as a 64-bit hash of its identity (two 32-bit hashes
 * with different mixing and per-process random seeds; a false match is ~1 in 10^13 at a full table) in two
 * generations of an open-addressed table of `generation` records each: when the newer one is full the older is
 * cleared and becomes the newer, so the last `generation` to 2 x `generation` alerting records are remembered, in
 * 16 x `generation` bytes (16 MB at the default 2^19: 5-10 s of a flood of 100k alerting flows/s, hours at tens per
 * second). A copy arriving after that is counted again. Chunk rows are hashed from their columns and FlowRecords from
 * their text addresses, so the two do not match each other: one source feeds an engine one of the two.
 */
export class SeenRecords {
  private current: Int32Array;
  private previous: Int32Array;
  private inCurrent = 0;
  private readonly mask: number;
  private readonly seedHi: number;
  private readonly seedLo: number;

  constructor(private readonly generation = 1 << 19) {
    if (!(Number.isInteger(Math.log2(generation)) && generation >= 2)) throw new RangeError(`generation must be a power of two >= 2, got ${generation}`);
    // twice as many slots as records: linear probing at a load of at most 1/2
    this.current = new Int32Array(4 * generation);
    this.previous = new Int32Array(4 * generation);
    this.mask = 2 * generation - 1;
    const seeds = randomBytes(8);
    this.seedHi = seeds.readInt32LE(0);
    this.seedLo = seeds.readInt32LE(4);
  }

  /** Whether row i of the chunk (a final verdict) is counted for the first time; it is remembered from now on. */
  firstChunkRow(chunk: FlowChunk, i: number): boolean {
    keyHi = this.seedHi;
    keyLo = this.seedLo;
    if (chunk.family[i] === 4) {
      mix(chunk.srcIPv4[i]);
      mix(chunk.dstIPv4[i]);
    } else {
      mixBytes(chunk.srcIPv6, i * 16);
      mixBytes(chunk.dstIPv6, i * 16);
    }
    mix((chunk.srcPort[i] << 16) | chunk.dstPort[i]);
    mix((chunk.protocol[i] << 16) | chunk.vlan[i]);
    startBits[0] = chunk.startMs[i];
    mix(startWords[0]);
    mix(startWords[1]);
    mix(1);
    return this.firstKey();
  }

  /** Whether the flow's verdict at `stage` is counted for the first time; it is remembered from now on. */
  firstFlow(flow: FlowRecord, stage: AlertStage): boolean {
    keyHi = this.seedHi;
    keyLo = this.seedLo;
    mixText(flow.srcAddr);
    mixText(flow.dstAddr);
    mix((flow.srcPort << 16) | flow.dstPort);
    mix((flow.protocol << 16) | flow.vlan);
    startBits[0] = flow.startMs;
    mix(startWords[0]);
    mix(startWords[1]);
    mix(stage === 'final' ? 1 : 2);
    return this.firstKey();
  }

  /** Looks the finished key up in both generations and adds it to the newer when in neither. */
  private firstKey(): boolean {
    const hi = finish(keyHi, 0x85ebca6b, 0xc2b2ae35);
    let lo = finish(keyLo, 0x7feb352d, 0x846ca68b);
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty slot
    let at = slotOf(this.current, this.mask, hi, lo);
    if (this.current[at] !== 0 || this.current[at + 1] !== 0) return false;
    const older = slotOf(this.previous, this.mask, hi, lo);
    if (this.previous[older] !== 0 || this.previous[older + 1] !== 0) return false;
    if (this.inCurrent === this.generation) {
      const cleared = this.previous.fill(0);
      this.previous = this.current;
      this.current = cleared;
      this.inCurrent = 0;
      at = slotOf(this.current, this.mask, hi, lo);
    }
    this.current[at] = hi;
    this.current[at + 1] = lo;
    this.inCurrent++;
    return true;
  }
}

/** Adds a 32-bit word to both halves of the key (a murmur3 round, and a multiply-rotate with other constants). */
function mix(word: number): void {
  let k = Math.imul(word, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  keyHi ^= k;
  keyHi = (Math.imul((keyHi << 13) | (keyHi >>> 19), 5) + 0xe6546b64) | 0;
  keyLo = Math.imul(keyLo ^ word, 0x9e3779b1);
  keyLo = (keyLo << 11) | (keyLo >>> 21);
}

/** Adds an IPv6 address (16 bytes from `at`) as four words. */
function mixBytes(bytes: Uint8Array, at: number): void {
  for (let k = at; k < at + 16; k += 4) mix((bytes[k] << 24) | (bytes[k + 1] << 16) | (bytes[k + 2] << 8) | bytes[k + 3]);
}

/** Adds a text address, its length first (so two addresses cannot run into each other). */
function mixText(text: string): void {
  mix(text.length);
  for (let k = 0; k < text.length; k++) mix(text.charCodeAt(k));
}

/** A 32-bit finaliser (xor-shift-multiply), with the given multipliers. */
function finish(h: number, m1: number, m2: number): number {
  h = Math.imul(h ^ (h >>> 16), m1);
  h = Math.imul(h ^ (h >>> 13), m2);
  return h ^ (h >>> 16);
}

/** The index in `table` of the key (hi, lo), or of the empty slot where it would go (linear probing). */
function slotOf(table: Int32Array, mask: number, hi: number, lo: number): number {
  for (let slot = hi & mask; ; slot = (slot + 1) & mask) {
    const at = 2 * slot;
    if ((table[at] === hi && table[at + 1] === lo) || (table[at] === 0 && table[at + 1] === 0)) return at;
  }
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

// Flow meter: packets → bidirectional flows keyed by 5-tuple + VLAN (forward = initiator, the first packet's
// sender), emitted as they end. A flow ends on
//   - its active timeout (duration cap, CICFlowMeter's 120 s "flow timeout") or idle timeout;
//   - TCP termination after Engelen et al. (IEEE SPW 2021): a RST, or FINs from both sides, close the flow; packets
//     of the same connection that trail the close (the last ACK, retransmissions, data in flight after a RST) are
//     absorbed for `lingerS` instead of opening an "appendix" flow; a new SYN on the same 5-tuple starts a new flow;
//   - eviction of the least recently seen flow when `maxFlows` are live (counted), so memory is bounded;
//   - end of input (flush).
// O(1) expected per packet; no allocation per packet. Ended flows go out either as one FlowRecord each, or — no
// object per flow — as rows of a columnar MeterBatch (typed arrays, optionally over a SharedArrayBuffer that
// another thread reads).

import type { FlowEndReason, FlowRecord } from './flow-record.js';
import { decodePacket } from './decode/decode.js';
import { Decode, DECODE_REASONS, DecodedPacket, formatAddress, unpackPacket, Tcp, Packed } from './decode/packet.js';
import { FlowTable, pageBase, Layout } from './flow-table.js';
import { cicAdd, cicFeatures, cicStart, clearMultiPacketFields, Slot } from './features/cic.js';
import { PcapReader, type RawPacket, type SkipCounts } from '../io/pcap.js';
import { CIC_FEATURES } from '../datasets/cic-names.js';
import { pushWarmUpCapture, warmUpCapture, WARM_UP_PACKETS } from './warmup.js';

export interface MeterOptions {
  /** Seconds without packets after which a flow ends (default 120). */
  idleTimeoutS?: number;
  /** Longest flow duration in seconds (default 120, CICFlowMeter's flow timeout). */
  activeTimeoutS?: number;
  /** Seconds a closed TCP flow keeps absorbing trailing packets (default 2). */
  lingerS?: number;
  /** Most live flows; the least recently seen is evicted beyond it (default 100,000 ≈ 80 MB of state). */
  maxFlows?: number;
  /** Compute the CIC feature vector of each flow (default true). */
  cicFeatures?: boolean;
  /**
   * Hand every flow the same feature vector, overwritten for the next flow: valid only inside the callback (copy it
   * to keep it). Saves an allocation per flow for consumers that score or write the flow at once (default false).
   */
  reuseFeatureVector?: boolean;
  /**
   * Meter only the flows of one hash partition (`index` of `count`): several meters, one per thread, each reading
   * the whole capture, split the flows between them without sharing state. Both directions of a flow hash alike.
   */
  partition?: { index: number; count: number };
  /** With `onEarly`: also hand out a snapshot of each flow when it reaches this many packets (0 = never). */
  earlyPackets?: number;
  /** Receives the early snapshots (endReason 'snapshot'); the flow goes on and still ends normally later. */
  onEarly?: (flow: FlowRecord) => void;
  /**
   * Columnar output instead of `onFlow`: ended flows are appended to `first`; when a batch is full, and at the end
   * of `flush()`, it is handed to `full`, which returns the (empty) batch to go on with. The batch must have room for
   * CIC_FEATURES.length features per row when features are computed.
   */
  batches?: { first: MeterBatch; full: (batch: MeterBatch) => MeterBatch };
}

/**
 * Ended flows as columns: per row BATCH_WORDS 32-bit words (ip version, initiator address ×4, responder address ×4,
 * src port, dst port, protocol, vlan, end reason index into FLOW_END_REASONS, OR of TCP flags), BATCH_DOUBLES doubles
 * (startMs, endMs, fwd/bwd packets, fwd/bwd layer-3 bytes, frame bytes) and `featureCount` feature values.
 * The views may lie over a SharedArrayBuffer (see MeterBatch.bytesFor) so a batch can be filled and read in
 * different threads.
 */
export class MeterBatch {
  readonly words: Uint32Array;
  readonly doubles: Float64Array;
  readonly features: Float64Array;
  length = 0;

  constructor(
    readonly capacity: number,
    readonly featureCount: number,
    buffer: ArrayBufferLike = new ArrayBuffer(MeterBatch.bytesFor(capacity, featureCount)),
    byteOffset = 0,
  ) {
    this.doubles = new Float64Array(buffer, byteOffset, capacity * Row.BATCH_DOUBLES);
    this.features = new Float64Array(buffer, byteOffset + capacity * Row.BATCH_DOUBLES * 8, capacity * featureCount);
    this.words = new Uint32Array(buffer, byteOffset + capacity * (Row.BATCH_DOUBLES + featureCount) * 8, capacity * Row.BATCH_WORDS);
  }

  /** Bytes of one batch (a multiple of 8, so batches can be laid out back to back in one buffer). */
  static bytesFor(capacity: number, featureCount: number): number {
    return capacity * ((Row.BATCH_DOUBLES + featureCount) * 8 + Row.BATCH_WORDS * 4 + 4);
  }

  /** Row `i` as a FlowRecord (its own copy of the features), for consumers that want objects after all. */
  record(i: number): FlowRecord {
    const w = this.words;
    const d = this.doubles;
    const k = i * Row.BATCH_WORDS;
    const o = i * Row.BATCH_DOUBLES;
    const version = w[k]!;
    return {
      srcAddr: formatAddress(version, w, k + 1),
      dstAddr: formatAddress(version, w, k + 5),
      srcPort: w[k + 9]!,
      dstPort: w[k + 10]!,
      protocol: w[k + 11]!,
      vlan: w[k + 12]!,
      source: 'pcap',
      startMs: d[o]!,
      endMs: d[o + 1]!,
      packets: d[o + 2]! + d[o + 3]!,
      bytes: d[o + 4]! + d[o + 5]!,
      fwdPackets: d[o + 2]!,
      bwdPackets: d[o + 3]!,
      fwdBytes: d[o + 4]!,
      bwdBytes: d[o + 5]!,
      tcpFlags: w[k + 14]!,
      endReason: REASONS[w[k + 13]!]!,
      frameBytes: d[o + 6]!,
      features: this.featureCount > 0 ? this.features.slice(i * this.featureCount, (i + 1) * this.featureCount) : undefined,
    };
  }
}

export interface MeterStats {
  packets: number;
  /** Packets that became part of a flow. */
  metered: number;
  skipped: SkipCounts;
  flows: number;
  evictions: number;
  /** Packets absorbed by a closed TCP flow (would have been CICFlowMeter "appendix" flows). */
  trailingPackets: number;
  liveFlows: number;
}

const REASONS: readonly FlowEndReason[] = ['eof', 'fin', 'rst', 'idle', 'active', 'evicted', 'snapshot'];
/** End reasons by the index a MeterBatch row stores. */
export const FLOW_END_REASONS: readonly FlowEndReason[] = REASONS;
/** MeterBatch row layout (a const enum: literals in the code). */
export const enum Row {
  BATCH_WORDS = 15,
  BATCH_DOUBLES = 7,
}
/** End reason codes (index into REASONS) and other constants, as a const enum: literals in the code. */
const enum K {
  R_EOF = 0,
  R_FIN = 1,
  R_RST = 2,
  R_IDLE = 3,
  R_ACTIVE = 4,
  R_EVICTED = 5,
  R_SNAPSHOT = 6,
  SWEEP_EVERY_US = 1e6,
  FEATURE_SLAB_FLOWS = 1024,
  EXPIRE_PER_PACKET = 64,
}

/** Partition of a packet's flow: a hash of the 5-tuple + VLAN that is the same in both directions (XOR). */
export function partitionOf(p: DecodedPacket, count: number): number {
  let h = p.src[0]! ^ p.dst[0]! ^ p.src[1]! ^ p.dst[1]! ^ p.src[2]! ^ p.dst[2]! ^ p.src[3]! ^ p.dst[3]!;
  h ^= Math.imul(p.srcPort ^ p.dstPort, 0x9e3779b1) ^ (p.protocol << 16) ^ p.vlan;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  return (h >>> 0) % count;
}

export class FlowMeter {
  private readonly table: FlowTable;
  private readonly pkt = new DecodedPacket();
  private readonly idleUs: number;
  private readonly activeUs: number;
  private readonly lingerUs: number;
  private readonly withFeatures: boolean;
  private nowUs = 0;
  private slab = new ArrayBuffer(0);
  private readonly reuseVector: Float64Array | undefined;
  private readonly ipv4Keys = new Uint32Array(4096);
  private readonly ipv4Strings: (string | undefined)[] = new Array<string | undefined>(4096);
  private slabUsed = K.FEATURE_SLAB_FLOWS;
  private nextSweepUs = 0;
  private sweepBacklog = false;
  private readonly partitions: number;
  private readonly earlyPackets: number;
  private readonly onEarly: ((flow: FlowRecord) => void) | undefined;
  private readonly partitionIndex: number;
  private readonly decodeFailures = new Float64Array(DECODE_REASONS.length);
  private readonly counters = { packets: 0, metered: 0, flows: 0, evictions: 0, trailingPackets: 0 };
  private batch: MeterBatch | undefined;
  private readonly batchFull: ((batch: MeterBatch) => MeterBatch) | undefined;

  constructor(
    private readonly onFlow: (flow: FlowRecord) => void,
    options: MeterOptions = {},
  ) {
    this.idleUs = (options.idleTimeoutS ?? 120) * 1e6;
    this.activeUs = (options.activeTimeoutS ?? 120) * 1e6;
    this.lingerUs = (options.lingerS ?? 2) * 1e6;
    this.withFeatures = options.cicFeatures ?? true;
    this.earlyPackets = options.onEarly && options.earlyPackets ? options.earlyPackets : -1;
    this.onEarly = options.onEarly;
    this.partitions = options.partition?.count ?? 1;
    this.partitionIndex = options.partition?.index ?? 0;
    this.reuseVector = options.reuseFeatureVector ? new Float64Array(CIC_FEATURES.length) : undefined;
    const maxFlows = options.maxFlows ?? 100_000;
    if (!(maxFlows >= 1)) throw new RangeError('maxFlows must be >= 1');
    this.table = new FlowTable(Math.floor(maxFlows), Slot.SLOT_DOUBLES);
    this.batch = options.batches?.first;
    this.batchFull = options.batches?.full;
    if (this.batch && this.withFeatures && this.batch.featureCount < CIC_FEATURES.length) throw new RangeError('the batch has no room for the CIC features');
    if (!warmedUp) warmUp();
  }

  /** Decodes and meters one captured packet. */
  addPacket(raw: RawPacket): void {
    const status = decodePacket(raw.linkType, raw.data, raw.offset, raw.capLen, this.pkt);
    this.pkt.frameLen = raw.origLen;
    this.pkt.tsUs = raw.tsUs;
    this.decoded(status);
  }

  /**
   * Meters packet i of a block packed by packPacket (decode/packet.ts) in another thread, PACKED_WORDS words each,
   * capture times in `times`: the same as addPacket of its frame.
   */
  addPacked(words: Uint32Array, times: Float64Array, i: number): void {
    const status = unpackPacket(words, i * Packed.PACKED_WORDS, this.pkt);
    this.pkt.tsUs = times[i]!;
    this.decoded(status);
  }

  /**
   * Meters packets 0..count-1 of a packed block (addPacked of each). A loop of its own: V8 compiles it on its own
   * stack replacement, not the caller's, whose other paths had not run yet (two deopts per run in meterCaptures).
   */
  addPackedBlock(words: Uint32Array, times: Float64Array, count: number): void {
    for (let i = 0; i < count; i++) this.addPacked(words, times, i);
  }

  /** Counts a decoded packet (time and frame length already in this.pkt) and meters it unless skipped. */
  private decoded(status: Decode): void {
    const tsUs = this.pkt.tsUs;
    this.counters.packets++;
    if (status !== Decode.OK) {
      this.decodeFailures[status]!++;
      return;
    }
    if (this.partitions > 1 && partitionOf(this.pkt, this.partitions) !== this.partitionIndex) {
      if (tsUs > this.nowUs) this.nowUs = tsUs;
      return;
    }
    this.meter(this.pkt);
  }

  /** Meters an already decoded packet (timestamp in µs since the epoch, frame length on the wire). */
  addDecoded(p: DecodedPacket, tsUs: number, frameLen: number): void {
    p.tsUs = tsUs;
    p.frameLen = frameLen;
    this.meter(p);
  }

  private meter(p: DecodedPacket): void {
    const tsUs = p.tsUs;
    this.counters.metered++;
    if (tsUs > this.nowUs) this.nowUs = tsUs;
    if (this.sweepBacklog || this.nowUs >= this.nextSweepUs) {
      // At most EXPIRE_PER_PACKET flows end per packet, so a burst of expiries is spread over the next packets
      // and a consumer writing rows never has to hold an unbounded batch.
      this.sweepBacklog = !this.expire(this.nowUs, K.EXPIRE_PER_PACKET);
      if (this.nowUs >= this.nextSweepUs) this.nextSweepUs = this.nowUs + K.SWEEP_EVERY_US;
    }
    const table = this.table;
    const found = table.lookup(p);
    if (found >= 0) {
      const slot = found;
      const f = table.pages[slot >> Layout.PAGE_BITS]!;
      const base = pageBase(slot, Slot.SLOT_DOUBLES);
      const closedAt = f[base + Slot.CLOSED_AT]!;
      let end = -1;
      if (closedAt > 0) {
        const newConnection = (p.tcpFlags & (Tcp.TCP_SYN | Tcp.TCP_ACK)) === Tcp.TCP_SYN;
        if (newConnection || tsUs - closedAt > this.lingerUs) end = table.reason[slot]!;
        else this.counters.trailingPackets++;
      } else if (tsUs - f[base + Slot.START]! > this.activeUs) end = K.R_ACTIVE;
      else if (tsUs - f[base + Slot.LAST]! > this.idleUs) end = K.R_IDLE;
      if (end >= 0) {
        this.finish(slot, end);
        table.lookup(p); // the table changed: refresh the scratch key for insert()
      } else {
        cicAdd(f, base, p, table.isForward(slot));
        table.touch(slot);
        if (closedAt === 0 && p.protocol === 6) this.tcpState(slot, base, p, table.isForward(slot));
        if (f[base + Slot.FWD_N]! + f[base + Slot.BWD_N]! === this.earlyPackets) this.onEarly!(this.record(slot, K.R_SNAPSHOT));
        return;
      }
    }
    if (table.size >= table.maxFlows) {
      this.counters.evictions++;
      this.finish(table.lruHead, K.R_EVICTED);
      table.lookup(p);
    }
    const slot = table.insert();
    const base = pageBase(slot, Slot.SLOT_DOUBLES);
    cicStart(table.pages[slot >> Layout.PAGE_BITS]!, base, p);
    if (p.protocol === 6) {
      // A TCP connection that a timeout split goes on (no new SYN): "Total TCP Flow Time" counts from its start.
      if ((p.tcpFlags & (Tcp.TCP_SYN | Tcp.TCP_ACK)) !== Tcp.TCP_SYN) table.recallConnection(p, table.pages[slot >> Layout.PAGE_BITS]!, base + Slot.TCP_START);
      this.tcpState(slot, base, p, true);
    }
    if (this.earlyPackets === 1) this.onEarly!(this.record(slot, K.R_SNAPSHOT));
  }

  private tcpState(slot: number, base: number, p: DecodedPacket, fwd: boolean): void {
    const flags = p.tcpFlags;
    if ((flags & (Tcp.TCP_FIN | Tcp.TCP_RST)) === 0) return;
    const f = this.table.pages[slot >> Layout.PAGE_BITS]!;
    if (flags & Tcp.TCP_RST) this.close(slot, base, K.R_RST, p);
    else {
      const dirs = f[base + Slot.FIN_DIRS]! | (fwd ? 1 : 2);
      f[base + Slot.FIN_DIRS] = dirs;
      if (dirs === 3) this.close(slot, base, K.R_FIN, p);
    }
  }

  private close(slot: number, base: number, reason: number, p: DecodedPacket): void {
    this.table.pages[slot >> Layout.PAGE_BITS]![base + Slot.CLOSED_AT] = p.tsUs;
    this.table.reason[slot] = reason;
    this.table.markClosed(slot);
  }

  /**
   * Ends flows whose idle timeout or linger has passed at `nowUs`, at most `max` of them; returns true when none is
   * left. The meter calls it as packet time advances; live capture can also call it on a wall-clock timer so quiet
   * flows are still emitted.
   */
  expire(nowUs: number, max = Infinity): boolean {
    const table = this.table;
    let ended = 0;
    for (let slot = table.closedHead; slot >= 0; slot = table.closedHead) {
      if (nowUs - table.pages[slot >> Layout.PAGE_BITS]![pageBase(slot, Slot.SLOT_DOUBLES) + Slot.CLOSED_AT]! <= this.lingerUs) break;
      if (ended++ >= max) return false;
      this.finish(slot, table.reason[slot]!);
    }
    while (table.lruHead >= 0) {
      const slot = table.lruHead;
      const f = table.pages[slot >> Layout.PAGE_BITS]!;
      const base = pageBase(slot, Slot.SLOT_DOUBLES);
      const idle = nowUs - f[base + Slot.LAST]! > this.idleUs;
      if (!idle && nowUs - f[base + Slot.START]! <= this.activeUs) break;
      if (ended++ >= max) return false;
      this.finish(slot, idle ? (f[base + Slot.CLOSED_AT]! > 0 ? table.reason[slot]! : K.R_IDLE) : K.R_ACTIVE);
    }
    return true;
  }

  /**
   * Ends live flows (end of input), at most `max` of them; returns true when none is left. In batch mode the last,
   * partly filled batch is handed out then too.
   */
  flush(max = Infinity): boolean {
    const table = this.table;
    for (let ended = 0; table.lruHead >= 0; ended++) {
      if (ended >= max) return false;
      const slot = table.lruHead;
      this.finish(slot, table.pages[slot >> Layout.PAGE_BITS]![pageBase(slot, Slot.SLOT_DOUBLES) + Slot.CLOSED_AT]! > 0 ? table.reason[slot]! : K.R_EOF);
    }
    if (this.batch && this.batch.length > 0) this.batch = this.batchFull!(this.batch);
    return true;
  }

  get stats(): MeterStats {
    const skipped: SkipCounts = {};
    for (let i = 1; i < DECODE_REASONS.length; i++) if (this.decodeFailures[i]! > 0) skipped[DECODE_REASONS[i]!] = this.decodeFailures[i]!;
    return { ...this.counters, skipped, liveFlows: this.table.size };
  }

  /** Dotted text of an IPv4 address through a small direct-mapped cache (flows repeat addresses a lot). */
  private ipv4Text(addr: number): string {
    const i = Math.imul(addr, 0x9e3779b1) >>> 20;
    const cached = this.ipv4Strings[i];
    if (cached !== undefined && this.ipv4Keys[i] === addr) return cached;
    const text = formatAddress(4, [addr]);
    this.ipv4Keys[i] = addr;
    this.ipv4Strings[i] = text;
    return text;
  }

  /** A fresh feature vector, carved from a shared slab: one backing store per 1024 flows, not one per flow. */
  private featureVector(): Float64Array {
    if (this.reuseVector) return this.reuseVector;
    if (this.slabUsed === K.FEATURE_SLAB_FLOWS) {
      this.slab = new ArrayBuffer(K.FEATURE_SLAB_FLOWS * CIC_FEATURES.length * 8);
      this.slabUsed = 0;
    }
    return new Float64Array(this.slab, this.slabUsed++ * CIC_FEATURES.length * 8, CIC_FEATURES.length);
  }

  private finish(slot: number, reason: number): void {
    const table = this.table;
    const f = table.pages[slot >> Layout.PAGE_BITS]!;
    const base = pageBase(slot, Slot.SLOT_DOUBLES);
    if ((table.keyWords[slot * Layout.KEY_WORDS + 9]! & 255) === 6 && (reason === K.R_ACTIVE || reason === K.R_IDLE || reason === K.R_EVICTED)) {
      table.rememberConnection(slot, f, base + Slot.TCP_START, base + Slot.LAST);
    }
    this.counters.flows++;
    if (this.batch) {
      this.appendRow(this.batch, slot, reason);
      this.release(slot, f, base);
      if (this.batch.length === this.batch.capacity) this.batch = this.batchFull!(this.batch);
      return;
    }
    const record = this.record(slot, reason);
    this.release(slot, f, base);
    this.onFlow(record);
  }

  /** Frees an ended flow's slot, leaving it as cicStart expects (the accumulators of later packets at zero). */
  private release(slot: number, f: Float64Array, base: number): void {
    if (f[base + Slot.FWD_N]! + f[base + Slot.BWD_N]! > 1) clearMultiPacketFields(f, base);
    this.table.remove(slot);
  }

  /** Appends a live slot's flow to a batch as one row (no object, no text). */
  private appendRow(batch: MeterBatch, slot: number, reason: number): void {
    const table = this.table;
    const f = table.pages[slot >> Layout.PAGE_BITS]!;
    const base = pageBase(slot, Slot.SLOT_DOUBLES);
    const keys = table.keyWords;
    const k = slot * Layout.KEY_WORDS;
    const row = batch.length++;
    const w = batch.words;
    const o = row * Row.BATCH_WORDS;
    // The canonical key holds endpoint A first; the row holds the initiator first.
    const a = table.initiatorIsAOf(slot) ? 0 : 4;
    w[o] = (keys[k + 9]! >>> 8) & 15;
    w[o + 1] = keys[k + a]!;
    w[o + 2] = keys[k + a + 1]!;
    w[o + 3] = keys[k + a + 2]!;
    w[o + 4] = keys[k + a + 3]!;
    w[o + 5] = keys[k + 4 - a]!;
    w[o + 6] = keys[k + 5 - a]!;
    w[o + 7] = keys[k + 6 - a]!;
    w[o + 8] = keys[k + 7 - a]!;
    const ports = keys[k + 8]!;
    const dstPort = a === 0 ? ports & 0xffff : ports >>> 16;
    w[o + 9] = a === 0 ? ports >>> 16 : ports & 0xffff;
    w[o + 10] = dstPort;
    const protocol = keys[k + 9]! & 255;
    w[o + 11] = protocol;
    w[o + 12] = keys[k + 9]! >>> 12;
    w[o + 13] = reason;
    w[o + 14] = f[base + Slot.TCP_FLAGS]!;
    const d = batch.doubles;
    const od = row * Row.BATCH_DOUBLES;
    d[od] = f[base + Slot.START]! / 1000;
    d[od + 1] = f[base + Slot.LAST]! / 1000;
    d[od + 2] = f[base + Slot.FWD_N]!;
    d[od + 3] = f[base + Slot.BWD_N]!;
    d[od + 4] = f[base + Slot.FWD_IP_BYTES]!;
    d[od + 5] = f[base + Slot.BWD_IP_BYTES]!;
    d[od + 6] = f[base + Slot.FRAME_BYTES]!;
    if (this.withFeatures) cicFeatures(f, base, dstPort, protocol, batch.features, row * batch.featureCount);
  }

  /** The FlowRecord of a live slot (the flow itself is left as it is). */
  private record(slot: number, reason: number): FlowRecord {
    const table = this.table;
    const f = table.pages[slot >> Layout.PAGE_BITS]!;
    const base = pageBase(slot, Slot.SLOT_DOUBLES);
    const fromA = table.initiatorIsAOf(slot);
    const words = table.keyWords;
    const k = slot * Layout.KEY_WORDS;
    const version = (words[k + 9]! >>> 8) & 15;
    const protocol = words[k + 9]! & 255;
    const vlan = words[k + 9]! >>> 12;
    const portA = words[k + 8]! >>> 16;
    const portB = words[k + 8]! & 0xffff;
    const addrA = version === 4 ? this.ipv4Text(words[k]!) : formatAddress(version, words, k);
    const addrB = version === 4 ? this.ipv4Text(words[k + 4]!) : formatAddress(version, words, k + 4);
    const dstPort = fromA ? portB : portA;
    const fwdIp = f[base + Slot.FWD_IP_BYTES]!;
    const bwdIp = f[base + Slot.BWD_IP_BYTES]!;
    const record: FlowRecord = {
      srcAddr: fromA ? addrA : addrB,
      dstAddr: fromA ? addrB : addrA,
      srcPort: fromA ? portA : portB,
      dstPort,
      protocol,
      vlan,
      source: 'pcap',
      startMs: f[base + Slot.START]! / 1000,
      endMs: f[base + Slot.LAST]! / 1000,
      packets: f[base + Slot.FWD_N]! + f[base + Slot.BWD_N]!,
      bytes: fwdIp + bwdIp,
      fwdPackets: f[base + Slot.FWD_N]!,
      bwdPackets: f[base + Slot.BWD_N]!,
      fwdBytes: fwdIp,
      bwdBytes: bwdIp,
      tcpFlags: f[base + Slot.TCP_FLAGS]!,
      endReason: REASONS[reason]!,
      frameBytes: f[base + Slot.FRAME_BYTES]!,
      features: this.withFeatures ? cicFeatures(f, base, dstPort, protocol, this.featureVector()) : undefined,
    };
    return record;
  }
}

let warmedUp = false;
/**
 * The warm-up's scratch meters, kept for the life of the process: the meter's optimized code refers weakly to objects
 * of theirs seen in its type feedback, and the collection that freed them (the first Mark-Compact, mid-way through
 * the first real capture) threw that code away ('weak objects' deopt) while the real run was still ramping up.
 */
const warmUpMeters: FlowMeter[] = [];
/** Every row the columnar scratch meter wrote (115 flows; room for one per packet of the capture). */
let warmUpRows: MeterBatch | undefined;

/** Appends the rows of `from` to `to`, which has room for them. */
function copyRows(to: MeterBatch, from: MeterBatch): void {
  to.words.set(from.words.subarray(0, from.length * Row.BATCH_WORDS), to.length * Row.BATCH_WORDS);
  to.doubles.set(from.doubles.subarray(0, from.length * Row.BATCH_DOUBLES), to.length * Row.BATCH_DOUBLES);
  to.features.set(from.features.subarray(0, from.length * from.featureCount), to.length * to.featureCount);
  to.length += from.length;
}

/**
 * Runs the warm-up capture (warmup.ts) once per process, before the first real meter sees a packet, through the pcap
 * reader (in chunks cut inside records) and two scratch meters: columnar rows, and FlowRecords with early snapshots
 * and a flow cap small enough to evict. V8 compiles a function for the paths it has seen taken; on the real bench
 * capture, each new kind of packet or flow end threw the compiled meter away (32 deopts without this, 2 with it).
 */
function warmUp(): void {
  warmedUp = true;
  const capture = warmUpCapture();
  const batch = new MeterBatch(16, CIC_FEATURES.length);
  const rows = new MeterBatch(WARM_UP_PACKETS, CIC_FEATURES.length);
  warmUpRows = rows;
  const keep = (b: MeterBatch): MeterBatch => {
    copyRows(rows, b);
    b.length = 0;
    return b;
  };
  warmUpMeters.push(
    new FlowMeter(() => undefined, { batches: { first: batch, full: keep } }),
    new FlowMeter(() => undefined, { earlyPackets: 3, onEarly: () => undefined, maxFlows: 32 }),
  );
  for (const meter of warmUpMeters) {
    pushWarmUpCapture(new PcapReader((p) => meter.addPacket(p)), capture);
    meter.flush();
  }
}

/**
 * The CIC rows of the warm-up capture's flows (every kind of flow end, IPv6, ICMP, fractional and large values), for
 * warming up a writer of MeterBatch rows; runs the meter's warm-up if no meter has yet. Read only.
 */
export function warmUpBatch(): MeterBatch {
  if (!warmedUp) warmUp();
  return warmUpRows!;
}

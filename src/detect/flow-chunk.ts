// Columnar block of collected flows for the detection engine: the NetFlow/IPFIX records of several datagrams with
// their NetFlow feature vectors already computed (src/flows/features/netflow.ts) and, once scored, the model's
// predicted class and score, laid out in ONE (shared) buffer so the collector thread can hand it to the engine's
// thread without a copy or an object per record. FlowRecord objects are made only for the rows that need one
// (alerts). Column-major, `capacity` rows.

import type { FlowRecord, FlowSource } from '../flows/flow-record.js';
import { NETFLOW_FEATURES, writeNetflowFeatures } from '../flows/features/netflow.js';
import { END_REASONS, flowRecordAt, srcAddrText, type FlowBatch, type FlowColumns } from '../io/netflow/batch.js';

const SOURCES: readonly FlowSource[] = ['netflow-v5', 'netflow-v9', 'ipfix'];
const NF = NETFLOW_FEATURES.length;
/** Bytes per row: 8 f64, NF f32, 4 u32/i32, 4 u16, 4 u8 and two 16-byte addresses. */
const ROW_BYTES = 8 * 8 + NF * 4 + 4 * 4 + 4 * 2 + 4 + 32;

export class FlowChunk implements FlowColumns {
  length = 0;
  /** The collector thread's slot holding the buffer (-1: none), freed when the engine releases the chunk. */
  slot = -1;
  /** Whether `pred` and `score` hold the model's output for every row (scored on the collector thread). */
  predicted = false;
  /** With `predicted`: whether the model gave scores (else `score` is unset and verdicts score 1). */
  hasScore = false;
  /** Exporter addresses of the rows (`exporterIndex` points here). */
  readonly exporters: string[];
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  readonly fwdPackets: Float64Array;
  readonly bwdPackets: Float64Array;
  readonly fwdBytes: Float64Array;
  readonly bwdBytes: Float64Array;
  /** performance.timeOrigin + performance.now() of the datagram's arrival (comparable across threads). */
  readonly arrivedAt: Float64Array;
  /** Model output when `predicted`: the score (attack probability or anomaly score) and the predicted class index. */
  readonly score: Float64Array;
  readonly pred: Int32Array;
  /** Column k (NETFLOW_FEATURES order) of the feature block is features.subarray(k * capacity, k * capacity + length). */
  readonly features: Float32Array;
  readonly srcIPv4: Uint32Array;
  readonly dstIPv4: Uint32Array;
  readonly observationDomain: Uint32Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly vlan: Uint16Array;
  readonly exporterIndex: Uint16Array;
  readonly family: Uint8Array;
  readonly protocol: Uint8Array;
  readonly tcpFlags: Uint8Array;
  /** Index in END_REASONS (high nibble) and in SOURCES (low nibble). */
  readonly reasonAndSource: Uint8Array;
  readonly srcIPv6: Uint8Array;
  readonly dstIPv6: Uint8Array;

  /** A chunk over `buffer` (from `FlowChunk.bytesFor(capacity)` bytes), e.g. one received from another thread. */
  constructor(readonly buffer: ArrayBufferLike, readonly capacity: number, length = 0, exporters: string[] = []) {
    if (capacity % 8 !== 0 || buffer.byteLength < FlowChunk.bytesFor(capacity)) throw new RangeError('chunk buffer too small or capacity not a multiple of 8');
    this.length = length;
    this.exporters = exporters;
    let at = 0;
    const f64 = (): Float64Array => new Float64Array(buffer, (at += 8 * capacity) - 8 * capacity, capacity);
    this.startMs = f64();
    this.endMs = f64();
    this.fwdPackets = f64();
    this.bwdPackets = f64();
    this.fwdBytes = f64();
    this.bwdBytes = f64();
    this.arrivedAt = f64();
    this.score = f64();
    this.features = new Float32Array(buffer, at, NF * capacity);
    at += 4 * NF * capacity;
    const u32 = (): Uint32Array => new Uint32Array(buffer, (at += 4 * capacity) - 4 * capacity, capacity);
    this.srcIPv4 = u32();
    this.dstIPv4 = u32();
    this.observationDomain = u32();
    this.pred = new Int32Array(buffer, (at += 4 * capacity) - 4 * capacity, capacity);
    const u16 = (): Uint16Array => new Uint16Array(buffer, (at += 2 * capacity) - 2 * capacity, capacity);
    this.srcPort = u16();
    this.dstPort = u16();
    this.vlan = u16();
    this.exporterIndex = u16();
    const u8 = (per = 1): Uint8Array => new Uint8Array(buffer, (at += per * capacity) - per * capacity, per * capacity);
    this.family = u8();
    this.protocol = u8();
    this.tcpFlags = u8();
    this.reasonAndSource = u8();
    this.srcIPv6 = u8(16);
    this.dstIPv6 = u8(16);
  }

  static bytesFor(capacity: number): number {
    return ROW_BYTES * capacity;
  }

  /** A chunk of at least `capacity` rows in a new SharedArrayBuffer. */
  static allocate(capacity: number): FlowChunk {
    const c = Math.max(8, Math.ceil(capacity / 8) * 8);
    return new FlowChunk(new SharedArrayBuffer(FlowChunk.bytesFor(c)), c);
  }

  get free(): number {
    return this.capacity - this.length;
  }

  /** Appends the records of one decoded datagram (at most `free` of them) with their features. */
  append(batch: FlowBatch, arrivedAt: number): void {
    if (batch.length > this.free) throw new RangeError('flow chunk full');
    let ex = this.exporters.lastIndexOf(batch.exporter);
    if (ex < 0) ex = this.exporters.push(batch.exporter) - 1;
    const tag = SOURCES.indexOf(batch.source);
    const cap = this.capacity;
    for (let i = 0; i < batch.length; i++) {
      const r = this.length++;
      const fp = batch.fwdPackets[i];
      const bp = batch.bwdPackets[i];
      const fb = batch.fwdBytes[i];
      const bb = batch.bwdBytes[i];
      this.startMs[r] = batch.startMs[i];
      this.endMs[r] = batch.endMs[i];
      this.fwdPackets[r] = fp;
      this.bwdPackets[r] = bp;
      this.fwdBytes[r] = fb;
      this.bwdBytes[r] = bb;
      this.arrivedAt[r] = arrivedAt;
      this.family[r] = batch.family[i];
      if (batch.family[i] === 4) {
        this.srcIPv4[r] = batch.srcIPv4[i];
        this.dstIPv4[r] = batch.dstIPv4[i];
      } else {
        this.srcIPv6.set(batch.srcIPv6.subarray(i * 16, i * 16 + 16), r * 16);
        this.dstIPv6.set(batch.dstIPv6.subarray(i * 16, i * 16 + 16), r * 16);
      }
      this.srcPort[r] = batch.srcPort[i];
      this.dstPort[r] = batch.dstPort[i];
      this.protocol[r] = batch.protocol[i];
      this.vlan[r] = batch.vlan[i];
      this.tcpFlags[r] = batch.tcpFlags[i];
      this.reasonAndSource[r] = (batch.endReason[i] << 4) | tag;
      this.observationDomain[r] = batch.observationDomain;
      this.exporterIndex[r] = ex;
      writeNetflowFeatures(batch.protocol[i], batch.srcPort[i], batch.dstPort[i], batch.startMs[i], batch.endMs[i], fp + bp, fb + bb, fp, bp, fb, bb, batch.tcpFlags[i], this.features, r, cap);
    }
  }

  /** Feature column k (NETFLOW_FEATURES order) of the filled rows. */
  featureColumn(k: number): Float32Array {
    return this.features.subarray(k * this.capacity, k * this.capacity + this.length);
  }

  srcAddr(i: number): string {
    return srcAddrText(this, i);
  }

  /** Row i as the FlowRecord the collector would have made of it. */
  record(i: number): FlowRecord {
    const code = this.reasonAndSource[i];
    return flowRecordAt(this, i, SOURCES[code & 15], END_REASONS[code >> 4], this.exporters[this.exporterIndex[i]], this.observationDomain[i]);
  }

  toRecords(): FlowRecord[] {
    return Array.from({ length: this.length }, (_, i) => this.record(i));
  }
}

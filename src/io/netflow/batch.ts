// Columnar batch of decoded flow-export records: the decoders write typed-array columns (no object per record), and
// FlowRecord objects or JSON lines (IPv4 dotted, IPv6 per RFC 5952) are made only when a consumer asks. One batch is
// reused per datagram. O(1) amortised per appended record; columns grow by doubling.

import type { FlowEndReason, FlowRecord, FlowSource } from '../../flows/flow-record.js';
import { ipv6GroupsText } from '../address-text.js';

export const END_REASONS: readonly FlowEndReason[] = ['exported', 'idle', 'active', 'fin', 'eof', 'evicted'];

/** flowEndReason (IPFIX IE 136) code to the index in END_REASONS: 1 idle, 2 active, 3 end detected, 4 forced, 5 resources. */
export function endReasonCode(ieValue: number): number {
  return ieValue >= 1 && ieValue <= 5 ? ieValue : 0;
}

/** Dotted text of IPv4 addresses, cached in a small direct-mapped table: flows share addresses heavily. */
const IPV4_CACHE_SIZE = 1 << 16;
const ipv4Keys = new Float64Array(IPV4_CACHE_SIZE).fill(-1);
const ipv4Texts = new Array<string>(IPV4_CACHE_SIZE).fill('');

export function ipv4Text(v: number): string {
  const slot = (Math.imul(v, 0x9e3779b1) >>> 20) & (IPV4_CACHE_SIZE - 1);
  if (ipv4Keys[slot] === v) return ipv4Texts[slot];
  const text = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  ipv4Keys[slot] = v;
  ipv4Texts[slot] = text;
  return text;
}

/** RFC 5952 text of the 16-byte address at buf[off]: lower-case, longest run (≥ 2) of zero groups as "::". */
export function ipv6Text(buf: Uint8Array, off: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
  return ipv6GroupsText(groups);
}

/** The per-record columns that FlowBatch and the detection engine's FlowChunk share. */
export interface FlowColumns {
  readonly family: Uint8Array;
  readonly srcIPv4: Uint32Array;
  readonly dstIPv4: Uint32Array;
  readonly srcIPv6: Uint8Array;
  readonly dstIPv6: Uint8Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly protocol: Uint8Array;
  readonly vlan: Uint16Array;
  readonly tcpFlags: Uint8Array;
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  readonly fwdPackets: Float64Array;
  readonly bwdPackets: Float64Array;
  readonly fwdBytes: Float64Array;
  readonly bwdBytes: Float64Array;
}

export function srcAddrText(c: FlowColumns, i: number): string {
  return c.family[i] === 4 ? ipv4Text(c.srcIPv4[i]) : ipv6Text(c.srcIPv6, i * 16);
}

export function dstAddrText(c: FlowColumns, i: number): string {
  return c.family[i] === 4 ? ipv4Text(c.dstIPv4[i]) : ipv6Text(c.dstIPv6, i * 16);
}

/** Record i of `c` as a FlowRecord object; the fields not held in columns come from the caller. */
export function flowRecordAt(
  c: FlowColumns,
  i: number,
  source: FlowSource,
  endReason: FlowEndReason,
  exporter: string,
  observationDomain: number,
): FlowRecord {
  const fwdPackets = c.fwdPackets[i];
  const bwdPackets = c.bwdPackets[i];
  const fwdBytes = c.fwdBytes[i];
  const bwdBytes = c.bwdBytes[i];
  return {
    srcAddr: srcAddrText(c, i),
    dstAddr: dstAddrText(c, i),
    srcPort: c.srcPort[i],
    dstPort: c.dstPort[i],
    protocol: c.protocol[i],
    vlan: c.vlan[i],
    source,
    startMs: c.startMs[i],
    endMs: c.endMs[i],
    packets: fwdPackets + bwdPackets,
    bytes: fwdBytes + bwdBytes,
    fwdPackets,
    bwdPackets,
    fwdBytes,
    bwdBytes,
    tcpFlags: c.tcpFlags[i],
    endReason,
    exporter,
    observationDomain,
  };
}

/** Columns of `FlowBatch.toCsvLines`: the FlowRecord fields, in JSON-lines order. */
export const FLOW_CSV_HEADER =
  'srcAddr,dstAddr,srcPort,dstPort,protocol,vlan,source,startMs,endMs,packets,bytes,fwdPackets,bwdPackets,fwdBytes,bwdBytes,tcpFlags,endReason,exporter,observationDomain\n';

export class FlowBatch implements FlowColumns {
  /** Records in the batch. */
  length = 0;
  source: FlowSource = 'netflow-v5';
  exporter = '';
  observationDomain = 0;
  private capacity = 0;
  /** 4 or 6. */
  family = new Uint8Array(0);
  srcIPv4 = new Uint32Array(0);
  dstIPv4 = new Uint32Array(0);
  /** 16 bytes per record, filled for IPv6 records only. */
  srcIPv6 = new Uint8Array(0);
  dstIPv6 = new Uint8Array(0);
  srcPort = new Uint16Array(0);
  dstPort = new Uint16Array(0);
  protocol = new Uint8Array(0);
  vlan = new Uint16Array(0);
  tcpFlags = new Uint8Array(0);
  endReason = new Uint8Array(0);
  startMs = new Float64Array(0);
  endMs = new Float64Array(0);
  fwdPackets = new Float64Array(0);
  bwdPackets = new Float64Array(0);
  fwdBytes = new Float64Array(0);
  bwdBytes = new Float64Array(0);

  constructor(capacity = 64) {
    this.grow(capacity);
  }

  /** Empties the batch for the next datagram. */
  reset(source: FlowSource, exporter: string, observationDomain: number): void {
    this.length = 0;
    this.source = source;
    this.exporter = exporter;
    this.observationDomain = observationDomain;
  }

  /** Makes room for n more records, so column references stay valid while they are filled. */
  reserve(n: number): void {
    if (this.length + n > this.capacity) this.grow(Math.max(this.capacity * 2, this.length + n));
  }

  /** Index of a new record; the caller fills every column at that index. */
  append(): number {
    if (this.length === this.capacity) this.grow(this.capacity * 2);
    return this.length++;
  }

  private grow(capacity: number): void {
    const keep = this.length;
    const g = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, make: (n: number) => T, per = 1): T => {
      const next = make(capacity * per);
      next.set(old.subarray(0, keep * per));
      return next;
    };
    this.family = g(this.family, (n) => new Uint8Array(n));
    this.srcIPv4 = g(this.srcIPv4, (n) => new Uint32Array(n));
    this.dstIPv4 = g(this.dstIPv4, (n) => new Uint32Array(n));
    this.srcIPv6 = g(this.srcIPv6, (n) => new Uint8Array(n), 16);
    this.dstIPv6 = g(this.dstIPv6, (n) => new Uint8Array(n), 16);
    this.srcPort = g(this.srcPort, (n) => new Uint16Array(n));
    this.dstPort = g(this.dstPort, (n) => new Uint16Array(n));
    this.protocol = g(this.protocol, (n) => new Uint8Array(n));
    this.vlan = g(this.vlan, (n) => new Uint16Array(n));
    this.tcpFlags = g(this.tcpFlags, (n) => new Uint8Array(n));
    this.endReason = g(this.endReason, (n) => new Uint8Array(n));
    this.startMs = g(this.startMs, (n) => new Float64Array(n));
    this.endMs = g(this.endMs, (n) => new Float64Array(n));
    this.fwdPackets = g(this.fwdPackets, (n) => new Float64Array(n));
    this.bwdPackets = g(this.bwdPackets, (n) => new Float64Array(n));
    this.fwdBytes = g(this.fwdBytes, (n) => new Float64Array(n));
    this.bwdBytes = g(this.bwdBytes, (n) => new Float64Array(n));
    this.capacity = capacity;
  }

  srcAddr(i: number): string {
    return srcAddrText(this, i);
  }

  dstAddr(i: number): string {
    return dstAddrText(this, i);
  }

  /** Record i as a FlowRecord object. */
  record(i: number): FlowRecord {
    return flowRecordAt(this, i, this.source, END_REASONS[this.endReason[i]], this.exporter, this.observationDomain);
  }

  toRecords(): FlowRecord[] {
    const out = new Array<FlowRecord>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.record(i);
    return out;
  }

  /**
   * The records as CSV rows under FLOW_CSV_HEADER. No field needs quoting: addresses, numbers and the fixed source
   * and end-reason names hold no comma, quote or line break (the exporter is the datagram's IP address text).
   */
  toCsvLines(): string {
    let s = '';
    const tail = `,${this.exporter},${this.observationDomain}\n`;
    const source = this.source;
    for (let i = 0; i < this.length; i++) {
      const fp = this.fwdPackets[i];
      const bp = this.bwdPackets[i];
      const fb = this.fwdBytes[i];
      const bb = this.bwdBytes[i];
      s +=
        `${this.srcAddr(i)},${this.dstAddr(i)},${this.srcPort[i]},${this.dstPort[i]},${this.protocol[i]},${this.vlan[i]},${source},` +
        `${this.startMs[i]},${this.endMs[i]},${fp + bp},${fb + bb},${fp},${bp},${fb},${bb},${this.tcpFlags[i]},${END_REASONS[this.endReason[i]]}${tail}`;
    }
    return s;
  }

  /** The records as JSON lines with the FlowRecord field names, same as JSON.stringify(record(i)) per line. */
  toJsonLines(): string {
    let s = '';
    const tail = `,"exporter":${JSON.stringify(this.exporter)},"observationDomain":${this.observationDomain}}\n`;
    const source = `"source":"${this.source}"`;
    for (let i = 0; i < this.length; i++) {
      const fp = this.fwdPackets[i];
      const bp = this.bwdPackets[i];
      const fb = this.fwdBytes[i];
      const bb = this.bwdBytes[i];
      s +=
        `{"srcAddr":"${this.srcAddr(i)}","dstAddr":"${this.dstAddr(i)}","srcPort":${this.srcPort[i]},"dstPort":${this.dstPort[i]},` +
        `"protocol":${this.protocol[i]},"vlan":${this.vlan[i]},${source},"startMs":${this.startMs[i]},"endMs":${this.endMs[i]},` +
        `"packets":${fp + bp},"bytes":${fb + bb},"fwdPackets":${fp},"bwdPackets":${bp},"fwdBytes":${fb},"bwdBytes":${bb},` +
        `"tcpFlags":${this.tcpFlags[i]},"endReason":"${END_REASONS[this.endReason[i]]}"${tail}`;
    }
    return s;
  }
}

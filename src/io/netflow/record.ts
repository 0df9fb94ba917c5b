// Turns the slot values of one decoded NetFlow v9 / IPFIX data record into a FlowRecord: counters (delta, else total;
// RFC 5103 reverse counters fill bwd*), addresses as text (IPv6 per RFC 5952), times resolved from whichever
// encoding the template carried (RFC 7011 §6.1.7-6.1.10 absolute times, RFC 7012 delta and sysUpTime times).
// O(fields) per record.

import type { FlowEndReason, FlowRecord, FlowSource } from '../../flows/flow-record.js';
import { Slot } from './information-elements.js';

/** Seconds between the NTP era 0 epoch (1900) and the Unix epoch. */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** What a data record is decoded against: its message header and exporter. */
export interface MessageContext {
  readonly source: FlowSource;
  readonly exporter: string;
  readonly domain: number;
  /** Export time of the message, ms since the Unix epoch. */
  readonly exportMs: number;
  /** NetFlow v9 header sysUpTime in ms; NaN for IPFIX. */
  readonly sysUptimeMs: number;
  /** IPFIX systemInitTimeMilliseconds known for the exporter, NaN if none. */
  readonly sysInitMs: number;
}

/** Absent slot value. Every real value is ≥ 0. */
export const ABSENT = -1;

export function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text of the 16-byte address at buf[off]: lower-case, longest run (≥ 2) of zero groups as "::". */
export function ipv6Text(buf: Uint8Array, off: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const isMapped = bestStart === 0 && bestLen === 5 && groups[5] === 0xffff;
  if (isMapped) return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** Reads an unsigned big-endian integer of 1-8 bytes (reduced-size encoding, RFC 7011 §6.2). */
export function readUnsigned(buf: Buffer, off: number, len: number): number {
  switch (len) {
    case 1:
      return buf[off];
    case 2:
      return buf.readUInt16BE(off);
    case 4:
      return buf.readUInt32BE(off);
    case 8:
      return buf.readUInt32BE(off) * 4294967296 + buf.readUInt32BE(off + 4);
    default:
      if (len <= 6) return buf.readUIntBE(off, len);
      return buf.readUIntBE(off, len - 4) * 4294967296 + buf.readUInt32BE(off + len - 4);
  }
}

/** An NTP-format timestamp (dateTimeMicroseconds / dateTimeNanoseconds) as Unix ms. */
export function ntpToMs(buf: Buffer, off: number): number {
  return (buf.readUInt32BE(off) - NTP_UNIX_OFFSET) * 1000 + (buf.readUInt32BE(off + 4) / 4294967296) * 1000;
}

/** flowEndReason (IE 136) codes to the FlowRecord reason. */
function endReasonOf(code: number): FlowEndReason {
  switch (code) {
    case 1:
      return 'idle';
    case 2:
      return 'active';
    case 3:
      return 'fin';
    case 4:
      return 'eof';
    case 5:
      return 'evicted';
    default:
      return 'exported';
  }
}

/** A signed 32-bit difference of two sysUpTime readings, so a wrapped counter still gives a small offset. */
function upTimeDelta(later: number, earlier: number): number {
  return (later - earlier) | 0;
}

/** Resolves a start or end time in ms; NaN when the record carries none the context can anchor. */
function timeOf(v: Float64Array, ctx: MessageContext, seconds: Slot, ms: Slot, ntp: Slot, deltaUs: Slot, sysUp: Slot): number {
  if (v[ntp] !== ABSENT) return v[ntp];
  if (v[ms] !== ABSENT) return v[ms];
  if (v[seconds] !== ABSENT) return v[seconds] * 1000;
  if (v[deltaUs] !== ABSENT) return ctx.exportMs - v[deltaUs] / 1000;
  if (v[sysUp] !== ABSENT) {
    if (!Number.isNaN(ctx.sysUptimeMs)) return ctx.exportMs - upTimeDelta(ctx.sysUptimeMs, v[sysUp]);
    const init = v[Slot.SysInitMs] !== ABSENT ? v[Slot.SysInitMs] : ctx.sysInitMs;
    // init + sysUpTime, taken modulo 2^32 ms nearest before the export time: the 32-bit counter wraps every 49.7 days.
    if (!Number.isNaN(init)) return ctx.exportMs - upTimeDelta(ctx.exportMs - init, v[sysUp]);
  }
  return Number.NaN;
}

const ICMP = 1;
const ICMPV6 = 58;

/**
 * The FlowRecord of a decoded data record, or undefined when it names no flow (no addresses). A record without
 * usable times gets the message export time for both, so it is still counted and placed.
 */
export function buildRecord(v: Float64Array, buf: Buffer, ctx: MessageContext): FlowRecord | undefined {
  let srcAddr: string;
  let dstAddr: string;
  if (v[Slot.SrcIPv4] !== ABSENT && v[Slot.DstIPv4] !== ABSENT) {
    srcAddr = ipv4Text(v[Slot.SrcIPv4]);
    dstAddr = ipv4Text(v[Slot.DstIPv4]);
  } else if (v[Slot.SrcIPv6] !== ABSENT && v[Slot.DstIPv6] !== ABSENT) {
    srcAddr = ipv6Text(buf, v[Slot.SrcIPv6]);
    dstAddr = ipv6Text(buf, v[Slot.DstIPv6]);
  } else return undefined;

  const protocol = v[Slot.Protocol] !== ABSENT ? v[Slot.Protocol] : 0;
  const hasPorts = protocol !== ICMP && protocol !== ICMPV6;
  const fwdPackets = v[Slot.Packets] !== ABSENT ? v[Slot.Packets] : v[Slot.PacketsTotal] !== ABSENT ? v[Slot.PacketsTotal] : 0;
  const fwdBytes = v[Slot.Octets] !== ABSENT ? v[Slot.Octets] : v[Slot.OctetsTotal] !== ABSENT ? v[Slot.OctetsTotal] : 0;
  const bwdPackets =
    v[Slot.RevPackets] !== ABSENT ? v[Slot.RevPackets] : v[Slot.RevPacketsTotal] !== ABSENT ? v[Slot.RevPacketsTotal] : 0;
  const bwdBytes = v[Slot.RevOctets] !== ABSENT ? v[Slot.RevOctets] : v[Slot.RevOctetsTotal] !== ABSENT ? v[Slot.RevOctetsTotal] : 0;
  const flags = (v[Slot.TcpFlags] !== ABSENT ? v[Slot.TcpFlags] : 0) | (v[Slot.RevTcpFlags] !== ABSENT ? v[Slot.RevTcpFlags] : 0);

  let startMs = timeOf(v, ctx, Slot.StartSeconds, Slot.StartMs, Slot.StartNtp, Slot.StartDeltaUs, Slot.StartSysUp);
  let endMs = timeOf(v, ctx, Slot.EndSeconds, Slot.EndMs, Slot.EndNtp, Slot.EndDeltaUs, Slot.EndSysUp);
  if (Number.isNaN(endMs)) endMs = Number.isNaN(startMs) ? ctx.exportMs : startMs;
  if (Number.isNaN(startMs)) startMs = endMs;

  return {
    srcAddr,
    dstAddr,
    srcPort: hasPorts && v[Slot.SrcPort] !== ABSENT ? v[Slot.SrcPort] : 0,
    dstPort: hasPorts && v[Slot.DstPort] !== ABSENT ? v[Slot.DstPort] : 0,
    protocol,
    vlan: v[Slot.Vlan] !== ABSENT ? v[Slot.Vlan] & 0xfff : v[Slot.Dot1qVlan] !== ABSENT ? v[Slot.Dot1qVlan] & 0xfff : 0,
    source: ctx.source,
    startMs,
    endMs,
    packets: fwdPackets + bwdPackets,
    bytes: fwdBytes + bwdBytes,
    fwdPackets,
    bwdPackets,
    fwdBytes,
    bwdBytes,
    tcpFlags: flags & 0xff,
    endReason: v[Slot.EndReason] !== ABSENT ? endReasonOf(v[Slot.EndReason]) : 'exported',
    exporter: ctx.exporter,
    observationDomain: ctx.domain,
  };
}

// Appends the slot values of one decoded NetFlow v9 / IPFIX data record to a FlowBatch: counters (delta, else
// total; RFC 5103 reverse counters fill bwd*), IPv4 or IPv6 addresses, and times resolved from whichever encoding the
// template carried (RFC 7011 §6.1.7-6.1.10 absolute times, RFC 7012 delta and sysUpTime times). O(1) per record.

import type { FlowSource } from '../../flows/flow-record.js';
import { endReasonCode, type FlowBatch } from './batch.js';
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

/** Reads an unsigned big-endian integer of 1-8 bytes (reduced-size encoding, RFC 7011 §6.2). */
export function readUnsigned(buf: Buffer, off: number, len: number): number {
  switch (len) {
    case 1:
      return buf[off];
    case 2:
      return (buf[off] << 8) | buf[off + 1];
    case 4:
      return u32(buf, off);
    case 8:
      return u32(buf, off) * 4294967296 + u32(buf, off + 4);
    default:
      if (len <= 6) return buf.readUIntBE(off, len);
      return buf.readUIntBE(off, len - 4) * 4294967296 + buf.readUInt32BE(off + len - 4);
  }
}

/** Unsigned big-endian 32-bit read; the caller has checked the bounds. */
export function u32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** An NTP-format timestamp (dateTimeMicroseconds / dateTimeNanoseconds) as Unix ms. */
export function ntpToMs(buf: Buffer, off: number): number {
  return (u32(buf, off) - NTP_UNIX_OFFSET) * 1000 + (u32(buf, off + 4) / 4294967296) * 1000;
}

/** How far after its export time a sysUpTime time may lie: whole-second export times, exporter clock skew. */
const UPTIME_SKEW_MS = 60_000;

/**
 * Milliseconds elapsed from the sysUpTime time `then` to the sysUpTime `now` of the same 32-bit counter, which wraps
 * every 49.7 days. A flow is switched before its export (RFC 3954 §5.1 First/Last and header sysUpTime; RFC 7012
 * flowStart/EndSysUpTime), so the elapsed time is taken modulo 2^32 as at least 0, except for up to UPTIME_SKEW_MS
 * after `now` (negative). A signed 32-bit difference placed a wrapped time up to 24.8 days after the export.
 */
export function upTimeElapsed(now: number, then: number): number {
  const elapsed = (now - then) >>> 0;
  return elapsed > 0x1_0000_0000 - UPTIME_SKEW_MS ? elapsed - 0x1_0000_0000 : elapsed;
}

/** Start (index 0) and end (1) time of the record being appended, written by resolveTime. */
const times = new Float64Array(2);

/**
 * Resolves a start or end time in ms into times[index]; NaN when the record carries none the context can anchor.
 * Written to a typed array, not returned: a returned time (not a small integer) is boxed when the call is not inlined.
 */
function resolveTime(index: number, v: Float64Array, ctx: MessageContext, seconds: Slot, ms: Slot, ntp: Slot, deltaUs: Slot, sysUp: Slot): void {
  let t = Number.NaN;
  if (v[ntp] !== ABSENT) t = v[ntp];
  else if (v[ms] !== ABSENT) t = v[ms];
  else if (v[seconds] !== ABSENT) t = v[seconds] * 1000;
  else if (v[deltaUs] !== ABSENT) t = ctx.exportMs - v[deltaUs] / 1000;
  else if (v[sysUp] !== ABSENT) {
    if (!Number.isNaN(ctx.sysUptimeMs)) t = ctx.exportMs - upTimeElapsed(ctx.sysUptimeMs, v[sysUp]);
    else {
      const init = v[Slot.SysInitMs] !== ABSENT ? v[Slot.SysInitMs] : ctx.sysInitMs;
      // init + sysUpTime, modulo 2^32 ms at or before the export time: the export's sysUpTime is export - init.
      if (!Number.isNaN(init)) t = ctx.exportMs - upTimeElapsed(ctx.exportMs - init, v[sysUp]);
    }
  }
  times[index] = t;
}

/** What appendRecord did with a data record. */
export const enum Appended {
  /** Not a flow: no addresses. */
  NO_ADDRESSES = 0,
  APPENDED = 1,
  /** Appended with times from the export time (see appendRecord). */
  NO_ABSOLUTE_TIME = 2,
}

const ICMP = 1;
const ICMPV6 = 58;

/**
 * Appends the decoded data record to `batch`, unless it names no flow (no addresses). A record with no time that can
 * be placed on the calendar is still kept: it ends at the message's export time (the latest it can have ended), and
 * starts that much earlier than its end as its sysUpTime times differ, so its duration stays exact when it has both.
 */
export function appendRecord(v: Float64Array, buf: Buffer, ctx: MessageContext, batch: FlowBatch): Appended {
  let family: number;
  if (v[Slot.SrcIPv4] !== ABSENT && v[Slot.DstIPv4] !== ABSENT) family = 4;
  else if (v[Slot.SrcIPv6] !== ABSENT && v[Slot.DstIPv6] !== ABSENT) family = 6;
  else return Appended.NO_ADDRESSES;
  const i = batch.append();
  batch.family[i] = family;
  if (family === 4) {
    batch.srcIPv4[i] = v[Slot.SrcIPv4];
    batch.dstIPv4[i] = v[Slot.DstIPv4];
  } else {
    batch.srcIPv6.set(buf.subarray(v[Slot.SrcIPv6], v[Slot.SrcIPv6] + 16), i * 16);
    batch.dstIPv6.set(buf.subarray(v[Slot.DstIPv6], v[Slot.DstIPv6] + 16), i * 16);
  }
  const protocol = v[Slot.Protocol] !== ABSENT ? v[Slot.Protocol] : 0;
  const hasPorts = protocol !== ICMP && protocol !== ICMPV6;
  batch.srcPort[i] = hasPorts && v[Slot.SrcPort] !== ABSENT ? v[Slot.SrcPort] : 0;
  batch.dstPort[i] = hasPorts && v[Slot.DstPort] !== ABSENT ? v[Slot.DstPort] : 0;
  batch.protocol[i] = protocol;
  batch.vlan[i] = v[Slot.Vlan] !== ABSENT ? v[Slot.Vlan] & 0xfff : v[Slot.Dot1qVlan] !== ABSENT ? v[Slot.Dot1qVlan] & 0xfff : 0;
  batch.fwdPackets[i] = v[Slot.Packets] !== ABSENT ? v[Slot.Packets] : v[Slot.PacketsTotal] !== ABSENT ? v[Slot.PacketsTotal] : 0;
  batch.fwdBytes[i] = v[Slot.Octets] !== ABSENT ? v[Slot.Octets] : v[Slot.OctetsTotal] !== ABSENT ? v[Slot.OctetsTotal] : 0;
  batch.bwdPackets[i] =
    v[Slot.RevPackets] !== ABSENT ? v[Slot.RevPackets] : v[Slot.RevPacketsTotal] !== ABSENT ? v[Slot.RevPacketsTotal] : 0;
  batch.bwdBytes[i] = v[Slot.RevOctets] !== ABSENT ? v[Slot.RevOctets] : v[Slot.RevOctetsTotal] !== ABSENT ? v[Slot.RevOctetsTotal] : 0;
  batch.tcpFlags[i] = ((v[Slot.TcpFlags] !== ABSENT ? v[Slot.TcpFlags] : 0) | (v[Slot.RevTcpFlags] !== ABSENT ? v[Slot.RevTcpFlags] : 0)) & 0xff;
  batch.endReason[i] = v[Slot.EndReason] !== ABSENT ? endReasonCode(v[Slot.EndReason]) : 0;

  resolveTime(0, v, ctx, Slot.StartSeconds, Slot.StartMs, Slot.StartNtp, Slot.StartDeltaUs, Slot.StartSysUp);
  resolveTime(1, v, ctx, Slot.EndSeconds, Slot.EndMs, Slot.EndNtp, Slot.EndDeltaUs, Slot.EndSysUp);
  let startMs = times[0];
  let endMs = times[1];
  let result = Appended.APPENDED;
  if (Number.isNaN(startMs) && Number.isNaN(endMs)) {
    result = Appended.NO_ABSOLUTE_TIME;
    endMs = ctx.exportMs;
    // A sysUpTime difference is a signed 32-bit number (| 0) like the other sysUpTime arithmetic; never negative.
    const upMs = v[Slot.StartSysUp] !== ABSENT && v[Slot.EndSysUp] !== ABSENT ? (v[Slot.EndSysUp] - v[Slot.StartSysUp]) | 0 : 0;
    startMs = endMs - (upMs > 0 ? upMs : 0);
  } else if (Number.isNaN(endMs)) endMs = startMs;
  else if (Number.isNaN(startMs)) startMs = endMs;
  batch.startMs[i] = startMs;
  batch.endMs[i] = endMs;
  return result;
}

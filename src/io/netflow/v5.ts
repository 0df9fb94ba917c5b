// Cisco NetFlow v5 export datagrams ("NetFlow Export Datagram Format", Cisco NetFlow Services Solutions Guide):
// a 24-byte header and 1-30 fixed 48-byte records. First/Last are sysUpTime ms, anchored to the header's
// unix_secs/unix_nsecs and sysUpTime. O(records) per datagram; never throws.

import type { FlowBatch } from './batch.js';
import { u32, upTimeElapsed } from './record.js';
import type { DecodeStats } from './stats.js';

export const V5_HEADER = 24;
export const V5_RECORD = 48;
export const V5_MAX_RECORDS = 30;

/**
 * Decodes one v5 datagram into `batch` (reset first). Returns false (and counts the reason) when the datagram is
 * malformed; the batch is empty then.
 */
export function decodeV5(buf: Buffer, exporter: string, batch: FlowBatch, stats: DecodeStats): boolean {
  stats.datagrams++;
  batch.reset('netflow-v5', exporter, 0);
  if (buf.length < V5_HEADER) return stats.drop('v5-short-header');
  if (buf.readUInt16BE(0) !== 5) return stats.drop('v5-bad-version');
  const count = buf.readUInt16BE(2);
  if (count === 0 || count > V5_MAX_RECORDS) return stats.drop('v5-bad-count');
  if (buf.length < V5_HEADER + count * V5_RECORD) return stats.drop('v5-truncated');
  const sysUptime = buf.readUInt32BE(4);
  const exportMs = buf.readUInt32BE(8) * 1000 + buf.readUInt32BE(12) / 1e6;
  batch.observationDomain = (buf[20] << 8) | buf[21];
  batch.reserve(count);
  const { family, srcIPv4, dstIPv4, srcPort, dstPort, protocol, vlan, tcpFlags, endReason } = batch;
  const { startMs, endMs, fwdPackets, fwdBytes, bwdPackets, bwdBytes } = batch;
  for (let n = 0, off = V5_HEADER, i = batch.length; n < count; n++, off += V5_RECORD, i++) {
    const proto = buf[off + 38];
    const hasPorts = proto !== 1 && proto !== 58;
    family[i] = 4;
    srcIPv4[i] = u32(buf, off);
    dstIPv4[i] = u32(buf, off + 4);
    srcPort[i] = hasPorts ? (buf[off + 32] << 8) | buf[off + 33] : 0;
    dstPort[i] = hasPorts ? (buf[off + 34] << 8) | buf[off + 35] : 0;
    protocol[i] = proto;
    vlan[i] = 0;
    tcpFlags[i] = buf[off + 37];
    endReason[i] = 0;
    startMs[i] = exportMs - upTimeElapsed(sysUptime, u32(buf, off + 24));
    endMs[i] = exportMs - upTimeElapsed(sysUptime, u32(buf, off + 28));
    fwdPackets[i] = u32(buf, off + 16);
    fwdBytes[i] = u32(buf, off + 20);
    bwdPackets[i] = 0;
    bwdBytes[i] = 0;
  }
  batch.length += count;
  stats.records += count;
  return true;
}

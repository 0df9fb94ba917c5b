// Cisco NetFlow v5 export datagrams ("NetFlow Export Datagram Format", Cisco NetFlow Services Solutions Guide):
// a 24-byte header and 1-30 fixed 48-byte records. First/Last are sysUpTime ms, anchored to the header's
// unix_secs/unix_nsecs and sysUpTime. O(records) per datagram; never throws.

import type { FlowBatch } from './batch.js';
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
  for (let n = 0, off = V5_HEADER; n < count; n++, off += V5_RECORD) {
    const i = batch.append();
    const protocol = buf[off + 38];
    const hasPorts = protocol !== 1 && protocol !== 58;
    batch.family[i] = 4;
    batch.srcIPv4[i] = buf.readUInt32BE(off);
    batch.dstIPv4[i] = buf.readUInt32BE(off + 4);
    batch.srcPort[i] = hasPorts ? buf.readUInt16BE(off + 32) : 0;
    batch.dstPort[i] = hasPorts ? buf.readUInt16BE(off + 34) : 0;
    batch.protocol[i] = protocol;
    batch.vlan[i] = 0;
    batch.tcpFlags[i] = buf[off + 37];
    batch.endReason[i] = 0;
    batch.startMs[i] = exportMs - ((sysUptime - buf.readUInt32BE(off + 24)) | 0);
    batch.endMs[i] = exportMs - ((sysUptime - buf.readUInt32BE(off + 28)) | 0);
    batch.fwdPackets[i] = buf.readUInt32BE(off + 16);
    batch.fwdBytes[i] = buf.readUInt32BE(off + 20);
    batch.bwdPackets[i] = 0;
    batch.bwdBytes[i] = 0;
  }
  stats.records += count;
  return true;
}

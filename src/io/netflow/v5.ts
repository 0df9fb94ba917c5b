// Cisco NetFlow v5 export datagrams ("NetFlow Export Datagram Format", Cisco NetFlow Services Solutions Guide):
// a 24-byte header and 1-30 fixed 48-byte records. First/Last are sysUpTime ms, anchored to the header's
// unix_secs/unix_nsecs and sysUpTime. O(records) per datagram; never throws.

import type { FlowRecord } from '../../flows/flow-record.js';
import { ipv4Text } from './record.js';
import type { DecodeStats } from './stats.js';

export const V5_HEADER = 24;
export const V5_RECORD = 48;
export const V5_MAX_RECORDS = 30;

/**
 * Decodes one v5 datagram, appending its flows to `out`. Returns false (and counts the reason) when the datagram is
 * malformed; nothing is appended then.
 */
export function decodeV5(buf: Buffer, exporter: string, out: FlowRecord[], stats: DecodeStats): boolean {
  stats.datagrams++;
  if (buf.length < V5_HEADER) return stats.drop('v5-short-header');
  if (buf.readUInt16BE(0) !== 5) return stats.drop('v5-bad-version');
  const count = buf.readUInt16BE(2);
  if (count === 0 || count > V5_MAX_RECORDS) return stats.drop('v5-bad-count');
  if (buf.length < V5_HEADER + count * V5_RECORD) return stats.drop('v5-truncated');
  const sysUptime = buf.readUInt32BE(4);
  const exportMs = buf.readUInt32BE(8) * 1000 + buf.readUInt32BE(12) / 1e6;
  const domain = (buf[20] << 8) | buf[21];
  for (let i = 0, off = V5_HEADER; i < count; i++, off += V5_RECORD) {
    const protocol = buf[off + 38];
    const hasPorts = protocol !== 1 && protocol !== 58;
    const packets = buf.readUInt32BE(off + 16);
    const bytes = buf.readUInt32BE(off + 20);
    out.push({
      srcAddr: ipv4Text(buf.readUInt32BE(off)),
      dstAddr: ipv4Text(buf.readUInt32BE(off + 4)),
      srcPort: hasPorts ? buf.readUInt16BE(off + 32) : 0,
      dstPort: hasPorts ? buf.readUInt16BE(off + 34) : 0,
      protocol,
      vlan: 0,
      source: 'netflow-v5',
      startMs: exportMs - ((sysUptime - buf.readUInt32BE(off + 24)) | 0),
      endMs: exportMs - ((sysUptime - buf.readUInt32BE(off + 28)) | 0),
      packets,
      bytes,
      fwdPackets: packets,
      bwdPackets: 0,
      fwdBytes: bytes,
      bwdBytes: 0,
      tcpFlags: buf[off + 37],
      endReason: 'exported',
      exporter,
      observationDomain: domain,
    });
  }
  stats.records += count;
  return true;
}

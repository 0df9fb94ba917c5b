// Compact NetFlow-style flow features, computed from FlowRecord fields only — the counters every NetFlow v5/v9 and
// IPFIX (RFC 7012 information elements octetDeltaCount, packetDeltaCount, tcpControlBits, ports, protocol, times)
// record carries — so one model scores flows from pcaps (flow meter) and from exporters (collector) alike.
// O(1) per flow. For unidirectional exporter records the backward counters are 0.

import type { FlowRecord } from '../flow-record.js';

export const NETFLOW_FEATURES: readonly string[] = [
  'protocol',
  'src_port',
  'dst_port',
  'duration_s',
  'packets',
  'bytes',
  'fwd_packets',
  'bwd_packets',
  'fwd_bytes',
  'bwd_bytes',
  'bytes_per_s',
  'packets_per_s',
  'bytes_per_packet',
  'bwd_fwd_packet_ratio',
  'tcp_fin',
  'tcp_syn',
  'tcp_rst',
  'tcp_psh',
  'tcp_ack',
  'tcp_urg',
  'tcp_ece',
  'tcp_cwr',
];

/** The NetFlow feature vector of a record, in NETFLOW_FEATURES order. */
export function netflowFeatures(r: FlowRecord, out = new Float64Array(NETFLOW_FEATURES.length)): Float64Array {
  writeNetflowFeatures(r.protocol, r.srcPort, r.dstPort, r.startMs, r.endMs, r.packets, r.bytes, r.fwdPackets, r.bwdPackets, r.fwdBytes, r.bwdBytes, r.tcpFlags, out, 0, 1);
  return out;
}

/**
 * The same features from record fields, feature k written at out[offset + k * stride]: stride 1 fills one row, the
 * capacity of a column-major block fills the row `offset` of its columns (the collector's columnar batches).
 */
export function writeNetflowFeatures(
  protocol: number,
  srcPort: number,
  dstPort: number,
  startMs: number,
  endMs: number,
  packets: number,
  bytes: number,
  fwdPackets: number,
  bwdPackets: number,
  fwdBytes: number,
  bwdBytes: number,
  tcpFlags: number,
  out: Float64Array | Float32Array,
  offset: number,
  stride: number,
): void {
  // Whole microseconds: millisecond times near 2^40 carry a float residue of up to 0.25 µs (0.041537 s would read
  // 0.041536865234375), and no exporter or capture is finer than that residue would suggest.
  const seconds = Math.max(0, Math.round((endMs - startMs) * 1000) / 1e6);
  out[offset] = protocol;
  out[offset + stride] = srcPort;
  out[offset + 2 * stride] = dstPort;
  out[offset + 3 * stride] = seconds;
  out[offset + 4 * stride] = packets;
  out[offset + 5 * stride] = bytes;
  out[offset + 6 * stride] = fwdPackets;
  out[offset + 7 * stride] = bwdPackets;
  out[offset + 8 * stride] = fwdBytes;
  out[offset + 9 * stride] = bwdBytes;
  // A one-instant flow has no rate: 0, never Infinity.
  out[offset + 10 * stride] = seconds > 0 ? bytes / seconds : 0;
  out[offset + 11 * stride] = seconds > 0 ? packets / seconds : 0;
  out[offset + 12 * stride] = packets > 0 ? bytes / packets : 0;
  out[offset + 13 * stride] = fwdPackets > 0 ? bwdPackets / fwdPackets : 0;
  for (let bit = 0; bit < 8; bit++) out[offset + (14 + bit) * stride] = (tcpFlags >> bit) & 1;
}

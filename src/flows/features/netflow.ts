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
  const seconds = Math.max(0, (r.endMs - r.startMs) / 1000);
  out[0] = r.protocol;
  out[1] = r.srcPort;
  out[2] = r.dstPort;
  out[3] = seconds;
  out[4] = r.packets;
  out[5] = r.bytes;
  out[6] = r.fwdPackets;
  out[7] = r.bwdPackets;
  out[8] = r.fwdBytes;
  out[9] = r.bwdBytes;
  // A one-instant flow has no rate: 0, never Infinity.
  out[10] = seconds > 0 ? r.bytes / seconds : 0;
  out[11] = seconds > 0 ? r.packets / seconds : 0;
  out[12] = r.packets > 0 ? r.bytes / r.packets : 0;
  out[13] = r.fwdPackets > 0 ? r.bwdPackets / r.fwdPackets : 0;
  for (let bit = 0; bit < 8; bit++) out[14 + bit] = (r.tcpFlags >> bit) & 1;
  return out;
}

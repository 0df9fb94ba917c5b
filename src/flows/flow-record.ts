// FlowRecord: the one record every traffic source produces — the packet flow meter (pcap, pcapng, live capture)
// and the NetFlow v5/v9 / IPFIX collector. Field names are also the JSON-lines field names. Documented in
// docs/records.md; change both together.

export type FlowSource = 'pcap' | 'netflow-v5' | 'netflow-v9' | 'ipfix';

/** Why the flow was emitted; 'snapshot' = not ended: an early look at a live flow (flow meter `onEarly`). */
export type FlowEndReason = 'fin' | 'rst' | 'idle' | 'active' | 'evicted' | 'eof' | 'exported' | 'snapshot';

export interface FlowKey {
  /** Initiator (forward direction) address, dotted IPv4 or RFC 5952 IPv6 text. */
  readonly srcAddr: string;
  readonly dstAddr: string;
  /** 0 for protocols without ports; ICMP type/code are in the CIC features. */
  readonly srcPort: number;
  readonly dstPort: number;
  /** IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6). */
  readonly protocol: number;
  /** Outermost 802.1Q VLAN id, 0 when untagged. */
  readonly vlan: number;
}

export interface FlowRecord extends FlowKey {
  readonly source: FlowSource;
  /** First and last packet times, milliseconds since the Unix epoch (fractional: microsecond precision). */
  readonly startMs: number;
  readonly endMs: number;
  /** Both directions together. */
  readonly packets: number;
  readonly bytes: number;
  /** Per direction; forward = initiator → responder. A unidirectional NetFlow record has bwd* = 0. */
  readonly fwdPackets: number;
  readonly bwdPackets: number;
  readonly fwdBytes: number;
  readonly bwdBytes: number;
  /** OR of the TCP flags seen (FIN 0x01 … CWR 0x80), 0 for other protocols. */
  readonly tcpFlags: number;
  readonly endReason: FlowEndReason;
  /** Collector only: exporter address and observation domain / source id. */
  readonly exporter?: string;
  readonly observationDomain?: number;
  /**
   * Flow meter only: link-layer frame bytes of both directions (pcap orig_len), what tshark's conversation
   * statistics count. `bytes` stays layer-3 octets, as NetFlow/IPFIX count them.
   */
  readonly frameBytes?: number;
  /**
   * Flow meter only: the CICFlowMeter feature vector, in the order of CIC_FEATURES (src/datasets/cic-names.ts),
   * computed by src/flows/features/cic.ts.
   * Absent for collector records, which carry only the NetFlow-style fields above.
   */
  readonly features?: Float64Array;
}

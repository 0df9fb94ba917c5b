// The decoded view of one packet, reused for every packet (no allocation on the hot path), and the reasons a packet
// is skipped. Filled by decodePacket (decode.ts). Addresses are four 32-bit words: IPv4 uses word 0, the rest are 0.

import { ipv6GroupsText } from '../../io/address-text.js';

export class DecodedPacket {
  ipVersion = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IANA protocol number of the transport (after IPv6 extension headers). */
  protocol = 0;
  srcPort = 0;
  dstPort = 0;
  /** Outermost 802.1Q / 802.1ad VLAN id, 0 when untagged. */
  vlan = 0;
  /** Layer-3 length: IPv4 total length, or 40 + IPv6 payload length (what NetFlow counts as octets). */
  ipBytes = 0;
  /** Transport header length (TCP data offset × 4, 8 for UDP/ICMP, 0 otherwise). */
  l4HeaderLen = 0;
  /** Transport payload length, from the IP lengths (so Ethernet padding and snap lengths do not change it). */
  payloadLen = 0;
  tcpFlags = 0;
  tcpWindow = 0;
  /** -1 unless ICMP / ICMPv6. */
  icmpType = -1;
  icmpCode = -1;
  /** 0 not a fragment, 1 first fragment (ports known), 2 later fragment (no transport header: ports 0). */
  fragment = 0;
  /**
   * Capture time (µs since the epoch) and frame length on the wire, set by the flow meter. Kept here rather than
   * passed as arguments: a double argument to a call that is not inlined costs a heap allocation per packet.
   */
  tsUs = 0.5;
  frameLen = 0;
}

/** Decode outcomes; anything but OK is a reason to skip the packet. Index into DECODE_REASONS. */
export const enum Decode {
  OK = 0,
  NonIp = 1,
  UnsupportedLink = 2,
  TruncatedLink = 3,
  TruncatedIp = 4,
  BadIpVersion = 5,
  BadIpHeader = 6,
  TruncatedTransport = 7,
  BadTcpHeader = 8,
}

/** Names used in skip counts (`--json` summaries); the index is the Decode value. */
export const DECODE_REASONS: readonly string[] = [
  'ok',
  'non-ip',
  'unsupported-link-type',
  'truncated-link-header',
  'truncated-ip-header',
  'bad-ip-version',
  'bad-ip-header',
  'truncated-transport-header',
  'bad-tcp-header',
];

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** Text form of a decoded address: dotted IPv4 or RFC 5952 IPv6 (the same text the collector writes). */
export function formatAddress(version: number, words: ArrayLike<number>, base = 0): string {
  if (version === 4) {
    const a = words[base]!;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = words[base + i]!;
    groups.push(w >>> 16, w & 0xffff);
  }
  return ipv6GroupsText(groups);
}

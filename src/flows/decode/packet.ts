// The decoded view of one packet, reused for every packet (no allocation on the hot path), the reasons a packet is
// skipped and the EtherTypes the decoder passes between its steps. Filled by decodePacket (decode.ts). Addresses are
// four 32-bit words: IPv4 uses word 0, the rest are 0.

import { ipv6GroupsText } from '../../io/address-text.js';

export class DecodedPacket {
  ipVersion = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IANA protocol number of the transport (after IPv6 extension headers). */
  protocol = 0;
  srcPort = 0;
  dstPort = 0;
  /** Outermost 802.1Q / 802.1ad VLAN id (an untagged tunnel's inner tag otherwise), 0 when untagged. */
  vlan = 0;
  /** Layer-3 length: IPv4 total length, or 40 + IPv6 payload length (what NetFlow counts as octets). */
  ipBytes = 0;
  /** Transport header length (TCP data offset × 4, 8 for UDP/ICMP, 12 for SCTP, 0 otherwise). */
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
  /** The captured length runs past the bytes given (a caller's own record; the capture readers never pass one). */
  TruncatedPacketData = 9,
  /** An 802.11 data frame whose body is encrypted (WEP/WPA): the IP packet inside cannot be read. */
  Encrypted80211 = 10,
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
  'truncated-packet-data',
  'encrypted-80211',
];

/**
 * EtherTypes, and what the decoder's steps hand each other in their place (a const enum: literals in the code; shared
 * by decode.ts and tunnels.ts).
 */
export const enum EtherType {
  IPV4 = 0x0800,
  IPV6 = 0x86dd,
  VLAN = 0x8100,
  QINQ = 0x88a8,
  QINQ_OLD = 0x9100,
  PPPOE_SESSION = 0x8864,
  MPLS = 0x8847,
  MPLS_MULTICAST = 0x8848,
  /** Transparent Ethernet bridging: an Ethernet frame follows (GRE, Geneve; what VXLAN and ERSPAN carry). */
  TEB = 0x6558,
  ERSPAN_II = 0x88be,
  ERSPAN_III = 0x22eb,
  /** PPP, as GRE's protocol type (PPTP). */
  PPP = 0x880b,
  /** Not an EtherType: what a step gives when no IP follows (nor, in a tunnel, MPLS or Ethernet). */
  NOT_IP = 0,
  /** Not an EtherType: a PPP header cut short (a truncated link header on a PPP link; inside a tunnel, no tunnel). */
  PPP_TRUNCATED = -1,
}

/** TCP flag bits (a const enum: literals in the code). */
export const enum Tcp {
  TCP_FIN = 0x01,
  TCP_SYN = 0x02,
  TCP_RST = 0x04,
  TCP_PSH = 0x08,
  TCP_ACK = 0x10,
  TCP_URG = 0x20,
  TCP_ECE = 0x40,
  TCP_CWR = 0x80,
}

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

/**
 * Compact form of a decode result, for handing packets from a decoding thread to a metering thread: PACKED_WORDS
 * 32-bit words per packet (the capture time travels beside them as a double). Words: status | version << 8 |
 * protocol << 16 | fragment << 24; source address ×4; destination address ×4; src port << 16 | dst port;
 * vlan << 16 | transport header length; layer-3 bytes; payload length; TCP flags | window << 8;
 * ICMP type + 1 | (ICMP code + 1) << 16; frame length.
 */
export const enum Packed {
  PACKED_WORDS = 16,
}
/** Bytes per packed packet: its words and its timestamp. */
export const PACKED_BYTES = Packed.PACKED_WORDS * 4 + 8;

export function packPacket(p: DecodedPacket, status: Decode, frameLen: number, w: Uint32Array, o: number): void {
  w[o] = status | (p.ipVersion << 8) | (p.protocol << 16) | (p.fragment << 24);
  if (status !== Decode.OK) return;
  const s = p.src;
  const d = p.dst;
  w[o + 1] = s[0]!;
  w[o + 2] = s[1]!;
  w[o + 3] = s[2]!;
  w[o + 4] = s[3]!;
  w[o + 5] = d[0]!;
  w[o + 6] = d[1]!;
  w[o + 7] = d[2]!;
  w[o + 8] = d[3]!;
  w[o + 9] = (p.srcPort << 16) | p.dstPort;
  w[o + 10] = (p.vlan << 16) | p.l4HeaderLen;
  w[o + 11] = p.ipBytes;
  w[o + 12] = p.payloadLen;
  w[o + 13] = p.tcpFlags | (p.tcpWindow << 8);
  w[o + 14] = (p.icmpType + 1) | ((p.icmpCode + 1) << 16);
  w[o + 15] = frameLen;
}

/** Fills `p` (all but tsUs) from a packed packet; returns its decode status (the fields are set only for OK). */
export function unpackPacket(w: Uint32Array, o: number, p: DecodedPacket): Decode {
  const head = w[o]!;
  const status = (head & 255) as Decode;
  if (status !== Decode.OK) return status;
  p.ipVersion = (head >>> 8) & 255;
  p.protocol = (head >>> 16) & 255;
  p.fragment = head >>> 24;
  const s = p.src;
  const d = p.dst;
  s[0] = w[o + 1]!;
  s[1] = w[o + 2]!;
  s[2] = w[o + 3]!;
  s[3] = w[o + 4]!;
  d[0] = w[o + 5]!;
  d[1] = w[o + 6]!;
  d[2] = w[o + 7]!;
  d[3] = w[o + 8]!;
  const ports = w[o + 9]!;
  p.srcPort = ports >>> 16;
  p.dstPort = ports & 0xffff;
  const vh = w[o + 10]!;
  p.vlan = vh >>> 16;
  p.l4HeaderLen = vh & 0xffff;
  p.ipBytes = w[o + 11]!;
  p.payloadLen = w[o + 12]!;
  const tcp = w[o + 13]!;
  p.tcpFlags = tcp & 255;
  p.tcpWindow = tcp >>> 8;
  const icmp = w[o + 14]!;
  p.icmpType = (icmp & 0xffff) - 1;
  p.icmpCode = (icmp >>> 16) - 1;
  p.frameLen = w[o + 15]!;
  return status;
}

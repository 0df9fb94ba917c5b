// Packet decoding from the link layer to the transport header, into a reused DecodedPacket: O(header bytes), no
// allocation. Link types (tcpdump.org LINKTYPE_*): Ethernet (1) with 802.1Q/802.1ad/QinQ tags, Linux SLL (113) and
// SLL2 (276), raw IP (101, and DLT 12/14 as some systems write it), IPv4 (228), IPv6 (229), BSD null (0) and loop
// (108), PPP (9, 50; RFC 1661/1662), Cisco HDLC (104), IEEE 802.11 data frames (105) bare, behind radiotap (127) or
// PPI (192), with their LLC/SNAP header (IEEE 802.2, RFC 1042), OpenBSD pflog (117) and Linux NFLOG (239), as
// tcpdump.org's link-layer header types page describes them. Between link and IP: PPPoE sessions (RFC 2516) and MPLS
// label stacks (RFC 3032). IPv4 (RFC 791) with options and fragments; IPv6 (RFC 8200) with hop-by-hop, routing,
// fragment, destination options, AH (RFC 4302) and mobility headers; TCP (RFC 9293), UDP (RFC 768), SCTP (RFC 9260),
// ICMP (RFC 792), ICMPv6 (RFC 4443). Tunnels are opened to the packet inside, as Zeek does: IP in IP (RFC 2003, RFC
// 4213), GRE (RFC 2784, RFC 2890) carrying IP, MPLS, Ethernet (0x6558) or ERSPAN types I–III (Cisco's draft-foschiano-
// erspan), VXLAN (RFC 7348), Geneve (RFC 8926) and GTP-U (3GPP TS 29.281).

import { Decode, DecodedPacket } from './packet.js';

/** EtherTypes (a const enum: literals in the code). */
const enum K {
  ETHERTYPE_IPV4 = 0x0800,
  ETHERTYPE_IPV6 = 0x86dd,
  ETHERTYPE_VLAN = 0x8100,
  ETHERTYPE_QINQ = 0x88a8,
  ETHERTYPE_QINQ_OLD = 0x9100,
  ETHERTYPE_PPPOE_SESSION = 0x8864,
  ETHERTYPE_MPLS = 0x8847,
  ETHERTYPE_MPLS_MULTICAST = 0x8848,
  /** Transparent Ethernet bridging: an Ethernet frame follows (GRE, Geneve; what VXLAN and ERSPAN carry). */
  ETHERTYPE_TEB = 0x6558,
  ETHERTYPE_ERSPAN_II = 0x88be,
  ETHERTYPE_ERSPAN_III = 0x22eb,
  /** Not an EtherType: what the helpers below give when no IP follows (nor, in a tunnel, MPLS or Ethernet). */
  NOT_IP = 0,
}

/**
 * A DataView over the byte array of the last packet decoded: packets come in capture chunks of many packets, so this
 * is one view per chunk. Multi-byte fields are then one bounds-checked load each instead of one per byte.
 */
let viewBytes: Uint8Array | undefined;
let bytesView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(b: Uint8Array): DataView<ArrayBufferLike> {
  if (b !== viewBytes) {
    bytesView = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewBytes = b;
  }
  return bytesView;
}

/**
 * Decodes b[offset, offset + capLen) captured on `linkType` into `out`. Returns Decode.OK or the reason to skip.
 */
export function decodePacket(linkType: number, b: Uint8Array, offset: number, capLen: number, out: DecodedPacket): Decode {
  const end = offset + capLen;
  if (end > b.length) return Decode.TruncatedPacketData;
  const v = viewOf(b);
  out.vlan = 0;
  let o = offset;
  let etherType: number;
  switch (linkType) {
    case 1: // Ethernet II
      if (capLen < 14) return Decode.TruncatedLink;
      etherType = v.getUint16(o + 12);
      o += 14;
      break;
    case 113: // Linux cooked v1: protocol at 14
      if (capLen < 16) return Decode.TruncatedLink;
      etherType = v.getUint16(o + 14);
      o += 16;
      break;
    case 276: // Linux cooked v2: protocol at 0
      if (capLen < 20) return Decode.TruncatedLink;
      etherType = v.getUint16(o);
      o += 20;
      break;
    case 101:
    case 12:
    case 14:
      if (capLen < 1) return Decode.TruncatedIp;
      etherType = v.getUint8(o) >> 4 === 6 ? K.ETHERTYPE_IPV6 : K.ETHERTYPE_IPV4;
      break;
    case 228:
      etherType = K.ETHERTYPE_IPV4;
      break;
    case 229:
      etherType = K.ETHERTYPE_IPV6;
      break;
    case 9: // PPP, optionally with HDLC-like address and control bytes
    case 50: {
      // PPP in HDLC-like framing
      if (capLen >= 2 && v.getUint16(o) === 0xff03) o += 2;
      if (end - o < 1) return Decode.TruncatedLink;
      // Protocol-field compression (RFC 1661 §6.5): a protocol whose first byte is odd is that one byte.
      const first = v.getUint8(o);
      if (first & 1) {
        etherType = pppEtherType(first);
        o += 1;
      } else {
        if (end - o < 2) return Decode.TruncatedLink;
        etherType = pppEtherType(v.getUint16(o));
        o += 2;
      }
      break;
    }
    case 104: // Cisco HDLC: address, control, then an EtherType
      if (capLen < 4) return Decode.TruncatedLink;
      etherType = v.getUint16(o + 2);
      o += 4;
      break;
    case 105:
    case 127:
    case 192: {
      const at = wifiEtherTypeOffset(linkType, v, o, end);
      if (at < 0) return -at as Decode;
      etherType = v.getUint16(at);
      o = at + 2;
      break;
    }
    case 117: {
      // OpenBSD pflog (also pfSense/FreeBSD): header length (padded to 4 bytes) and address family first
      if (capLen < 4) return Decode.TruncatedLink;
      const headerLen = (v.getUint8(o) + 3) & ~3;
      if (headerLen < 4 || capLen < headerLen) return Decode.TruncatedLink;
      etherType = addressFamilyEtherType(v.getUint8(o + 1));
      o += headerLen;
      break;
    }
    case 239: {
      // Linux NFLOG: family, version, resource id, then TLVs whose length and type are in the capturing host's byte
      // order (types are small, so a big one means the other order); the payload TLV holds the IP packet
      if (capLen < 4) return Decode.TruncatedLink;
      etherType = addressFamilyEtherType(v.getUint8(o));
      let tlv = o + 4;
      for (;;) {
        if (end - tlv < 4) return Decode.NonIp; // no payload TLV: a log entry without the packet
        let little = true;
        let type = v.getUint16(tlv + 2, true);
        if (type > 0xff) {
          little = false;
          type = v.getUint16(tlv + 2);
        }
        const len = v.getUint16(tlv, little);
        if (len < 4 || end - tlv < len) return Decode.TruncatedLink;
        if (type === NFULA_PAYLOAD) {
          o = tlv + 4;
          break;
        }
        tlv += (len + 3) & ~3;
      }
      break;
    }
    case 0: // BSD null: address family in host byte order
    case 108: {
      // BSD loop: network byte order
      if (capLen < 4) return Decode.TruncatedLink;
      let family = linkType === 108 ? v.getUint32(o) : v.getUint32(o, true);
      if (family > 0xffff) family = v.getUint32(o);
      o += 4;
      etherType = addressFamilyEtherType(family);
      break;
    }
    default:
      return Decode.UnsupportedLink;
  }
  return decodeEtherPayload(v, etherType, o, end, out, 0);
}

/** Nested tunnels opened at most; a tunnel deeper than this is metered by the header that carries it. */
const MAX_TUNNEL_DEPTH = 4;

/**
 * What an EtherType says follows at `o`: an Ethernet frame (0x6558, inside a tunnel), 802.1Q / 802.1ad tags at any
 * depth (QinQ; the outermost VLAN id is kept, an untagged tunnel's inner tag otherwise), IP, a PPPoE session or an
 * MPLS label stack. `depth` counts the tunnels opened so far.
 */
function decodeEtherPayload(v: DataView<ArrayBufferLike>, etherType: number, o: number, end: number, out: DecodedPacket, depth: number): Decode {
  if (etherType === K.ETHERTYPE_TEB) {
    if (end - o < 14) return Decode.TruncatedLink;
    etherType = v.getUint16(o + 12);
    o += 14;
  }
  let tagged = false;
  while (etherType === K.ETHERTYPE_VLAN || etherType === K.ETHERTYPE_QINQ || etherType === K.ETHERTYPE_QINQ_OLD) {
    if (end - o < 4) return Decode.TruncatedLink;
    if (!tagged) {
      if (out.vlan === 0) out.vlan = v.getUint16(o) & 0x0fff;
      tagged = true;
    }
    etherType = v.getUint16(o + 2);
    o += 4;
  }
  if (etherType === K.ETHERTYPE_PPPOE_SESSION) {
    // version/type, code, session id, length, then the PPP protocol
    if (end - o < 8) return Decode.TruncatedLink;
    etherType = pppEtherType(v.getUint16(o + 6));
    o += 8;
  }
  if (etherType === K.ETHERTYPE_MPLS || etherType === K.ETHERTYPE_MPLS_MULTICAST) {
    // 4-byte label stack entries up to the one with the bottom-of-stack bit; MPLS does not say what follows, the IP
    // version nibble does (an Ethernet pseudowire's control word starts with 0).
    for (;;) {
      if (end - o < 4) return Decode.TruncatedLink;
      const bottom = v.getUint8(o + 2) & 1;
      o += 4;
      if (bottom) break;
    }
    if (end - o < 1) return Decode.TruncatedIp;
    const version = v.getUint8(o) >> 4;
    etherType = version === 4 ? K.ETHERTYPE_IPV4 : version === 6 ? K.ETHERTYPE_IPV6 : K.NOT_IP;
  }
  if (etherType === K.ETHERTYPE_IPV4) return decodeIpv4(v, o, end, out, depth);
  if (etherType === K.ETHERTYPE_IPV6) return decodeIpv6(v, o, end, out, depth);
  return Decode.NonIp;
}

/** NFLOG attribute type of the logged packet (linux/netfilter/nfnetlink_log.h NFULA_PAYLOAD). */
const NFULA_PAYLOAD = 9;

/** EtherType of an address family (AF_INET 2; AF_INET6 10 on Linux, 24 OpenBSD, 28 FreeBSD, 30 macOS), else NOT_IP. */
function addressFamilyEtherType(family: number): number {
  if (family === 2) return K.ETHERTYPE_IPV4;
  if (family === 10 || family === 24 || family === 28 || family === 30) return K.ETHERTYPE_IPV6;
  return K.NOT_IP;
}

/** EtherType of the IP a PPP protocol number carries (IPv4, IPv6, MPLS unicast and multicast), else NOT_IP. */
function pppEtherType(protocol: number): number {
  if (protocol === 0x0021) return K.ETHERTYPE_IPV4;
  if (protocol === 0x0057) return K.ETHERTYPE_IPV6;
  if (protocol === 0x0281) return K.ETHERTYPE_MPLS;
  if (protocol === 0x0283) return K.ETHERTYPE_MPLS_MULTICAST;
  return K.NOT_IP;
}

/**
 * Offset of the EtherType in the LLC/SNAP header of an IEEE 802.11 data frame, after its radiotap (127) or PPI (192)
 * header if any; a negative Decode reason when there is none: not a data frame or one without a body (non-ip), a
 * protected (encrypted) body, a header past the captured bytes, or a PPI header of another link type.
 */
function wifiEtherTypeOffset(linkType: number, v: DataView<ArrayBufferLike>, o: number, end: number): number {
  if (linkType !== 105) {
    // radiotap and PPI both give their own length, little-endian, at byte 2; PPI gives the link type after it
    if (end - o < 8) return -Decode.TruncatedLink;
    const headerLen = v.getUint16(o + 2, true);
    if (linkType === 192 && v.getUint32(o + 4, true) !== 105) return -Decode.UnsupportedLink;
    if (headerLen < 8 || end - o < headerLen) return -Decode.TruncatedLink;
    o += headerLen;
  }
  if (end - o < 24) return -Decode.TruncatedLink;
  const control = v.getUint8(o);
  const flags = v.getUint8(o + 1);
  // type 2 is data; subtype bit 2 (0x40 here) marks the null and CF-only subtypes that carry no body
  if ((control & 0x0c) !== 0x08 || control & 0x40) return -Decode.NonIp;
  if (flags & 0x40) return -Decode.Encrypted80211;
  let header = 24;
  if ((flags & 3) === 3) header += 6; // to and from the distribution system: a fourth address
  if (control & 0x80) header += flags & 0x80 ? 6 : 2; // QoS control, and HT control when the order bit is set
  const llc = o + header;
  if (end - llc < 8) return -Decode.TruncatedLink;
  if (v.getUint16(llc) !== 0xaaaa || v.getUint8(llc + 2) !== 3) return -Decode.NonIp;
  return llc + 6;
}

function decodeIpv4(v: DataView<ArrayBufferLike>, o: number, end: number, out: DecodedPacket, depth: number): Decode {
  if (end - o < 20) return Decode.TruncatedIp;
  const vihl = v.getUint8(o);
  if (vihl >> 4 !== 4) return Decode.BadIpVersion;
  const ihl = (vihl & 15) * 4;
  let total = v.getUint16(o + 2);
  if (total === 0) total = end - o; // TCP segmentation offload captures write 0
  if (ihl < 20 || total < ihl) return Decode.BadIpHeader;
  if (end - o < ihl) return Decode.TruncatedIp;
  out.ipVersion = 4;
  out.src[0] = v.getUint32(o + 12);
  out.dst[0] = v.getUint32(o + 16);
  out.src[1] = out.src[2] = out.src[3] = 0;
  out.dst[1] = out.dst[2] = out.dst[3] = 0;
  out.ipBytes = total;
  const flagsFrag = v.getUint16(o + 6);
  const fragOffset = flagsFrag & 0x1fff;
  out.fragment = fragOffset !== 0 ? 2 : flagsFrag & 0x2000 ? 1 : 0;
  return decodeTransport(v, o + ihl, end, v.getUint8(o + 9), total - ihl, out, depth);
}

function decodeIpv6(v: DataView<ArrayBufferLike>, o: number, end: number, out: DecodedPacket, depth: number): Decode {
  if (end - o < 40) return Decode.TruncatedIp;
  if (v.getUint8(o) >> 4 !== 6) return Decode.BadIpVersion;
  let payload = v.getUint16(o + 4);
  if (payload === 0) payload = end - o - 40; // jumbogram or offload: use what was captured
  out.ipVersion = 6;
  for (let i = 0; i < 4; i++) {
    out.src[i] = v.getUint32(o + 8 + 4 * i);
    out.dst[i] = v.getUint32(o + 24 + 4 * i);
  }
  out.ipBytes = 40 + payload;
  out.fragment = 0;
  let next = v.getUint8(o + 6);
  let p = o + 40;
  let remaining = payload;
  // Extension headers (bounded: each consumes ≥ 8 bytes of the captured data).
  for (;;) {
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (end - p < 8) return Decode.TruncatedTransport;
      const len = (v.getUint8(p + 1) + 1) * 8;
      next = v.getUint8(p);
      p += len;
      remaining -= len;
    } else if (next === 44) {
      if (end - p < 8) return Decode.TruncatedTransport;
      const fragField = v.getUint16(p + 2);
      out.fragment = fragField >> 3 !== 0 ? 2 : fragField & 1 ? 1 : 0;
      next = v.getUint8(p);
      p += 8;
      remaining -= 8;
    } else if (next === 51) {
      if (end - p < 8) return Decode.TruncatedTransport;
      const len = (v.getUint8(p + 1) + 2) * 4;
      next = v.getUint8(p);
      p += len;
      remaining -= len;
    } else break;
    if (remaining < 0) return Decode.BadIpHeader;
  }
  return decodeTransport(v, p, end, next, remaining, out, depth);
}

/** Bytes of a transport header that hold what is read of it (TCP through the window, UDP, SCTP, ICMP type and code); a
 * fixed header (UDP, SCTP) is exactly that long. */
function transportHeaderMinimum(protocol: number): number {
  if (protocol === 6) return 20;
  if (protocol === 17 || protocol === 136) return 8;
  if (protocol === 132) return 12;
  if (protocol === 1 || protocol === 58) return 4;
  return 0;
}

/**
 * `l4Len` is the transport length from the IP header (header + payload), independent of what was captured. A tunnel
 * (unfragmented, within MAX_TUNNEL_DEPTH) gives way to the packet it carries.
 */
function decodeTransport(v: DataView<ArrayBufferLike>, o: number, end: number, protocol: number, l4Len: number, out: DecodedPacket, depth: number): Decode {
  out.protocol = protocol;
  out.tcpFlags = 0;
  out.tcpWindow = 0;
  out.icmpType = -1;
  out.icmpCode = -1;
  out.srcPort = 0;
  out.dstPort = 0;
  const minimum = transportHeaderMinimum(protocol);
  if (out.fragment === 2 || protocol === 59 || (out.fragment === 1 && l4Len < minimum)) {
    // A later fragment carries no transport header, nor does a first one too short to hold it (RFC 1858 tiny
    // fragments); their bytes still belong to the conversation (ports 0).
    out.l4HeaderLen = 0;
    out.payloadLen = l4Len;
    return Decode.OK;
  }
  if (end - o < minimum) return Decode.TruncatedTransport;
  switch (protocol) {
    case 6: {
      const hl = (v.getUint8(o + 12) >> 4) * 4;
      if (hl < 20) return Decode.BadTcpHeader;
      out.srcPort = v.getUint16(o);
      out.dstPort = v.getUint16(o + 2);
      out.tcpFlags = v.getUint8(o + 13);
      out.tcpWindow = v.getUint16(o + 14);
      out.l4HeaderLen = hl;
      out.payloadLen = l4Len > hl ? l4Len - hl : 0;
      return Decode.OK;
    }
    case 17:
    case 136: // UDP-Lite shares UDP's header layout
    case 132: {
      // SCTP: ports, verification tag, checksum; then chunks (payload here)
      out.srcPort = v.getUint16(o);
      out.dstPort = v.getUint16(o + 2);
      out.l4HeaderLen = minimum;
      out.payloadLen = l4Len > minimum ? l4Len - minimum : 0;
      const port = out.dstPort;
      if (protocol !== 17 || (port !== 4789 && port !== 6081 && port !== 2152) || out.fragment !== 0 || depth === MAX_TUNNEL_DEPTH) return Decode.OK;
      const inner = udpTunnelEtherType(v, port, o + 8, end);
      return inner === K.NOT_IP ? Decode.OK : decodeEtherPayload(v, inner, tunnelPayloadOffset, end, out, depth + 1);
    }
    case 1:
    case 58:
      out.icmpType = v.getUint8(o);
      out.icmpCode = v.getUint8(o + 1);
      out.l4HeaderLen = 8;
      out.payloadLen = l4Len > 8 ? l4Len - 8 : 0;
      return Decode.OK;
    default: {
      out.l4HeaderLen = 0;
      out.payloadLen = l4Len > 0 ? l4Len : 0;
      if (out.fragment !== 0 || depth === MAX_TUNNEL_DEPTH) return Decode.OK;
      const inner = ipTunnelEtherType(v, protocol, o, end);
      return inner === K.NOT_IP ? Decode.OK : decodeEtherPayload(v, inner, tunnelPayloadOffset, end, out, depth + 1);
    }
  }
}

/**
 * Where the packet inside the last tunnel header read starts (set by the two functions below with the EtherType they
 * return). A tunnel header that is cut short, of another version or carrying something else (NOT_IP) leaves its
 * packet metered as it is; once it is read, the inner packet's outcome is the packet's.
 */
let tunnelPayloadOffset = 0;

/** IP in IP (protocol 4), IPv6 in IP (41), GRE (47) version 0 without the deprecated routing field. */
function ipTunnelEtherType(v: DataView<ArrayBufferLike>, protocol: number, o: number, end: number): number {
  tunnelPayloadOffset = o;
  if (protocol === 4) return K.ETHERTYPE_IPV4;
  if (protocol === 41) return K.ETHERTYPE_IPV6;
  if (protocol !== 47 || end - o < 4) return K.NOT_IP;
  const flags = v.getUint8(o);
  if (flags & 0x40 || (v.getUint8(o + 1) & 7) !== 0) return K.NOT_IP;
  // optional checksum (+ reserved), key and sequence number words
  let at = o + 4 + (flags & 0x80 ? 4 : 0) + (flags & 0x20 ? 4 : 0) + (flags & 0x10 ? 4 : 0);
  let etherType = v.getUint16(o + 2);
  if (etherType === K.ETHERTYPE_ERSPAN_II) {
    // type II has an 8-byte header (version 1) and a sequence number; type I has neither
    if (flags & 0x10) {
      if (end - at < 8 || v.getUint8(at) >> 4 !== 1) return K.NOT_IP;
      at += 8;
    }
    etherType = K.ETHERTYPE_TEB;
  } else if (etherType === K.ETHERTYPE_ERSPAN_III) {
    // 12 bytes (version 2), then an 8-byte platform subheader when the O bit is set; frame type 0 is Ethernet
    if (end - at < 12 || v.getUint8(at) >> 4 !== 2 || (v.getUint8(at + 10) >> 2) & 0x1f) return K.NOT_IP;
    at += v.getUint8(at + 11) & 1 ? 20 : 12;
    etherType = K.ETHERTYPE_TEB;
  }
  if (!tunnelledEtherType(etherType)) return K.NOT_IP;
  tunnelPayloadOffset = at;
  return etherType;
}

/** VXLAN (UDP 4789, the I flag set), Geneve (6081, version 0) or GTP-U (2152, version 1 G-PDU) from the UDP payload at `o`. */
function udpTunnelEtherType(v: DataView<ArrayBufferLike>, dstPort: number, o: number, end: number): number {
  if (dstPort === 4789) {
    if (end - o < 8 || !(v.getUint8(o) & 0x08)) return K.NOT_IP;
    tunnelPayloadOffset = o + 8;
    return K.ETHERTYPE_TEB;
  }
  if (dstPort === 6081) {
    if (end - o < 8) return K.NOT_IP;
    const head = v.getUint8(o);
    const etherType = v.getUint16(o + 2);
    if (head >> 6 !== 0 || !tunnelledEtherType(etherType)) return K.NOT_IP;
    tunnelPayloadOffset = o + 8 + (head & 0x3f) * 4;
    return etherType;
  }
  // GTP-U (port 2152: the caller passes no other)
  if (end - o < 8) return K.NOT_IP;
  const flags = v.getUint8(o);
  if ((flags & 0xf0) !== 0x30 || v.getUint8(o + 1) !== 0xff) return K.NOT_IP;
  let at = o + 8;
  if (flags & 7) {
    // sequence number, N-PDU number, next extension header type; then extension headers, each its length in
    // 4-byte units first and the next one's type last
    if (end - at < 4) return K.NOT_IP;
    let next = flags & 4 ? v.getUint8(at + 3) : 0;
    at += 4;
    while (next !== 0) {
      if (end - at < 4) return K.NOT_IP;
      const len = v.getUint8(at) * 4;
      if (len === 0 || end - at < len) return K.NOT_IP;
      next = v.getUint8(at + len - 1);
      at += len;
    }
  }
  if (end - at < 1) return K.NOT_IP;
  const version = v.getUint8(at) >> 4;
  tunnelPayloadOffset = at;
  return version === 4 ? K.ETHERTYPE_IPV4 : version === 6 ? K.ETHERTYPE_IPV6 : K.NOT_IP;
}

/** EtherTypes a tunnel may carry here: IP, MPLS or an Ethernet frame. */
function tunnelledEtherType(etherType: number): boolean {
  return etherType === K.ETHERTYPE_IPV4 || etherType === K.ETHERTYPE_IPV6 || etherType === K.ETHERTYPE_TEB || etherType === K.ETHERTYPE_MPLS || etherType === K.ETHERTYPE_MPLS_MULTICAST;
}

// Packet decoding from the link layer to the transport header, into a reused DecodedPacket: O(header bytes), no
// allocation. Link types (tcpdump.org LINKTYPE_*): Ethernet (1) with 802.1Q/802.1ad/QinQ tags, Linux SLL (113) and
// SLL2 (276), raw IP (101, and DLT 12/14 as some systems write it), IPv4 (228), IPv6 (229), BSD null (0) and loop
// (108), PPP (9, 50; RFC 1661/1662), Cisco HDLC (104), IEEE 802.11 data frames (105) bare, behind radiotap (127) or
// PPI (192), with their LLC/SNAP header (IEEE 802.2, RFC 1042), OpenBSD pflog (117) and Linux NFLOG (239), as
// tcpdump.org's link-layer header types page describes them. Between link and IP: PPPoE sessions (RFC 2516) and MPLS
// label stacks (RFC 3032). IPv4 (RFC 791) with options and fragments; IPv6 (RFC 8200) with hop-by-hop, routing,
// fragment, destination options, AH (RFC 4302) and mobility headers; TCP (RFC 9293), UDP (RFC 768), SCTP (RFC 9260),
// ICMP (RFC 792), ICMPv6 (RFC 4443). Tunnels are opened to the packet inside, as Zeek does (tunnels.ts reads their
// headers): IP in IP, GRE with ERSPAN and PPTP, VXLAN, VXLAN-GPE, Geneve, GTP-U, L2TP and Teredo.

import { Decode, DecodedPacket, EtherType } from './packet.js';
import { ipTunnelEtherType, isUdpTunnelPort, payloadOffset, pppEtherType, pppFrameEtherType, udpTunnelEtherType } from './tunnels.js';

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
      etherType = v.getUint8(o) >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
      break;
    case 228:
      etherType = EtherType.IPV4;
      break;
    case 229:
      etherType = EtherType.IPV6;
      break;
    case 9: // PPP, optionally with HDLC-like address and control bytes
    case 50: // PPP in HDLC-like framing
      etherType = pppFrameEtherType(v, o, end);
      if (etherType === EtherType.PPP_TRUNCATED) return Decode.TruncatedLink;
      o = payloadOffset;
      break;
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
  if (etherType === EtherType.TEB) {
    if (end - o < 14) return Decode.TruncatedLink;
    etherType = v.getUint16(o + 12);
    o += 14;
  }
  let tagged = false;
  while (etherType === EtherType.VLAN || etherType === EtherType.QINQ || etherType === EtherType.QINQ_OLD) {
    if (end - o < 4) return Decode.TruncatedLink;
    if (!tagged) {
      if (out.vlan === 0) out.vlan = v.getUint16(o) & 0x0fff;
      tagged = true;
    }
    etherType = v.getUint16(o + 2);
    o += 4;
  }
  if (etherType === EtherType.PPPOE_SESSION) {
    // version/type, code, session id, length, then the PPP protocol
    if (end - o < 8) return Decode.TruncatedLink;
    etherType = pppEtherType(v.getUint16(o + 6));
    o += 8;
  }
  if (etherType === EtherType.MPLS || etherType === EtherType.MPLS_MULTICAST) {
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
    etherType = version === 4 ? EtherType.IPV4 : version === 6 ? EtherType.IPV6 : EtherType.NOT_IP;
  }
  if (etherType === EtherType.IPV4) return decodeIpv4(v, o, end, out, depth);
  if (etherType === EtherType.IPV6) return decodeIpv6(v, o, end, out, depth);
  return Decode.NonIp;
}

/** NFLOG attribute type of the logged packet (linux/netfilter/nfnetlink_log.h NFULA_PAYLOAD). */
const NFULA_PAYLOAD = 9;

/** EtherType of an address family (AF_INET 2; AF_INET6 10 on Linux, 24 OpenBSD, 28 FreeBSD, 30 macOS), else NOT_IP. */
function addressFamilyEtherType(family: number): number {
  if (family === 2) return EtherType.IPV4;
  if (family === 10 || family === 24 || family === 28 || family === 30) return EtherType.IPV6;
  return EtherType.NOT_IP;
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
      if (protocol !== 17 || !isUdpTunnelPort(out.srcPort, out.dstPort) || out.fragment !== 0 || depth === MAX_TUNNEL_DEPTH) return Decode.OK;
      const inner = udpTunnelEtherType(v, out.srcPort, out.dstPort, o + 8, end);
      return inner === EtherType.NOT_IP ? Decode.OK : decodeEtherPayload(v, inner, payloadOffset, end, out, depth + 1);
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
      return inner === EtherType.NOT_IP ? Decode.OK : decodeEtherPayload(v, inner, payloadOffset, end, out, depth + 1);
    }
  }
}

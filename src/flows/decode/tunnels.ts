// Tunnel headers, read to the packet they carry as Zeek and tshark open them: IP in IP (RFC 2003, RFC 4213); GRE
// version 0 (RFC 2784, RFC 2890) carrying IP, MPLS, Ethernet or ERSPAN types I–III (Cisco's draft-foschiano-erspan),
// and PPTP's enhanced GRE, version 1 (RFC 2637 §4.1); over UDP, VXLAN (RFC 7348; port 4789, and 8472, Linux's
// default), VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe; 4790), Geneve (RFC 8926; 6081), GTP-U (3GPP TS 29.281; 2152),
// L2TPv2 data messages (RFC 2661; 1701) and Teredo (RFC 4380; 3544). Also the PPP header (RFC 1661 in RFC 1662's
// HDLC-like framing) that PPTP, L2TP and PPP links carry. Each reader returns the EtherType of what follows the header
// and sets `payloadOffset` to where it starts; a header cut short, of another version or carrying anything else gives
// NOT_IP, and the caller meters the packet as it is. No allocation.

import { EtherType } from './packet.js';

/** Where the packet after the last header read starts (set with the EtherType a reader below returns). */
export let payloadOffset = 0;

/** IP in IP (protocol 4), IPv6 in IP (41), GRE (47) version 0 or PPTP's version 1, without the deprecated routing field. */
export function ipTunnelEtherType(v: DataView<ArrayBufferLike>, protocol: number, o: number, end: number): number {
  payloadOffset = o;
  if (protocol === 4) return EtherType.IPV4;
  if (protocol === 41) return EtherType.IPV6;
  if (protocol !== 47 || end - o < 4) return EtherType.NOT_IP;
  const flags = v.getUint8(o);
  const ackVersion = v.getUint8(o + 1);
  const version = ackVersion & 7;
  if (flags & 0x40 || version > 1) return EtherType.NOT_IP;
  // optional checksum (+ reserved), key and sequence number words
  let at = o + 4 + (flags & 0x80 ? 4 : 0) + (flags & 0x20 ? 4 : 0) + (flags & 0x10 ? 4 : 0);
  let etherType = v.getUint16(o + 2);
  if (version === 1) {
    // PPTP: the key (payload length, call id) is always there; an acknowledgment number (the A flag) may follow the
    // sequence number; then a PPP frame
    if (etherType !== EtherType.PPP || !(flags & 0x20)) return EtherType.NOT_IP;
    return pppTunnelEtherType(v, ackVersion & 0x80 ? at + 4 : at, end);
  }
  if (etherType === EtherType.ERSPAN_II) {
    // type II has an 8-byte header (version 1) and a sequence number; type I has neither
    if (flags & 0x10) {
      if (end - at < 8 || v.getUint8(at) >> 4 !== 1) return EtherType.NOT_IP;
      at += 8;
    }
    etherType = EtherType.TEB;
  } else if (etherType === EtherType.ERSPAN_III) {
    // 12 bytes (version 2), then an 8-byte platform subheader when the O bit is set; frame type 0 is Ethernet
    if (end - at < 12 || v.getUint8(at) >> 4 !== 2 || (v.getUint8(at + 10) >> 2) & 0x1f) return EtherType.NOT_IP;
    at += v.getUint8(at + 11) & 1 ? 20 : 12;
    etherType = EtherType.TEB;
  }
  if (!tunnelledEtherType(etherType)) return EtherType.NOT_IP;
  payloadOffset = at;
  return etherType;
}

/**
 * Whether a UDP packet between these ports is one udpTunnelEtherType reads: Teredo and L2TP from or to their port (a
 * server answers from it), the others to theirs.
 */
export function isUdpTunnelPort(srcPort: number, dstPort: number): boolean {
  return (
    dstPort === 4789 || dstPort === 6081 || dstPort === 2152 || dstPort === 4790 || dstPort === 8472 ||
    dstPort === 1701 || dstPort === 3544 || srcPort === 1701 || srcPort === 3544
  );
}

/** The tunnel in the UDP payload at `o` of a packet between ports isUdpTunnelPort accepts. */
export function udpTunnelEtherType(v: DataView<ArrayBufferLike>, srcPort: number, dstPort: number, o: number, end: number): number {
  switch (dstPort) {
    case 4789:
    case 8472:
      // VXLAN: the I flag set
      if (end - o < 8 || !(v.getUint8(o) & 0x08)) return EtherType.NOT_IP;
      payloadOffset = o + 8;
      return EtherType.TEB;
    case 4790:
      return vxlanGpeEtherType(v, o, end);
    case 6081: {
      // Geneve version 0; options skipped
      if (end - o < 8) return EtherType.NOT_IP;
      const head = v.getUint8(o);
      const etherType = v.getUint16(o + 2);
      if (head >> 6 !== 0 || !tunnelledEtherType(etherType)) return EtherType.NOT_IP;
      payloadOffset = o + 8 + (head & 0x3f) * 4;
      return etherType;
    }
    case 2152:
      return gtpuEtherType(v, o, end);
  }
  return dstPort === 1701 || srcPort === 1701 ? l2tpEtherType(v, o, end) : teredoEtherType(v, o, end);
}

/** VXLAN-GPE: flags (version 0, the P bit set), then the next protocol in byte 3: 1 IPv4, 2 IPv6, 3 Ethernet. */
function vxlanGpeEtherType(v: DataView<ArrayBufferLike>, o: number, end: number): number {
  if (end - o < 8 || (v.getUint8(o) & 0x34) !== 0x04) return EtherType.NOT_IP;
  const next = v.getUint8(o + 3);
  payloadOffset = o + 8;
  return next === 1 ? EtherType.IPV4 : next === 2 ? EtherType.IPV6 : next === 3 ? EtherType.TEB : EtherType.NOT_IP;
}

/** A GTP-U G-PDU: version 1, protocol type GTP, message type 255; extension headers skipped; then IP. */
function gtpuEtherType(v: DataView<ArrayBufferLike>, o: number, end: number): number {
  if (end - o < 8) return EtherType.NOT_IP;
  const flags = v.getUint8(o);
  if ((flags & 0xf0) !== 0x30 || v.getUint8(o + 1) !== 0xff) return EtherType.NOT_IP;
  let at = o + 8;
  if (flags & 7) {
    // sequence number, N-PDU number, next extension header type; then extension headers, each its length in
    // 4-byte units first and the next one's type last
    if (end - at < 4) return EtherType.NOT_IP;
    let next = flags & 4 ? v.getUint8(at + 3) : 0;
    at += 4;
    while (next !== 0) {
      if (end - at < 4) return EtherType.NOT_IP;
      const len = v.getUint8(at) * 4;
      if (len === 0 || end - at < len) return EtherType.NOT_IP;
      next = v.getUint8(at + len - 1);
      at += len;
    }
  }
  if (end - at < 1) return EtherType.NOT_IP;
  const version = v.getUint8(at) >> 4;
  payloadOffset = at;
  return version === 4 ? EtherType.IPV4 : version === 6 ? EtherType.IPV6 : EtherType.NOT_IP;
}

/**
 * An L2TPv2 data message (the T bit clear, version 2): flags, the length when the L bit is set, tunnel and session
 * ids, Ns and Nr when the S bit is set, an offset size and that much padding when the O bit is set; then a PPP frame.
 * Control messages, and L2TPv3 on the same port, are not tunnels.
 */
function l2tpEtherType(v: DataView<ArrayBufferLike>, o: number, end: number): number {
  if (end - o < 2) return EtherType.NOT_IP;
  const flags = v.getUint8(o);
  if (flags & 0x80 || (v.getUint8(o + 1) & 0x0f) !== 2) return EtherType.NOT_IP;
  let at = o + 6 + (flags & 0x40 ? 2 : 0) + (flags & 0x08 ? 4 : 0);
  if (flags & 0x02) {
    if (end - at < 2) return EtherType.NOT_IP;
    at += 2 + v.getUint16(at);
  }
  return pppTunnelEtherType(v, at, end);
}

/**
 * Teredo: an optional authentication indicator (0x0001, client id and authentication value lengths, those values, an
 * 8-byte nonce and a confirmation byte) and origin indication (0x0000, port, address: 8 bytes), then IPv6 directly.
 */
function teredoEtherType(v: DataView<ArrayBufferLike>, o: number, end: number): number {
  let at = o;
  if (end - at >= 4 && v.getUint16(at) === 1) at += 13 + v.getUint8(at + 2) + v.getUint8(at + 3);
  if (end - at >= 2 && v.getUint16(at) === 0) at += 8;
  if (end - at < 1 || v.getUint8(at) >> 4 !== 6) return EtherType.NOT_IP;
  payloadOffset = at;
  return EtherType.IPV6;
}

/**
 * A PPP frame at `o`: the address and control bytes FF 03 if there, then the protocol, one byte when compressed (an
 * odd first byte, RFC 1661 §6.5). Its EtherType (IP or MPLS, else NOT_IP), or PPP_TRUNCATED when cut short.
 */
export function pppFrameEtherType(v: DataView<ArrayBufferLike>, o: number, end: number): number {
  if (end - o >= 2 && v.getUint16(o) === 0xff03) o += 2;
  if (end - o < 1) return EtherType.PPP_TRUNCATED;
  const first = v.getUint8(o);
  if (first & 1) {
    payloadOffset = o + 1;
    return pppEtherType(first);
  }
  if (end - o < 2) return EtherType.PPP_TRUNCATED;
  payloadOffset = o + 2;
  return pppEtherType(v.getUint16(o));
}

/** The PPP frame a PPTP or L2TP header carries: cut short, it is no tunnel. */
function pppTunnelEtherType(v: DataView<ArrayBufferLike>, o: number, end: number): number {
  const etherType = pppFrameEtherType(v, o, end);
  return etherType === EtherType.PPP_TRUNCATED ? EtherType.NOT_IP : etherType;
}

/** EtherType of the IP a PPP protocol number carries (IPv4, IPv6, MPLS unicast and multicast), else NOT_IP. */
export function pppEtherType(protocol: number): number {
  if (protocol === 0x0021) return EtherType.IPV4;
  if (protocol === 0x0057) return EtherType.IPV6;
  if (protocol === 0x0281) return EtherType.MPLS;
  if (protocol === 0x0283) return EtherType.MPLS_MULTICAST;
  return EtherType.NOT_IP;
}

/** EtherTypes a tunnel may carry here: IP, MPLS or an Ethernet frame. */
function tunnelledEtherType(etherType: number): boolean {
  return etherType === EtherType.IPV4 || etherType === EtherType.IPV6 || etherType === EtherType.TEB || etherType === EtherType.MPLS || etherType === EtherType.MPLS_MULTICAST;
}

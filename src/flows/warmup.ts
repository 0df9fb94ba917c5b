// A small synthetic pcap (tcpdump.org savefile layout, Ethernet) whose packets take the paths of the reader, the
// decoder (RFC 791 IPv4 with a later fragment, RFC 8200 IPv6 with a hop-by-hop header, 802.1Q, TCP, UDP, ICMP, a
// non-IP frame) and the flow meter (handshake, bulks both ways, a > 5 s activity gap, FIN exchange and a trailing
// ACK, RST and a new SYN on the same 5-tuple, every TCP flag, one-packet flows ending idle in a burst, a connection
// split by the active timeout and continued without SYN). The meter runs it once per process through scratch
// meters (meter.ts, warmUp) so V8 compiles the hot functions with every path already seen: a path first taken later
// (the first UDP packet, the first URG flag, the first flow to end...) throws the compiled code away and compiles it
// again. Built in code, straight into bytes: no file, no garbage to speak of.

const T0_US = 1_600_000_000_000_000;
const CLIENT = 0x0a000001;
const SERVER = 0xc0a80001;
const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;
const RST = 0x04;
const SYN_ACK = 0x12;

/** Writes pcap records into one buffer; fields big-endian unless named `le`. Payload bytes stay zero. */
class CaptureWriter {
  private readonly bytes = new Uint8Array(1 << 15);
  private readonly view = new DataView(this.bytes.buffer);
  private pos = 0;
  private recordAt = 0;
  private us = 0;

  constructor() {
    // Global header: µs magic (little-endian, as most writers), version 2.4, snap length 65535, Ethernet.
    this.u32le(0xa1b2c3d4).u32le(0x00040002).u32le(0).u32le(0).u32le(65535).u32le(1);
  }

  private u32le(v: number): this {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  u8(v: number): this {
    this.bytes[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  skip(n: number): this {
    this.pos += n;
    return this;
  }

  /** Starts a record `gapUs` after the previous one, with its Ethernet header (and an 802.1Q tag). */
  frame(gapUs: number, etherType: number, vlan?: number): this {
    this.us += gapUs;
    const ts = T0_US + this.us;
    this.recordAt = this.pos;
    this.u32le(Math.floor(ts / 1e6)).u32le(ts % 1e6).skip(8);
    this.u32(0x02000000).u32(0x00010200).u32(0x00000002);
    if (vlan !== undefined) this.u16(0x8100).u16(vlan);
    return this.u16(etherType);
  }

  /** Ends the record: writes its captured and original lengths. */
  done(): void {
    const length = this.pos - this.recordAt - 16;
    this.view.setUint32(this.recordAt + 8, length, true);
    this.view.setUint32(this.recordAt + 12, length, true);
  }

  /** `totalLength` 0 is what captures with TCP segmentation offload hold. */
  ipv4(src: number, dst: number, protocol: number, l4Length: number, fragOffset = 0, totalLength = 20 + l4Length): this {
    return this.u8(0x45).u8(0).u16(totalLength).u16(1).u16(fragOffset).u8(64).u8(protocol).u16(0).u32(src).u32(dst);
  }

  /** IPv6 with one hop-by-hop header (8 bytes of padding options) before the transport. */
  ipv6(srcLast: number, dstLast: number, protocol: number, l4Length: number): this {
    this.u32(0x60000000).u16(8 + l4Length).u8(0).u8(64);
    this.u32(0x20010db8).u32(0).u32(0).u32(srcLast).u32(0x20010db8).u32(0).u32(0).u32(dstLast);
    return this.u8(protocol).u8(0).u8(1).u8(4).u32(0);
  }

  tcp(sport: number, dport: number, flags: number, payload: number): this {
    return this.u16(sport).u16(dport).u32(1).u32(1).u8(0x50).u8(flags).u16(29200).u32(0).skip(payload);
  }

  udp(sport: number, dport: number, payload: number): this {
    return this.u16(sport).u16(dport).u16(8 + payload).u16(0).skip(payload);
  }

  get capture(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

/** Packets in the warm-up capture (also a bound on its flows: each has at least one). */
export const WARM_UP_PACKETS = 142;

/** The warm-up capture: WARM_UP_PACKETS packets, about 18 kB, 20 minutes of packet time. */
export function warmUpCapture(): Uint8Array {
  const w = new CaptureWriter();
  const tcp = (gapUs: number, src: number, dst: number, sport: number, dport: number, flags: number, payload: number): void =>
    w.frame(gapUs, 0x0800).ipv4(src, dst, 6, 20 + payload).tcp(sport, dport, flags, payload).done();
  const udp = (gapUs: number, src: number, dst: number, sport: number, dport: number, payload: number, vlan?: number): void =>
    w.frame(gapUs, 0x0800, vlan).ipv4(src, dst, 17, 8 + payload).udp(sport, dport, payload).done();
  // A TCP connection: handshake, a bulk each way, a > 5 s gap, FIN exchange and a trailing ACK (absorbed).
  tcp(1000, CLIENT, SERVER, 40000, 80, SYN, 0);
  tcp(1000, SERVER, CLIENT, 80, 40000, SYN_ACK, 0);
  tcp(1000, CLIENT, SERVER, 40000, 80, ACK, 0);
  for (let i = 0; i < 5; i++) tcp(1000, CLIENT, SERVER, 40000, 80, PSH_ACK, 100);
  for (let i = 0; i < 5; i++) tcp(1000, SERVER, CLIENT, 80, 40000, PSH_ACK, 1400);
  tcp(6_000_000, CLIENT, SERVER, 40000, 80, 0xf8, 10);
  tcp(1000, CLIENT, SERVER, 40000, 80, FIN_ACK, 0);
  tcp(1000, SERVER, CLIENT, 80, 40000, FIN_ACK, 0);
  tcp(1000, CLIENT, SERVER, 40000, 80, ACK, 0);
  // Every flag; a RST, then a SYN on the same 5-tuple is a new flow, which the client resets.
  tcp(1000, CLIENT, SERVER, 40001, 443, 0xff, 20);
  tcp(1000, SERVER, CLIENT, 443, 40001, 0xe0 | ACK, 0);
  tcp(1000, CLIENT, SERVER, 40002, 443, SYN, 0);
  tcp(1000, SERVER, CLIENT, 443, 40002, RST, 0);
  tcp(1000, CLIENT, SERVER, 40002, 443, SYN, 0);
  tcp(3_000_000, CLIENT, SERVER, 40002, 443, RST | ACK, 0);
  // UDP both ways with shrinking payloads and a > 5 s gap, ICMP, a later IPv4 fragment, IPv6 with an extension
  // header, a VLAN tag, an IPv4 total length of 0 (segmentation offload), GRE, ARP.
  udp(1000, CLIENT, SERVER, 5353, 53, 40);
  udp(1000, SERVER, CLIENT, 53, 5353, 200);
  udp(1000, SERVER, CLIENT, 53, 5353, 100);
  udp(7_000_000, CLIENT, SERVER, 5353, 53, 20);
  w.frame(1000, 0x0800).ipv4(CLIENT, SERVER, 1, 64).u8(8).u8(0).u16(0).u32(0x00010001).skip(56).done();
  w.frame(1000, 0x0800).ipv4(SERVER, CLIENT, 17, 64, 185).skip(64).done();
  w.frame(1000, 0x86dd).ipv6(1, 2, 17, 108).udp(4000, 443, 100).done();
  udp(1000, CLIENT, SERVER, 6000, 123, 48, 7);
  w.frame(1000, 0x0800).ipv4(CLIENT, SERVER, 6, 20 + 100, 0, 0).tcp(40004, 80, PSH_ACK, 100).done();
  w.frame(1000, 0x0800).ipv4(CLIENT, SERVER, 47, 24).skip(24).done();
  w.frame(1000, 0x0806).skip(28).done();
  // A burst of one-packet flows (reflected SYN-ACKs: no SYN, so a split connection is looked up), ended idle together.
  for (let i = 0; i < 100; i++) tcp(100, SERVER + 1 + (i & 7), CLIENT, 80, 1024 + i, SYN_ACK, 0);
  // A slow connection: one packet every 50 s, split by the 120 s active timeout and continued without SYN.
  tcp(200_000_000, CLIENT, SERVER, 40003, 8080, SYN, 0);
  for (let i = 0; i < 6; i++) tcp(50_000_000, CLIENT, SERVER, 40003, 8080, PSH_ACK, 10);
  tcp(400_000_000, CLIENT, SERVER, 40003, 8080, PSH_ACK, 10);
  return w.capture;
}

/**
 * Feeds the warm-up capture to a capture reader in three chunks cut inside records, so the reader's paths for records
 * split across chunks run too.
 */
export function pushWarmUpCapture(reader: { push(chunk: Uint8Array): void; end(): void }, capture = warmUpCapture()): void {
  const third = Math.floor(capture.length / 3);
  reader.push(capture.subarray(0, third));
  reader.push(capture.subarray(third, 2 * third));
  reader.push(capture.subarray(2 * third));
  reader.end();
}

// Link/IP/transport decoding of hand-built packets: every link type, VLAN and QinQ, IPv4 options and fragments,
// IPv6 extension headers, TCP/UDP/ICMP/ICMPv6 fields, and the skip reasons for broken packets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket } from '../../src/flows/decode/decode.js';
import { DECODE_REASONS, DecodedPacket, formatAddress } from '../../src/flows/decode/packet.js';
import { ipv6Text } from '../../src/io/netflow/batch.js';
import { ethernet, icmp, ipv4, ipv6, tcp, udp } from './packet-builder.js';

function decode(linkType: number, bytes: number[], capLen = bytes.length): { reason: string; p: DecodedPacket } {
  const p = new DecodedPacket();
  const status = decodePacket(linkType, Uint8Array.from(bytes), 0, capLen, p);
  return { reason: DECODE_REASONS[status]!, p };
}

const tcpSyn = tcp({ sport: 1234, dport: 443, flags: 0x02, window: 64240, options: [2, 4, 5, 0xb4], payload: 0 });

test('Ethernet + IPv4 with options + TCP: addresses, ports, flags, window, header and payload lengths', () => {
  const l4 = tcp({ sport: 1234, dport: 80, flags: 0x18, window: 501, options: Array<number>(12).fill(1), payload: 77 });
  const { reason, p } = decode(1, ethernet(ipv4({ src: '192.168.1.10', dst: '8.8.4.4', protocol: 6, options: [1, 1, 1, 0] }, l4)));
  assert.equal(reason, 'ok');
  assert.equal(formatAddress(4, p.src), '192.168.1.10');
  assert.equal(formatAddress(4, p.dst), '8.8.4.4');
  assert.deepEqual([p.protocol, p.srcPort, p.dstPort, p.tcpFlags, p.tcpWindow, p.l4HeaderLen, p.payloadLen, p.ipBytes], [6, 1234, 80, 0x18, 501, 32, 77, 24 + 32 + 77]);
  assert.equal(p.vlan, 0);
});

test('802.1Q and QinQ: the outermost VLAN id is kept', () => {
  const l3 = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(53, 5353, 10));
  assert.equal(decode(1, ethernet(l3, 0x0800, [42])).p.vlan, 42);
  const qinq = decode(1, ethernet(l3, 0x0800, [100, 200]));
  assert.equal(qinq.reason, 'ok');
  assert.equal(qinq.p.vlan, 100);
  assert.equal(qinq.p.dstPort, 5353);
});

test('Linux SLL, SLL2, raw IP, BSD null and loop link types', () => {
  const l3 = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6 }, tcpSyn);
  const sll = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00, ...l3];
  const sll2 = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...l3];
  for (const [link, bytes] of [[113, sll], [276, sll2], [101, l3], [228, l3], [0, [2, 0, 0, 0, ...l3]], [0, [0, 0, 0, 2, ...l3]], [108, [0, 0, 0, 2, ...l3]]] as const) {
    const { reason, p } = decode(link, [...bytes]);
    assert.equal(reason, 'ok', `link type ${link}`);
    assert.equal(p.dstPort, 443, `link type ${link}`);
    assert.equal(p.tcpFlags, 0x02);
  }
  assert.equal(decode(147, l3).reason, 'unsupported-link-type');
  assert.equal(decode(1, ethernet([0, 1, 8, 0, 6, 4, 0, 1], 0x0806)).reason, 'non-ip');
});

test('IPv6 with hop-by-hop and destination options, UDP; ICMPv6; and RFC 5952 text', () => {
  const hbh: [number, number[]] = [0, [0, 0, 1, 4, 0, 0, 0, 0]];
  const dst: [number, number[]] = [60, [0, 1, 1, 12, ...Array<number>(12).fill(0)]];
  const { reason, p } = decode(229, ipv6('2001:db8::1', 'fe80::abcd:0:0:1', 17, udp(546, 547, 20), [hbh, dst]));
  assert.equal(reason, 'ok');
  assert.deepEqual([p.ipVersion, p.protocol, p.srcPort, p.dstPort, p.payloadLen, p.ipBytes], [6, 17, 546, 547, 20, 40 + 8 + 16 + 28]);
  assert.equal(formatAddress(6, p.src), '2001:db8::1');
  assert.equal(formatAddress(6, p.dst), 'fe80::abcd:0:0:1');
  const echo = decode(1, ethernet(ipv6('::1', '::2', 58, icmp(128, 0, 8)), 0x86dd));
  assert.deepEqual([echo.reason, echo.p.protocol, echo.p.icmpType, echo.p.icmpCode, echo.p.payloadLen], ['ok', 58, 128, 0, 8]);
});

test('fragments: the first keeps its ports, later ones (IPv4 and IPv6) have none', () => {
  const first = decode(101, ipv4({ src: '9.9.9.9', dst: '8.8.8.8', protocol: 17, moreFragments: true }, udp(53, 40000, 100)));
  assert.deepEqual([first.p.fragment, first.p.srcPort], [1, 53]);
  const later = decode(101, ipv4({ src: '9.9.9.9', dst: '8.8.8.8', protocol: 17, fragOffset: 14 }, Array<number>(50).fill(0)));
  assert.deepEqual([later.reason, later.p.fragment, later.p.srcPort, later.p.dstPort, later.p.payloadLen], ['ok', 2, 0, 0, 50]);
  const frag6: [number, number[]] = [44, [0, 0, 0x00, 0x08, 0, 0, 0, 1]]; // offset 1 (× 8 bytes)
  const later6 = decode(229, ipv6('::1', '::2', 17, Array<number>(30).fill(0), [frag6]));
  assert.deepEqual([later6.reason, later6.p.fragment, later6.p.protocol, later6.p.srcPort], ['ok', 2, 17, 0]);
});

test('a first fragment too short for its transport header (RFC 1858 tiny fragments) is metered without ports, not skipped', () => {
  // 8 bytes of TCP (ports, sequence number) in the first fragment; the data offset and flags come in the next one
  const tinyTcp = tcp({ sport: 4444, dport: 80, flags: 0x02 }).slice(0, 8);
  const tiny = ipv4({ src: '6.6.6.6', dst: '10.0.0.5', protocol: 6, moreFragments: true }, tinyTcp);
  for (const [bytes, what] of [[ethernet(tiny), 'as captured'], [[...ethernet(tiny), ...Array<number>(32).fill(0)], 'with Ethernet padding to 60 bytes']] as const) {
    const { reason, p } = decode(1, [...bytes]);
    assert.deepEqual([reason, p.fragment, p.protocol, p.srcPort, p.dstPort, p.tcpFlags, p.l4HeaderLen, p.payloadLen, p.ipBytes], ['ok', 1, 6, 0, 0, 0, 0, 8, 28], what);
  }
  const tinyUdp = decode(101, ipv4({ src: '6.6.6.6', dst: '10.0.0.5', protocol: 17, moreFragments: true }, [0, 53, 0, 53]));
  assert.deepEqual([tinyUdp.reason, tinyUdp.p.srcPort, tinyUdp.p.payloadLen], ['ok', 0, 4]);
  // not a fragment: a segment the IP length cuts inside its TCP header stays broken
  assert.equal(decode(101, ipv4({ src: '6.6.6.6', dst: '10.0.0.5', protocol: 6 }, tinyTcp)).reason, 'truncated-transport-header');
});

test('ICMP type and code; broken packets give their reason', () => {
  const ping = decode(1, ethernet(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 1 }, icmp(8, 0, 56))));
  assert.deepEqual([ping.p.icmpType, ping.p.icmpCode, ping.p.payloadLen, ping.p.srcPort], [8, 0, 56, 0]);
  const good = ethernet(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6 }, tcpSyn));
  assert.equal(decode(1, good, 10).reason, 'truncated-link-header');
  assert.equal(decode(1, good, 14 + 12).reason, 'truncated-ip-header');
  assert.equal(decode(1, good, 14 + 20 + 10).reason, 'truncated-transport-header');
  const badVersion = good.slice();
  badVersion[14] = 0x55;
  assert.equal(decode(1, badVersion).reason, 'bad-ip-version');
  const badIhl = good.slice();
  badIhl[14] = 0x43;
  assert.equal(decode(1, badIhl).reason, 'bad-ip-header');
  const badOffset = good.slice();
  badOffset[14 + 20 + 12] = 0x20;
  assert.equal(decode(1, badOffset).reason, 'bad-tcp-header');
  // A snap length that cuts the payload still decodes, with the payload length from the IP header.
  const long = ethernet(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17 }, udp(1, 2, 1000)));
  const cut = decode(1, long, 96);
  assert.deepEqual([cut.reason, cut.p.payloadLen, cut.p.ipBytes], ['ok', 1000, 1028]);
  // A captured length past the end of the bytes given is not read beyond them.
  assert.equal(decode(1, good, good.length + 1).reason, 'truncated-packet-data');
});

test('IPv6 text: the packet decoder writes what the collector writes (RFC 5952, IPv4-mapped dotted)', () => {
  const cases: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    // before, the decoder wrote ::ffff:c000:201 for this one and the collector ::ffff:192.0.2.1
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
  ];
  for (const [hex, text] of cases) {
    const bytes = Buffer.from(hex, 'hex');
    const words = Uint32Array.from({ length: 4 }, (_, i) => bytes.readUInt32BE(4 * i));
    assert.equal(formatAddress(6, words), text, hex);
    assert.equal(ipv6Text(bytes, 0), text, hex);
  }
});

// CIC features of small flows, asserted exactly: (1) a DNS flow rebuilt packet by packet from a row of the
// corrected CIC-IDS2017 release (Engelen et al. 2021; BENIGN_5000.csv id 307514) — every one of its 83 values;
// (2) a TCP connection and (3) a UDP flow with bulk and activity gaps, both computed by hand below; and the short path
// for one-packet flows against the general computation, value for value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CIC_FEATURES } from '../../src/datasets/cic-names.js';
import { FlowMeter } from '../../src/flows/meter.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { RawPacket } from '../../src/io/pcap.js';
import { anyFlowFeatures, cicFeatures, cicStart, Slot } from '../../src/flows/features/cic.js';
import { decodePacket } from '../../src/flows/decode/decode.js';
import { Decode, DecodedPacket } from '../../src/flows/decode/packet.js';
import { ethernet, icmp, ipv4, ipv6, tcp, udp } from './packet-builder.js';

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

interface Pkt {
  us: number;
  bytes: number[];
}

function meter(packets: Pkt[], t0Us: number): { flows: FlowRecord[]; trailing: number } {
  const flows: FlowRecord[] = [];
  const m = new FlowMeter((f) => flows.push(f));
  const raw = new RawPacket();
  for (const p of packets) {
    raw.data = Uint8Array.from(p.bytes);
    raw.offset = 0;
    raw.capLen = raw.origLen = p.bytes.length;
    raw.tsUs = t0Us + p.us;
    raw.linkType = 1;
    m.addPacket(raw);
  }
  m.flush();
  return { flows, trailing: m.stats.trailingPackets };
}

function features(flow: FlowRecord): Record<string, number> {
  assert.ok(flow.features);
  return Object.fromEntries(CIC_FEATURES.map((name, i) => [name, flow.features![i]!]));
}

function assertClose(actual: Record<string, number>, expected: Record<string, number>): void {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    assert.ok(got !== undefined, `missing feature ${name}`);
    assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${name}: got ${got}, want ${want}`);
  }
}

test('a DNS flow rebuilt from CIC-IDS2017 (corrected) reproduces all 83 reference values', () => {
  const q = (us: number): Pkt => ({ us, bytes: ethernet(ipv4({ src: '192.168.10.5', dst: '192.168.10.3', protocol: 17 }, udp(58181, 53, 35))) });
  const r = (us: number): Pkt => ({ us, bytes: ethernet(ipv4({ src: '192.168.10.3', dst: '192.168.10.5', protocol: 17 }, udp(53, 58181, 51))) });
  // Gaps 4, 194, 47 µs: the reference's Fwd IAT 4, Bwd IAT 47 and Flow IAT max 194.
  const { flows } = meter([q(0), q(4), r(198), r(245)], Date.UTC(2017, 6, 6, 12, 39, 6) * 1000 + 818901);
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  assert.equal(f.srcAddr, '192.168.10.5');
  assert.equal(f.srcPort, 58181);
  // prettier-ignore
  const reference = [53, 17, 245, 2, 2, 70, 102, 35, 35, 35.0, 0.0, 51, 51, 51.0, 0.0, 702040.8163265307, 16326.530612244898,
    81.66666666666667, 99.630985809302, 194, 4, 4, 4.0, 0.0, 4, 4, 47, 47.0, 0.0, 47, 47, 0, 0, 0, 0, 0, 0, 16, 16,
    8163.265306122449, 8163.265306122449, 35, 51, 43.0, 9.237604307034012, 85.33333333333331, 0, 0, 0, 0, 0, 0, 0, 0, 1.0,
    43.0, 35.0, 51.0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 25, 0, 0, 1, 8, 0.0, 0.0, 0, 0, 0.0, 0.0, 0, 0, -1, -1, 0];
  assert.equal(reference.length, CIC_FEATURES.length);
  assertClose(features(f), Object.fromEntries(CIC_FEATURES.map((n, i) => [n, reference[i]!])));
});

test('a TCP connection: handshake, data, FIN exchange; the trailing ACK joins the flow instead of a new one', () => {
  const c = (us: number, flags: number, win: number, payload = 0, options = 12): Pkt => ({
    us,
    bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 40000, dport: 80, flags, window: win, payload, options: Array<number>(options).fill(1) }))),
  });
  const s = (us: number, flags: number, win: number, payload = 0, options = 12): Pkt => ({
    us,
    bytes: ethernet(ipv4({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 6 }, tcp({ sport: 80, dport: 40000, flags, window: win, payload, options: Array<number>(options).fill(1) }))),
  });
  const packets = [
    c(0, SYN, 29200, 0, 20),
    s(100, SYN | ACK, 28960, 0, 20),
    c(200, ACK, 229),
    c(300, PSH | ACK, 229, 100),
    s(1300, ACK, 227),
    s(2300, PSH | ACK, 227, 1000),
    c(2400, ACK, 250),
    c(3400, FIN | ACK, 250),
    s(4400, FIN | ACK, 235),
    c(4500, ACK, 250),
  ];
  const { flows, trailing } = meter(packets, 1_500_000_000_000_000);
  assert.equal(flows.length, 1, 'the last ACK must not open an appendix flow');
  assert.equal(trailing, 1);
  const f = flows[0]!;
  assert.equal(f.endReason, 'fin');
  assert.equal(f.packets, 10);
  assert.equal(f.fwdPackets, 6);
  assert.equal(f.tcpFlags, FIN | SYN | PSH | ACK);
  // IP bytes: 20 (IP) + TCP header + payload per packet.
  assert.equal(f.fwdBytes, 6 * 20 + 200 + 100);
  assert.equal(f.bwdBytes, 4 * 20 + 136 + 1000);
  assertClose(features(f), {
    'Dst Port': 80, Protocol: 6, 'Flow Duration': 4500,
    'Total Fwd Packet': 6, 'Total Bwd packets': 4, 'Total Length of Fwd Packet': 100, 'Total Length of Bwd Packet': 1000,
    'Fwd Packet Length Max': 100, 'Fwd Packet Length Min': 0, 'Fwd Packet Length Mean': 100 / 6, 'Fwd Packet Length Std': Math.sqrt(10000 / 6),
    'Bwd Packet Length Max': 1000, 'Bwd Packet Length Min': 0, 'Bwd Packet Length Mean': 250, 'Bwd Packet Length Std': 500,
    'Flow Bytes/s': 1100 / 0.0045, 'Flow Packets/s': 10 / 0.0045,
    'Flow IAT Mean': 500, 'Flow IAT Std': Math.sqrt(1.8e6 / 8), 'Flow IAT Max': 1000, 'Flow IAT Min': 100,
    'Fwd IAT Total': 4500, 'Fwd IAT Mean': 900, 'Fwd IAT Std': Math.sqrt(2.62e6 / 4), 'Fwd IAT Max': 2100, 'Fwd IAT Min': 100,
    'Bwd IAT Total': 4300, 'Bwd IAT Mean': 4300 / 3, 'Bwd IAT Std': Math.sqrt((2060000 / 3) / 2), 'Bwd IAT Max': 2100, 'Bwd IAT Min': 1000,
    'Fwd PSH Flags': 1, 'Bwd PSH Flags': 1, 'Fwd URG Flags': 0, 'Bwd URG Flags': 0, 'Fwd RST Flags': 0, 'Bwd RST Flags': 0,
    'Fwd Header Length': 40 + 5 * 32, 'Bwd Header Length': 40 + 3 * 32,
    'Fwd Packets/s': 6 / 0.0045, 'Bwd Packets/s': 4 / 0.0045,
    'Packet Length Min': 0, 'Packet Length Max': 1000, 'Packet Length Mean': 110,
    'Packet Length Std': Math.sqrt(889000 / 9), 'Packet Length Variance': 889000 / 9,
    'FIN Flag Count': 2, 'SYN Flag Count': 2, 'RST Flag Count': 0, 'PSH Flag Count': 2, 'ACK Flag Count': 9, 'URG Flag Count': 0,
    'CWR Flag Count': 0, 'ECE Flag Count': 0, 'Down/Up Ratio': 4 / 6, 'Average Packet Size': 110,
    'Fwd Segment Size Avg': 100 / 6, 'Bwd Segment Size Avg': 250,
    'Fwd Bytes/Bulk Avg': 0, 'Fwd Packet/Bulk Avg': 0, 'Fwd Bulk Rate Avg': 0, 'Bwd Bytes/Bulk Avg': 0, 'Bwd Packet/Bulk Avg': 0, 'Bwd Bulk Rate Avg': 0,
    'Subflow Fwd Packets': 0, 'Subflow Fwd Bytes': 10, 'Subflow Bwd Packets': 0, 'Subflow Bwd Bytes': 100,
    'FWD Init Win Bytes': 29200, 'Bwd Init Win Bytes': 235, 'Fwd Act Data Pkts': 1, 'Fwd Seg Size Min': 32,
    'Active Mean': 0, 'Idle Mean': 0, 'ICMP Code': -1, 'ICMP Type': -1, 'Total TCP Flow Time': 4500,
  });
});

test('a UDP flow with a forward bulk and two activity gaps over 5 s', () => {
  const fwd = (us: number, payload: number): Pkt => ({ us, bytes: ethernet(ipv4({ src: '10.1.1.1', dst: '10.1.1.2', protocol: 17 }, udp(5000, 6000, payload))) });
  const bwd = (us: number, payload: number): Pkt => ({ us, bytes: ethernet(ipv4({ src: '10.1.1.2', dst: '10.1.1.1', protocol: 17 }, udp(6000, 5000, payload))) });
  const packets = [fwd(0, 100), fwd(100_000, 100), fwd(200_000, 100), fwd(300_000, 100), fwd(400_000, 100), bwd(1_000_000, 10), fwd(7_000_000, 1), fwd(7_500_000, 1), fwd(20_000_000, 1)];
  const { flows } = meter(packets, 1_600_000_000_000_000);
  assert.equal(flows.length, 1);
  assert.equal(flows[0]!.endReason, 'eof');
  assertClose(features(flows[0]!), {
    'Flow Duration': 20_000_000,
    // One forward bulk: 5 packets, 500 bytes, 0.4 s.
    'Fwd Bytes/Bulk Avg': 500, 'Fwd Packet/Bulk Avg': 5, 'Fwd Bulk Rate Avg': 1250,
    'Bwd Bytes/Bulk Avg': 0, 'Bwd Packet/Bulk Avg': 0, 'Bwd Bulk Rate Avg': 0,
    // Activity [0, 1 s] and [7, 7.5 s] closed by gaps of 6 s and 12.5 s; the last period [20 s] is never counted.
    'Active Mean': 750_000, 'Active Std': Math.sqrt(((250_000 ** 2) * 2) / 1), 'Active Max': 1_000_000, 'Active Min': 500_000,
    'Idle Mean': 9_250_000, 'Idle Std': Math.sqrt(((3_250_000 ** 2) * 2) / 1), 'Idle Max': 12_500_000, 'Idle Min': 6_000_000,
    'Fwd Act Data Pkts': 7, 'Fwd Seg Size Min': 8, 'Fwd Header Length': 64, 'Bwd Header Length': 8,
    'Total TCP Flow Time': 0,
  });
});

test('ICMP flows: lengths and header lengths are 0, type and code from the first packet (as the reference rows)', () => {
  const ping = (us: number, src: string, dst: string, type: number): Pkt => ({ us, bytes: ethernet(ipv4({ src, dst, protocol: 1 }, icmp(type, 0, 56))) });
  const { flows } = meter([ping(0, '192.168.10.8', '192.168.10.9', 8), ping(1000, '192.168.10.9', '192.168.10.8', 0), ping(2000, '192.168.10.8', '192.168.10.9', 8)], 1_500_000_000_000_000);
  assert.equal(flows.length, 1);
  assertClose(features(flows[0]!), {
    Protocol: 1, 'Dst Port': 0, 'Total Fwd Packet': 2, 'Total Bwd packets': 1,
    'Total Length of Fwd Packet': 0, 'Total Length of Bwd Packet': 0, 'Fwd Header Length': 0, 'Bwd Header Length': 0,
    'Fwd Seg Size Min': 0, 'Fwd Act Data Pkts': 0, 'ICMP Type': 8, 'ICMP Code': 0, 'Total TCP Flow Time': 0,
  });
  assert.equal(flows[0]!.fwdBytes, 2 * (20 + 8 + 56), 'FlowRecord bytes still count the IP length');
});

test('Total TCP Flow Time spans a connection that the flow timeout split (as the reference for slow DoS rows)', () => {
  const c = (us: number, flags: number): Pkt => ({ us, bytes: ethernet(ipv4({ src: '172.16.0.1', dst: '192.168.10.50', protocol: 6 }, tcp({ sport: 33438, dport: 80, flags, payload: flags === SYN ? 0 : 10 }))) });
  // A slow client: a packet every 50 s for 300 s, no FIN; the 120 s flow timeout splits it into three flows.
  const packets = [c(0, SYN), ...Array.from({ length: 6 }, (_, i) => c((i + 1) * 50_000_000, PSH | ACK))];
  const { flows } = meter(packets, 1_500_000_000_000_000);
  assert.deepEqual(flows.map((f) => f.endReason), ['active', 'active', 'eof']);
  const at = (f: FlowRecord, name: string): number => f.features![CIC_FEATURES.indexOf(name)]!;
  assert.deepEqual(flows.map((f) => at(f, 'Flow Duration')), [100_000_000, 100_000_000, 0]); // [0,100] [150,250] [300]
  assert.deepEqual(flows.map((f) => at(f, 'Total TCP Flow Time')), [100_000_000, 250_000_000, 300_000_000]);
  // A new SYN on the same 5-tuple (after the last flow timed out) is a new connection.
  const again = meter([...packets, c(600_000_000, SYN), c(610_000_000, ACK)], 1_500_000_000_000_000).flows;
  assert.equal(at(again[again.length - 1]!, 'Total TCP Flow Time'), 10_000_000);
});

test('one-packet flows: the short path writes what the general computation writes, bit for bit', () => {
  const frames: [string, number[]][] = [
    ['TCP, every flag, payload', ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 1234, dport: 80, flags: 0xff, window: 512, payload: 100 })))],
    ['TCP SYN with options', ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 1234, dport: 80, flags: SYN, window: 29200, options: [2, 4, 5, 180] })))],
    ['UDP', ethernet(ipv4({ src: '10.0.0.3', dst: '10.0.0.4', protocol: 17 }, udp(5353, 53, 41)))],
    ['UDP, no payload', ethernet(ipv4({ src: '10.0.0.3', dst: '10.0.0.4', protocol: 17 }, udp(5353, 53, 0)))],
    ['ICMP', ethernet(ipv4({ src: '10.0.0.5', dst: '10.0.0.6', protocol: 1 }, icmp(3, 1, 28)))],
    ['later IPv4 fragment', ethernet(ipv4({ src: '10.0.0.7', dst: '10.0.0.8', protocol: 17, fragOffset: 185 }, Array<number>(600).fill(1)))],
    ['IPv6 UDP', ethernet(ipv6('2001:db8::1', '2001:db8::2', 17, udp(4000, 443, 1200)), 0x86dd)],
    ['other protocol', ethernet(ipv4({ src: '10.0.0.9', dst: '10.0.0.10', protocol: 47 }, Array<number>(64).fill(2)))],
  ];
  const slot = new Float64Array(Slot.SLOT_DOUBLES);
  const p = new DecodedPacket();
  for (const [name, frame] of frames) {
    const bytes = Uint8Array.from(frame);
    assert.equal(decodePacket(1, bytes, 0, bytes.length, p), Decode.OK, name);
    p.tsUs = 1_500_000_123_456_789;
    p.frameLen = bytes.length;
    cicStart(slot, 0, p);
    const check = (label: string): void => {
      const protocol = p.protocol;
      const short = cicFeatures(slot, 0, p.dstPort, protocol, new Float64Array(CIC_FEATURES.length).fill(Number.NaN));
      const general = anyFlowFeatures(slot, 0, p.dstPort, protocol);
      CIC_FEATURES.forEach((feature, i) => assert.ok(Object.is(short[i], general[i]), `${label}: ${feature}: ${short[i]} vs ${general[i]}`));
    };
    check(name);
    // A TCP flow that continues a connection split by a timeout: Total TCP Flow Time counts from the connection's start.
    slot[Slot.TCP_START] = p.tsUs - 7_000_000;
    check(`${name}, connection started earlier`);
  }
});

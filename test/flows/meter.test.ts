// Flow meter behaviour: initiator direction, VLAN in the key, idle and active timeouts, RST and FIN termination,
// a new SYN after a close, and bounded memory under a SYN flood of unique 5-tuples (evictions counted); the warm-up
// capture takes the paths it is there to take; a slot freed by a long flow is clean for the next.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowMeter, type MeterOptions } from '../../src/flows/meter.js';
import { CIC_FEATURES } from '../../src/datasets/cic-names.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { PcapReader, RawPacket } from '../../src/io/pcap.js';
import { warmUpCapture } from '../../src/flows/warmup.js';
import { ethernet, ipv4, tcp, udp } from './packet-builder.js';

const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const FIN = 0x01;

function run(packets: { us: number; bytes: number[] }[], options: MeterOptions = {}): { flows: FlowRecord[]; meter: FlowMeter } {
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f), options);
  const raw = new RawPacket();
  for (const p of packets) {
    raw.data = Uint8Array.from(p.bytes);
    raw.offset = 0;
    raw.capLen = raw.origLen = p.bytes.length;
    raw.tsUs = 1e15 + p.us;
    raw.linkType = 1;
    meter.addPacket(raw);
  }
  meter.flush();
  return { flows, meter };
}

const u = (us: number, src: string, dst: string, sport: number, dport: number, vlan?: number) => ({
  us,
  bytes: ethernet(ipv4({ src, dst, protocol: 17 }, udp(sport, dport, 10)), 0x0800, vlan === undefined ? [] : [vlan]),
});
const t = (us: number, src: string, dst: string, sport: number, dport: number, flags: number) => ({
  us,
  bytes: ethernet(ipv4({ src, dst, protocol: 6 }, tcp({ sport, dport, flags }))),
});

test('forward is the initiator even when its address sorts higher; VLANs separate flows', () => {
  const { flows } = run([u(0, '10.0.0.9', '10.0.0.1', 999, 53), u(10, '10.0.0.1', '10.0.0.9', 53, 999), u(20, '10.0.0.9', '10.0.0.1', 999, 53, 7)]);
  assert.equal(flows.length, 2);
  const plain = flows.find((f) => f.vlan === 0)!;
  assert.deepEqual([plain.srcAddr, plain.srcPort, plain.dstAddr, plain.dstPort, plain.fwdPackets, plain.bwdPackets], ['10.0.0.9', 999, '10.0.0.1', 53, 1, 1]);
  assert.equal(flows.find((f) => f.vlan === 7)!.packets, 1);
});

test('idle and active timeouts split flows', () => {
  const idle = run([u(0, '1.1.1.1', '2.2.2.2', 1, 2), u(5e6, '1.1.1.1', '2.2.2.2', 1, 2), u(20e6, '1.1.1.1', '2.2.2.2', 1, 2)], { idleTimeoutS: 10 });
  assert.deepEqual(idle.flows.map((f) => [f.packets, f.endReason]), [[2, 'idle'], [1, 'eof']]);
  const steady = Array.from({ length: 31 }, (_, i) => u(i * 1e6, '1.1.1.1', '2.2.2.2', 1, 2));
  const active = run(steady, { activeTimeoutS: 10 });
  assert.deepEqual(active.flows.map((f) => f.endReason), ['active', 'active', 'eof']);
  assert.equal(active.flows.reduce((s, f) => s + f.packets, 0), 31);
  assert.ok(active.flows.every((f) => f.endMs - f.startMs <= 10_000));
});

test('RST ends a flow; packets right after it are absorbed; a new SYN on the same 5-tuple starts a new flow', () => {
  const { flows, meter } = run([
    t(0, '1.1.1.1', '2.2.2.2', 1000, 80, SYN),
    t(10, '2.2.2.2', '1.1.1.1', 80, 1000, RST | ACK),
    t(20, '1.1.1.1', '2.2.2.2', 1000, 80, ACK),
    t(30, '1.1.1.1', '2.2.2.2', 1000, 80, SYN),
    t(40, '2.2.2.2', '1.1.1.1', 80, 1000, SYN | ACK),
    t(50, '1.1.1.1', '2.2.2.2', 1000, 80, FIN | ACK),
    t(60, '2.2.2.2', '1.1.1.1', 80, 1000, FIN | ACK),
    // Past the 2 s linger: a new flow, not part of the closed one.
    t(3e6, '1.1.1.1', '2.2.2.2', 1000, 80, ACK),
  ]);
  assert.deepEqual(flows.map((f) => [f.packets, f.endReason]), [[3, 'rst'], [4, 'fin'], [1, 'eof']]);
  assert.equal(meter.stats.trailingPackets, 1);
});

test('a SYN flood of unique 5-tuples stays within maxFlows: the oldest are evicted and counted', () => {
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f), { maxFlows: 1000, cicFeatures: false });
  const raw = new RawPacket();
  const frame = Uint8Array.from(ethernet(ipv4({ src: '10.0.0.1', dst: '10.10.10.10', protocol: 6 }, tcp({ sport: 1, dport: 80, flags: SYN }))));
  raw.data = frame;
  raw.capLen = raw.origLen = frame.length;
  raw.linkType = 1;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    // Unique source address and port per packet.
    frame[14 + 12 + 2] = (i >> 8) & 255;
    frame[14 + 12 + 3] = i & 255;
    frame[14 + 20] = (i >> 16) & 255;
    frame[14 + 20 + 1] = (i >> 8) & 255;
    raw.tsUs = 1e15 + i;
    meter.addPacket(raw);
    if (i % 10_000 === 0) assert.ok(meter.stats.liveFlows <= 1000);
  }
  assert.equal(meter.stats.evictions, n - 1000);
  assert.equal(flows.length, n - 1000);
  assert.ok(flows.every((f) => f.endReason === 'evicted'));
  meter.flush();
  assert.equal(flows.length, n);
});

test('early snapshots: a flow is handed out once at N packets and still ends normally', () => {
  const early: FlowRecord[] = [];
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f), { earlyPackets: 3, onEarly: (f) => early.push(f) });
  const raw = new RawPacket();
  for (let i = 0; i < 6; i++) {
    const p = i % 2 === 0 ? u(i * 1000, '1.1.1.1', '2.2.2.2', 10, 20) : u(i * 1000, '2.2.2.2', '1.1.1.1', 20, 10);
    raw.data = Uint8Array.from(p.bytes);
    raw.capLen = raw.origLen = p.bytes.length;
    raw.tsUs = 1e15 + p.us;
    raw.linkType = 1;
    meter.addPacket(raw);
  }
  meter.flush();
  assert.deepEqual(early.map((f) => [f.packets, f.fwdPackets, f.endReason, f.endMs - f.startMs]), [[3, 2, 'snapshot', 2]]);
  assert.deepEqual(flows.map((f) => [f.packets, f.endReason]), [[6, 'eof']]);
  assert.equal(early[0]!.features![2], 2000, 'Flow Duration of the snapshot, µs');
});

test('the warm-up capture is a valid pcap whose packets take the decoder and meter paths it lists', () => {
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f), { maxFlows: 32 });
  const reader = new PcapReader((p) => meter.addPacket(p));
  reader.push(warmUpCapture());
  reader.end();
  meter.flush();
  assert.deepEqual(reader.skipped, {});
  const stats = meter.stats;
  assert.equal(stats.packets, 142);
  assert.deepEqual(stats.skipped, { 'non-ip': 1 });
  assert.equal(stats.trailingPackets, 2, 'the ACK after the FIN exchange and the reply to the all-flags packet (RST) are absorbed');
  assert.ok(stats.evictions > 0, 'the burst of one-packet flows overflows 32 flows');
  const reasons = new Set(flows.map((f) => f.endReason));
  for (const reason of ['fin', 'rst', 'idle', 'active', 'evicted', 'eof'] as const) assert.ok(reasons.has(reason), `a flow ends by ${reason}`);
  assert.deepEqual([...new Set(flows.map((f) => f.protocol))].sort((a, b) => a - b), [1, 6, 17, 47]);
  assert.ok(flows.some((f) => f.srcAddr.includes(':')), 'an IPv6 flow');
  assert.ok(flows.some((f) => f.vlan === 7), 'a VLAN-tagged flow');
  assert.ok(flows.some((f) => f.tcpFlags === 0xff), 'every TCP flag');
  const at = (f: FlowRecord, name: string): number => f.features![CIC_FEATURES.indexOf(name)]!;
  assert.ok(flows.some((f) => at(f, 'Fwd Bytes/Bulk Avg') > 0 && at(f, 'Bwd Bytes/Bulk Avg') > 0), 'bulks both ways');
  assert.ok(flows.some((f) => at(f, 'Idle Mean') > 5e6), 'an activity gap over 5 s');
  assert.ok(flows.some((f) => at(f, 'Total TCP Flow Time') > at(f, 'Flow Duration')), 'a connection continued after a timeout split it');
});

test("a slot reused after a flow of many packets starts clean: the next flows' features equal a fresh meter's", () => {
  // Flow A fills every accumulator (payload both ways, bulks both ways, a > 5 s gap, PSH/URG/RST flags) and ends by
  // FIN; B (three packets) and C (one packet) come later and reuse freed slots (cicStart writes only what one packet
  // sets: the rest must have been cleared when A ended).
  const data = (us: number, src: string, dst: string, sport: number, dport: number, flags: number, payload: number) => ({
    us,
    bytes: ethernet(ipv4({ src, dst, protocol: 6 }, tcp({ sport, dport, flags, payload, window: 1000 + payload }))),
  });
  const a = [data(0, '10.0.0.1', '10.0.0.2', 4000, 80, SYN, 0), data(10, '10.0.0.2', '10.0.0.1', 80, 4000, SYN | ACK, 0)];
  for (let i = 0; i < 6; i++) a.push(data(100 + i * 10, '10.0.0.1', '10.0.0.2', 4000, 80, 0x18, 100 + i));
  for (let i = 0; i < 6; i++) a.push(data(200 + i * 10, '10.0.0.2', '10.0.0.1', 80, 4000, 0x18 | 0x20, 1400 - i));
  a.push(data(7_000_000, '10.0.0.1', '10.0.0.2', 4000, 80, 0x18 | RST, 5), data(7_000_100, '10.0.0.1', '10.0.0.2', 4000, 80, FIN | ACK, 0));
  a.push(data(7_000_200, '10.0.0.2', '10.0.0.1', 80, 4000, FIN | ACK, 0));
  const later = [
    data(20_000_000, '10.0.0.3', '10.0.0.4', 5000, 443, SYN, 0),
    data(20_000_050, '10.0.0.4', '10.0.0.3', 443, 5000, SYN | ACK, 0),
    data(20_000_090, '10.0.0.3', '10.0.0.4', 5000, 443, ACK, 20),
    u(21_000_000, '10.0.0.5', '10.0.0.6', 53, 53),
  ];
  const reused = run([...a, ...later]).flows;
  const fresh = run(later).flows;
  assert.equal(reused.length, 3);
  assert.equal(reused[0]!.packets, a.length);
  assert.ok(reused[0]!.features!.some((v, i) => v !== 0 && i > 20 && i < 60), 'A set multi-packet features');
  for (const [k, flow] of fresh.entries()) {
    const other = reused[k + 1]!;
    assert.deepEqual([other.srcAddr, other.dstAddr, other.packets], [flow.srcAddr, flow.dstAddr, flow.packets]);
    CIC_FEATURES.forEach((name, i) => assert.ok(Object.is(other.features![i], flow.features![i]), `${flow.srcAddr}: ${name}: ${other.features![i]} vs ${flow.features![i]}`));
  }
});

// Encapsulations a network engineer's captures carry between the link header and IP: MPLS label stacks, PPPoE
// sessions, PPP and Cisco HDLC links, 802.11 data frames (bare, radiotap, PPI). Each packet is built byte by byte, so
// every field's true value is known; when tshark is installed, the flows are also checked against its conversations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePacket } from '../../src/flows/decode/decode.js';
import { DECODE_REASONS, DecodedPacket, formatAddress } from '../../src/flows/decode/packet.js';
import { readCapture } from '../../src/io/capture.js';
import { FlowMeter } from '../../src/flows/meter.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { be16, ethernet, ipv4, ipv6, pcapFile, tcp, udp } from './packet-builder.js';
import { cli } from '../helpers/cli.js';

function decode(linkType: number, bytes: number[]): { reason: string; p: DecodedPacket } {
  const p = new DecodedPacket();
  const status = decodePacket(linkType, Uint8Array.from(bytes), 0, bytes.length, p);
  return { reason: DECODE_REASONS[status]!, p };
}

const syn4 = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', protocol: 6 }, tcp({ sport: 40000, dport: 443, flags: 0x02, window: 29200 }));
const dns6 = ipv6('2001:db8::1', '2001:db8::53', 17, udp(5353, 53, 30));

/** MPLS label stack entries: label, then the bottom-of-stack bit on the last. */
function mplsStack(labels: number[]): number[] {
  return labels.flatMap((label, i) => {
    const word = (label << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64;
    return [(word >>> 24) & 255, (word >>> 16) & 255, (word >>> 8) & 255, word & 255];
  });
}

/** A PPPoE session header (RFC 2516) and the PPP protocol field. */
function pppoe(pppProtocol: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0x11, 0x00, 0x12, 0x34, len >> 8, len & 255, pppProtocol >> 8, pppProtocol & 255, ...payload];
}

const LLC_SNAP_IPV4 = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
const LLC_SNAP_IPV6 = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd];
const MAC = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 3];

/** An 802.11 data frame: frame control (type data, `subtype`), duration, 3 or 4 addresses, sequence, QoS control. */
function wifiData(opts: { subtype: number; flags: number }, body: number[]): number[] {
  const fourAddresses = (opts.flags & 3) === 3;
  const qos = (opts.subtype & 8) !== 0;
  return [
    (opts.subtype << 4) | 0x08, opts.flags, 0, 0, ...MAC, 0x10, 0x00,
    ...(fourAddresses ? [2, 0, 0, 0, 0, 4] : []), ...(qos ? [0, 0] : []), ...(qos && opts.flags & 0x80 ? [0, 0, 0, 0] : []),
    ...body,
  ];
}

/** A radiotap header of `len` bytes (version 0, no fields beyond the present bitmap, padded). */
function radiotap(len: number, frame: number[]): number[] {
  return [0, 0, len & 255, len >> 8, 0, 0, 0, 0, ...Array<number>(len - 8).fill(0), ...frame];
}

test('MPLS label stacks (unicast and multicast EtherTypes, behind VLAN tags too) are opened to the IP packet', () => {
  for (const [bytes, what] of [
    [ethernet([...mplsStack([16]), ...syn4], 0x8847), 'one label'],
    [ethernet([...mplsStack([1000, 2000, 3000]), ...syn4], 0x8848), 'three labels, multicast'],
    [ethernet([...mplsStack([16, 17]), ...syn4], 0x8847, [7]), 'VLAN then MPLS'],
  ] as const) {
    const { reason, p } = decode(1, [...bytes]);
    assert.equal(reason, 'ok', what);
    assert.deepEqual([formatAddress(4, p.src), formatAddress(4, p.dst), p.srcPort, p.dstPort, p.tcpFlags, p.ipBytes], ['10.1.1.1', '10.2.2.2', 40000, 443, 2, 40], what);
  }
  const v6 = decode(1, ethernet([...mplsStack([100, 200]), ...dns6], 0x8847));
  assert.deepEqual([v6.reason, v6.p.ipVersion, v6.p.dstPort, v6.p.ipBytes], ['ok', 6, 53, 40 + 8 + 30]);
  // An Ethernet pseudowire (control word 0) is no IP packet; a stack cut before its bottom entry is a truncated link header.
  assert.equal(decode(1, ethernet([...mplsStack([16]), 0, 0, 0, 0, ...ethernet(syn4)], 0x8847)).reason, 'non-ip');
  assert.equal(decode(1, ethernet(mplsStack([16, 17]).slice(0, 6), 0x8847)).reason, 'truncated-link-header');
});

test('PPPoE sessions carry IPv4 and IPv6; discovery and LCP are not IP', () => {
  const v4 = decode(1, ethernet(pppoe(0x0021, syn4), 0x8864));
  assert.deepEqual([v4.reason, v4.p.dstPort, v4.p.ipBytes], ['ok', 443, 40]);
  const v6 = decode(1, ethernet(pppoe(0x0057, dns6), 0x8864, [300]));
  assert.deepEqual([v6.reason, v6.p.ipVersion, v6.p.dstPort, v6.p.vlan], ['ok', 6, 53, 300]);
  assert.equal(decode(1, ethernet(pppoe(0xc021, [1, 1, 0, 4]), 0x8864)).reason, 'non-ip');
  assert.equal(decode(1, ethernet([0x11, 0x09, 0, 0, 0, 0], 0x8863)).reason, 'non-ip');
  assert.equal(decode(1, ethernet([0x11, 0x00, 0x12], 0x8864)).reason, 'truncated-link-header');
});

test('PPP (9, 50) with and without address/control and with a compressed protocol field; Cisco HDLC (104)', () => {
  for (const [link, bytes] of [
    [9, [0xff, 0x03, 0x00, 0x21, ...syn4]],
    [9, [0x00, 0x21, ...syn4]],
    [9, [0x21, ...syn4]],
    [50, [0xff, 0x03, 0x00, 0x21, ...syn4]],
    [9, [0xff, 0x03, 0x02, 0x81, ...mplsStack([16]), ...syn4]],
    [104, [0x0f, 0x00, 0x08, 0x00, ...syn4]],
  ] as const) {
    const { reason, p } = decode(link, [...bytes]);
    assert.deepEqual([reason, p.dstPort], ['ok', 443], `link type ${link}: ${bytes.slice(0, 4).join(' ')}`);
  }
  assert.deepEqual([decode(9, [0xff, 0x03, 0x00, 0x57, ...dns6]).reason, decode(9, [0xff, 0x03, 0x00, 0x57, ...dns6]).p.ipVersion], ['ok', 6]);
  assert.equal(decode(9, [0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]).reason, 'non-ip');
  assert.equal(decode(104, [0x8f, 0x00, 0x80, 0x35, 0, 1]).reason, 'non-ip');
  assert.equal(decode(9, [0xff, 0x03]).reason, 'truncated-link-header');
});

test('802.11 data frames (bare, radiotap, PPI): QoS, four addresses, HT control; management and protected frames are skipped by reason', () => {
  const qosToDs = wifiData({ subtype: 8, flags: 0x01 }, [...LLC_SNAP_IPV4, ...syn4]);
  const plainFromDs = wifiData({ subtype: 0, flags: 0x02 }, [...LLC_SNAP_IPV6, ...dns6]);
  const wds = wifiData({ subtype: 8, flags: 0x03 }, [...LLC_SNAP_IPV4, ...syn4]);
  const htc = wifiData({ subtype: 8, flags: 0x81 }, [...LLC_SNAP_IPV4, ...syn4]);
  for (const [link, bytes, port] of [
    [105, qosToDs, 443], [105, plainFromDs, 53], [105, wds, 443], [105, htc, 443],
    [127, radiotap(8, qosToDs), 443], [127, radiotap(36, plainFromDs), 53],
    [192, [0, 0, 8, 0, 105, 0, 0, 0, ...qosToDs], 443],
  ] as const) {
    const { reason, p } = decode(link, [...bytes]);
    assert.deepEqual([reason, p.dstPort], ['ok', port], `link type ${link}, ${bytes.length} bytes`);
  }
  const beacon = [0x80, 0, 0, 0, ...MAC, 0, 0, ...Array<number>(12).fill(0)];
  assert.equal(decode(105, beacon).reason, 'non-ip');
  assert.equal(decode(105, wifiData({ subtype: 12, flags: 0x01 }, [])).reason, 'non-ip', 'QoS null data carries nothing');
  assert.equal(decode(105, wifiData({ subtype: 8, flags: 0x41 }, Array<number>(48).fill(0x5a))).reason, 'encrypted-80211');
  assert.equal(decode(127, [0, 0, 64, 0, 0, 0, 0, 0]).reason, 'truncated-link-header', 'radiotap longer than the packet');
  assert.equal(decode(192, [0, 0, 8, 0, 1, 0, 0, 0, ...ethernet(syn4)]).reason, 'unsupported-link-type', 'PPI of another link type');
});

function tshark(): boolean {
  return spawnSync('tshark', ['-v'], { stdio: 'ignore' }).error === undefined;
}

/** Packets and layer-3 bytes per TCP/UDP conversation, as tshark counts them (frames and bytes of -z conv are frame sizes). */
function tsharkConversations(path: string): Map<string, number> {
  const out = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'udp.srcport', '-e', 'ip.len', '-e', 'ipv6.plen'], { encoding: 'utf8' });
  const bytes = new Map<string, number>();
  for (const line of out.stdout.trim().split('\n')) {
    const [src4, src6, tcpPort, udpPort, len4, plen6] = line.split('\t');
    const key = `${src4 || src6}:${tcpPort || udpPort}`;
    bytes.set(key, (bytes.get(key) ?? 0) + (len4 ? Number(len4) : 40 + Number(plen6)));
  }
  return bytes;
}

test('a capture per encapsulation gives the same flows as tshark sees (or as built, without tshark)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-encap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const synAck4 = ipv4({ src: '10.2.2.2', dst: '10.1.1.1', protocol: 6 }, tcp({ sport: 443, dport: 40000, flags: 0x12, window: 65535 }));
  const data4 = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', protocol: 6 }, tcp({ sport: 40000, dport: 443, flags: 0x18, payload: 100 }));
  const captures: [string, number, (l3: number[], v6: boolean) => number[]][] = [
    ['mpls', 1, (l3) => ethernet([...mplsStack([16, 17]), ...l3], 0x8847)],
    ['pppoe', 1, (l3, v6) => ethernet(pppoe(v6 ? 0x0057 : 0x0021, l3), 0x8864)],
    ['ppp', 9, (l3, v6) => [0xff, 0x03, 0x00, v6 ? 0x57 : 0x21, ...l3]],
    ['radiotap', 127, (l3, v6) => radiotap(8, wifiData({ subtype: 8, flags: 0x01 }, [...(v6 ? LLC_SNAP_IPV6 : LLC_SNAP_IPV4), ...l3]))],
  ];
  for (const [name, linkType, wrap] of captures) {
    const l3s: [number[], boolean][] = [[syn4, false], [synAck4, false], [data4, false], [dns6, true]];
    const path = join(dir, `${name}.pcap`);
    writeFileSync(path, pcapFile(l3s.map(([l3, v6], i) => ({ t: 1_700_000_000 + i * 0.25, bytes: wrap(l3, v6) })), { linkType }));
    const flows: FlowRecord[] = [];
    const meter = new FlowMeter((f) => flows.push(f));
    const summary = await readCapture(path, (p) => meter.addPacket(p));
    meter.flush();
    assert.deepEqual(meter.stats.skipped, {}, name);
    assert.equal(summary.packets, 4, name);
    const ours = new Map(flows.map((f) => [`${f.srcAddr}:${f.srcPort}`, f.bytes]));
    assert.deepEqual(ours, new Map([['10.1.1.1:40000', 40 + 40 + 140], ['2001:db8::1:5353', 78]]), name);
    if (!tshark()) continue;
    // tshark keeps one conversation side per source; ours are bidirectional: compare the sum per initiator.
    const theirs = tsharkConversations(path);
    assert.equal((theirs.get('10.1.1.1:40000') ?? 0) + (theirs.get('10.2.2.2:443') ?? 0), ours.get('10.1.1.1:40000'), `${name}: tshark`);
    assert.equal(theirs.get('2001:db8::1:5353'), ours.get('2001:db8::1:5353'), `${name}: tshark`);
  }
});

/** A pflog header (OpenBSD if_pflog.h: length 61, padded to 64) for address family `af`. */
function pflog(af: number, l3: number[]): number[] {
  const header = Array<number>(64).fill(0);
  header[0] = 61;
  header[1] = af;
  return [...header, ...l3];
}

/** An NFLOG record: family, version, resource id, then TLVs (length and type little-endian unless `bigEndian`). */
function nflog(family: number, l3: number[], bigEndian = false): number[] {
  const tlv = (type: number, value: number[]): number[] => {
    const len = 4 + value.length;
    const head = bigEndian ? [len >> 8, len & 255, type >> 8, type & 255] : [len & 255, len >> 8, type & 255, type >> 8];
    return [...head, ...value, ...Array<number>((4 - (len % 4)) % 4).fill(0)];
  };
  return [family, 0, 0, 5, ...tlv(1, [0x08, 0x00, 3, 0]), ...tlv(10, [...'fw-in'].map((c) => c.charCodeAt(0))), ...tlv(9, l3)];
}

test('firewall logs: OpenBSD/pfSense pflog (117) and Linux NFLOG (239) carry the logged IP packet', () => {
  for (const [link, bytes, port] of [
    [117, pflog(2, syn4), 443], [117, pflog(24, dns6), 53], [117, pflog(28, dns6), 53],
    [239, nflog(2, syn4), 443], [239, nflog(10, dns6), 53], [239, nflog(2, syn4, true), 443],
  ] as const) {
    const { reason, p } = decode(link, [...bytes]);
    assert.deepEqual([reason, p.dstPort, p.ipBytes], ['ok', port, port === 443 ? 40 : 78], `link type ${link}, ${bytes.length} bytes`);
  }
  assert.equal(decode(117, pflog(17, syn4)).reason, 'non-ip', 'another address family');
  assert.equal(decode(117, pflog(2, []).slice(0, 40)).reason, 'truncated-link-header');
  assert.equal(decode(239, [2, 0, 0, 5, 8, 0, 1, 0, 0x08, 0x00, 3, 0]).reason, 'non-ip', 'an NFLOG record without the packet');
});

test('pflog and NFLOG captures give the flows tshark sees', { skip: !tshark() && 'no tshark' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-fwlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [linkType, wrap] of [[117, (l3: number[], v6: boolean) => pflog(v6 ? 24 : 2, l3)], [239, (l3: number[], v6: boolean) => nflog(v6 ? 10 : 2, l3)]] as const) {
    const path = join(dir, `${linkType}.pcap`);
    writeFileSync(path, pcapFile([[syn4, false], [dns6, true]].map(([l3, v6], i) => ({ t: 1_700_000_000 + i, bytes: wrap(l3 as number[], v6 as boolean) })), { linkType }));
    const flows: FlowRecord[] = [];
    const meter = new FlowMeter((f) => flows.push(f));
    await readCapture(path, (p) => meter.addPacket(p));
    meter.flush();
    const theirs = tsharkConversations(path);
    assert.deepEqual(new Map(flows.map((f) => [`${f.srcAddr}:${f.srcPort}`, f.bytes])), theirs, `link type ${linkType}`);
  }
});

/** An SCTP common header (RFC 9260 §3.1: ports, verification tag, checksum) and one DATA chunk of `payload` bytes. */
function sctp(sport: number, dport: number, payload: number): number[] {
  const chunkLen = 16 + payload;
  const chunk = [0, 3, chunkLen >> 8, chunkLen & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 46, ...Array<number>(payload).fill(0x64)];
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 7, 0, 0, 0, 0, ...chunk, ...Array<number>((4 - (chunkLen % 4)) % 4).fill(0)];
}

test('SCTP associations are keyed by their ports, as IPFIX exporters and tshark key them', async (t) => {
  const s1ap = decode(1, ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 132 }, sctp(36412, 36412, 40))));
  assert.deepEqual([s1ap.reason, s1ap.p.srcPort, s1ap.p.dstPort, s1ap.p.l4HeaderLen, s1ap.p.payloadLen], ['ok', 36412, 36412, 12, 56]);
  const v6 = decode(1, ethernet(ipv6('2001:db8::1', '2001:db8::2', 132, sctp(3868, 40000, 8)), 0x86dd));
  assert.deepEqual([v6.reason, v6.p.srcPort, v6.p.dstPort], ['ok', 3868, 40000]);
  assert.equal(decode(101, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 132 }, sctp(1, 2, 0)).slice(0, 28)).reason, 'truncated-transport-header');

  // two associations between the same hosts (Diameter and M3UA): two flows, with tshark's packets and bytes
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-sctp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sctp.pcap');
  const packets = [sctp(3868, 3868, 100), sctp(2905, 2905, 20), sctp(3868, 3868, 60), sctp(2905, 2905, 4)];
  writeFileSync(path, pcapFile(packets.map((l4, i) => ({ t: 1_700_000_000 + i * 0.1, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 132 }, l4)) }))));
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f));
  await readCapture(path, (p) => meter.addPacket(p));
  meter.flush();
  const ours = new Map(flows.map((f) => [`${f.srcPort}`, [f.packets, f.bytes]]));
  assert.deepEqual(ours, new Map([['3868', [2, 20 + 28 + 100 + 20 + 28 + 60]], ['2905', [2, 20 + 28 + 20 + 20 + 28 + 4]]]));
  if (!tshark()) return;
  const conv = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'sctp.srcport', '-e', 'ip.len'], { encoding: 'utf8' }).stdout.trim().split('\n');
  const theirs = new Map<string, number[]>();
  for (const [port, len] of conv.map((l) => l.split('\t'))) {
    const seen = theirs.get(port!) ?? [0, 0];
    theirs.set(port!, [seen[0]! + 1, seen[1]! + Number(len)]);
  }
  assert.deepEqual(ours, theirs);
});

/** A GRE header (RFC 2784/2890) with the optional checksum, key and sequence words, then its payload. */
function gre(protocolType: number, payload: number[], opts: { checksum?: boolean; key?: boolean; seq?: boolean; version?: number } = {}): number[] {
  const flags = (opts.checksum ? 0x80 : 0) | (opts.key ? 0x20 : 0) | (opts.seq ? 0x10 : 0);
  const words = [opts.checksum, opts.key, opts.seq].filter(Boolean).flatMap(() => [0, 0, 0, 9]);
  return [flags, opts.version ?? 0, ...be16(protocolType), ...words, ...payload];
}

/** A UDP header with these payload bytes. */
function udpCarrying(sport: number, dport: number, payload: number[]): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
}

const outer4 = (protocol: number, l4: number[]): number[] => ethernet(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol }, l4));
const vxlan = (frame: number[], flags = 0x08, port = 4789): number[] => outer4(17, udpCarrying(51000, port, [flags, 0, 0, 0, 0, 0x12, 0x34, 0, ...frame]));
const geneve = (protocolType: number, payload: number[], optionWords = 0): number[] =>
  outer4(17, udpCarrying(51000, 6081, [optionWords, 0, ...be16(protocolType), 0, 0, 7, 0, ...Array<number>(optionWords * 4).fill(0xee), ...payload]));
/** GTP-U G-PDU (version 1, PT 1); `extension` adds the optional words and one PDU session container header. */
function gtpu(l3: number[], extension = false): number[] {
  const extra = extension ? [0, 1, 0, 0x85, 1, 0x10, 9, 0] : [];
  return outer4(17, udpCarrying(2152, 2152, [extension ? 0x34 : 0x30, 0xff, ...be16(l3.length + extra.length), 0, 0, 0, 42, ...extra, ...l3]));
}
const erspan2 = (frame: number[]): number[] => outer4(47, gre(0x88be, [0x10, 7, 0, 0, 0, 0, 0, 0, ...frame], { seq: true }));
function erspan3(frame: number[], platform: boolean, frameType = 0): number[] {
  const header = [0x20, 7, 0, 0, 0, 0, 0, 0, 0, 0, frameType << 2, platform ? 1 : 0, ...(platform ? Array<number>(8).fill(0) : [])];
  return outer4(47, gre(0x22eb, [...header, ...frame], { seq: true }));
}

test('tunnels are opened to the packet inside: IP in IP, GRE (IP, MPLS, Ethernet, ERSPAN I–III), VXLAN, Geneve, GTP-U', () => {
  const inner = ['10.1.1.1', '10.2.2.2', 40000, 443, 2, 40];
  for (const [bytes, what] of [
    [outer4(4, syn4), 'IP in IP'],
    [outer4(47, gre(0x0800, syn4)), 'GRE'],
    [outer4(47, gre(0x0800, syn4, { checksum: true, key: true, seq: true })), 'GRE, checksum, key and sequence'],
    [outer4(47, gre(0x8847, [...mplsStack([16]), ...syn4])), 'MPLS over GRE'],
    [outer4(47, gre(0x6558, ethernet(syn4))), 'Ethernet over GRE'],
    [outer4(47, gre(0x88be, ethernet(syn4))), 'ERSPAN type I'],
    [erspan2(ethernet(syn4)), 'ERSPAN type II'],
    [erspan3(ethernet(syn4), false), 'ERSPAN type III'],
    [erspan3(ethernet(syn4), true), 'ERSPAN type III, platform subheader'],
    [vxlan(ethernet(syn4)), 'VXLAN'],
    [geneve(0x6558, ethernet(syn4), 2), 'Geneve, Ethernet, options'],
    [geneve(0x0800, syn4), 'Geneve, IP'],
    [gtpu(syn4), 'GTP-U'],
    [gtpu(syn4, true), 'GTP-U, extension header'],
    [outer4(17, udpCarrying(51000, 4789, [0x08, 0, 0, 0, 0, 0, 1, 0, ...ethernet(outer4(47, gre(0x0800, syn4)).slice(14))])), 'GRE inside VXLAN'],
  ] as const) {
    const { reason, p } = decode(1, [...bytes]);
    assert.equal(reason, 'ok', what);
    assert.deepEqual([formatAddress(4, p.src), formatAddress(4, p.dst), p.srcPort, p.dstPort, p.tcpFlags, p.ipBytes], inner, what);
  }
  for (const [bytes, what] of [[outer4(41, dns6), '6in4'], [gtpu(dns6), 'GTP-U, IPv6'], [ethernet(ipv6('2001:db8::a', '2001:db8::b', 4, syn4), 0x86dd), 'IPv4 in IPv6']] as const) {
    const { reason, p } = decode(1, [...bytes]);
    const expected = what === 'IPv4 in IPv6' ? [4, 443, 40] : [6, 53, 78];
    assert.deepEqual([reason, p.ipVersion, p.dstPort, p.ipBytes], ['ok', ...expected], what);
  }
});

test('a tunnel keeps the outer VLAN; an untagged tunnel takes the inner frame\'s', () => {
  const tagged = ethernet(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 17 }, udpCarrying(1, 4789, [0x08, 0, 0, 0, 0, 0, 1, 0, ...ethernet(syn4, 0x0800, [20])])), 0x0800, [10]);
  assert.equal(decode(1, tagged).p.vlan, 10);
  assert.equal(decode(1, vxlan(ethernet(syn4, 0x0800, [20]))).p.vlan, 20);
});

test('what is not a tunnel, or one too deep, is metered as the packet that carries it', () => {
  const outer = (bytes: number[]): unknown[] => {
    const { reason, p } = decode(1, bytes);
    return [reason, formatAddress(4, p.src), p.protocol, p.dstPort];
  };
  assert.deepEqual(outer(vxlan(ethernet(syn4), 0x00)), ['ok', '192.0.2.1', 17, 4789], 'VXLAN without the I flag');
  assert.deepEqual(outer(outer4(17, udpCarrying(1, 4789, [8, 0, 0]))), ['ok', '192.0.2.1', 17, 4789], 'VXLAN header cut short');
  assert.deepEqual(outer(outer4(47, gre(0x0800, syn4, { version: 2 }))), ['ok', '192.0.2.1', 47, 0], 'GRE version 2');
  assert.deepEqual(outer(outer4(47, gre(0x0806, Array<number>(28).fill(0)))), ['ok', '192.0.2.1', 47, 0], 'GRE carrying ARP');
  assert.deepEqual(outer(erspan3(syn4, false, 2)), ['ok', '192.0.2.1', 47, 0], 'ERSPAN III of another frame type');
  assert.deepEqual(outer(geneve(0x0806, [])), ['ok', '192.0.2.1', 17, 6081], 'Geneve carrying ARP');
  assert.deepEqual(outer(outer4(17, udpCarrying(2152, 2152, [0x32, 0x01, 0, 0, 0, 0, 0, 1]))), ['ok', '192.0.2.1', 17, 2152], 'GTP-U echo request');
  const firstFragment = ethernet(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 47, moreFragments: true }, gre(0x0800, syn4)));
  assert.deepEqual(outer(firstFragment), ['ok', '192.0.2.1', 47, 0], 'a fragmented tunnel packet');
  // IP in IP five deep: four tunnels are opened, the fifth header is metered
  let nested = syn4;
  for (let i = 0; i < 5; i++) nested = ipv4({ src: `172.16.0.${i}`, dst: '172.16.1.1', protocol: 4 }, nested);
  assert.deepEqual(outer(ethernet(nested)), ['ok', '172.16.0.0', 4, 0]);
  // a tunnel header read, its packet cut short: the inner packet's reason
  assert.equal(decode(1, vxlan(ethernet(syn4)).slice(0, 14 + 20 + 8 + 8 + 14 + 10)).reason, 'truncated-ip-header');
  assert.equal(decode(1, vxlan(ethernet([0, 0], 0x0806))).reason, 'non-ip');
});

/** One UDP packet per tunnel kind (10.9.0.N:2000N → 10.2.2.2:53, 10·N payload bytes), one second apart. */
function tunnelFrames(): { t: number; bytes: number[] }[] {
  const wraps = [
    (l3: number[]) => outer4(47, gre(0x0800, l3, { key: true })),
    (l3: number[]) => erspan2(ethernet(l3)),
    (l3: number[]) => erspan3(ethernet(l3), true),
    (l3: number[]) => vxlan(ethernet(l3)),
    (l3: number[]) => geneve(0x6558, ethernet(l3), 1),
    (l3: number[]) => gtpu(l3, true),
    (l3: number[]) => outer4(4, l3),
  ];
  return wraps.map((wrap, i) => ({ t: 1_700_000_000 + i, bytes: wrap(ipv4({ src: `10.9.0.${i + 1}`, dst: '10.2.2.2', protocol: 17 }, udp(20000 + i, 53, 10 * i))) }));
}

// test/fixtures/captures/tunnels.pcap is these frames (a fuzzing seed for bench/fuzz-packets.ts); rebuilt here.
const TUNNELS_PCAP = new URL('../../../test/fixtures/captures/tunnels.pcap', import.meta.url);

test('a capture of tunnelled traffic gives the inner flows, as built and as tshark sees them', async () => {
  assert.deepEqual(readFileSync(TUNNELS_PCAP), pcapFile(tunnelFrames()), 'the committed capture is the built one');
  const path = fileURLToPath(TUNNELS_PCAP);
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f));
  await readCapture(path, (p) => meter.addPacket(p));
  meter.flush();
  const ours = new Map(flows.map((f) => [`${f.srcAddr}:${f.srcPort}`, f.bytes]));
  assert.deepEqual(ours, new Map(tunnelFrames().map((_, i) => [`10.9.0.${i + 1}:${20000 + i}`, 20 + 8 + 10 * i])));
  if (!tshark()) return;
  const out = spawnSync('tshark', ['-r', path, '-T', 'fields', '-E', 'occurrence=l', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.len'], { encoding: 'utf8' });
  const theirs = new Map(out.stdout.trim().split('\n').map((line) => line.split('\t')).map(([src, port, len]) => [`${src}:${port}`, Number(len)]));
  assert.deepEqual(ours, theirs);
});

/** A PPP frame (RFC 1661) carrying `l3`: address and control FF 03 unless `acfc`, the protocol (one byte with `pfc`). */
function ppp(l3: number[], opts: { acfc?: boolean; pfc?: boolean; protocol?: number } = {}): number[] {
  const protocol = opts.protocol ?? (l3[0]! >> 4 === 6 ? 0x0057 : 0x0021);
  return [...(opts.acfc ? [] : [0xff, 0x03]), ...(opts.pfc ? [protocol] : be16(protocol)), ...l3];
}

/** PPTP's enhanced GRE (RFC 2637 §4.1): version 1, protocol 0x880B, the key (payload length, call id), optional sequence and acknowledgment numbers. */
function pptp(payload: number[], opts: { seq?: boolean; ack?: boolean; key?: boolean; version?: number } = {}): number[] {
  const key = opts.key ?? true;
  const flags = (key ? 0x20 : 0) | (opts.seq ? 0x10 : 0);
  const words = [...(key ? [...be16(payload.length), 0, 7] : []), ...(opts.seq ? [0, 0, 0, 5] : []), ...(opts.ack ? [0, 0, 0, 4] : [])];
  return outer4(47, [flags, (opts.ack ? 0x80 : 0) | (opts.version ?? 1), 0x88, 0x0b, ...words, ...payload]);
}

/** An L2TP header (RFC 2661 §3.1): flags and version, the length, tunnel and session ids, Ns/Nr, offset size and padding. */
function l2tp(payload: number[], opts: { length?: boolean; sequence?: boolean; offset?: number; control?: boolean; version?: number } = {}): number[] {
  const flags = (opts.control ? 0x80 : 0) | (opts.length ? 0x40 : 0) | (opts.sequence ? 0x08 : 0) | (opts.offset !== undefined ? 0x02 : 0);
  const offset = opts.offset !== undefined ? [...be16(opts.offset), ...Array<number>(opts.offset).fill(0)] : [];
  const rest = [0, 3, 0, 9, ...(opts.sequence ? [0, 1, 0, 2] : []), ...offset, ...payload];
  return [flags, opts.version ?? 2, ...(opts.length ? be16(4 + rest.length) : []), ...rest];
}

/** Teredo (RFC 4380 §5.1.1): an authentication indicator with client id and authentication value of these lengths, an origin indication, then IPv6. */
function teredo(l3: number[], opts: { auth?: [number, number]; origin?: boolean } = {}): number[] {
  const auth = opts.auth ? [0, 1, ...opts.auth, ...Array<number>(opts.auth[0] + opts.auth[1]).fill(0x41), 1, 2, 3, 4, 5, 6, 7, 8, 0] : [];
  return [...auth, ...(opts.origin ? [0, 0, 0xf0, 0x0f, 0x3f, 0xff, 0xfd, 0xfe] : []), ...l3];
}

/** VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): flags (I and P), the next protocol, the VNI. */
const vxlanGpe = (nextProtocol: number, payload: number[], flags = 0x0c): number[] => outer4(17, udpCarrying(51000, 4790, [flags, 0, 0, nextProtocol, 0, 0x12, 0x34, 0, ...payload]));
const overUdp = (sport: number, dport: number, payload: number[]): number[] => outer4(17, udpCarrying(sport, dport, payload));

test('PPTP, L2TP, Teredo, VXLAN-GPE and VXLAN on port 8472 are opened to the packet inside', () => {
  const inner = ['10.1.1.1', '10.2.2.2', 6, 40000, 443, 40];
  for (const [bytes, what] of [
    [pptp(ppp(syn4)), 'PPTP'],
    [pptp(ppp(syn4, { acfc: true, pfc: true }), { seq: true, ack: true }), 'PPTP, sequence and acknowledgment, compressed PPP header'],
    [pptp(ppp(syn4), { ack: true }), 'PPTP, acknowledgment only'],
    [pptp(ppp([...mplsStack([16]), ...syn4], { protocol: 0x0281 })), 'MPLS over PPTP'],
    [overUdp(1701, 1701, l2tp(ppp(syn4))), 'L2TP'],
    [overUdp(1701, 1701, l2tp(ppp(syn4, { acfc: true, pfc: true }), { length: true, sequence: true, offset: 3 })), 'L2TP, length, Ns/Nr, offset padding'],
    [overUdp(1701, 50000, l2tp(ppp(syn4))), 'L2TP from the server port'],
    [vxlanGpe(1, syn4), 'VXLAN-GPE, IPv4'],
    [vxlanGpe(3, ethernet(syn4)), 'VXLAN-GPE, Ethernet'],
    [vxlan(ethernet(syn4), 0x08, 8472), 'VXLAN on 8472'],
    [pptp(ppp(vxlanGpe(1, syn4).slice(14), { acfc: true })), 'VXLAN-GPE inside PPTP'],
  ] as const) {
    const { reason, p } = decode(1, [...bytes]);
    assert.equal(reason, 'ok', what);
    assert.deepEqual([formatAddress(4, p.src), formatAddress(4, p.dst), p.protocol, p.srcPort, p.dstPort, p.ipBytes], inner, what);
  }
  for (const [bytes, what] of [
    [overUdp(51000, 3544, teredo(dns6)), 'Teredo'],
    [overUdp(3544, 51000, teredo(dns6, { auth: [0, 0] })), 'Teredo from the server port, empty authentication'],
    [overUdp(3544, 51000, teredo(dns6, { auth: [4, 8], origin: true })), 'Teredo, authentication and origin indication'],
    [overUdp(3544, 51000, teredo(dns6, { origin: true })), 'Teredo, origin indication'],
    [vxlanGpe(2, dns6), 'VXLAN-GPE, IPv6'],
    [overUdp(50000, 1701, l2tp(ppp(dns6))), 'L2TP, IPv6'],
    [pptp(ppp(dns6, { pfc: true })), 'PPTP, IPv6'],
  ] as const) {
    const { reason, p } = decode(1, [...bytes]);
    assert.deepEqual([reason, formatAddress(6, p.src), p.protocol, p.srcPort, p.dstPort, p.ipBytes], ['ok', '2001:db8::1', 17, 5353, 53, 78], what);
  }
});

test('a PPTP, L2TP, Teredo or VXLAN-GPE header cut short, of another version or carrying something else is metered as the packet that carries it', () => {
  const outer = (bytes: number[]): unknown[] => {
    const { reason, p } = decode(1, bytes);
    return [reason, formatAddress(4, p.src), p.protocol, p.dstPort];
  };
  const gre47 = ['ok', '192.0.2.1', 47, 0];
  for (const [bytes, what] of [
    [pptp(ppp(syn4), { key: false }), 'PPTP without its key'],
    [outer4(47, gre(0x0800, syn4, { key: true, version: 1 })), 'GRE version 1 carrying IPv4'],
    [pptp([], { ack: true }), 'PPTP acknowledgment without a payload'],
    [pptp(ppp([1, 1, 0, 4], { protocol: 0xc021 })), 'PPTP carrying LCP'],
    [pptp([0xff, 0x03]), 'PPP header cut before the protocol'],
    [pptp([0xff, 0x03, 0x00]), 'PPP protocol cut short'],
  ] as const) assert.deepEqual(outer([...bytes]), gre47, what);
  for (const [bytes, port, what] of [
    [overUdp(1701, 1701, l2tp([0, 8, 0, 8, 0, 8], { control: true, length: true, sequence: true })), 1701, 'L2TP control message'],
    [overUdp(1701, 1701, l2tp(ppp(syn4), { version: 3 })), 1701, 'L2TPv3 on 1701'],
    [overUdp(1701, 1701, [0x02, 0x02, 0, 3, 0, 9]), 1701, 'L2TP cut at its offset size'],
    [overUdp(1701, 1701, l2tp(ppp(syn4), { offset: 200 }).slice(0, 12)), 1701, 'L2TP offset past the packet'],
    [overUdp(1701, 1701, l2tp(ppp([0x45, 0, 0, 1], { protocol: 0x8021 }))), 1701, 'L2TP carrying IPCP'],
    [overUdp(51000, 3544, teredo(syn4)), 3544, 'Teredo carrying IPv4'],
    [overUdp(51000, 3544, [0, 1, 4]), 3544, 'Teredo authentication cut short'],
    [overUdp(51000, 3544, teredo([], { auth: [2, 2], origin: true })), 3544, 'Teredo indications without a packet'],
    [vxlanGpe(1, syn4, 0x08), 4790, 'VXLAN-GPE without the P bit'],
    [vxlanGpe(1, syn4, 0x1c), 4790, 'VXLAN-GPE version 1'],
    [vxlanGpe(4, syn4), 4790, 'VXLAN-GPE carrying NSH'],
    [overUdp(51000, 4790, [0x0c, 0, 0, 1]), 4790, 'VXLAN-GPE header cut short'],
    [vxlan(ethernet(syn4), 0x00, 8472), 8472, 'VXLAN on 8472 without the I flag'],
  ] as const) assert.deepEqual(outer([...bytes]), ['ok', '192.0.2.1', 17, port], what);
  const fragment = ethernet(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 17, moreFragments: true }, udpCarrying(1701, 1701, l2tp(ppp(syn4)))));
  assert.deepEqual(outer(fragment), ['ok', '192.0.2.1', 17, 1701], 'a first fragment of an L2TP packet');
  // a tunnel header read, its packet cut short or not IP: the inner packet's reason
  assert.equal(decode(1, overUdp(51000, 3544, teredo(dns6)).slice(0, 14 + 20 + 8 + 30)).reason, 'truncated-ip-header');
  assert.equal(decode(1, pptp(ppp(syn4)).slice(0, 14 + 20 + 8 + 4 + 10)).reason, 'truncated-ip-header');
  assert.equal(decode(1, vxlanGpe(3, ethernet([0, 0], 0x0806))).reason, 'non-ip');
});

/** One packet per new tunnel kind (inner sources 10.8.0.N or 2001:db8:8::N, source port 30000 + N), 0.1 s apart. */
function pppAndUdpTunnelFrames(): { t: number; bytes: number[] }[] {
  const v4 = (n: number, l4: (sport: number) => number[], protocol = 17): number[] => ipv4({ src: `10.8.0.${n}`, dst: '10.2.2.2', protocol }, l4(30000 + n));
  const v6 = (n: number): number[] => ipv6(`2001:db8:8::${n}`, '2001:db8::53', 17, udp(30000 + n, 53, 4 * n));
  const dnsQuery = (n: number): number[] => v4(n, (sport) => udp(sport, 53, 4 * n));
  const syn = (n: number): number[] => v4(n, (sport) => tcp({ sport, dport: 443, flags: 0x02, window: 1024 }), 6);
  const frames = [
    pptp(ppp(dnsQuery(1))),
    pptp(ppp(syn(2), { acfc: true, pfc: true }), { seq: true, ack: true }),
    pptp(ppp(v6(3))),
    overUdp(1701, 1701, l2tp(ppp(dnsQuery(4)))),
    overUdp(1701, 1701, l2tp(ppp(v6(5), { pfc: true }), { length: true, sequence: true, offset: 2 })),
    overUdp(1701, 1702, l2tp(ppp(syn(6)), { length: true })),
    overUdp(51000, 3544, teredo(v6(7))),
    overUdp(3544, 51000, teredo(v6(8), { auth: [4, 8], origin: true })),
    vxlanGpe(1, dnsQuery(9)),
    vxlanGpe(2, v6(10)),
    vxlanGpe(3, ethernet(syn(11))),
    vxlan(ethernet(dnsQuery(12)), 0x08, 8472),
  ];
  return frames.map((bytes, i) => ({ t: 1_700_000_000 + i * 0.1, bytes }));
}

// test/fixtures/captures/ppp-and-udp-tunnels.pcap is these frames (a fuzzing seed for bench/fuzz-packets.ts); rebuilt here.
const PPP_UDP_TUNNELS_PCAP = new URL('../../../test/fixtures/captures/ppp-and-udp-tunnels.pcap', import.meta.url);

/** Per innermost conversation, as tshark decodes it: source address and port → [protocol, packets, layer-3 bytes]. */
function tsharkInnermost(path: string, decodeAs: string[]): Map<string, number[]> {
  const fields = ['frame.protocols', 'ip.src', 'ipv6.src', 'ip.proto', 'ipv6.nxt', 'tcp.srcport', 'udp.srcport', 'ip.len', 'ipv6.plen'];
  const args = ['-r', path, ...decodeAs.flatMap((d) => ['-d', d]), '-T', 'fields', '-E', 'occurrence=l', ...fields.flatMap((f) => ['-e', f])];
  const out = spawnSync('tshark', args, { encoding: 'utf8' });
  const flows = new Map<string, number[]>();
  for (const line of out.stdout.trim().split('\n')) {
    const [protocols, src4, src6, proto4, next6, tcpPort, udpPort, len4, plen6] = line.split('\t');
    const layers = protocols!.split(':');
    const v6 = layers.lastIndexOf('ipv6') > layers.lastIndexOf('ip');
    const protocol = Number(v6 ? next6 : proto4);
    const key = `${v6 ? src6 : src4}:${protocol === 6 ? tcpPort : udpPort}`;
    const seen = flows.get(key) ?? [protocol, 0, 0];
    flows.set(key, [protocol, seen[1]! + 1, seen[2]! + (v6 ? 40 + Number(plen6) : Number(len4))]);
  }
  return flows;
}

test('a capture of PPTP, L2TP, Teredo, VXLAN-GPE and VXLAN-on-8472 traffic gives the inner flows, as built, as tshark decodes them and through extract', async (t) => {
  assert.deepEqual(readFileSync(PPP_UDP_TUNNELS_PCAP), pcapFile(pppAndUdpTunnelFrames()), 'the committed capture is the built one');
  const path = fileURLToPath(PPP_UDP_TUNNELS_PCAP);
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f));
  await readCapture(path, (p) => meter.addPacket(p));
  meter.flush();
  assert.deepEqual(meter.stats.skipped, {});
  const ours = new Map(flows.map((f) => [`${f.srcAddr}:${f.srcPort}`, [f.protocol, f.packets, f.bytes]]));
  const built = new Map<string, number[]>();
  for (let n = 1; n <= 12; n++) {
    const v6 = [3, 5, 7, 8, 10].includes(n);
    const tcpSyn = [2, 6, 11].includes(n);
    built.set(`${v6 ? `2001:db8:8::${n}` : `10.8.0.${n}`}:${30000 + n}`, [tcpSyn ? 6 : 17, 1, tcpSyn ? 40 : (v6 ? 40 : 20) + 8 + 4 * n]);
  }
  assert.deepEqual(ours, built);
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-tunnels-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const extract = cli(['extract', path, '--out', join(dir, 'flows.csv'), '--json']);
  assert.equal(extract.code, 0, extract.stderr);
  assert.equal((JSON.parse(extract.stdout) as { flows: number }).flows, built.size);
  if (!tshark()) return;
  // Linux's VXLAN port is not one of tshark's defaults: decoded as VXLAN, as Zeek's vxlan_ports can be told to.
  assert.deepEqual(ours, tsharkInnermost(path, ['udp.port==8472,vxlan']));
});

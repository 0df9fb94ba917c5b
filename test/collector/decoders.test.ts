// NetFlow v5 / v9 / IPFIX decoders: real softflowd datagrams against softflowd's own report, and hand-built
// datagrams whose every expected value is computed by hand from the formats.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { decodeDatagram, DecodeStats, FlowBatch, TemplateStore, type TemplateStoreOptions } from '../../src/io/netflow/decode.js';
import { REVERSE_PEN, VARIABLE_LENGTH } from '../../src/io/netflow/information-elements.js';
import { ipv6Text } from '../../src/io/netflow/batch.js';
import { jsonLinesBound, writeJsonLines } from '../../src/io/netflow/json-bytes.js';
import { Bytes, ipfixMessage, readDatagrams, set, templateRecord, v9Packet, type Field } from './build.js';

const FIXTURES = 'test/fixtures/netflow';

class Harness {
  readonly stats = new DecodeStats();
  readonly store: TemplateStore;
  constructor(options?: TemplateStoreOptions) {
    this.store = new TemplateStore(options);
  }
  readonly batch = new FlowBatch(1);
  feed(buf: Buffer, nowMs = 0, exporter = '192.0.2.1'): FlowRecord[] {
    decodeDatagram(buf, exporter, nowMs, this.store, this.batch, this.stats);
    const records = this.batch.toRecords();
    // The JSON-lines fast path writes exactly what JSON.stringify writes for the objects.
    const lines = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    assert.equal(this.batch.toJsonLines(), lines);
    // So does the byte writer the collector uses.
    const out = new Uint8Array(jsonLinesBound(this.batch));
    assert.equal(Buffer.from(out.buffer, 0, writeJsonLines(this.batch, out, 0)).toString('latin1'), lines);
    return records;
  }
}

const truth = JSON.parse(readFileSync(`${FIXTURES}/softflowd-truth.json`, 'utf8')) as Record<
  string,
  { records: number; packets: number; bytes: number; datagrams: number }
>;

test('softflowd datagrams decode to the records, packets and bytes softflowd reported exporting', () => {
  for (const [name, want] of Object.entries(truth)) {
    const h = new Harness();
    const flows: FlowRecord[] = [];
    for (const d of readDatagrams(`${FIXTURES}/${name}.bin`)) flows.push(...h.feed(d));
    assert.equal(h.stats.datagrams, want.datagrams, name);
    assert.equal(h.stats.malformedTotal, 0, name);
    assert.equal(flows.length, want.records, `${name} records`);
    assert.equal(flows.reduce((a, f) => a + f.packets, 0), want.packets, `${name} packets`);
    assert.equal(flows.reduce((a, f) => a + f.bytes, 0), want.bytes, `${name} bytes`);
    for (const f of flows) {
      assert.equal(f.packets, f.fwdPackets + f.bwdPackets);
      assert.equal(f.bytes, f.fwdBytes + f.bwdBytes);
      assert.ok(f.endMs >= f.startMs, `${name}: end before start`);
    }
    if (name.includes('biflow')) assert.ok(flows.some((f) => f.bwdPackets > 0), 'biflow records fill bwd*');
    else assert.ok(flows.every((f) => f.bwdPackets === 0 && f.bwdBytes === 0), 'unidirectional records have bwd* = 0');
  }
});

test('v5, v9 and IPFIX exports of the same captures carry the same flows', () => {
  const keyed = (name: string): string[] => {
    const h = new Harness();
    const keys: string[] = [];
    for (const d of readDatagrams(`${FIXTURES}/${name}.bin`)) {
      for (const f of h.feed(d)) keys.push(`${f.srcAddr} ${f.srcPort} ${f.dstAddr} ${f.dstPort} ${f.protocol} ${f.packets} ${f.bytes} ${f.tcpFlags}`);
    }
    return keys.sort();
  };
  const v5 = keyed('softflowd-v5');
  // softflowd's v9/IPFIX runs also track IPv6 (-6); v5 cannot carry it.
  const v4only = (keys: string[]): string[] => keys.filter((k) => !k.includes(':'));
  assert.deepEqual(v4only(keyed('softflowd-v9')), v5);
  assert.deepEqual(v4only(keyed('softflowd-ipfix')), v5);
});

test('NetFlow v5: header anchors sysUpTime times; ICMP ports zeroed; engine type/id is the domain', () => {
  const b = new Bytes().u16(5).u16(2).u32(100_000).u32(1_700_000_000).u32(500_000_000).u32(7).u8(1).u8(2).u16(0);
  const record = (src: string, dst: string, pkts: number, octets: number, first: number, last: number, sport: number, dport: number, flags: number, proto: number): void => {
    b.ipv4(src).ipv4(dst).ipv4('0.0.0.0').u16(1).u16(2).u32(pkts).u32(octets).u32(first).u32(last);
    b.u16(sport).u16(dport).u8(0).u8(flags).u8(proto).u8(0).u16(0).u16(0).u8(24).u8(24).u16(0);
  };
  record('10.0.0.1', '10.0.0.2', 10, 1500, 90_000, 99_000, 1234, 80, 0x1b, 6);
  // First is just before a sysUpTime wrap: 4294967000 = -296 ms modulo 2^32.
  record('10.0.0.3', '10.0.0.4', 1, 84, 4_294_967_000, 100_000, 0, 0x0800, 0, 1);
  const h = new Harness();
  const [tcp, icmp] = h.feed(b.buffer());
  const exportMs = 1_700_000_000_500;
  assert.deepEqual(tcp, {
    srcAddr: '10.0.0.1',
    dstAddr: '10.0.0.2',
    srcPort: 1234,
    dstPort: 80,
    protocol: 6,
    vlan: 0,
    source: 'netflow-v5',
    startMs: exportMs - 10_000,
    endMs: exportMs - 1_000,
    packets: 10,
    bytes: 1500,
    fwdPackets: 10,
    bwdPackets: 0,
    fwdBytes: 1500,
    bwdBytes: 0,
    tcpFlags: 0x1b,
    endReason: 'exported',
    exporter: '192.0.2.1',
    observationDomain: 258,
  });
  assert.equal(icmp.startMs, exportMs - 100_296);
  assert.equal(icmp.endMs, exportMs);
  assert.equal(icmp.dstPort, 0);
  assert.equal(h.stats.records, 2);
});

test('NetFlow v5: malformed datagrams are counted by reason, never thrown', () => {
  const h = new Harness();
  const header = (count: number): Bytes => new Bytes().u16(5).u16(count).u32(0).u32(0).u32(0).u32(0).u32(0);
  assert.deepEqual(h.feed(header(1).buffer()), []); // no record bytes
  assert.deepEqual(h.feed(header(31).raw(new Uint8Array(31 * 48)).buffer()), []);
  assert.deepEqual(h.feed(Buffer.from([0, 5, 0])), []);
  assert.deepEqual(h.feed(Buffer.alloc(0)), []);
  assert.deepEqual(h.feed(Buffer.from([0, 7, 0, 0])), []);
  assert.deepEqual(h.stats.malformed, { 'v5-truncated': 1, 'v5-bad-count': 1, 'v5-short-header': 1, 'unknown-version': 2 });
});

const V9_FIELDS: Field[] = [
  [8, 4],
  [12, 4],
  [7, 2],
  [11, 2],
  [4, 1],
  [6, 1],
  [2, 4],
  [1, 4],
  [22, 4],
  [21, 4],
  [58, 2],
];

function v9Data(): Buffer {
  const b = new Bytes().ipv4('192.168.1.10').ipv4('8.8.8.8').u16(5353).u16(53).u8(17).u8(0).u32(3).u32(240).u32(45_000).u32(49_000).u16(42);
  b.u16(0); // padding to a 4-byte boundary
  return set(256, b.buffer());
}

test('NetFlow v9: template, options template and data FlowSets; sysUpTime times', () => {
  const h = new Harness();
  const options = new Bytes().u16(257).u16(4).u16(8).u16(1).u16(4).u16(34).u16(4).u16(35).u16(1).u16(0).buffer(); // + 2 bytes padding
  const optionsData = set(257, new Bytes().u32(1).u32(100).u8(2).u8(0).u8(0).u8(0).buffer());
  const flows = h.feed(v9Packet(50_000, 1_600_000_000, 77, [set(0, templateRecord(256, V9_FIELDS)), set(1, options), optionsData, v9Data()]));
  assert.deepEqual(flows, [
    {
      srcAddr: '192.168.1.10',
      dstAddr: '8.8.8.8',
      srcPort: 5353,
      dstPort: 53,
      protocol: 17,
      vlan: 42,
      source: 'netflow-v9',
      startMs: 1_600_000_000_000 - 5_000,
      endMs: 1_600_000_000_000 - 1_000,
      packets: 3,
      bytes: 240,
      fwdPackets: 3,
      bwdPackets: 0,
      fwdBytes: 240,
      bwdBytes: 0,
      tcpFlags: 0,
      endReason: 'exported',
      exporter: '192.0.2.1',
      observationDomain: 77,
    },
  ]);
  assert.equal(h.stats.templates, 1);
  assert.equal(h.stats.optionsTemplates, 1);
  assert.equal(h.stats.optionsRecords, 1);
  // Templates are per source id: another source id does not know template 256.
  assert.deepEqual(h.feed(v9Packet(50_000, 1_600_000_000, 78, [v9Data()])), []);
  assert.equal(h.store.pendingCount, 1);
});

test('NetFlow v9: a data FlowSet that arrives before its template is decoded when the template comes', () => {
  const h = new Harness();
  assert.deepEqual(h.feed(v9Packet(50_000, 1_600_000_000, 1, [v9Data()]), 1000), []);
  const flows = h.feed(v9Packet(60_000, 1_600_000_010, 1, [set(0, templateRecord(256, V9_FIELDS))]), 2000);
  assert.equal(flows.length, 1);
  // Times come from the header of the packet that carried the data.
  assert.equal(flows[0].startMs, 1_600_000_000_000 - 5_000);
  assert.deepEqual(h.store.counters, { templatesEvicted: 0, pendingBuffered: 1, pendingDecoded: 1, pendingDropped: 0 });
});

test('NetFlow v9: broken FlowSet framing drops the packet whole', () => {
  const h = new Harness();
  const bad = v9Packet(0, 0, 1, [set(0, templateRecord(256, V9_FIELDS)), new Bytes().u16(256).u16(400).u32(0).buffer()]);
  assert.deepEqual(h.feed(bad), []);
  assert.equal(h.store.size, 0, 'nothing of a dropped packet is applied');
  assert.deepEqual(h.stats.malformed, { 'v9-bad-flowset-length': 1 });
});

const IPFIX_FIELDS: Field[] = [
  [8, 4],
  [12, 4],
  [7, 2],
  [11, 2],
  [4, 1],
  [2, 8],
  [1, 8],
  [152, 8],
  [153, 8],
  [1, 4, 9], // Cisco enterprise element: skipped by length
  [82, VARIABLE_LENGTH], // interfaceName, variable length
  [6, 2],
];

function ipfixRecord(b: Bytes, src: string, name: Buffer, packets: number): Bytes {
  b.ipv4(src).ipv4('10.1.1.1').u16(40_000).u16(443).u8(6).u64(packets).u64(packets * 100);
  b.u64(1_600_000_000_250).u64(1_600_000_003_750).u32(0xdeadbeef);
  if (name.length < 255) b.u8(name.length);
  else b.u8(255).u16(name.length);
  return b.raw(name).u16(0x0112);
}

test('IPFIX: enterprise elements skipped by length, both variable-length encodings, absolute ms times', () => {
  const h = new Harness();
  const data = new Bytes();
  ipfixRecord(data, '10.0.0.1', Buffer.from('eth0'), 5);
  ipfixRecord(data, '10.0.0.2', Buffer.alloc(300, 0x61), 7);
  const flows = h.feed(ipfixMessage(1_600_000_100, 9, [set(2, templateRecord(300, IPFIX_FIELDS)), set(300, data.buffer())]));
  assert.equal(flows.length, 2);
  assert.deepEqual(
    flows.map((f) => [f.srcAddr, f.dstAddr, f.srcPort, f.dstPort, f.protocol, f.packets, f.bytes, f.startMs, f.endMs, f.tcpFlags, f.observationDomain, f.source]),
    [
      ['10.0.0.1', '10.1.1.1', 40_000, 443, 6, 5, 500, 1_600_000_000_250, 1_600_000_003_750, 0x12, 9, 'ipfix'],
      ['10.0.0.2', '10.1.1.1', 40_000, 443, 6, 7, 700, 1_600_000_000_250, 1_600_000_003_750, 0x12, 9, 'ipfix'],
    ],
  );
  // A variable-length field that runs past the set is a skipped, counted record.
  const cut = ipfixRecord(new Bytes(), '10.0.0.3', Buffer.alloc(40), 1).buffer().subarray(0, 60);
  assert.deepEqual(h.feed(ipfixMessage(1_600_000_100, 9, [set(300, cut)])), []);
  assert.deepEqual(h.stats.skipped, { 'truncated-data-record': 1 });
});

test('IPFIX: IPv6 records, delta-microsecond times, dot1qVlanId, flowEndReason', () => {
  const h = new Harness();
  const fields: Field[] = [[27, 16], [28, 16], [7, 2], [11, 2], [4, 1], [86, 8], [85, 8], [158, 4], [159, 4], [243, 2], [136, 1]];
  const src = Buffer.from('20010db8000000000000000000000001', 'hex');
  const dst = Buffer.from('fe800000000000000000000000000abc', 'hex');
  const d = new Bytes().raw(src).raw(dst).u16(546).u16(547).u8(17).u64(2).u64(300).u32(5_000_000).u32(250_000).u16(0x1064).u8(3);
  const [f] = h.feed(ipfixMessage(1_600_000_100, 3, [set(2, templateRecord(320, fields)), set(320, d.buffer())]));
  assert.deepEqual(
    [f.srcAddr, f.dstAddr, f.srcPort, f.dstPort, f.protocol, f.packets, f.bytes, f.startMs, f.endMs, f.vlan, f.endReason],
    ['2001:db8::1', 'fe80::abc', 546, 547, 17, 2, 300, 1_600_000_095_000, 1_600_000_099_750, 0x064, 'fin'],
  );
});

test('IPFIX: RFC 5103 reverse elements fill the backward counters', () => {
  const h = new Harness();
  const fields: Field[] = [[8, 4], [12, 4], [4, 1], [2, 4], [1, 4], [6, 1], [2, 4, REVERSE_PEN], [1, 4, REVERSE_PEN], [6, 1, REVERSE_PEN], [156, 8], [157, 8]];
  const ntp = (unixSeconds: number, fraction: number): [number, number] => [unixSeconds + 2_208_988_800, fraction];
  const d = new Bytes().ipv4('10.0.0.1').ipv4('10.0.0.2').u8(6).u32(4).u32(400).u8(0x02).u32(3).u32(900).u8(0x12);
  const [s, sf] = ntp(1_600_000_000, 0x80000000);
  const [e, ef] = ntp(1_600_000_002, 0x40000000);
  d.u32(s).u32(sf).u32(e).u32(ef);
  const [f] = h.feed(ipfixMessage(1_600_000_100, 1, [set(2, templateRecord(310, fields)), set(310, d.buffer())]));
  assert.equal(f.fwdPackets, 4);
  assert.equal(f.fwdBytes, 400);
  assert.equal(f.bwdPackets, 3);
  assert.equal(f.bwdBytes, 900);
  assert.equal(f.packets, 7);
  assert.equal(f.bytes, 1300);
  assert.equal(f.tcpFlags, 0x12);
  assert.equal(f.startMs, 1_600_000_000_500);
  assert.equal(f.endMs, 1_600_000_002_250);
});

test('IPFIX: options data sets systemInitTimeMilliseconds for sysUpTime-relative times', () => {
  const h = new Harness();
  const optionsTemplate = set(3, templateRecord(400, [[149, 4], [160, 8]], 1));
  const optionsData = set(400, new Bytes().u32(5).u64(1_600_000_000_000).buffer());
  const template = set(2, templateRecord(302, [[8, 4], [12, 4], [22, 4], [21, 4], [2, 4], [1, 4]]));
  const data = set(302, new Bytes().ipv4('10.0.0.1').ipv4('10.0.0.2').u32(1000).u32(2000).u32(1).u32(60).buffer());
  const [f] = h.feed(ipfixMessage(1_600_000_100, 5, [optionsTemplate, optionsData, template, data]));
  assert.equal(f.startMs, 1_600_000_001_000);
  assert.equal(f.endMs, 1_600_000_002_000);
  assert.equal(h.stats.optionsRecords, 1);
  assert.equal(h.stats.optionsTemplates, 1);
});

test('IPFIX: template withdrawal (one, all) and refresh; templates are per exporter and domain', () => {
  const h = new Harness();
  const t1 = set(2, Buffer.concat([templateRecord(300, [[8, 4], [12, 4], [2, 4], [1, 4]]), templateRecord(301, [[8, 4], [12, 4], [2, 4], [1, 4]])]));
  const opt = set(3, templateRecord(400, [[149, 4], [160, 8]], 1));
  const d = (id: number, packets: number): Buffer => set(id, new Bytes().ipv4('10.0.0.1').ipv4('10.0.0.2').u32(packets).u32(packets * 10).buffer());
  assert.equal(h.feed(ipfixMessage(100, 1, [t1, opt, d(300, 1), d(301, 2)])).length, 2);
  // Same template id from another exporter or domain is unknown there.
  assert.deepEqual(h.feed(ipfixMessage(100, 2, [d(300, 1)])), []);
  assert.deepEqual(h.feed(ipfixMessage(100, 1, [d(300, 1)]), 0, '192.0.2.99'), []);
  // Withdraw 300 only.
  assert.deepEqual(h.feed(ipfixMessage(101, 1, [set(2, new Bytes().u16(300).u16(0).buffer()), d(300, 1), d(301, 3)])).map((f) => f.packets), [3]);
  assert.equal(h.stats.withdrawals, 1);
  // Refresh 301 with a different layout: packets and octets swapped.
  const refreshed = set(2, templateRecord(301, [[8, 4], [12, 4], [1, 4], [2, 4]]));
  assert.deepEqual(h.feed(ipfixMessage(102, 1, [refreshed, d(301, 4)])).map((f) => [f.packets, f.bytes]), [[40, 4]]);
  // Withdraw all data templates (template id = set id 2): 301 goes, options template 400 stays.
  h.feed(ipfixMessage(103, 1, [set(2, new Bytes().u16(2).u16(0).buffer())]));
  assert.equal(h.store.get(TemplateStore.key(10, '192.0.2.1', 1, 301)), undefined);
  assert.ok(h.store.get(TemplateStore.key(10, '192.0.2.1', 1, 400)));
  assert.equal(h.stats.withdrawals, 2);
});

test('IPFIX: data sets before their template wait a bounded time and space', () => {
  const template = set(2, templateRecord(500, [[8, 4], [12, 4], [2, 4], [1, 4]]));
  const data = (packets: number): Buffer => set(500, new Bytes().ipv4('10.0.0.1').ipv4('10.0.0.2').u32(packets).u32(1).buffer());
  // Out of order within the time bound: decoded when the template arrives.
  const h = new Harness({ maxPendingAgeMs: 1000, maxPendingSets: 2 });
  assert.deepEqual(h.feed(ipfixMessage(100, 1, [data(1)]), 0), []);
  assert.deepEqual(h.feed(ipfixMessage(100, 1, [template]), 500).map((f) => f.packets), [1]);
  // Too old: dropped and counted.
  const late = new Harness({ maxPendingAgeMs: 1000 });
  late.feed(ipfixMessage(100, 1, [data(1)]), 0);
  assert.deepEqual(late.feed(ipfixMessage(100, 1, [template]), 5000), []);
  assert.equal(late.store.counters.pendingDropped, 1);
  // Too many: the oldest make room.
  const full = new Harness({ maxPendingSets: 2 });
  for (let i = 1; i <= 5; i++) full.feed(ipfixMessage(100, 1, [data(i)]), i);
  assert.deepEqual(full.feed(ipfixMessage(100, 1, [template]), 10).map((f) => f.packets), [4, 5]);
  assert.deepEqual(full.store.counters, { templatesEvicted: 0, pendingBuffered: 5, pendingDecoded: 2, pendingDropped: 3 });
});

test('IPFIX: the template cache is bounded', () => {
  const h = new Harness({ maxTemplates: 3 });
  for (let id = 256; id < 261; id++) h.feed(ipfixMessage(100, 1, [set(2, templateRecord(id, [[8, 4], [12, 4]]))]));
  assert.equal(h.store.size, 3);
  assert.equal(h.store.counters.templatesEvicted, 2);
  assert.equal(h.store.get(TemplateStore.key(10, '192.0.2.1', 1, 256)), undefined);
  assert.ok(h.store.get(TemplateStore.key(10, '192.0.2.1', 1, 260)));
});

test('IPFIX: malformed messages are dropped whole and counted; bad templates are skipped', () => {
  const h = new Harness();
  const good = ipfixMessage(100, 1, [set(2, templateRecord(300, [[8, 4], [12, 4]]))]);
  assert.deepEqual(h.feed(good.subarray(0, good.length - 2)), []); // length field says more than arrived
  const badSet = Buffer.from(good);
  badSet.writeUInt16BE(2, 18); // set length 2 < 4
  assert.deepEqual(h.feed(badSet), []);
  assert.deepEqual(h.feed(Buffer.from([0, 10, 0, 8, 0, 0, 0, 0])), []);
  assert.deepEqual(h.stats.malformed, { 'ipfix-bad-message-length': 1, 'ipfix-bad-set-length': 1, 'ipfix-short-header': 1 });
  assert.equal(h.store.size, 0);
  // Template id below 256, options template with no scope, zero-length record: skipped, message still accepted.
  h.feed(ipfixMessage(100, 1, [set(2, templateRecord(255, [[8, 4]])), set(3, templateRecord(401, [[8, 4]], 0)), set(2, templateRecord(302, [[8, 0]]))]));
  assert.deepEqual(h.stats.skipped, { 'ipfix-bad-template': 2, 'ipfix-bad-options-template': 1 });
  assert.equal(h.store.size, 0);
});

test('IPv6 addresses are written per RFC 5952', () => {
  const text = (hex: string): string => ipv6Text(Buffer.from(hex, 'hex'), 0);
  assert.equal(text('20010db8000000000000000000000001'), '2001:db8::1');
  assert.equal(text('00000000000000000000000000000001'), '::1');
  assert.equal(text('00000000000000000000000000000000'), '::');
  assert.equal(text('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1');
  assert.equal(text('20010000000000010000000000000001'), '2001:0:0:1::1');
  assert.equal(text('fe800000000000000000000000000000'), 'fe80::');
  assert.equal(text('00000000000000000000ffffc0000201'), '::ffff:192.0.2.1');
});

// IPFIX records whose times are sysUpTime (flowStart/EndSysUpTime, 22/21) from an exporter that never sent
// systemInitTimeMilliseconds (160) (issue 6): the records are kept (nfcapd 1.7.1 keeps them too, with first/last 0),
// end at the export time with their exact duration, and are counted under recordsWithoutAbsoluteTime; once the
// exporter sends the init time, the same record is placed absolutely. Every expected value is computed by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowCollector } from '../../src/flows/collector.js';
import { Bytes, ipfixMessage, set, templateRecord } from './build.js';

const EXPORT_S = 1_700_000_000;
const template = set(2, templateRecord(256, [[8, 4], [12, 4], [4, 1], [7, 2], [11, 2], [2, 4], [1, 4], [22, 4], [21, 4]]));
// sysUpTime 1000 ms to 4000 ms: a 3 s flow.
const data = set(256, new Bytes().ipv4('10.1.1.1').ipv4('10.2.2.2').u8(6).u16(1234).u16(80).u32(5).u32(500).u32(1000).u32(4000).buffer());
const timeless = set(2, templateRecord(257, [[8, 4], [12, 4], [2, 4], [1, 4]]));
const timelessData = set(257, new Bytes().ipv4('10.1.1.1').ipv4('10.3.3.3').u32(1).u32(40).buffer());

test('IPFIX sysUpTime times without systemInitTimeMilliseconds: kept, end at export time, exact duration, counted', () => {
  const c = new FlowCollector();
  const [f] = c.ingest(ipfixMessage(EXPORT_S, 1, [template, data]), '192.0.2.1', 0).toRecords();
  assert.equal(f!.endMs, EXPORT_S * 1000);
  assert.equal(f!.startMs, EXPORT_S * 1000 - 3000);
  assert.deepEqual([f!.packets, f!.bytes, f!.srcAddr, f!.dstAddr], [5, 500, '10.1.1.1', '10.2.2.2']);
  const [g] = c.ingest(ipfixMessage(EXPORT_S + 1, 1, [timeless, timelessData]), '192.0.2.1', 0).toRecords();
  assert.equal(g!.startMs, (EXPORT_S + 1) * 1000);
  assert.equal(g!.endMs, (EXPORT_S + 1) * 1000);
  let s = c.stats();
  assert.equal(s.records, 2);
  assert.equal(s.recordsWithoutAbsoluteTime, 2);

  // The exporter's init time arrives in options data: the same record is now placed absolutely, and not counted.
  const init = 1_699_999_000_000;
  const optionsTemplate = set(3, templateRecord(400, [[149, 4], [160, 8]], 1));
  const optionsData = set(400, new Bytes().u32(1).u64(init).buffer());
  const [h] = c.ingest(ipfixMessage(EXPORT_S + 2, 1, [optionsTemplate, optionsData, data]), '192.0.2.1', 0).toRecords();
  assert.equal(h!.startMs, init + 1000);
  assert.equal(h!.endMs, init + 4000);
  s = c.stats();
  assert.equal(s.records, 3);
  assert.equal(s.recordsWithoutAbsoluteTime, 2);
});

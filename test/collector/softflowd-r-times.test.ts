// Flow times of softflowd `-r` replays (issue 6): softflowd 1.1.0 reading a capture file puts the wall clock of the
// export in the header (v5/v9 unix_secs, IPFIX export time and systemInitTimeMilliseconds) with sysUpTime 0, and in
// the records the packet times minus that "boot", modulo 2^32 ms. The capture's own times (tshark) are therefore
// only known modulo 2^32 ms; RFC 3954 §5.1 (First/Last and the header's sysUpTime) and RFC 7012 (flowStart/End-
// SysUpTime with systemInitTimeMilliseconds) place a flow at or before its export, so the decoded time is the one
// congruent time in the 49.7 days before the export. Fixtures: the datagrams of
// `softflowd -r FILE -n 127.0.0.1:PORT -d -c none -v 5|9|10` for two shared captures, framed as the other fixtures;
// tcp_ports.pcapng is 47.1 days "old" modulo 2^32 ms, which the signed 32-bit reading put 2.6 days after the export.
// Every expected time is computed by hand from the header and record fields in the comments.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowCollector } from '../../src/flows/collector.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { Bytes, readDatagrams } from './build.js';

const FIXTURES = 'test/fixtures/netflow';
const WRAP = 2 ** 32;

function decode(name: string): FlowRecord[] {
  const c = new FlowCollector();
  return readDatagrams(`${FIXTURES}/softflowd-r-${name}.bin`).flatMap((d) => c.ingest(d, '127.0.0.1', 0).toRecords());
}

/** First and last packet of the first flow, ms (tshark -T fields -e frame.time_epoch). */
const CAPTURE = {
  // tcp.port == 2826
  tcp_ports: [1262893114341.715, 1262893115347.868],
  // tcp.port == 1606
  http_google: [1265678319618.072, 1265678319752.467],
};

const cases: { name: string; capture: keyof typeof CAPTURE; exportMs: number; start: number; end: number; headerMs: number }[] = [
  // v5 header: sysUpTime 0, unix_secs 1795246365, unix_nsecs 819122000 → export 1795246365819.122 ms.
  // First 222693226: elapsed (0 - 222693226) mod 2^32 = 4072274070 ms → 1791174091749.122; Last 222694233 → ...2756.122.
  { name: 'tcp_ports-v5', capture: 'tcp_ports', exportMs: 1795246365819.122, start: 1791174091749.122, end: 1791174092756.122, headerMs: 1 },
  // v9 header: sysUpTime 0, unix_secs 1795246366 (whole seconds). First 222692866: elapsed 4072274430 → 1791174091570;
  // Last 222693873: elapsed 4072273423 → 1791174092577.
  { name: 'tcp_ports-v9', capture: 'tcp_ports', exportMs: 1795246366000, start: 1791174091570, end: 1791174092577, headerMs: 1000 },
  // IPFIX: export 1795246366 s, systemInitTimeMilliseconds 1795246366540 (options data). flowStartSysUpTime
  // 222692505: init + up - 2^32 = 1791174091749 (init + up itself is 2.6 days after the export); end 222693511 → ...2755.
  { name: 'tcp_ports-ipfix', capture: 'tcp_ports', exportMs: 1795246366000, start: 1791174091749, end: 1791174092755, headerMs: 1000 },
  // v5: unix_secs 1795246364, unix_nsecs 743298000; First 3007899578: elapsed 2^32 - 3007899578 = 1287067718 →
  // 1793959297025.298; Last 3007899713 → 1793959297160.298 (14.9 days before the export: both readings agree).
  { name: 'http_google-v5', capture: 'http_google', exportMs: 1795246364743.298, start: 1793959297025.298, end: 1793959297160.298, headerMs: 1 },
  // v9: unix_secs 1795246365; First 3007899218: elapsed 1287068078 → 1793959296922; Last 3007899353 → 1793959297057.
  { name: 'http_google-v9', capture: 'http_google', exportMs: 1795246365000, start: 1793959296922, end: 1793959297057, headerMs: 1000 },
  // IPFIX: export 1795246365 s, init 1795246365462; up 3007898859 → init + up - 2^32 = 1793959297025; 3007898993 → ...7159.
  { name: 'http_google-ipfix', capture: 'http_google', exportMs: 1795246365000, start: 1793959297025, end: 1793959297159, headerMs: 1000 },
];

for (const c of cases) {
  test(`softflowd -r ${c.name}: flow times at or before the export, congruent to the capture's modulo 2^32 ms`, () => {
    const flows = decode(c.name);
    assert.ok(flows.length >= 2);
    const first = flows[0]!;
    assert.ok([first.srcPort, first.dstPort].includes(c.capture === 'tcp_ports' ? 2826 : 1606));
    assert.ok(Math.abs(first.startMs - c.start) < 1e-6, `start ${first.startMs} != ${c.start}`);
    assert.ok(Math.abs(first.endMs - c.end) < 1e-6, `end ${first.endMs} != ${c.end}`);
    for (const f of flows) {
      assert.ok(f.startMs <= f.endMs && f.endMs <= c.exportMs + c.headerMs, `${f.startMs}-${f.endMs} after the export ${c.exportMs}`);
      assert.ok(c.exportMs - f.startMs < WRAP, 'within one sysUpTime wrap before the export');
    }
    // The capture's own packet times, modulo 2^32 ms: equal within the header's time resolution (v5 keeps
    // nanoseconds, softflowd's ms rounding gives < 1 ms; v9 and IPFIX export times are whole seconds).
    const [t0, t1] = CAPTURE[c.capture];
    const offset = (ms: number, truth: number): number => {
      const d = (((ms - truth) % WRAP) + WRAP) % WRAP;
      return d > WRAP / 2 ? d - WRAP : d;
    };
    for (const [ms, truth] of [
      [first.startMs, t0!],
      [first.endMs, t1!],
    ] as const) {
      const d = offset(ms, truth);
      assert.ok(d > -c.headerMs && d < 1, `${ms} is ${d} ms from the capture's ${truth} modulo 2^32`);
    }
  });
}

test('NetFlow v5 sysUpTime times: up to a minute after the header is skew, anything later is a wrapped earlier time', () => {
  // header: sysUpTime 1,000,000 ms, unix_secs 1,700,000,000, unix_nsecs 0 → export 1,700,000,000,000 ms.
  const b = new Bytes().u16(5).u16(3).u32(1_000_000).u32(1_700_000_000).u32(0).u32(1).u8(0).u8(0).u16(0);
  const record = (first: number, last: number): void => {
    b.ipv4('10.0.0.1').ipv4('10.0.0.2').ipv4('0.0.0.0').u16(1).u16(2).u32(1).u32(60).u32(first).u32(last);
    b.u16(1000).u16(53).u8(0).u8(0).u8(17).u8(0).u16(0).u16(0).u8(0).u8(0).u16(0);
  };
  record(999_000, 1_000_500); // ends 500 ms after the header's sysUpTime: skew, so 500 ms after the export
  record(1_000_000 + 60_001, 1_000_000 + 60_001); // 60.001 s "after": a time 2^32 - 60,001 ms before the export
  record(1_000_000 + 2 ** 31, 1_000_000 + 2 ** 31); // half a wrap "after": 2^31 ms before (a signed reading said after)
  const [a, w, h] = new FlowCollector().ingest(b.buffer(), '192.0.2.1', 0).toRecords();
  const exportMs = 1_700_000_000_000;
  assert.deepEqual([a!.startMs, a!.endMs], [exportMs - 1000, exportMs + 500]);
  assert.equal(w!.startMs, exportMs - (WRAP - 60_001));
  assert.equal(h!.startMs, exportMs - 2 ** 31);
});

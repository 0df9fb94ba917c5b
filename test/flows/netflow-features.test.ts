// NetFlow features of metered flows against values computed by hand from the packet times: the duration of a flow
// of a real capture (amp.dns.RRSIG.fragmented.pcap, 84.27.192.106:50324 → 10.10.10.10:22, three packets, tshark's
// frame.time_epoch 1632239124.442499 … 1632239124.484036) is 0.041537 s, not the float residue of millisecond times.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowMeter } from '../../src/flows/meter.js';
import { NETFLOW_FEATURES, netflowFeatures } from '../../src/flows/features/netflow.js';
import { RawPacket } from '../../src/io/pcap.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { ethernet, ipv4, tcp } from './packet-builder.js';

function meterAt(timesUs: number[]): FlowRecord {
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f), { cicFeatures: false });
  const p = new RawPacket();
  for (const tsUs of timesUs) {
    const bytes = Uint8Array.from(ethernet(ipv4({ src: '84.27.192.106', dst: '10.10.10.10', protocol: 6 }, tcp({ sport: 50324, dport: 22, flags: 0x02 }))));
    p.data = bytes;
    p.offset = 0;
    p.capLen = p.origLen = bytes.length;
    p.tsUs = tsUs;
    p.linkType = 1;
    meter.addPacket(p);
  }
  meter.flush();
  assert.equal(flows.length, 1);
  return flows[0]!;
}

test('duration_s and the rates are whole microseconds of the packet times, as tshark shows them', () => {
  const flow = meterAt([1_632_239_124_442_499, 1_632_239_124_460_000, 1_632_239_124_484_036]);
  const f = netflowFeatures(flow);
  const at = (name: string): number => f[NETFLOW_FEATURES.indexOf(name)]!;
  assert.equal(at('duration_s'), 0.041537);
  assert.equal(at('bytes_per_s'), 120 / 0.041537);
  assert.equal(at('packets_per_s'), 3 / 0.041537);
  // a 100-second flow (under the 120 s active timeout): every microsecond digit kept
  const long = netflowFeatures(meterAt([1_700_000_000_000_001, 1_700_000_100_123_457]));
  assert.equal(long[NETFLOW_FEATURES.indexOf('duration_s')], 100.123456);
});

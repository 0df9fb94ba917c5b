// A packet whose captured length runs past the bytes it is given (a caller's own RawPacket through the exported
// FlowMeter, or decodePacket directly; the capture readers hold such a record back and count it as damage) is skipped
// as `truncated-packet-data`, not blamed on the link header; a short link header keeps `truncated-link-header`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket } from '../../src/flows/decode/decode.js';
import { DECODE_REASONS, DecodedPacket } from '../../src/flows/decode/packet.js';
import { FlowMeter } from '../../src/index.js';
import { RawPacket } from '../../src/io/pcap.js';
import { ethernet, ipv4, tcp } from './packet-builder.js';

const frame = ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 1234, dport: 80, flags: 0x02, window: 1024, payload: 0 })));

function reason(linkType: number, bytes: Uint8Array, offset: number, capLen: number): string {
  return DECODE_REASONS[decodePacket(linkType, bytes, offset, capLen, new DecodedPacket())]!;
}

test('captured length past the bytes given: truncated-packet-data, for every link type and offset', () => {
  const bytes = Uint8Array.from(frame);
  for (const linkType of [1, 113, 276, 101, 228, 229, 0, 108, 147]) {
    assert.equal(reason(linkType, bytes, 0, bytes.length + 1), 'truncated-packet-data', `link type ${linkType}`);
    assert.equal(reason(linkType, bytes, 10, bytes.length - 9), 'truncated-packet-data', `link type ${linkType} at offset 10`);
  }
  // a short capture that is all there keeps the reason of the header it cuts
  assert.equal(reason(1, bytes, 0, 10), 'truncated-link-header');
  assert.equal(reason(1, bytes, 0, 14 + 12), 'truncated-ip-header');
  assert.equal(reason(1, bytes, 0, bytes.length), 'ok');
});

test('FlowMeter.addPacket with a record longer than its bytes: counted as truncated-packet-data, the rest metered', () => {
  const meter = new FlowMeter(() => undefined, { cicFeatures: false });
  const raw = new RawPacket();
  raw.data = Uint8Array.from(frame);
  raw.tsUs = 1_700_000_000_000_000;
  raw.origLen = raw.capLen = frame.length;
  meter.addPacket(raw);
  raw.capLen = frame.length + 40; // says 40 more bytes were captured than are there
  raw.origLen = raw.capLen;
  meter.addPacket(raw);
  raw.capLen = 6; // a cut Ethernet header, all there
  meter.addPacket(raw);
  const stats = meter.stats;
  assert.equal(stats.packets, 3);
  assert.deepEqual(stats.skipped, { 'truncated-packet-data': 1, 'truncated-link-header': 1 });
});

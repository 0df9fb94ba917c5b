// A short run (~5 s) of bench/fuzz-packets.ts: mutated pcap and pcapng inputs through readers, decoder and meter
// must never throw, and the packed-packet / FlowBatch / CSV path must meter the same flows as the direct one. Seeds are the shared captures, or small built ones when those are absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzFormat, loadSeeds, splitSeed, type Seed } from '../../bench/fuzz-packets.js';
import { SHARED_DATASETS, sharedFile } from '../helpers/datasets.js';
import { ethernet, icmp, ipv4, ipv6, pcapFile, pcapngFile, tcp, udp, type Frame } from './packet-builder.js';

function builtSeeds(): Seed[] {
  const frames: Frame[] = [
    { t: 1, bytes: ethernet(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, options: [1, 1, 1, 0] }, tcp({ sport: 1, dport: 80, flags: 2, payload: 20 }))) },
    { t: 2, bytes: ethernet(ipv4({ src: '2.2.2.2', dst: '1.1.1.1', protocol: 17, moreFragments: true }, udp(53, 9, 40)), 0x0800, [5, 6]) },
    { t: 3, bytes: ethernet(ipv6('::1', '::2', 58, icmp(128, 0, 8), [[0, [0, 0, 1, 4, 0, 0, 0, 0]]]), 0x86dd) },
  ];
  return [splitSeed(pcapFile(frames))!, splitSeed(pcapngFile(frames, [{ linkType: 1 }]))!];
}

test('fuzz: 0 crashes on mutated pcap and pcapng inputs, memory bounded', () => {
  const seeds = sharedFile('pcaps') !== undefined ? loadSeeds(SHARED_DATASETS) : builtSeeds();
  for (const format of ['pcap', 'pcapng'] as const) {
    const r = fuzzFormat(seeds, format, { inputs: 200_000, seconds: 2.5, seed: 7 });
    assert.equal(r.crashes, 0, r.firstCrash);
    assert.equal(r.divergences, 0);
    assert.ok(r.inputs > 1000, `only ${r.inputs} inputs`);
    assert.ok(r.packets > 0);
    assert.ok(r.peakRssMb < 600, `peak RSS ${r.peakRssMb} MB`);
  }
});

// Columnar output of the flow meter (MeterBatch) and the two-thread extract pipeline built on it: a batch row is the
// same flow as the FlowRecord of the one-object-per-flow mode (every field and feature, IPv4 and IPv6, all end
// reasons, batches of odd sizes); `extract --workers 2` writes byte for byte the file of `--workers 1` on a
// capture with more flows than the pipeline's ring holds; meterCaptures (decoding in a worker thread) meters the
// same flows, skips and counts as reading and decoding on one thread.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeterBatch, FlowMeter } from '../../src/flows/meter.js';
import { meterCaptures } from '../../src/flows/decoder-thread.js';
import { readCapture } from '../../src/io/capture.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { CIC_FEATURES } from '../../src/datasets/cic-names.js';
import { RawPacket } from '../../src/io/pcap.js';
import { Rng } from '../../src/util/rng.js';
import { ethernet, type Frame, icmp, ipv4, ipv6, pcapFile, tcp, udp } from './packet-builder.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A mix of short TCP conversations (SYN … FIN/RST), one-packet UDP and ICMP flows, IPv6 and VLAN-tagged traffic. */
function traffic(flows: number, seed: number): Frame[] {
  const rng = new Rng(seed);
  const frames: Frame[] = [];
  let t = 1_600_000_000;
  for (let i = 0; i < flows; i++) {
    t += rng.next() * 0.01;
    const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const b = `192.168.${i % 7}.${1 + (i % 200)}`;
    const kind = rng.int(5);
    if (kind === 0) frames.push({ t, bytes: ethernet(ipv4({ src: a, dst: b, protocol: 17 }, udp(1024 + (i % 60000), 53, rng.int(300)))) });
    else if (kind === 1) frames.push({ t, bytes: ethernet(ipv4({ src: b, dst: a, protocol: 1 }, icmp(8, 0, rng.int(60))), 0x0800, [7]) });
    else if (kind === 2) {
      const s = `2001:db8::${(i & 0xffff).toString(16)}`;
      frames.push({ t, bytes: ethernet(ipv6(s, '2001:db8:1::1', 17, udp(4000, 443, rng.int(500))), 0x86dd) });
      frames.push({ t: t + 0.001, bytes: ethernet(ipv6('2001:db8:1::1', s, 17, udp(443, 4000, rng.int(500))), 0x86dd) });
    } else {
      const sport = 1024 + (i % 60000);
      const packets = 3 + rng.int(8);
      for (let k = 0; k < packets; k++) {
        const fwd = k % 2 === 0;
        // kind 3 ends with a RST, kind 4 with FINs from both sides.
        const flags = k === 0 ? 0x02 : kind === 3 && k === packets - 1 ? 0x04 : kind === 4 && k >= packets - 2 ? 0x11 : 0x18;
        const seg = tcp({ sport: fwd ? sport : 80, dport: fwd ? 80 : sport, flags, window: 1000 + k, payload: k === 0 ? 0 : rng.int(1400) });
        frames.push({ t: t + k * (rng.next() * 3), bytes: ethernet(ipv4({ src: fwd ? a : b, dst: fwd ? b : a, protocol: 6 }, seg)) });
      }
    }
  }
  return frames.sort((x, y) => x.t - y.t);
}

function meter(frames: Frame[], batchRows: number): { records: FlowRecord[]; rows: FlowRecord[] } {
  const records: FlowRecord[] = [];
  const rows: FlowRecord[] = [];
  const options = { idleTimeoutS: 2, activeTimeoutS: 10, maxFlows: 500 };
  const byRecord = new FlowMeter((f) => records.push(f), options);
  const collect = (batch: MeterBatch): MeterBatch => {
    for (let i = 0; i < batch.length; i++) rows.push(batch.record(i));
    batch.length = 0;
    return batch;
  };
  const byBatch = new FlowMeter(() => assert.fail('batch mode calls no onFlow'), {
    ...options,
    batches: { first: new MeterBatch(batchRows, CIC_FEATURES.length), full: collect },
  });
  const raw = new RawPacket();
  for (const f of frames) {
    raw.data = Uint8Array.from(f.bytes);
    raw.offset = 0;
    raw.capLen = raw.origLen = f.bytes.length;
    raw.tsUs = Math.round(f.t * 1e6);
    byRecord.addPacket(raw);
    byBatch.addPacket(raw);
  }
  byRecord.flush();
  byBatch.flush();
  return { records, rows };
}

test('MeterBatch rows are the FlowRecords of the object mode, field for field', () => {
  const frames = traffic(3000, 1);
  for (const batchRows of [1, 7, 1024]) {
    const { records, rows } = meter(frames, batchRows);
    assert.ok(records.length > 3000, `${records.length} flows`);
    assert.equal(rows.length, records.length);
    const reasons = new Set(records.map((r) => r.endReason));
    for (const reason of ['fin', 'rst', 'idle', 'evicted', 'eof']) assert.ok(reasons.has(reason as FlowRecord['endReason']), reason);
    assert.ok(records.some((r) => r.srcAddr.includes(':')) && records.some((r) => r.vlan === 7));
    for (let i = 0; i < records.length; i++) assert.deepEqual(rows[i], { ...records[i]!, features: Float64Array.from(records[i]!.features!) }, `flow ${i}`);
  }
});

test('extract --workers 2 (meter + CSV writer thread) writes the same bytes as one thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-pipeline-'));
  const capture = join(dir, 'many.pcap');
  writeFileSync(capture, pcapFile(traffic(12_000, 2)));
  const run = (out: string, workers: string): { flows: number } => {
    const r = spawnSync(process.execPath, [CLI, 'extract', capture, '--out', out, '--json', '--workers', workers], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { flows: number };
  };
  const one = run(join(dir, 'one.csv'), '1');
  const two = run(join(dir, 'two.csv'), '2');
  assert.ok(two.flows > 8 * 1024, `${two.flows} flows: more than the ring's 8 batches of 1024`);
  assert.equal(two.flows, one.flows);
  const bytes = readFileSync(join(dir, 'two.csv'));
  assert.ok(bytes.equals(readFileSync(join(dir, 'one.csv'))));
  assert.equal(bytes.toString('latin1').split('\n').length, one.flows + 2);
});

test('meterCaptures (read + decode in a worker, meter here) = readCapture + addPacket on one thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-decoder-'));
  const capture = join(dir, 'mixed.pcap');
  const frames = traffic(6000, 3);
  // Frames the decoder skips, counted by reason: truncated link header, non-IP, truncated IPv4 header.
  frames.splice(100, 0, { t: frames[100]!.t, bytes: [1, 2, 3] }, { t: frames[100]!.t, bytes: ethernet([0, 1, 2, 3], 0x0806) });
  frames.splice(5000, 0, { t: frames[5000]!.t, bytes: ethernet([0x45, 0, 0, 40]) });
  writeFileSync(capture, pcapFile(frames));
  const options = { idleTimeoutS: 2, activeTimeoutS: 10 };
  const one: FlowRecord[] = [];
  const oneMeter = new FlowMeter((f) => one.push(f), options);
  const oneCapture = await readCapture(capture, (p) => oneMeter.addPacket(p));
  oneMeter.flush();
  const two: FlowRecord[] = [];
  const { meter: twoMeter, captures: twoCaptures } = await meterCaptures([capture, capture], () => new FlowMeter((f) => two.push(f), options));
  twoMeter.flush();
  assert.equal(twoCaptures.length, 2);
  assert.deepEqual(twoCaptures[0], oneCapture);
  assert.equal(twoMeter.stats.packets, 2 * frames.length);
  assert.deepEqual(twoMeter.stats.skipped, { 'truncated-link-header': 2, 'non-ip': 2, 'truncated-ip-header': 2 });
  // The second copy of the capture replays the same times: its flows join or follow the first copy's, so compare
  // the first pass by itself with a one-capture run.
  const first: FlowRecord[] = [];
  const { meter: firstMeter } = await meterCaptures([capture], () => new FlowMeter((f) => first.push(f), options));
  firstMeter.flush();
  assert.deepEqual(first, one);
  assert.deepEqual(firstMeter.stats, oneMeter.stats);
  await assert.rejects(meterCaptures([join(dir, 'missing.pcap')], () => new FlowMeter(() => undefined)), /no such file/);
});

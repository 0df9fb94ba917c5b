// Per-5-tuple truth from tshark on the shared captures: packets, frame bytes and first/last packet times of the
// meter's flows, summed per TCP/UDP 5-tuple, equal tshark's (committed fixture from
// scripts/fixtures/make-flow-fixtures.sh). Sums per 5-tuple are the exact basis: the meter splits a 5-tuple into
// several flows on FIN/RST/timeouts where tshark keeps one conversation. Also compared live with `tshark -z conv,tcp`
// when tshark is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readCapture } from '../../src/io/capture.js';
import { FlowMeter } from '../../src/flows/meter.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { sharedFile } from '../helpers/datasets.js';

type Conversation = [string, number, string, number, number, number, number, number, number];
interface Fixture {
  captures: { file: string; convFrames: number; conversations: Conversation[] }[];
}

const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/flows/tshark-conversations.json', import.meta.url), 'utf8')) as Fixture;

function tupleKey(a: string, pa: number, b: string, pb: number, proto: number): string {
  const x = `${a}|${pa}`;
  const y = `${b}|${pb}`;
  return x < y ? `${x}|${y}|${proto}` : `${y}|${x}|${proto}`;
}

interface Sums {
  packets: number;
  bytes: number;
  firstMs: number;
  lastMs: number;
}

async function meterSums(path: string): Promise<Map<string, Sums>> {
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter((f) => flows.push(f), { cicFeatures: false });
  await readCapture(path, (p) => meter.addPacket(p));
  meter.flush();
  const sums = new Map<string, Sums>();
  for (const f of flows) {
    if (f.protocol !== 6 && f.protocol !== 17) continue;
    const key = tupleKey(f.srcAddr, f.srcPort, f.dstAddr, f.dstPort, f.protocol);
    const s = sums.get(key) ?? { packets: 0, bytes: 0, firstMs: Infinity, lastMs: -Infinity };
    s.packets += f.packets;
    s.bytes += f.frameBytes ?? NaN;
    s.firstMs = Math.min(s.firstMs, f.startMs);
    s.lastMs = Math.max(s.lastMs, f.endMs);
    sums.set(key, s);
  }
  return sums;
}

for (const capture of fixture.captures) {
  const path = sharedFile(capture.file);
  test(`tshark truth: ${capture.file}`, { skip: path === undefined && 'shared captures absent' }, async () => {
    const ours = await meterSums(path!);
    let total = 0;
    for (const [a, pa, b, pb, proto, frames, bytes, first, last] of capture.conversations) {
      const key = tupleKey(a, pa, b, pb, proto);
      const s = ours.get(key);
      assert.ok(s, `no flow for ${key}`);
      assert.equal(s.packets, frames, `${key}: packets`);
      assert.equal(s.bytes, bytes, `${key}: frame bytes`);
      assert.ok(Math.abs(s.firstMs - first * 1000) < 0.002, `${key}: first packet ${s.firstMs} vs ${first * 1000}`);
      assert.ok(Math.abs(s.lastMs - last * 1000) < 0.002, `${key}: last packet ${s.lastMs} vs ${last * 1000}`);
      total += frames;
      ours.delete(key);
    }
    // What is left are later IP fragments (no transport header, so ports 0), which no TCP/UDP conversation holds.
    for (const [key] of ours) assert.match(key, /\|0\|.*\|0\|/, `flow ${key} has no tshark conversation`);
    // tshark's conv tables agree, tunnelled packets included (counted by their inner headers, as the meter counts them).
    assert.equal(total, capture.convFrames, 'conv tables');
  });
}

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const espn = sharedFile('pcaps/practical-packet-analysis/http_espn.pcapng');
test('live tshark: conv,tcp frame counts per conversation', { skip: (espn === undefined || !hasTshark()) && 'tshark or shared captures absent' }, async () => {
  const text = execFileSync('tshark', ['-r', espn!, '-q', '-z', 'conv,tcp'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const ours = await meterSums(espn!);
  let checked = 0;
  for (const line of text.split('\n')) {
    const m = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const cols = m[5]!.trim().split(/\s+/);
    // Frames: "<-" frames, bytes, unit, "->" frames, bytes, unit, total frames, ...
    const totalFrames = Number(cols[6]);
    const key = tupleKey(m[1]!, Number(m[2]), m[3]!, Number(m[4]), 6);
    assert.equal(ours.get(key)?.packets, totalFrames, key);
    checked++;
  }
  assert.ok(checked > 10, `only ${checked} conversations parsed`);
});
